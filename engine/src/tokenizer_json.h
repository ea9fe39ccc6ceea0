// Hugging Face tokenizer.json files of byte-level BPE tokenizers (GPT-2, Qwen2/2.5, Llama-3): the model's vocabulary
// and merges, the pre-tokenizer regex, the added tokens and whether a BOS token is prepended.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "byte_level_bpe.h"
#include "jetchat/status.h"

namespace jetchat {

// Anything this reader cannot reproduce exactly (another model type, byte fallback, normalizers other than the
// Unicode normal forms, other pre-tokenizers) is refused with kUnsupported rather than tokenized differently.
// A normalizer (Qwen2's NFC; NFD, NFKC, NFKD; a Sequence of them) is applied to text before the pre-tokenizer.
Result<BpeVocabulary> read_tokenizer_json(const std::string& path);

// The tokenizer.json that read_tokenizer_json reads back as `vocab` (for random-weight models and tests): its
// normalizers, a Split + ByteLevel pre-tokenizer, the BPE model with [a, b] merges, the added tokens, a post-processor that prepends BOS
// when vocab.add_bos, a ByteLevel decoder.
nlohmann::ordered_json tokenizer_json(const BpeVocabulary& vocab);

}  // namespace jetchat
