// Learns byte-level BPE merges from text, for test vocabularies and the tokenizers of random-weight models: the
// most frequent adjacent pair (ties: the lowest ids) is merged, again and again. Quadratic and single-threaded,
// fine for a few hundred KB and a few thousand merges, not for training real tokenizers.
#pragma once

#include <string_view>

#include "byte_level_bpe.h"
#include "jetchat/status.h"

namespace jetchat {

// Pieces: the 256 bytes (id = byte value), then one per merge; no added tokens. Stops early when no pair occurs
// twice.
Result<BpeVocabulary> train_byte_level_bpe(std::string_view text, const std::string& pattern, int max_merges);

}  // namespace jetchat
