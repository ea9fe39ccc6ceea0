// vec.h for aarch64 NEON (Jetson's Cortex-A78AE / Carmel cores). fp16 -> fp32 with vcvt, bf16 by shifting.
#include <arm_neon.h>

#include "cpu/vec.h"
#include "half.h"

namespace jetchat::cpu {
namespace {

struct LoadF32 {
  using T = float;
  static float32x4_t load(const float* p) { return vld1q_f32(p); }
  static float one(const float* p) { return *p; }
};
struct LoadF16 {
  using T = uint16_t;
  static float32x4_t load(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static float one(const uint16_t* p) { return f16_to_f32(*p); }
};
struct LoadBF16 {
  using T = uint16_t;
  static float32x4_t load(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static float one(const uint16_t* p) { return bf16_to_f32(*p); }
};

template <typename L, int NT>
void dot_n(const typename L::T* w, const float* x, int64_t ldx, int64_t n, float* out) {
  // NT == 1 still uses two accumulators to hide the FMA latency.
  constexpr int kAcc = NT == 1 ? 2 : NT;
  float32x4_t acc[kAcc];
  for (int t = 0; t < kAcc; ++t) acc[t] = vdupq_n_f32(0);
  int64_t k = 0;
  if constexpr (NT == 1) {
    for (; k + 8 <= n; k += 8) {
      acc[0] = vfmaq_f32(acc[0], L::load(w + k), vld1q_f32(x + k));
      acc[1] = vfmaq_f32(acc[1], L::load(w + k + 4), vld1q_f32(x + k + 4));
    }
    acc[0] = vaddq_f32(acc[0], acc[1]);
  }
  for (; k + 4 <= n; k += 4) {
    const float32x4_t wv = L::load(w + k);
    for (int t = 0; t < NT; ++t) acc[t] = vfmaq_f32(acc[t], wv, vld1q_f32(x + t * ldx + k));
  }
  for (int t = 0; t < NT; ++t) {
    float s = vaddvq_f32(acc[t]);
    for (int64_t j = k; j < n; ++j) s += L::one(w + j) * x[t * ldx + j];
    out[t] = s;
  }
}

template <typename L>
void dot_tile(const void* wv, const float* x, int64_t ldx, int nt, int64_t n, float* out) {
  const auto* w = static_cast<const typename L::T*>(wv);
  with_tile(nt, [&](auto nt_c) { dot_n<L, decltype(nt_c)::value>(w, x, ldx, n, out); });
}

}  // namespace

const VecKernels& vec_kernels_neon() {
  static const VecKernels k{"neon", dot_tile<LoadF32>, dot_tile<LoadF16>, dot_tile<LoadBF16>};
  return k;
}

}  // namespace jetchat::cpu
