// Text <-> token ids for a model: SentencePiece (libsentencepiece) or byte-level BPE (byte_level_bpe.h), plus the
// special/added tokens that tokenizer.json, tokenizer_config.json, special_tokens_map.json and added_tokens.json
// declare. Immutable after load; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jetchat/status.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace jetchat {

class ByteLevelBpe;
class GgufFile;
struct BpeVocabulary;

class Tokenizer {
 public:
  // Loads <dir>/tokenizer.model, else <dir>/tokenizer.json (byte-level BPE), and the special tokens declared by the
  // JSON files beside it.
  static Result<std::unique_ptr<Tokenizer>> load(const std::string& model_dir);
  // A bare SentencePiece model file, no added tokens.
  static Result<std::unique_ptr<Tokenizer>> from_sentencepiece_file(const std::string& path);
  // The vocabulary a GGUF file carries in its tokenizer.ggml.* metadata: SentencePiece ("llama") or byte-level
  // BPE ("gpt2").
  static Result<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile& gguf);
  // A byte-level BPE tokenizer; `where` names its source in errors.
  static Result<std::unique_ptr<Tokenizer>> from_bpe(const BpeVocabulary& vocab, const std::string& where);
  ~Tokenizer();

  // add_bos: prepend BOS if this tokenizer uses one (SentencePiece models always; BPE ones as their files say).
  // parse_special: strings of special tokens in the text ("<|im_start|>") become their single ids; otherwise they
  // are encoded as ordinary text. Never adds EOS.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special = false) const;
  // Plain text that continues a sequence after other tokens (a chat template's text after a marker id): no dummy
  // prefix, no special-token parsing.
  std::vector<int32_t> encode_continuation(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const;

  int vocab_size() const;
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  int32_t eot_id() const { return eot_id_; }
  bool adds_bos() const { return add_bos_ && bos_id_ >= 0; }  // what encode(text, add_bos = true) does  // end of turn (GGUF tokenizer.ggml.eot_token_id), -1 if none
  // Byte-level BPE: one token may end with part of a UTF-8 character that the next token completes.
  bool byte_level() const { return bpe_ != nullptr; }
  // Id of a special/added token or of a vocabulary piece, if it exists.
  std::optional<int32_t> find(std::string_view token) const;
  bool is_special(int32_t id) const;  // control and added special tokens: never shown as text
  std::string piece(int32_t id) const;

  // The raw bytes a token contributes to the text: byte-level BPE tokens as their bytes; byte-fallback pieces as
  // their byte, U+2581 as space, special tokens as "", the leading space of the first piece of a sequence removed
  // when the model adds a dummy prefix.
  std::string token_bytes(int32_t id, bool first_of_sequence) const;

 private:
  Tokenizer();
  struct Special {
    std::string text;
    int32_t id;
    bool special;  // false: an added token that is ordinary text (always matched, shown when decoded)
  };
  // Settings that follow from the loaded SentencePiece model; `where` names it in errors.
  Status finish_load(const std::string& where);
  Status read_added_tokens(const std::string& dir);
  void add_token(const std::string& text, int32_t id, bool special);
  void sort_specials();
  const Special* added(int32_t id) const;
  void append_plain(std::string_view text, bool at_start, std::vector<int32_t>& ids) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;  // exactly one of sp_ and bpe_ is set
  std::unique_ptr<ByteLevelBpe> bpe_;
  // The same model with add_dummy_prefix off, for text after the start; null when the model adds none.
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_continue_;
  std::vector<Special> specials_;  // longest first, for greedy matching in encode
  std::unordered_map<int32_t, size_t> by_id_;  // id -> index in specials_
  std::array<bool, 256> starts_special_{};     // first bytes of specials_: other positions skip the scan
  int32_t bos_id_ = 1, eos_id_ = 2, eot_id_ = -1;
  bool add_bos_ = true;
  bool add_dummy_prefix_ = true;
  bool strip_first_space_ = true;  // decoding drops the first piece's leading space
  int vocab_size_ = 0;
};

// Turns a stream of token ids into text pieces that are always whole UTF-8 characters: holds back an incomplete
// multi-byte character until its last byte arrives, and keeps each word's leading space.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok) : tok_(tok) {}
  std::string push(int32_t id);  // text completed by this token (may be empty)
  std::string flush();           // whatever is held back, invalid bytes as U+FFFD
  void reset() { pending_.clear(); first_ = true; }

 private:
  const Tokenizer& tok_;
  std::string pending_;
  bool first_ = true;
};

}  // namespace jetchat
