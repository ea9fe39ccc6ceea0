// GGUF tensor blocks -> f32: one decoder per ggml block type that JetChat loads (F32, F16, BF16, Q8_0, Q4_0,
// Q4_1, Q4_K, Q5_K, Q6_K), written from the block layouts in ggml-common.h (see ../shared/reference/FORMATS.md).
// Stateless and thread-safe.
#pragma once

#include <cstdint>

#include "gguf.h"

namespace jetchat {

// True for the types gguf_dequantize decodes.
bool gguf_dequantizable(GgmlType t);

// Decodes `n` weights (a whole number of blocks, ggml_block_size(t)) stored from `src` into out[n].
// `src` needs no alignment. t must be gguf_dequantizable.
void gguf_dequantize(GgmlType t, const uint8_t* src, int64_t n, float* out);

}  // namespace jetchat
