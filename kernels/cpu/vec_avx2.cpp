// vec.h for x86-64 with AVX2 + FMA + F16C (compiled with those flags; called only when the CPU has them).
#include <immintrin.h>

#include "cpu/vec.h"
#include "half.h"

namespace jetchat::cpu {
namespace {

struct LoadF32 {
  using T = float;
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
  static float one(const float* p) { return *p; }
};
struct LoadF16 {
  using T = uint16_t;
  static __m256 load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float one(const uint16_t* p) { return f16_to_f32(*p); }
};
struct LoadBF16 {
  using T = uint16_t;
  static __m256 load(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float one(const uint16_t* p) { return bf16_to_f32(*p); }
};

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Decode: one activation row; four independent accumulators keep the FMA pipes busy.
template <typename L>
void dot1(const typename L::T* w, const float* x, int64_t n, float* out) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t k = 0;
  for (; k + 32 <= n; k += 32) {
    a0 = _mm256_fmadd_ps(L::load(w + k), _mm256_loadu_ps(x + k), a0);
    a1 = _mm256_fmadd_ps(L::load(w + k + 8), _mm256_loadu_ps(x + k + 8), a1);
    a2 = _mm256_fmadd_ps(L::load(w + k + 16), _mm256_loadu_ps(x + k + 16), a2);
    a3 = _mm256_fmadd_ps(L::load(w + k + 24), _mm256_loadu_ps(x + k + 24), a3);
  }
  for (; k + 8 <= n; k += 8) a0 = _mm256_fmadd_ps(L::load(w + k), _mm256_loadu_ps(x + k), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; k < n; ++k) s += L::one(w + k) * x[k];
  *out = s;
}

// Prefill: NT activation rows share each loaded weight vector.
template <typename L, int NT>
void dot_n(const typename L::T* w, const float* x, int64_t ldx, int64_t n, float* out) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 wv = L::load(w + k);
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + t * ldx + k), acc[t]);
  }
  for (int t = 0; t < NT; ++t) {
    float s = hsum(acc[t]);
    for (int64_t j = k; j < n; ++j) s += L::one(w + j) * x[t * ldx + j];
    out[t] = s;
  }
}

template <typename L>
void dot_tile(const void* wv, const float* x, int64_t ldx, int nt, int64_t n, float* out) {
  const auto* w = static_cast<const typename L::T*>(wv);
  with_tile(nt, [&](auto nt_c) {
    if constexpr (decltype(nt_c)::value == 1)
      dot1<L>(w, x, n, out);
    else
      dot_n<L, decltype(nt_c)::value>(w, x, ldx, n, out);
  });
}

}  // namespace

const VecKernels& vec_kernels_avx2() {
  static const VecKernels k{"avx2", dot_tile<LoadF32>, dot_tile<LoadF16>, dot_tile<LoadBF16>};
  return k;
}

}  // namespace jetchat::cpu
