// Decode with int8 activations for aarch64 with the dot-product extension (ARMv8.2 `sdot`; Jetson Orin's
// Cortex-A78AE has it), chosen at run time from HWCAP_ASIMDDP: the AVX-512 VNNI
// kernel's scheme (q4_avx512_vnni.cpp) at 128 bits. A 16-byte block of packed weights gives its low nibbles
// (weights 0..15) and high nibbles (16..31) as s8 0..15; two sdot against the block's runs of q4_quantize_x
// leave four i32 partial sums, converted once per block and scaled by d[block] * scale[group]. Prefill tiles
// keep neon's f32 kernel.
#include <arm_neon.h>

#include <algorithm>

#include "cpu/q4.h"

namespace jetchat::cpu {
namespace {

// Sum over groups of min * xsum, four groups per step.
float min_terms(const float* mins, const float* xsum, int64_t groups) {
  float32x4_t z = vdupq_n_f32(0);
  int64_t g = 0;
  for (; g + 4 <= groups; g += 4) z = vfmaq_f32(z, vld1q_f32(mins + g), vld1q_f32(xsum + g));
  float total = vaddvq_f32(z);
  for (; g < groups; ++g) total += mins[g] * xsum[g];
  return total;
}

// out = row . x^.
void dot_row(const uint8_t* row, int64_t cols, int group, const int8_t* xq, const float* d, const float* xsum,
             float* out) {
  const Q4Layout l{1, cols, group};
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const int64_t blocks = cols / kQ4Block;
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  // Two f32 accumulators so that consecutive blocks' FMAs do not wait on each other.
  float32x4_t acc[2] = {vdupq_n_f32(0), vdupq_n_f32(0)};
  // Blocks come in order: the group index advances every gb blocks, no division per block.
  const int gb = group / kQ4Block;
  int64_t g = 0;
  int in_group = 0;
  for (int64_t b0 = 0; b0 < blocks; b0 += kQ4XChunk) {
    const int64_t nb = std::min<int64_t>(kQ4XChunk, blocks - b0);
    const int8_t* chunk = xq + b0 * kQ4Block;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t b = b0 + i;
      const uint8x16_t w = vld1q_u8(row + b * (kQ4Block / 2));
      int32x4_t s = vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vandq_u8(w, m4)), vld1q_s8(chunk + 16 * i));
      s = vdotq_s32(s, vreinterpretq_s8_u8(vshrq_n_u8(w, 4)), vld1q_s8(chunk + 16 * nb + 16 * i));
      acc[i & 1] = vfmaq_n_f32(acc[i & 1], vcvtq_f32_s32(s), scales[g] * d[b]);
      if (++in_group == gb) in_group = 0, ++g;
    }
  }
  *out = vaddvq_f32(vaddq_f32(acc[0], acc[1])) -
         min_terms(reinterpret_cast<const float*>(row + l.mins_offset()), xsum, l.groups());
}

void dot_i8(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
            const float* d, const float* xsum, float* out) {
  for (int r = 0; r < nrows; ++r) dot_row(rows + size_t(r) * stride, cols, group, xq, d, xsum, out + r);
}

}  // namespace

const Q4Kernels& q4_kernels_neon_dotprod() {
  static const Q4Kernels k{"neon-dotprod", q4_kernels_neon().dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
