// A SentencePiece model rebuilt from the vocabulary a GGUF file carries (tokenizer.ggml.model "llama": tokens,
// scores, token types), so that the one SentencePiece-backed Tokenizer serves GGUF files too.
#pragma once

#include <string>

#include "gguf.h"
#include "jetchat/status.h"

namespace jetchat {

// A serialized sentencepiece ModelProto (BPE with byte fallback, identity normalizer, as Llama's tokenizer.model),
// ready for SentencePieceProcessor::LoadFromSerializedProto.
Result<std::string> sentencepiece_proto_from_gguf(const GgufFile& gguf);

}  // namespace jetchat
