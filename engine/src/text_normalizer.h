// Unicode normalization applied to text before byte-level BPE, as a tokenizer.json "normalizer" asks (Qwen2's
// NFC), through utf8proc. Pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jetchat {

enum class UnicodeForm { kNFC, kNFD, kNFKC, kNFKD };

// "NFC" -> kNFC ... (tokenizer.json's type names); nullopt for any other name.
std::optional<UnicodeForm> unicode_form(std::string_view name);
const char* unicode_form_name(UnicodeForm form);

// `text` brought into each form in turn. Bytes that are not valid UTF-8 are kept as they are and the valid runs
// between them are normalized apart: byte-level BPE encodes any bytes, so such text is not refused.
std::string normalize(std::string_view text, const std::vector<UnicodeForm>& forms);

}  // namespace jetchat
