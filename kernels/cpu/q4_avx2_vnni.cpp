// Decode with int8 activations for AVX-VNNI (VEX-encoded, 256-bit vpdpbusd; Alder Lake and later without
// AVX-512): the AVX-512 VNNI kernel (q4_avx512_vnni.cpp) at half width, two 16-byte weight blocks per load.
// Prefill tiles keep avx2's f32 kernel.
#include <immintrin.h>

#include "cpu/q4.h"

namespace jetchat::cpu {
namespace {

inline __m128 block_scales(const float* scales, int64_t b0, int group) {
  const int gb = group / kQ4Block;
  if (gb == 1) return _mm_loadu_ps(scales + b0);
  if (gb == 2) {
    const float s0 = scales[b0 / 2], s1 = scales[b0 / 2 + 1];
    return _mm_set_ps(s1, s1, s0, s0);
  }
  if (gb == 4) return _mm_set1_ps(scales[b0 / 4]);  // group 128: a shift, not a division
  if (gb % 4 == 0) return _mm_set1_ps(scales[b0 / gb]);
  return _mm_set_ps(scales[(b0 + 3) / gb], scales[(b0 + 2) / gb], scales[(b0 + 1) / gb], scales[b0 / gb]);
}

// One chunk of 4 blocks as two 256-bit halves (blocks b0, b0+1 and b0+2, b0+3).
inline void chunk(const uint8_t* row, const int8_t* xq, const float* d, const float* scales, int64_t b0, int group,
                  __m256& acc0, __m256& acc1) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const uint8_t* wp = row + b0 * (kQ4Block / 2);
  const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp));
  const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + 32));
  const int8_t* x = xq + b0 * kQ4Block;
  auto ld = [&](int off) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + off)); };
  __m256i s0 = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_and_si256(w0, m4), ld(0));
  s0 = _mm256_dpbusd_avx_epi32(s0, _mm256_and_si256(_mm256_srli_epi16(w0, 4), m4), ld(64));
  __m256i s1 = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_and_si256(w1, m4), ld(32));
  s1 = _mm256_dpbusd_avx_epi32(s1, _mm256_and_si256(_mm256_srli_epi16(w1, 4), m4), ld(96));
  const __m256 sc = _mm256_castps128_ps256(_mm_mul_ps(block_scales(scales, b0, group), _mm_loadu_ps(d + b0)));
  const __m256 sc0 = _mm256_permutevar8x32_ps(sc, _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0));
  const __m256 sc1 = _mm256_permutevar8x32_ps(sc, _mm256_set_epi32(3, 3, 3, 3, 2, 2, 2, 2));
  acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), sc0, acc0);
  acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), sc1, acc1);
}

void dot_row(const uint8_t* row, int64_t cols, int group, const int8_t* xq, const float* d, const float* xsum,
             float* out) {
  const Q4Layout l{1, cols, group};
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  const int64_t blocks = cols / kQ4Block, full = blocks / kQ4XChunk * kQ4XChunk;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  for (int64_t b0 = 0; b0 < full; b0 += kQ4XChunk) chunk(row, xq, d, scales, b0, group, acc0, acc1);
  const __m256 a = _mm256_add_ps(acc0, acc1);
  __m128 r = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  float total = _mm_cvtss_f32(r);
  const int64_t nb = blocks - full;
  for (int64_t i = 0; i < nb; ++i) {
    const int64_t b = full + i;
    const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * (kQ4Block / 2)));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    const int8_t* x = xq + full * kQ4Block;
    __m128i s = _mm_dpbusd_avx_epi32(_mm_setzero_si128(), _mm_and_si128(w, m4),
                                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 16 * i)));
    s = _mm_dpbusd_avx_epi32(s, _mm_and_si128(_mm_srli_epi16(w, 4), m4),
                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 16 * nb + 16 * i)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    total += scales[b * kQ4Block / group] * d[b] * float(_mm_cvtsi128_si32(s));
  }
  for (int64_t g = 0; g < l.groups(); ++g) total -= mins[g] * xsum[g];
  *out = total;
}

void dot_i8(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
            const float* d, const float* xsum, float* out) {
  for (int r = 0; r < nrows; ++r) dot_row(rows + size_t(r) * stride, cols, group, xq, d, xsum, out + r);
}

}  // namespace

const Q4Kernels& q4_kernels_avx2_vnni() {
  static const Q4Kernels k{"avx2-vnni", q4_kernels_avx2().dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
