// Hugging Face tokenizer.json files of byte-level BPE tokenizers (GPT-2, Qwen2/2.5, Llama-3): the model's vocabulary
// and merges, the pre-tokenizer regex, the added tokens and whether a BOS token is prepended.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "byte_level_bpe.h"
#include "jetchat/status.h"

namespace jetchat {

// Anything this reader cannot reproduce exactly (another model type, byte fallback, other normalizers or
// pre-tokenizers) is refused with kUnsupported rather than tokenized differently. Qwen2's NFC normalizer is
// accepted without being applied: text is expected in NFC, as keyboards and chat front ends produce it.
Result<BpeVocabulary> read_tokenizer_json(const std::string& path);

// The tokenizer.json that read_tokenizer_json reads back as `vocab` (for random-weight models and tests): a Split +
// ByteLevel pre-tokenizer, the BPE model with [a, b] merges, the added tokens, a post-processor that prepends BOS
// when vocab.add_bos, a ByteLevel decoder.
nlohmann::ordered_json tokenizer_json(const BpeVocabulary& vocab);

}  // namespace jetchat
