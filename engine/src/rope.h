// Rotary position embedding frequencies for every scaling variant, computed on the host once per forward call
// (dynamic NTK depends on the sequence length) and handed to the backend's rope op.
#pragma once

#include <vector>

#include "model_config.h"

namespace jetchat {

// inv_freq[j] for j < head_dim/2, for a sequence of seq_len tokens. HF conventions: theta^(-2j/D), linear divides
// by the factor, dynamic NTK raises the base when seq_len > max_position, llama3 rescales by wavelength.
std::vector<float> rope_inv_freq(const ModelConfig& c, int seq_len);

}  // namespace jetchat
