#include "regex_splitter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace jetchat {

// The patterns as the models' tokenizer.json files spell them (facts about those models, needed to read GGUF
// files, which only name them).
std::string_view llama3_pretokenizer_pattern() {
  return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}
std::string_view qwen2_pretokenizer_pattern() {
  return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}
std::string_view gpt2_pretokenizer_pattern() {
  return R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
}

struct RegexSplitter::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

RegexSplitter::~RegexSplitter() = default;

Result<std::unique_ptr<RegexSplitter>> RegexSplitter::compile(const std::string& pattern, const std::string& where) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  // UCP: \s, \d and friends follow Unicode, as in the Rust/Oniguruma engines HF uses. MATCH_INVALID_UTF: text with
  // stray bytes is matched around them instead of being refused.
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    return Status(StatusCode::kInvalidFormat, where + ": the pre-tokenizer regex does not compile at offset " +
                                                  std::to_string(offset) + ": " +
                                                  reinterpret_cast<const char*>(message));
  }
  std::unique_ptr<RegexSplitter> s(new RegexSplitter());
  s->code_ = std::make_unique<Code>();
  s->code_->code = code;
  s->pattern_ = pattern;
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // a speed-up only: matching works without it
  return s;
}

std::vector<std::string_view> RegexSplitter::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_->code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t done = 0, at = 0;
  while (at < text.size() && pcre2_match(code_->code, subject, text.size(), at, 0, md, nullptr) >= 0) {
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t begin = ov[0], end = ov[1];
    if (begin > done) pieces.push_back(text.substr(done, begin - done));
    if (end > begin) {
      pieces.push_back(text.substr(begin, end - begin));
      done = at = end;
    } else {
      // An empty match (a pattern that allows one) moves on by a byte; the byte joins the next stretch.
      done = begin;
      at = begin + 1;
    }
  }
  pcre2_match_data_free(md);
  if (done < text.size()) pieces.push_back(text.substr(done));
  return pieces;
}

}  // namespace jetchat
