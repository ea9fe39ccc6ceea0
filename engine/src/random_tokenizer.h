// Small byte-level BPE tokenizers laid out like a model family's (Qwen2.5 ChatML markers, Llama-3 header markers),
// for random-weight models: real pre-tokenizer regex and special tokens, merges learned from a built-in text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jetchat/status.h"

namespace jetchat {

struct FamilyTokenizerIds {
  int vocab_size = 0;  // every id the tokenizer uses is below this
  int32_t bos = -1;    // -1: the family uses none (Qwen)
  std::vector<int32_t> eos;
};

// family: "qwen2" or "llama3". Writes tokenizer.json and tokenizer_config.json (with a chat template of the
// family's format) into out_dir; the vocabulary stays below max_vocab ids.
Result<FamilyTokenizerIds> write_family_tokenizer(const std::string& family, int max_vocab, const std::string& out_dir);

}  // namespace jetchat
