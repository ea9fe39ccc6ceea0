#include "byte_level_bpe.h"

#include <array>
#include <cstdio>
#include <queue>

namespace jetchat {
namespace {

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 (controls, space, DEL, NBSP,
// soft hyphen) take the code points from U+0100 on, in byte order.
struct ByteTable {
  std::array<char32_t, 256> to_cp{};
  std::array<int16_t, 324> to_byte{};  // code point -> byte, -1 outside the table
  ByteTable() {
    to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      to_cp[b] = printable ? char32_t(b) : next++;
      to_byte[to_cp[b]] = int16_t(b);
    }
  }
};
const ByteTable& table() {
  static const ByteTable t;
  return t;
}

void append_utf8(char32_t cp, std::string& out) {  // code points below U+0800 only: all the table uses
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else {
    out.push_back(char(0xc0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3f)));
  }
}

std::string hex_byte(uint8_t b) {
  char s[8];
  std::snprintf(s, sizeof s, "0x%02X", b);
  return s;
}

}  // namespace

std::string byte_to_piece_char(uint8_t b) {
  std::string s;
  append_utf8(table().to_cp[b], s);
  return s;
}

std::string bytes_to_piece(std::string_view bytes) {
  std::string s;
  for (char c : bytes) append_utf8(table().to_cp[uint8_t(c)], s);
  return s;
}

std::optional<std::string> piece_to_bytes(std::string_view piece) {
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    const auto c = uint8_t(piece[i]);
    char32_t cp;
    if (c < 0x80) {
      cp = c, i += 1;
    } else if ((c & 0xe0) == 0xc0 && i + 1 < piece.size() && (uint8_t(piece[i + 1]) & 0xc0) == 0x80) {
      cp = char32_t(c & 0x1f) << 6 | (uint8_t(piece[i + 1]) & 0x3f), i += 2;
    } else {
      return std::nullopt;  // a character past U+07FF or broken UTF-8: not in the table
    }
    if (cp >= table().to_byte.size() || table().to_byte[cp] < 0) return std::nullopt;
    out.push_back(char(table().to_byte[cp]));
  }
  return out;
}

Result<std::unique_ptr<ByteLevelBpe>> ByteLevelBpe::create(const BpeVocabulary& vocab, const std::string& where) {
  std::unique_ptr<ByteLevelBpe> bpe(new ByteLevelBpe());
  bpe->pieces_ = vocab.pieces;
  bpe->bytes_.resize(vocab.pieces.size());
  for (size_t id = 0; id < vocab.pieces.size(); ++id) {
    const std::string& p = vocab.pieces[id];
    if (p.empty()) continue;
    auto b = piece_to_bytes(p);
    if (!b)
      return Status(StatusCode::kInvalidFormat, where + ": token " + std::to_string(id) + " '" + p +
                                                    "' is not byte-level (a character outside GPT-2's byte table)");
    bpe->bytes_[id] = *b;
    bpe->by_bytes_.emplace(std::move(*b), int32_t(id));
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = bpe->by_bytes_.find(std::string(1, char(b)));
    if (it == bpe->by_bytes_.end())
      return Status(StatusCode::kInvalidFormat, where + ": no token for byte " + hex_byte(uint8_t(b)) + " ('" +
                                                    byte_to_piece_char(uint8_t(b)) + "'); byte-level BPE needs all 256");
    bpe->byte_ids_[b] = it->second;
  }
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const auto& [left, right] = vocab.merges[rank];
    auto id_of = [&](const std::string& piece) -> std::optional<int32_t> {
      const auto bytes = piece_to_bytes(piece);
      if (!bytes) return std::nullopt;
      const auto it = bpe->by_bytes_.find(*bytes);
      return it == bpe->by_bytes_.end() ? std::nullopt : std::optional<int32_t>(it->second);
    };
    const auto a = id_of(left), b = id_of(right), ab = id_of(left + right);
    if (!a || !b || !ab)
      return Status(StatusCode::kInvalidFormat,
                    where + ": merge " + std::to_string(rank) + " '" + left + " " + right + "': '" +
                        (!a ? left : !b ? right : left + right) + "' is not in the vocabulary");
    bpe->merges_.emplace(pair_key(*a, *b), Merge{int32_t(rank), *ab});  // a repeated pair keeps its first rank
  }
  auto splitter = RegexSplitter::compile(vocab.pattern, where);
  if (!splitter) return splitter.status();
  bpe->splitter_ = std::move(splitter.value());
  bpe->ignore_merges_ = vocab.ignore_merges;
  bpe->normalizers_ = vocab.normalizers;
  return bpe;
}

const std::string& ByteLevelBpe::piece(int32_t id) const {
  static const std::string kNone;
  return id >= 0 && id < size() ? pieces_[size_t(id)] : kNone;
}

const std::string& ByteLevelBpe::bytes(int32_t id) const {
  static const std::string kNone;
  return id >= 0 && id < size() ? bytes_[size_t(id)] : kNone;
}

std::optional<int32_t> ByteLevelBpe::find_piece(std::string_view piece) const {
  const auto b = piece_to_bytes(piece);
  if (!b) return std::nullopt;
  const auto it = by_bytes_.find(*b);
  if (it == by_bytes_.end() || pieces_[size_t(it->second)] != piece) return std::nullopt;
  return it->second;
}

void ByteLevelBpe::encode(std::string_view text, std::vector<int32_t>& ids) const {
  std::string normalized;
  if (!normalizers_.empty()) normalized = normalize(text, normalizers_), text = normalized;
  for (std::string_view word : splitter_->split(text)) encode_word(word, ids);
}

// Merges the lowest-ranked adjacent pair first, the leftmost among equals, until no pair has a merge: a heap of
// candidate pairs over a linked list of symbols, so long words (whitespace runs) stay O(n log n).
void ByteLevelBpe::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_)
    if (const auto it = by_bytes_.find(std::string(word)); it != by_bytes_.end()) {
      ids.push_back(it->second);
      return;
    }
  struct Symbol {
    int32_t id;  // -1 once merged into its left neighbour
    int prev, next;
  };
  const int n = int(word.size());
  std::vector<Symbol> sym(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) sym[size_t(i)] = {byte_ids_[uint8_t(word[size_t(i)])], i - 1, i + 1 < n ? i + 1 : -1};
  struct Candidate {
    int32_t rank;
    int left;
    int32_t left_id, right_id, merged_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int left) {
    const int right = sym[size_t(left)].next;
    if (right < 0) return;
    const int32_t a = sym[size_t(left)].id, b = sym[size_t(right)].id;
    if (const auto it = merges_.find(pair_key(a, b)); it != merges_.end())
      queue.push({it->second.rank, left, a, b, it->second.id});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[size_t(c.left)];
    // Skip pairs that an earlier merge changed.
    if (l.id != c.left_id || l.next < 0 || sym[size_t(l.next)].id != c.right_id) continue;
    Symbol& r = sym[size_t(l.next)];
    l.id = c.merged_id;
    l.next = r.next;
    if (r.next >= 0) sym[size_t(r.next)].prev = c.left;
    r.id = -1;
    if (l.prev >= 0) consider(l.prev);
    consider(c.left);
  }
  for (int i = 0; i >= 0; i = sym[size_t(i)].next) ids.push_back(sym[size_t(i)].id);
}

}  // namespace jetchat
