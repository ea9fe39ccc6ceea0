// Per-block scales spread over the lanes of an AVX-512 register, for the VNNI decode kernels (4- and 8-bit) that
// multiply four 32-weight blocks per 64-byte load. Include only from files compiled with -mavx512f.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "cpu/q4.h"

namespace jetchat::cpu {

// Four per-block floats spread over the 16 lanes of their blocks (lanes 4i..4i+3 belong to block b0+i).
inline __m512 spread(__m128 v) {
  const __m512i idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(v));
}

// Weight scales of blocks b0..b0+3 spread over their lanes.
inline __m512 lane_scales(const float* scales, int64_t b0, int group) {
  const int gb = group / kQ4Block;  // blocks per group
  if (gb == kQ4XChunk) return _mm512_set1_ps(scales[b0 / kQ4XChunk]);  // group 128: a shift, not a division
  if (gb % kQ4XChunk == 0) return _mm512_set1_ps(scales[b0 / gb]);
  if (gb == 1) return spread(_mm_loadu_ps(scales + b0));
  return spread(_mm_set_ps(scales[(b0 + 3) / gb], scales[(b0 + 2) / gb], scales[(b0 + 1) / gb], scales[b0 / gb]));
}

}  // namespace jetchat::cpu
