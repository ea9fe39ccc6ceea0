// Decode with int8 activations for AVX-512 VNNI (q8.h), groups that are multiples of kQ4Block: vpdpbusd takes
// unsigned bytes on one side, so the signed weights are flipped to u = q + 128 (an xor with 0x80) and the 128 is
// taken back per group through the minimums: q * s - m = u * s - (m + 128 * s), and the group's sum of the
// quantised activations (xsum) multiplies that minimum, as for the 4-bit kernel. So one 64-byte load of weights
// (the lo or hi runs of 4 blocks, the order q4_quantize_x stores the activations in) costs an xor and one
// vpdpbusd, and each chunk of 128 weights one convert and one FMA with d[block] * scale[group] spread over its
// blocks' lanes -- where the AVX-512BW kernel (q8_avx512.cpp) widens every byte to 16 bits and builds a scale per
// run of 16. Q6_K's groups of 16 (lo and hi runs of a block in different groups) stay on that kernel.
#include <immintrin.h>

#include "cpu/avx512_lane_scales.h"
#include "cpu/q8.h"

namespace jetchat::cpu {
namespace {

// The 16 i32 lanes of one chunk: u . x over the lo runs plus the hi runs, lanes 4i..4i+3 block i's.
inline __m512i chunk_i32(__m512i wlo, __m512i whi, __m512i xlo, __m512i xhi) {
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(wlo, flip), xlo);
  return _mm512_dpbusd_epi32(s, _mm512_xor_si512(whi, flip), xhi);
}

void dot_row(const uint8_t* row, int64_t cols, int group, const int8_t* xq, const float* d, const float* xsum,
             float* out) {
  const Q8Layout l{1, cols, group};
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  const int64_t blocks = cols / kQ4Block, full = blocks / kQ4XChunk * kQ4XChunk;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;  // consecutive chunks' FMAs do not wait on each other
  auto chunk = [&](int64_t c0, __m512 acc) {
    const uint8_t* w = row + c0 * kQ4Block;
    const int8_t* x = xq + c0 * kQ4Block;
    const __m512i s = chunk_i32(_mm512_loadu_si512(w), _mm512_loadu_si512(w + 64), _mm512_loadu_si512(x),
                                _mm512_loadu_si512(x + 64));
    const __m512 sc = _mm512_mul_ps(spread(_mm_loadu_ps(d + c0)), lane_scales(scales, c0, group));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, acc);
  };
  int64_t b0 = 0;
  for (; b0 + 2 * kQ4XChunk <= full; b0 += 2 * kQ4XChunk) {
    acc0 = chunk(b0, acc0);
    acc1 = chunk(b0 + kQ4XChunk, acc1);
  }
  if (b0 < full) acc0 = chunk(b0, acc0);
  if (const int64_t nb = blocks - full; nb > 0) {
    // A last chunk of 1..3 blocks: its nb lo runs, then its nb hi runs, by masked loads (masked-off activation
    // bytes are 0, so the flipped weight bytes beside them add nothing).
    const uint8_t* w = row + full * kQ4Block;
    const int8_t* x = xq + full * kQ4Block;
    const __mmask64 m = (__mmask64(1) << (16 * nb)) - 1;
    float sc[kQ4XChunk] = {};
    for (int64_t j = 0; j < nb; ++j) sc[j] = scales[(full + j) * kQ4Block / group] * d[full + j];
    const __m512i s = chunk_i32(_mm512_maskz_loadu_epi8(m, w), _mm512_maskz_loadu_epi8(m, w + 16 * nb),
                                _mm512_maskz_loadu_epi8(m, x), _mm512_maskz_loadu_epi8(m, x + 16 * nb));
    acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), spread(_mm_loadu_ps(sc)), acc1);
  }
  __m512 z = _mm512_setzero_ps();  // sum of (min + 128 * scale) * xsum, 16 groups per step
  const __m512 k128 = _mm512_set1_ps(128.0f);
  for (int64_t g = 0; g < l.groups(); g += 16) {
    const int64_t left = l.groups() - g;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __m512 shifted_min =
        _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, scales + g), k128, _mm512_maskz_loadu_ps(m, mins + g));
    z = _mm512_fmadd_ps(shifted_min, _mm512_maskz_loadu_ps(m, xsum + g), z);
  }
  *out = _mm512_reduce_add_ps(_mm512_sub_ps(_mm512_add_ps(acc0, acc1), z));
}

void dot_i8(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
            const float* d, const float* xsum, float* out) {
  if (group % kQ4Block) return q8_kernels_avx512().dot_i8(rows, stride, nrows, cols, group, xq, d, xsum, out);
  for (int r = 0; r < nrows; ++r) dot_row(rows + size_t(r) * stride, cols, group, xq, d, xsum, out + r);
}

}  // namespace

const Q8Kernels& q8_kernels_avx512_vnni() {
  static const Q8Kernels k{"avx512-vnni", q8_kernels_avx512().dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
