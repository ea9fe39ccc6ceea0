// Byte-level BPE (GPT-2, Qwen2, Llama-3): text is cut into words by a pre-tokenizer regex, each word's UTF-8 bytes
// start as one token per byte and are merged pairwise by rank (lowest first). Vocabularies and merges are stored,
// as in tokenizer.json and GGUF, with every byte written as a printable character (GPT-2's byte-to-unicode table).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "jetchat/status.h"
#include "regex_splitter.h"
#include "text_normalizer.h"

namespace jetchat {

// GPT-2's table: the printable character (UTF-8) that stands for byte `b` in vocabulary files.
std::string byte_to_piece_char(uint8_t b);
// The bytes a vocabulary piece stands for; nullopt when it holds a character outside the table.
std::optional<std::string> piece_to_bytes(std::string_view piece);
// The piece spelling of raw bytes.
std::string bytes_to_piece(std::string_view bytes);

// A token matched whole in the text before BPE runs (HF added_tokens; GGUF control and user-defined tokens).
struct AddedToken {
  std::string text;
  int32_t id;
  bool special;  // false: ordinary text that is always matched and shown when decoded
};

// What a tokenizer.json or a GGUF file says about a byte-level BPE tokenizer.
struct BpeVocabulary {
  std::vector<std::string> pieces;  // id -> piece (byte-to-unicode spelling); "" for ids that only added tokens use
  std::vector<std::pair<std::string, std::string>> merges;  // rank order
  std::string pattern;         // pre-tokenizer regex
  bool ignore_merges = false;  // a word that is itself a piece becomes that token without merging (Llama-3)
  std::vector<UnicodeForm> normalizers;  // applied in order to text before the pre-tokenizer (Qwen2: NFC)
  std::vector<AddedToken> added;
  int32_t bos_id = -1, eos_id = -1, eot_id = -1;
  bool add_bos = false;
};

class ByteLevelBpe {
 public:
  // `where` names the source file in errors. Every one of the 256 bytes must have a piece.
  static Result<std::unique_ptr<ByteLevelBpe>> create(const BpeVocabulary& vocab, const std::string& where);

  // Appends the ids of `text`, normalized first (no added-token matching: the caller has cut those out, and
  // added tokens are matched on the text as given, as HF does for tokens with "normalized": false).
  void encode(std::string_view text, std::vector<int32_t>& ids) const;
  int size() const { return int(pieces_.size()); }
  // Piece spelling and raw bytes of an id; empty for ids without a piece.
  const std::string& piece(int32_t id) const;
  const std::string& bytes(int32_t id) const;
  std::optional<int32_t> find_piece(std::string_view piece) const;
  const RegexSplitter& splitter() const { return *splitter_; }

 private:
  ByteLevelBpe() = default;
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;

  struct Merge {
    int32_t rank, id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) { return uint64_t(uint32_t(a)) << 32 | uint32_t(b); }

  std::vector<std::string> pieces_, bytes_;
  std::unordered_map<std::string, int32_t> by_bytes_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> rank and merged id
  int32_t byte_ids_[256] = {};
  std::unique_ptr<RegexSplitter> splitter_;
  bool ignore_merges_ = false;
  std::vector<UnicodeForm> normalizers_;
};

}  // namespace jetchat
