#include "text_normalizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

namespace jetchat {
namespace {

constexpr struct {
  UnicodeForm form;
  const char* name;
  int options;  // utf8proc_map's, as utf8proc_NFC() ... set them, less NULLTERM (the length is given)
} kForms[] = {
    {UnicodeForm::kNFC, "NFC", UTF8PROC_STABLE | UTF8PROC_COMPOSE},
    {UnicodeForm::kNFD, "NFD", UTF8PROC_STABLE | UTF8PROC_DECOMPOSE},
    {UnicodeForm::kNFKC, "NFKC", UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT},
    {UnicodeForm::kNFKD, "NFKD", UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT},
};

int options_of(UnicodeForm form) {
  for (const auto& f : kForms)
    if (f.form == form) return f.options;
  return 0;
}

// A run of valid UTF-8 in one form, appended to `out`.
void append_normalized(std::string_view run, int options, std::string& out) {
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(run.data()),
                                          utf8proc_ssize_t(run.size()), &mapped, utf8proc_option_t(options));
  if (n >= 0) out.append(reinterpret_cast<const char*>(mapped), size_t(n));
  else out.append(run);  // only out of memory can fail on valid UTF-8: the text stays as it was
  std::free(mapped);
}

std::string normalize_once(std::string_view text, int options) {
  std::string out;
  out.reserve(text.size());
  size_t run = 0, i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t len = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                                                  utf8proc_ssize_t(text.size() - i), &cp);
    if (len > 0) {
      i += size_t(len);
      continue;
    }
    append_normalized(text.substr(run, i - run), options, out);
    out += text[i];  // the invalid byte
    run = ++i;
  }
  append_normalized(text.substr(run), options, out);
  return out;
}

}  // namespace

std::optional<UnicodeForm> unicode_form(std::string_view name) {
  for (const auto& f : kForms)
    if (name == f.name) return f.form;
  return std::nullopt;
}

const char* unicode_form_name(UnicodeForm form) {
  for (const auto& f : kForms)
    if (f.form == form) return f.name;
  return "";
}

std::string normalize(std::string_view text, const std::vector<UnicodeForm>& forms) {
  // ASCII is its own normal form in all four: most chat text never reaches utf8proc.
  if (forms.empty() || std::all_of(text.begin(), text.end(), [](char c) { return uint8_t(c) < 0x80; }))
    return std::string(text);
  std::string out(text);
  for (UnicodeForm f : forms) out = normalize_once(out, options_of(f));
  return out;
}

}  // namespace jetchat
