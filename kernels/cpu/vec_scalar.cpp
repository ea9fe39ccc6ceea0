// Portable reference implementation of vec.h; also the fallback on CPUs without the SIMD extensions.
#include "cpu/vec.h"
#include "half.h"

namespace jetchat::cpu {
namespace {

template <typename Load>
void dot_tile(const Load& load, const float* x, int64_t ldx, int nt, int64_t n, float* out) {
  for (int t = 0; t < nt; ++t) {
    const float* xt = x + t * ldx;
    float acc[4] = {0, 0, 0, 0};  // four partial sums so the compiler can vectorise
    int64_t k = 0;
    for (; k + 4 <= n; k += 4)
      for (int j = 0; j < 4; ++j) acc[j] += load(k + j) * xt[k + j];
    for (; k < n; ++k) acc[0] += load(k) * xt[k];
    out[t] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  }
}

void dot_f32(const void* w, const float* x, int64_t ldx, int nt, int64_t n, float* out) {
  const float* p = static_cast<const float*>(w);
  dot_tile([p](int64_t k) { return p[k]; }, x, ldx, nt, n, out);
}
void dot_f16(const void* w, const float* x, int64_t ldx, int nt, int64_t n, float* out) {
  const uint16_t* p = static_cast<const uint16_t*>(w);
  dot_tile([p](int64_t k) { return f16_to_f32(p[k]); }, x, ldx, nt, n, out);
}
void dot_bf16(const void* w, const float* x, int64_t ldx, int nt, int64_t n, float* out) {
  const uint16_t* p = static_cast<const uint16_t*>(w);
  dot_tile([p](int64_t k) { return bf16_to_f32(p[k]); }, x, ldx, nt, n, out);
}

}  // namespace

const VecKernels& vec_kernels_scalar() {
  static const VecKernels k{"scalar", dot_f32, dot_f16, dot_bf16};
  return k;
}

}  // namespace jetchat::cpu
