// GGUF tensor blocks -> f32, and the quantised types' blocks -> their exact integer form (q, scale, min), which the
// loader hands to Backend::upload_quant: one unpacker per ggml block type that JetChat loads (Q8_0, Q4_0, Q4_1,
// Q4_K, Q5_K, Q6_K; F32, F16, BF16 just convert), written from the block layouts in ggml-common.h (see
// ../shared/reference/FORMATS.md). Stateless and thread-safe.
#pragma once

#include <cstdint>

#include "gguf.h"

namespace jetchat {

// True for the types gguf_dequantize decodes.
bool gguf_dequantizable(GgmlType t);

// Decodes `n` weights (a whole number of blocks, ggml_block_size(t)) stored from `src` into out[n].
// `src` needs no alignment. t must be gguf_dequantizable.
void gguf_dequantize(GgmlType t, const uint8_t* src, int64_t n, float* out);

// The integer form of a quantised type: weight = q * scale - min, one scale and min per gguf_unpack_group(t)
// weights (32; 16 for Q6_K's sub-blocks), q in 0..15 where gguf_unpack_bits(t) is 4 (Q4_0, Q4_1, Q4_K) and in
// -128..127 where it is 8 (Q8_0, Q5_K, Q6_K). Q4_0's -8 and Q6_K's -32 offsets become min = 8 * d (Q4_0) or a
// signed q (Q6_K), so every product and difference is the one gguf_dequantize computes, bit for bit.
// Both return 0 for the types that are not quantised (F32, F16, BF16).
int gguf_unpack_group(GgmlType t);
int gguf_unpack_bits(GgmlType t);

// Unpacks n weights (whole blocks) of quantised type t into q[n], scales[n / group], mins[n / group]; group is
// gguf_unpack_group(t) or 16 (a 32-weight group's scale and min are then written twice).
void gguf_unpack(GgmlType t, const uint8_t* src, int64_t n, int group, int8_t* q, float* scales, float* mins);

}  // namespace jetchat
