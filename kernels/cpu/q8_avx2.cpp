// The 8-bit dot products (q8.h) for AVX2 + FMA. Decode: each run of 16 int8 weights and its 16 int8 activations
// are widened to i16 and multiplied pairwise into 8 x i32 (vpmaddwd: exact, where vpmaddubsw's u8 x s8 would need
// the weights unsigned and could saturate), then one FMA with scale[group] * d[block]. Prefill: each run is
// widened to f32, scaled once and shared by the NT activation rows.
#include <immintrin.h>

#include <algorithm>

#include "cpu/q8.h"
#include "cpu/vec.h"

namespace jetchat::cpu {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256i load16_i16(const void* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(static_cast<const __m128i*>(p)));
}

void dot_row_i8(const uint8_t* row, int64_t cols, int group, const int8_t* xq, const float* d, const float* xsum,
                float* out) {
  const Q8Layout l{1, cols, group};
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  const int64_t blocks = cols / kQ4Block;
  // Weights 0..15 and 16..31 of a block go to separate accumulators (they may be separate groups of 16).
  __m256 acc_lo = _mm256_setzero_ps(), acc_hi = acc_lo;
  GroupCursor g(group);
  for (int64_t b0 = 0; b0 < blocks; b0 += kQ4XChunk) {
    const int64_t nb = std::min<int64_t>(kQ4XChunk, blocks - b0), base = b0 * kQ4Block;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t b = b0 + i, lo = base + 16 * i, hi = base + 16 * nb + 16 * i;
      const __m256i plo = _mm256_madd_epi16(load16_i16(row + lo), load16_i16(xq + lo));
      const __m256i phi = _mm256_madd_epi16(load16_i16(row + hi), load16_i16(xq + hi));
      acc_lo = _mm256_fmadd_ps(_mm256_cvtepi32_ps(plo), _mm256_set1_ps(scales[g.next()] * d[b]), acc_lo);
      acc_hi = _mm256_fmadd_ps(_mm256_cvtepi32_ps(phi), _mm256_set1_ps(scales[g.next()] * d[b]), acc_hi);
    }
  }
  float total = hsum(_mm256_add_ps(acc_lo, acc_hi));
  for (int64_t g = 0; g < l.groups(); ++g) total -= mins[g] * xsum[g];
  *out = total;
}

void dot_i8(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
            const float* d, const float* xsum, float* out) {
  for (int r = 0; r < nrows; ++r) dot_row_i8(rows + size_t(r) * stride, cols, group, xq, d, xsum, out + r);
}

template <int NT>
void dot_n(const uint8_t* row, const Q8Layout& l, const float* x, int64_t ldx, const float* xsum, float* out) {
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  const int64_t blocks = l.cols / kQ4Block;
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  GroupCursor g(l.group);
  for (int64_t b0 = 0; b0 < blocks; b0 += kQ4XChunk) {
    const int64_t nb = std::min<int64_t>(kQ4XChunk, blocks - b0);
    for (int64_t i = 0; i < 2 * nb; ++i) {  // in weight order: block b's weights 0..15, then its 16..31
      const int64_t b = b0 + i / 2, half = i % 2, e = b * kQ4Block + 16 * half;
      const __m128i q = _mm_loadu_si128(
          reinterpret_cast<const __m128i*>(row + b0 * kQ4Block + 16 * (half * nb + i / 2)));
      const __m256 s = _mm256_set1_ps(scales[g.next()]);
      const __m256 w0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), s);
      const __m256 w1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8))), s);
      for (int t = 0; t < NT; ++t) {
        acc[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + t * ldx + e), acc[t]);
        acc[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + t * ldx + e + 8), acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) {
    float min_term = 0;
    for (int64_t g = 0; g < l.groups(); ++g) min_term += mins[g] * xsum[t * l.groups() + g];
    out[t] = hsum(acc[t]) - min_term;
  }
}

void dot(const uint8_t* row, int64_t cols, int group, const float* x, int64_t ldx, const float* xsum, int nt,
         float* out) {
  const Q8Layout l{1, cols, group};
  with_tile(nt, [&](auto nt_c) { dot_n<decltype(nt_c)::value>(row, l, x, ldx, xsum, out); });
}

}  // namespace

const Q8Kernels& q8_kernels_avx2() {
  static const Q8Kernels k{"avx2", dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
