// Decode with int8 activations for AVX-512 VNNI (issue #3): vpdpbusd multiplies the weights' u8 nibbles by the
// s8 activations of q4_quantize_x and sums each four products into an i32 lane, so one 64-byte load of packed
// weights (4 blocks, 128 weights) costs an and, a shift, two vpdpbusd, one convert and one FMA with the per-lane
// scale d[block] * scale[group] -- no widening shuffles. Prefill tiles keep avx512's f32 kernel.
#include <immintrin.h>

#include "cpu/q4.h"

namespace jetchat::cpu {
namespace {

// Weight scales of blocks b0..b0+3 (block = kQ4Block weights).
inline __m128 block_scales(const float* scales, int64_t b0, int group) {
  const int gb = group / kQ4Block;  // blocks per group
  if (gb == 1) return _mm_loadu_ps(scales + b0);
  if (gb == 2) {
    const float s0 = scales[b0 / 2], s1 = scales[b0 / 2 + 1];
    return _mm_set_ps(s1, s1, s0, s0);
  }
  if (gb % 4 == 0) return _mm_set1_ps(scales[b0 / gb]);
  return _mm_set_ps(scales[(b0 + 3) / gb], scales[(b0 + 2) / gb], scales[(b0 + 1) / gb], scales[b0 / gb]);
}

// The 16 i32 lanes of one chunk's dot products: lanes 4i..4i+3 belong to block b0+i.
inline __m512i chunk_i32(const uint8_t* row, const int8_t* xq, int64_t b0) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i w = _mm512_loadu_si512(row + b0 * (kQ4Block / 2));
  const __m512i lo = _mm512_and_si512(w, m4), hi = _mm512_and_si512(_mm512_srli_epi16(w, 4), m4);
  const int8_t* x = xq + b0 * kQ4Block;
  const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(x));
  return _mm512_dpbusd_epi32(s, hi, _mm512_loadu_si512(x + 64));
}

// Four per-block floats spread over the 16 lanes of their blocks.
inline __m512 spread(__m128 v) {
  const __m512i idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(v));
}

// One chunk as floats times the per-lane scale d[block] * scale[group], added to acc.
inline __m512 chunk(const uint8_t* row, const int8_t* xq, const float* d, const float* scales, int64_t b0,
                    int group, __m512 acc) {
  const __m128 sc = _mm_mul_ps(block_scales(scales, b0, group), _mm_loadu_ps(d + b0));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(chunk_i32(row, xq, b0)), spread(sc), acc);
}

void dot_i8(const uint8_t* row, int64_t cols, int group, const int8_t* xq, const float* d, const float* xsum,
            float* out) {
  const Q4Layout l{1, cols, group};
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const uint8_t* zeros = row + l.zeros_offset();
  const int64_t blocks = cols / kQ4Block, full = blocks / kQ4XChunk * kQ4XChunk;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
  int64_t b0 = 0;
  if (group % (kQ4XChunk * kQ4Block) == 0) {
    // Whole chunks per group (group 128, 256, ...): the group's scale once per group, not per chunk.
    const int64_t cpg = group / (kQ4XChunk * kQ4Block);
    for (int64_t g = 0; g < l.groups(); ++g) {
      __m512 a0 = _mm512_setzero_ps(), a1 = a0;
      int64_t c = 0;
      for (; c + 2 <= cpg; c += 2, b0 += 2 * kQ4XChunk) {
        a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(chunk_i32(row, xq, b0)), spread(_mm_loadu_ps(d + b0)), a0);
        a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(chunk_i32(row, xq, b0 + kQ4XChunk)),
                             spread(_mm_loadu_ps(d + b0 + kQ4XChunk)), a1);
      }
      if (c < cpg) {
        a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(chunk_i32(row, xq, b0)), spread(_mm_loadu_ps(d + b0)), a0);
        b0 += kQ4XChunk;
      }
      acc0 = _mm512_fmadd_ps(_mm512_add_ps(a0, a1), _mm512_set1_ps(scales[g]), acc0);
    }
  }
  for (; b0 + 2 * kQ4XChunk <= full; b0 += 2 * kQ4XChunk) {
    acc0 = chunk(row, xq, d, scales, b0, group, acc0);
    acc1 = chunk(row, xq, d, scales, b0 + kQ4XChunk, group, acc1);
  }
  if (b0 < full) acc0 = chunk(row, xq, d, scales, b0, group, acc0);
  float total = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  // A last chunk of fewer than 4 blocks: one 16-byte block at a time.
  const int64_t nb = blocks - full;
  for (int64_t i = 0; i < nb; ++i) {
    const int64_t b = full + i;
    const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * (kQ4Block / 2)));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    const int8_t* x = xq + full * kQ4Block;
    __m128i s = _mm_dpbusd_epi32(_mm_setzero_si128(), _mm_and_si128(w, m4),
                                 _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 16 * i)));
    s = _mm_dpbusd_epi32(s, _mm_and_si128(_mm_srli_epi16(w, 4), m4),
                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 16 * nb + 16 * i)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    total += scales[b * kQ4Block / group] * d[b] * float(_mm_cvtsi128_si32(s));
  }
  for (int64_t g = 0; g < l.groups(); ++g) total -= scales[g] * float(zeros[g]) * xsum[g];
  *out = total;
}

}  // namespace

const Q4Kernels& q4_kernels_avx512_vnni() {
  static const Q4Kernels k{"avx512-vnni", q4_kernels_avx512().dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
