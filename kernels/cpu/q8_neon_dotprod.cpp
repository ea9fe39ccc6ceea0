// Decode with int8 activations for aarch64 with the dot-product extension (ARMv8.2 `sdot`; Jetson Orin's
// Cortex-A78AE has it), chosen at run time from HWCAP_ASIMDDP like q4_neon_dotprod.cpp: the 8-bit weights and
// q4_quantize_x's activations are both s8, so each run of 16 is one sdot into 4 x i32 (the plain NEON kernel,
// q8_neon.cpp, needs two widening multiplies and two pairwise adds), then one FMA with scale[group] * d[block].
// The weights 0..15 and 16..31 of a block keep separate accumulators: with Q6_K's groups of 16 they are separate
// groups. Prefill tiles keep neon's f32 kernel.
#include <arm_neon.h>

#include <algorithm>

#include "cpu/q8.h"

namespace jetchat::cpu {
namespace {

void dot_row(const uint8_t* row, int64_t cols, int group, const int8_t* xq, const float* d, const float* xsum,
             float* out) {
  const Q8Layout l{1, cols, group};
  const auto* q = reinterpret_cast<const int8_t*>(row);
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  const int64_t blocks = cols / kQ4Block;
  float32x4_t acc_lo = vdupq_n_f32(0), acc_hi = acc_lo;
  const int32x4_t zero = vdupq_n_s32(0);
  GroupCursor g(group);
  for (int64_t b0 = 0; b0 < blocks; b0 += kQ4XChunk) {
    const int64_t nb = std::min<int64_t>(kQ4XChunk, blocks - b0), base = b0 * kQ4Block;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t b = b0 + i, lo = base + 16 * i, hi = base + 16 * nb + 16 * i;
      const int32x4_t slo = vdotq_s32(zero, vld1q_s8(q + lo), vld1q_s8(xq + lo));
      const int32x4_t shi = vdotq_s32(zero, vld1q_s8(q + hi), vld1q_s8(xq + hi));
      acc_lo = vfmaq_n_f32(acc_lo, vcvtq_f32_s32(slo), scales[g.next()] * d[b]);
      acc_hi = vfmaq_n_f32(acc_hi, vcvtq_f32_s32(shi), scales[g.next()] * d[b]);
    }
  }
  float32x4_t z = vdupq_n_f32(0);  // sum of min * xsum, four groups per step
  int64_t k = 0;
  for (; k + 4 <= l.groups(); k += 4) z = vfmaq_f32(z, vld1q_f32(mins + k), vld1q_f32(xsum + k));
  float total = vaddvq_f32(vaddq_f32(acc_lo, acc_hi)) - vaddvq_f32(z);
  for (; k < l.groups(); ++k) total -= mins[k] * xsum[k];
  *out = total;
}

void dot_i8(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
            const float* d, const float* xsum, float* out) {
  for (int r = 0; r < nrows; ++r) dot_row(rows + size_t(r) * stride, cols, group, xq, d, xsum, out + r);
}

}  // namespace

const Q8Kernels& q8_kernels_neon_dotprod() {
  static const Q8Kernels k{"neon-dotprod", q8_kernels_neon().dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
