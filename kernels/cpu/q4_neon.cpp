// The 4-bit dot product (q4.h) for aarch64 NEON: one 16-byte load per 32-weight block; the low nibbles are
// weights 0..15 and the high nibbles weights 16..31, widened u8 -> u16 -> u32 -> f32 four at a time.
#include <arm_neon.h>

#include "cpu/q4.h"
#include "cpu/vec.h"

namespace jetchat::cpu {
namespace {

struct Block {
  float32x4_t w[8];  // weights b + 4i .. b + 4i + 3
};
inline void widen(uint8x16_t v, float32x4_t* out) {
  const uint16x8_t l = vmovl_u8(vget_low_u8(v)), h = vmovl_u8(vget_high_u8(v));
  out[0] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(l)));
  out[1] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(l)));
  out[2] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(h)));
  out[3] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(h)));
}
inline Block load_block(const uint8_t* qs) {
  const uint8x16_t v = vld1q_u8(qs);
  Block b;
  widen(vandq_u8(v, vdupq_n_u8(0xF)), b.w);
  widen(vshrq_n_u8(v, 4), b.w + 4);
  return b;
}

template <int NT>
void dot_n(const uint8_t* row, const Q4Layout& l, const float* x, int64_t ldx, const float* xsum, float* out) {
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  // Decode keeps the raw q*x sums per group and scales them once per group; prefill scales each block once and
  // shares it between the NT activation rows.
  float32x4_t acc[NT], total[NT];
  float min_term[NT] = {};
  for (int t = 0; t < NT; ++t) total[t] = vdupq_n_f32(0);
  for (int64_t g = 0; g < l.groups(); ++g) {
    const float s = scales[g];
    for (int t = 0; t < NT; ++t) acc[t] = vdupq_n_f32(0);
    for (int64_t b = g * l.group; b < (g + 1) * l.group; b += kQ4Block) {
      Block w = load_block(row + b / 2);
      if constexpr (NT > 1)
        for (auto& v : w.w) v = vmulq_n_f32(v, s);
      for (int i = 0; i < 8; ++i)
        for (int t = 0; t < NT; ++t) acc[t] = vfmaq_f32(acc[t], w.w[i], vld1q_f32(x + t * ldx + b + 4 * i));
    }
    for (int t = 0; t < NT; ++t) {
      total[t] = NT == 1 ? vfmaq_n_f32(total[t], acc[t], s) : vaddq_f32(total[t], acc[t]);
      min_term[t] += mins[g] * xsum[t * l.groups() + g];
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = vaddvq_f32(total[t]) - min_term[t];
}

void dot(const uint8_t* row, int64_t cols, int group, const float* x, int64_t ldx, const float* xsum, int nt,
         float* out) {
  const Q4Layout l{1, cols, group};
  with_tile(nt, [&](auto nt_c) { dot_n<decltype(nt_c)::value>(row, l, x, ldx, xsum, out); });
}

}  // namespace

const Q4Kernels& q4_kernels_neon() {
  static const Q4Kernels k{"neon", dot};
  return k;
}

}  // namespace jetchat::cpu
