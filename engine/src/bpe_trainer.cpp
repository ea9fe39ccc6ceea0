#include "bpe_trainer.h"

#include <map>
#include <unordered_map>

namespace jetchat {

Result<BpeVocabulary> train_byte_level_bpe(std::string_view text, const std::string& pattern, int max_merges) {
  auto splitter = RegexSplitter::compile(pattern, "the BPE trainer's pattern");
  if (!splitter) return splitter.status();
  BpeVocabulary v;
  v.pattern = pattern;
  std::unordered_map<std::string, int32_t> by_bytes;
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) {
    bytes.emplace_back(1, char(b));
    v.pieces.push_back(byte_to_piece_char(uint8_t(b)));
    by_bytes.emplace(bytes.back(), b);
  }
  // Each distinct word once, as symbol ids, with its count.
  std::map<std::string_view, int64_t> counts;
  for (std::string_view w : (*splitter)->split(text)) ++counts[w];
  std::vector<std::pair<std::vector<int32_t>, int64_t>> words;
  for (const auto& [w, n] : counts) {
    std::vector<int32_t> ids;
    for (char c : w) ids.push_back(uint8_t(c));
    words.emplace_back(std::move(ids), n);
  }
  for (int m = 0; m < max_merges; ++m) {
    std::map<std::pair<int32_t, int32_t>, int64_t> pairs;  // ordered: the first of equal counts has the lowest ids
    for (const auto& [ids, n] : words)
      for (size_t i = 0; i + 1 < ids.size(); ++i) pairs[{ids[i], ids[i + 1]}] += n;
    std::pair<int32_t, int32_t> best{};
    int64_t best_n = 1;
    for (const auto& [p, n] : pairs)
      if (n > best_n) best = p, best_n = n;
    if (best_n < 2) break;
    const std::string merged = bytes[size_t(best.first)] + bytes[size_t(best.second)];
    auto [it, added] = by_bytes.emplace(merged, int32_t(bytes.size()));
    if (added) {
      bytes.push_back(merged);
      v.pieces.push_back(bytes_to_piece(merged));
    }
    v.merges.emplace_back(v.pieces[size_t(best.first)], v.pieces[size_t(best.second)]);
    for (auto& [ids, n] : words) {
      std::vector<int32_t> out;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i + 1 < ids.size() && ids[i] == best.first && ids[i + 1] == best.second) {
          out.push_back(it->second);
          ++i;
        } else {
          out.push_back(ids[i]);
        }
      }
      ids = std::move(out);
    }
  }
  return v;
}

}  // namespace jetchat
