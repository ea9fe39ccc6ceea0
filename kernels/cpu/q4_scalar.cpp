// Portable reference implementation of the 4-bit dot product (q4.h); also the fallback without SIMD.
#include "cpu/q4.h"
#include "cpu/vec.h"

namespace jetchat::cpu {
namespace {

// Per group: s * (sum q*x - z * sum x), so the zero point costs one multiply per group, not one per weight.
void dot(const uint8_t* row, int64_t cols, int group, const float* x, int64_t ldx, const float* xsum, int nt,
         float* out) {
  const Q4Layout l{1, cols, group};
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const uint8_t* zeros = row + l.zeros_offset();
  const int64_t groups = l.groups();
  for (int t = 0; t < nt; ++t) {
    const float* xt = x + t * ldx;
    float total = 0;
    for (int64_t g = 0; g < groups; ++g) {
      float acc = 0;
      for (int64_t b = g * group; b < (g + 1) * group; b += kQ4Block) {
        const uint8_t* qs = row + b / 2;
        for (int j = 0; j < 16; ++j) acc += float(qs[j] & 0xF) * xt[b + j] + float(qs[j] >> 4) * xt[b + 16 + j];
      }
      total += scales[g] * (acc - float(zeros[g]) * xsum[t * groups + g]);
    }
    out[t] = total;
  }
}

}  // namespace

const Q4Kernels& q4_kernels_scalar() {
  static const Q4Kernels k{"scalar", dot};
  return k;
}

}  // namespace jetchat::cpu
