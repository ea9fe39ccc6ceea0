// The 4-bit dot product (q4.h) for AVX-512 F/BW/VL: one 16-byte load per 32 weights, widened to 16 x i32 whose
// low nibbles are weights 0..15 and high nibbles weights 16..31 of the block.
#include <immintrin.h>

#include "cpu/q4.h"
#include "cpu/vec.h"

namespace jetchat::cpu {
namespace {

struct Block {
  __m512 lo, hi;  // weights b..b+15, b+16..b+31 as floats 0..15
};
inline Block load_block(const uint8_t* qs) {
  const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return {_mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(0xF))),
          _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4))};
}

// Decode: per group, the raw sum of q*x goes through one FMA with the group's scale.
void dot1(const uint8_t* row, const Q4Layout& l, const float* x, const float* xsum, float* out) {
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  __m512 total = _mm512_setzero_ps();
  float min_term = 0;
  for (int64_t g = 0; g < l.groups(); ++g) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    for (int64_t b = g * l.group; b < (g + 1) * l.group; b += kQ4Block) {
      const Block w = load_block(row + b / 2);
      a0 = _mm512_fmadd_ps(w.lo, _mm512_loadu_ps(x + b), a0);
      a1 = _mm512_fmadd_ps(w.hi, _mm512_loadu_ps(x + b + 16), a1);
    }
    total = _mm512_fmadd_ps(_mm512_set1_ps(scales[g]), _mm512_add_ps(a0, a1), total);
    min_term += mins[g] * xsum[g];
  }
  *out = _mm512_reduce_add_ps(total) - min_term;
}

// Prefill: each block is scaled once and shared by the NT activation rows.
template <int NT>
void dot_n(const uint8_t* row, const Q4Layout& l, const float* x, int64_t ldx, const float* xsum, float* out) {
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  float min_term[NT] = {};
  for (int64_t g = 0; g < l.groups(); ++g) {
    const __m512 s = _mm512_set1_ps(scales[g]);
    for (int64_t b = g * l.group; b < (g + 1) * l.group; b += kQ4Block) {
      const Block w = load_block(row + b / 2);
      const __m512 lo = _mm512_mul_ps(w.lo, s), hi = _mm512_mul_ps(w.hi, s);
      for (int t = 0; t < NT; ++t) {
        acc[t] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(x + t * ldx + b), acc[t]);
        acc[t] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(x + t * ldx + b + 16), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) min_term[t] += mins[g] * xsum[t * l.groups() + g];
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]) - min_term[t];
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

const Q4Kernels& q4_kernels_avx512() {
  static const Q4Kernels k{"avx512", dot};
  return k;
}

}  // namespace jetchat::cpu
