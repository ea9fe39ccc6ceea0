// The pre-tokenizer of byte-level BPE: a regex (PCRE2, UTF + Unicode properties) cuts text into the words that BPE
// then encodes one by one, as HF's Split pre-tokenizer with behavior "Isolated" does.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jetchat/status.h"

namespace jetchat {

// Pre-tokenizer regexes by the names GGUF gives them in tokenizer.ggml.pre (and HF's tokenizer.json carries as
// the Split pattern): Llama-3 cuts digit runs into groups of up to 3, Qwen2 into single digits; GPT-2 is the
// original ByteLevel one.
std::string_view llama3_pretokenizer_pattern();
std::string_view qwen2_pretokenizer_pattern();
std::string_view gpt2_pretokenizer_pattern();

class RegexSplitter {
 public:
  // `where` names the file the pattern came from in errors.
  static Result<std::unique_ptr<RegexSplitter>> compile(const std::string& pattern, const std::string& where);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Each match, and each stretch between matches, in order: the pieces concatenate back to `text`. Bytes that are
  // not valid UTF-8 never match, so they end up in the stretches between matches.
  std::vector<std::string_view> split(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  RegexSplitter() = default;
  struct Code;
  std::unique_ptr<Code> code_;
  std::string pattern_;
};

}  // namespace jetchat
