#include "gguf_vocab.h"

#include <cstring>

namespace jetchat {
namespace {

// Field numbers and enums of sentencepiece_model.proto. Debian ships no sentencepiece_model.pb.h, and the handful
// of fields needed here are simpler to write by hand than to generate.
constexpr uint32_t kModelPieces = 1, kModelTrainerSpec = 2, kModelNormalizerSpec = 3;
constexpr uint32_t kPiecePiece = 1, kPieceScore = 2, kPieceType = 3;
constexpr uint32_t kTrainerModelType = 3, kTrainerVocabSize = 4, kTrainerByteFallback = 35;
constexpr uint32_t kNormalizerName = 1, kNormalizerAddDummyPrefix = 3, kNormalizerRemoveExtraWhitespaces = 4,
                   kNormalizerEscapeWhitespaces = 5;
constexpr uint64_t kModelTypeBpe = 2;
// SentencePiece.Type; GGUF's token_type uses the same numbers (1 normal .. 6 byte), 0 meaning "not set".
constexpr int64_t kTypeNormal = 1, kTypeUnknown = 2, kTypeByte = 6;
constexpr uint32_t kWireVarint = 0, kWireLen = 2, kWireFixed32 = 5;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(uint8_t(v) | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}
void put_tag(std::string& out, uint32_t field, uint32_t wire) { put_varint(out, uint64_t(field) << 3 | wire); }
void put_uint(std::string& out, uint32_t field, uint64_t v) {
  put_tag(out, field, kWireVarint);
  put_varint(out, v);
}
void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_tag(out, field, kWireLen);
  put_varint(out, bytes.size());
  out.append(bytes);
}
void put_float(std::string& out, uint32_t field, float v) {
  put_tag(out, field, kWireFixed32);
  char b[4];
  std::memcpy(b, &v, 4);  // protobuf fixed32 is little-endian, as are all targets
  out.append(b, 4);
}

}  // namespace

Result<std::string> sentencepiece_proto_from_gguf(const GgufFile& gguf) {
  const std::string& name = gguf.name();
  auto model = gguf.get_string("tokenizer.ggml.model");
  if (!model) return model.status();
  if (*model != "llama")
    return Status(StatusCode::kUnsupported, name + ": tokenizer.ggml.model is '" + *model +
                                                "'; JetChat reads SentencePiece ('llama') vocabularies only");
  auto tokens = gguf.get_string_array("tokenizer.ggml.tokens");
  if (!tokens) return tokens.status();
  const size_t n = tokens->size();
  if (n == 0) return Status(StatusCode::kInvalidFormat, name + ": tokenizer.ggml.tokens is empty");
  auto sized = [&](const char* key, size_t got) -> Status {
    if (got == n) return Status::ok();
    return Status(StatusCode::kInvalidFormat, name + ": key '" + key + "' has " + std::to_string(got) +
                                                  " entries for " + std::to_string(n) + " tokens");
  };
  // Scores and types are optional in GGUF (llama.cpp defaults them to 0 and normal).
  std::vector<float> scores(n, 0.0f);
  if (gguf.find("tokenizer.ggml.scores")) {
    auto s = gguf.get_float_array("tokenizer.ggml.scores");
    if (!s) return s.status();
    if (Status st = sized("tokenizer.ggml.scores", s->size()); !st) return st;
    scores = std::move(*s);
  }
  std::vector<int64_t> types(n, kTypeNormal);
  if (gguf.find("tokenizer.ggml.token_type")) {
    auto t = gguf.get_int_array("tokenizer.ggml.token_type");
    if (!t) return t.status();
    if (Status st = sized("tokenizer.ggml.token_type", t->size()); !st) return st;
    types = std::move(*t);
  }
  bool has_unknown = false;
  for (size_t i = 0; i < n; ++i) {
    if (types[i] == 0) types[i] = kTypeNormal;
    if (types[i] < kTypeNormal || types[i] > kTypeByte)
      return Status(StatusCode::kInvalidFormat, name + ": token " + std::to_string(i) + " has type " +
                                                    std::to_string(types[i]) + " (1 to 6 allowed)");
    has_unknown = has_unknown || types[i] == kTypeUnknown;
  }
  // SentencePiece needs exactly one unknown piece; some converters only name it by id.
  if (!has_unknown && gguf.find("tokenizer.ggml.unknown_token_id")) {
    auto unk = gguf.get_uint("tokenizer.ggml.unknown_token_id");
    if (!unk) return unk.status();
    if (*unk >= n)
      return Status(StatusCode::kInvalidFormat, name + ": tokenizer.ggml.unknown_token_id " + std::to_string(*unk) +
                                                    " is outside the vocabulary of " + std::to_string(n));
    types[size_t(*unk)] = kTypeUnknown;
  }
  bool add_space_prefix = true;
  if (gguf.find("tokenizer.ggml.add_space_prefix")) {
    auto a = gguf.get_bool("tokenizer.ggml.add_space_prefix");
    if (!a) return a.status();
    add_space_prefix = *a;
  }

  std::string proto, piece;
  for (size_t i = 0; i < n; ++i) {
    piece.clear();
    put_bytes(piece, kPiecePiece, (*tokens)[i]);
    put_float(piece, kPieceScore, scores[i]);
    put_uint(piece, kPieceType, uint64_t(types[i]));
    put_bytes(proto, kModelPieces, piece);
  }
  // Llama's tokenizer.model: BPE merges by score, bytes for characters outside the vocabulary.
  std::string trainer;
  put_uint(trainer, kTrainerModelType, kModelTypeBpe);
  put_uint(trainer, kTrainerVocabSize, n);
  put_uint(trainer, kTrainerByteFallback, 1);
  put_bytes(proto, kModelTrainerSpec, trainer);
  // The identity normalizer: text is only whitespace-escaped (spaces become U+2581), never rewritten.
  std::string normalizer;
  put_bytes(normalizer, kNormalizerName, "identity");
  put_uint(normalizer, kNormalizerAddDummyPrefix, add_space_prefix ? 1 : 0);
  put_uint(normalizer, kNormalizerRemoveExtraWhitespaces, 0);
  put_uint(normalizer, kNormalizerEscapeWhitespaces, 1);
  put_bytes(proto, kModelNormalizerSpec, normalizer);
  return proto;
}

}  // namespace jetchat
