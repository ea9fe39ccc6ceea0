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
constexpr int64_t kTypeNormal = 1, kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4, kTypeUnused = 5,
                  kTypeByte = 6;
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

// Token types, 1 (normal) where the file has none; 0 read as normal too (llama.cpp's "undefined").
Result<std::vector<int64_t>> read_token_types(const GgufFile& gguf, size_t n) {
  std::vector<int64_t> types(n, kTypeNormal);
  if (!gguf.find("tokenizer.ggml.token_type")) return types;
  auto t = gguf.get_int_array("tokenizer.ggml.token_type");
  if (!t) return t.status();
  if (t->size() != n)
    return Status(StatusCode::kInvalidFormat, gguf.name() + ": key 'tokenizer.ggml.token_type' has " +
                                                  std::to_string(t->size()) + " entries for " + std::to_string(n) +
                                                  " tokens");
  for (size_t i = 0; i < n; ++i) {
    if ((*t)[i] == 0) (*t)[i] = kTypeNormal;
    if ((*t)[i] < kTypeNormal || (*t)[i] > kTypeByte)
      return Status(StatusCode::kInvalidFormat, gguf.name() + ": token " + std::to_string(i) + " has type " +
                                                    std::to_string((*t)[i]) + " (1 to 6 allowed)");
  }
  return t;
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
  auto read_types = read_token_types(gguf, n);
  if (!read_types) return read_types.status();
  std::vector<int64_t>& types = *read_types;
  bool has_unknown = false;
  for (int64_t t : types) has_unknown = has_unknown || t == kTypeUnknown;
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

Status read_gguf_token_id(const GgufFile& gguf, const char* key, size_t n, int32_t& id) {
  if (!gguf.find(key)) return Status::ok();
  auto v = gguf.get_uint(key);
  if (!v) return v.status();
  if (*v >= n)
    return Status(StatusCode::kInvalidFormat, gguf.name() + ": key '" + key + "' is " + std::to_string(*v) +
                                                  ", outside the vocabulary of " + std::to_string(n));
  id = int32_t(*v);
  return Status::ok();
}

Result<BpeVocabulary> bpe_vocabulary_from_gguf(const GgufFile& gguf) {
  const std::string& name = gguf.name();
  auto model = gguf.get_string("tokenizer.ggml.model");
  if (!model) return model.status();
  if (*model != "gpt2")
    return Status(StatusCode::kUnsupported, name + ": tokenizer.ggml.model is '" + *model + "', not 'gpt2'");
  auto tokens = gguf.get_string_array("tokenizer.ggml.tokens");
  if (!tokens) return tokens.status();
  const size_t n = tokens->size();
  if (n == 0) return Status(StatusCode::kInvalidFormat, name + ": tokenizer.ggml.tokens is empty");
  auto types = read_token_types(gguf, n);
  if (!types) return types.status();

  BpeVocabulary v;
  // llama.cpp's names for the regexes (llama-vocab.cpp); Llama-3 also takes a word that is a token whole.
  auto pre = gguf.find("tokenizer.ggml.pre") ? gguf.get_string("tokenizer.ggml.pre") : Result<std::string>("gpt-2");
  if (!pre) return pre.status();
  if (*pre == "llama-bpe" || *pre == "llama3") {
    v.pattern = llama3_pretokenizer_pattern();
    v.ignore_merges = true;
  } else if (*pre == "qwen2") {
    v.pattern = qwen2_pretokenizer_pattern();
  } else if (*pre == "gpt-2") {
    v.pattern = gpt2_pretokenizer_pattern();
  } else {
    return Status(StatusCode::kUnsupported, name + ": tokenizer.ggml.pre is '" + *pre +
                                                "'; JetChat knows the pre-tokenizers llama-bpe (Llama-3), qwen2 and "
                                                "gpt-2");
  }
  v.pieces.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const auto type = (*types)[i];
    if (type == kTypeControl || type == kTypeUserDefined)
      v.added.push_back({std::string((*tokens)[i]), int32_t(i), type == kTypeControl});
    else if (type != kTypeUnused)  // unused ids ("[PAD151643]") are no text
      v.pieces[i] = std::string((*tokens)[i]);
  }
  if (gguf.find("tokenizer.ggml.merges")) {
    auto merges = gguf.get_string_array("tokenizer.ggml.merges");
    if (!merges) return merges.status();
    v.merges.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
      const std::string_view m = (*merges)[i];
      const size_t space = m.find(' ');
      if (space == std::string_view::npos || space == 0 || space + 1 == m.size() ||
          m.find(' ', space + 1) != std::string_view::npos)
        return Status(StatusCode::kInvalidFormat, name + ": merge " + std::to_string(i) + " '" + std::string(m) +
                                                      "' is not two tokens separated by one space");
      v.merges.emplace_back(std::string(m.substr(0, space)), std::string(m.substr(space + 1)));
    }
  }
  JETCHAT_TRY(read_gguf_token_id(gguf, "tokenizer.ggml.bos_token_id", n, v.bos_id));
  JETCHAT_TRY(read_gguf_token_id(gguf, "tokenizer.ggml.eos_token_id", n, v.eos_id));
  JETCHAT_TRY(read_gguf_token_id(gguf, "tokenizer.ggml.eot_token_id", n, v.eot_id));
  if (gguf.find("tokenizer.ggml.add_bos_token")) {
    auto a = gguf.get_bool("tokenizer.ggml.add_bos_token");
    if (!a) return a.status();
    v.add_bos = *a;
  }
  return v;
}

}  // namespace jetchat
