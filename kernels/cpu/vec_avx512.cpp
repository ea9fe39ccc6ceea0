// vec.h for x86-64 with AVX-512 F/BW/VL (compiled with those flags; called only when the CPU has them).
#include <immintrin.h>

#include "cpu/vec.h"
#include "half.h"

namespace jetchat::cpu {
namespace {

struct LoadF32 {
  using T = float;
  static __m512 load(const float* p) { return _mm512_loadu_ps(p); }
  static float one(const float* p) { return *p; }
};
struct LoadF16 {
  using T = uint16_t;
  static __m512 load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static float one(const uint16_t* p) { return f16_to_f32(*p); }
};
struct LoadBF16 {
  using T = uint16_t;
  static __m512 load(const uint16_t* p) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static float one(const uint16_t* p) { return bf16_to_f32(*p); }
};

template <typename L>
void dot1(const typename L::T* w, const float* x, int64_t n, float* out) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t k = 0;
  for (; k + 64 <= n; k += 64) {
    a0 = _mm512_fmadd_ps(L::load(w + k), _mm512_loadu_ps(x + k), a0);
    a1 = _mm512_fmadd_ps(L::load(w + k + 16), _mm512_loadu_ps(x + k + 16), a1);
    a2 = _mm512_fmadd_ps(L::load(w + k + 32), _mm512_loadu_ps(x + k + 32), a2);
    a3 = _mm512_fmadd_ps(L::load(w + k + 48), _mm512_loadu_ps(x + k + 48), a3);
  }
  for (; k + 16 <= n; k += 16) a0 = _mm512_fmadd_ps(L::load(w + k), _mm512_loadu_ps(x + k), a0);
  float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  for (; k < n; ++k) s += L::one(w + k) * x[k];
  *out = s;
}

template <typename L, int NT>
void dot_n(const typename L::T* w, const float* x, int64_t ldx, int64_t n, float* out) {
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m512 wv = L::load(w + k);
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + t * ldx + k), acc[t]);
  }
  for (int t = 0; t < NT; ++t) {
    float s = _mm512_reduce_add_ps(acc[t]);
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

const VecKernels& vec_kernels_avx512() {
  static const VecKernels k{"avx512", dot_tile<LoadF32>, dot_tile<LoadF16>, dot_tile<LoadBF16>};
  return k;
}

}  // namespace jetchat::cpu
