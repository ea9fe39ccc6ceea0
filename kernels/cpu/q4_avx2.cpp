// The 4-bit dot product (q4.h) for AVX2 + FMA: two 8-byte loads per 32-weight block, each widened to 8 x i32
// whose low nibbles are weights j..j+7 and high nibbles weights j+16..j+23 of the block.
#include <immintrin.h>

#include "cpu/q4.h"
#include "cpu/vec.h"

namespace jetchat::cpu {
namespace {

struct Block {
  __m256 w[4];  // weights b..b+7, b+8..b+15, b+16..b+23, b+24..b+31 as floats 0..15
};
inline Block load_block(const uint8_t* qs) {
  const __m256i mask = _mm256_set1_epi32(0xF);
  const __m256i v0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs)));
  const __m256i v1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs + 8)));
  return {{_mm256_cvtepi32_ps(_mm256_and_si256(v0, mask)), _mm256_cvtepi32_ps(_mm256_and_si256(v1, mask)),
           _mm256_cvtepi32_ps(_mm256_srli_epi32(v0, 4)), _mm256_cvtepi32_ps(_mm256_srli_epi32(v1, 4))}};
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Decode: per group, the raw sum of q*x goes through one FMA with the group's scale.
void dot1(const uint8_t* row, const Q4Layout& l, const float* x, const float* xsum, float* out) {
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  __m256 total = _mm256_setzero_ps();
  float min_term = 0;
  for (int64_t g = 0; g < l.groups(); ++g) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    for (int64_t b = g * l.group; b < (g + 1) * l.group; b += kQ4Block) {
      const Block w = load_block(row + b / 2);
      a0 = _mm256_fmadd_ps(w.w[0], _mm256_loadu_ps(x + b), a0);
      a1 = _mm256_fmadd_ps(w.w[1], _mm256_loadu_ps(x + b + 8), a1);
      a0 = _mm256_fmadd_ps(w.w[2], _mm256_loadu_ps(x + b + 16), a0);
      a1 = _mm256_fmadd_ps(w.w[3], _mm256_loadu_ps(x + b + 24), a1);
    }
    total = _mm256_fmadd_ps(_mm256_set1_ps(scales[g]), _mm256_add_ps(a0, a1), total);
    min_term += mins[g] * xsum[g];
  }
  *out = hsum(total) - min_term;
}

// Prefill: each block is scaled once and shared by the NT activation rows.
template <int NT>
void dot_n(const uint8_t* row, const Q4Layout& l, const float* x, int64_t ldx, const float* xsum, float* out) {
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  float min_term[NT] = {};
  for (int64_t g = 0; g < l.groups(); ++g) {
    const __m256 s = _mm256_set1_ps(scales[g]);
    for (int64_t b = g * l.group; b < (g + 1) * l.group; b += kQ4Block) {
      const Block w = load_block(row + b / 2);
      for (int i = 0; i < 4; ++i) {
        const __m256 wi = _mm256_mul_ps(w.w[i], s);
        for (int t = 0; t < NT; ++t) acc[t] = _mm256_fmadd_ps(wi, _mm256_loadu_ps(x + t * ldx + b + 8 * i), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) min_term[t] += mins[g] * xsum[t * l.groups() + g];
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]) - min_term[t];
}

void dot(const uint8_t* row, int64_t cols, int group, const float* x, int64_t ldx, const float* xsum, int nt,
         float* out) {
  const Q4Layout l{1, cols, group};
  with_tile(nt, [&](auto nt_c) {
    if constexpr (decltype(nt_c)::value == 1)
      dot1(row, l, x, xsum, out);
    else
      dot_n<decltype(nt_c)::value>(row, l, x, ldx, xsum, out);
  });
}

}  // namespace

const Q4Kernels& q4_kernels_avx2() {
  static const Q4Kernels k{"avx2", dot};
  return k;
}

}  // namespace jetchat::cpu
