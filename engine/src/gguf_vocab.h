// The vocabularies GGUF files carry in tokenizer.ggml.*: SentencePiece ("llama": tokens, scores, token types),
// rebuilt as a SentencePiece model, and byte-level BPE ("gpt2": tokens, merges, token types, the pre-tokenizer by
// name), read into the same form as a tokenizer.json.
#pragma once

#include <string>

#include "byte_level_bpe.h"
#include "gguf.h"
#include "jetchat/status.h"

namespace jetchat {

// A serialized sentencepiece ModelProto (BPE with byte fallback, identity normalizer, as Llama's tokenizer.model),
// ready for SentencePieceProcessor::LoadFromSerializedProto.
Result<std::string> sentencepiece_proto_from_gguf(const GgufFile& gguf);

// tokenizer.ggml.model "gpt2". Control tokens (type 3) become special added tokens, user-defined ones (4) added
// tokens shown as text, unused ones (5) no token. tokenizer.ggml.pre must name a known regex: llama-bpe (Llama-3), qwen2 or gpt-2.
Result<BpeVocabulary> bpe_vocabulary_from_gguf(const GgufFile& gguf);

// Reads an optional token id key (tokenizer.ggml.bos_token_id, ...) into `id`, checked against a vocabulary of
// `n`; leaves `id` alone when the key is absent.
Status read_gguf_token_id(const GgufFile& gguf, const char* key, size_t n, int32_t& id);

}  // namespace jetchat
