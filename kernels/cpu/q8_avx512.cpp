// Decode with int8 activations for AVX-512BW (q8.h): one 32-byte load per two runs of 16 weights, widened to
// 32 x i16 with the matching activations and multiplied pairwise into 16 x i32 (vpmaddwd: exact), lanes 0-7 one
// run's and 8-15 the next run's; then one FMA with the runs' scale[group] * d[block] spread over their lanes, the
// chunk's 8 run scales built in vector registers. One thread, 11264 x 2048 random weights: 1.62 ms (group 32) and
// 2.51 ms (group 16), the AVX2 kernel's per-run scalar scale and broadcast 2.35 / 4.41 ms. (An AVX-512 VNNI
// vpdpbusd version, activations offset by 128 and corrected by the weight sums, ran slower still here: not kept.)
// Prefill tiles keep avx2's f32 kernel.
#include <immintrin.h>

#include <algorithm>

#include "cpu/q8.h"

namespace jetchat::cpu {
namespace {

// scale[group] of the 8 runs of a full chunk at block b0, in memory order: lo runs of blocks b0..b0+3, then hi.
inline __m256 run_scales(const float* scales, int64_t b0, int group) {
  if (group == 16)  // lo of block b is group 2b, hi 2b + 1
    return _mm256_permutevar8x32_ps(_mm256_loadu_ps(scales + 2 * b0), _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
  if (group == kQ4Block) return _mm256_broadcast_ps(reinterpret_cast<const __m128*>(scales + b0));
  const int gb = group / kQ4Block;  // blocks per group
  const __m128 v = _mm_set_ps(scales[(b0 + 3) / gb], scales[(b0 + 2) / gb], scales[(b0 + 1) / gb], scales[b0 / gb]);
  return _mm256_insertf128_ps(_mm256_castps128_ps256(v), v, 1);
}

void dot_row_i8(const uint8_t* row, int64_t cols, int group, const int8_t* xq, const float* d, const float* xsum,
                float* out) {
  const Q8Layout l{1, cols, group};
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  const int64_t blocks = cols / kQ4Block, full = blocks / kQ4XChunk * kQ4XChunk;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
  for (int64_t b0 = 0; b0 < full; b0 += kQ4XChunk) {
    const __m256 sv = _mm256_mul_ps(run_scales(scales, b0, group),
                                    _mm256_broadcast_ps(reinterpret_cast<const __m128*>(d + b0)));
    const __m512 s = _mm512_castps256_ps512(sv);
    const uint8_t* w = row + b0 * kQ4Block;
    const int8_t* x = xq + b0 * kQ4Block;
    for (int p = 0; p < 4; ++p) {  // runs 2p and 2p + 1 of the chunk
      const __m512i wi = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * p)));
      const __m512i xi = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * p)));
      const __m512 lane_s =
          _mm512_permutexvar_ps(_mm512_inserti64x4(_mm512_set1_epi32(2 * p), _mm256_set1_epi32(2 * p + 1), 1), s);
      const __m512 prod = _mm512_cvtepi32_ps(_mm512_madd_epi16(wi, xi));
      if (p % 2) acc1 = _mm512_fmadd_ps(prod, lane_s, acc1);
      else acc0 = _mm512_fmadd_ps(prod, lane_s, acc0);
    }
  }
  float total = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  if (const int64_t nb = blocks - full; nb > 0) {  // a last chunk of 1..3 blocks: one run at a time
    const uint8_t* w = row + full * kQ4Block;
    const int8_t* x = xq + full * kQ4Block;
    for (int64_t i = 0; i < nb; ++i)
      for (int half = 0; half < 2; ++half) {
        const int64_t off = 16 * (half * nb + i), b = full + i;
        auto widen = [](const void* q) {
          return _mm256_cvtepi8_epi16(_mm_loadu_si128(static_cast<const __m128i*>(q)));
        };
        const __m256i p = _mm256_madd_epi16(widen(w + off), widen(x + off));
        const __m256i s4 = _mm256_add_epi32(p, _mm256_permute2x128_si256(p, p, 1));
        __m128i s = _mm256_castsi256_si128(s4);
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
        total += scales[(b * kQ4Block + 16 * half) / group] * d[b] * float(_mm_cvtsi128_si32(s));
      }
  }
  __m512 z = _mm512_setzero_ps();  // sum of min * xsum, 16 groups per step
  for (int64_t g = 0; g < l.groups(); g += 16) {
    const int64_t left = l.groups() - g;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    z = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, mins + g), _mm512_maskz_loadu_ps(m, xsum + g), z);
  }
  *out = total - _mm512_reduce_add_ps(z);
}

void dot_i8(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
            const float* d, const float* xsum, float* out) {
  for (int r = 0; r < nrows; ++r) dot_row_i8(rows + size_t(r) * stride, cols, group, xq, d, xsum, out + r);
}

}  // namespace

const Q8Kernels& q8_kernels_avx512() {
  static const Q8Kernels k{"avx512", q8_kernels_avx2().dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
