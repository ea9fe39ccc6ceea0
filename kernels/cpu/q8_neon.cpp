// The 8-bit dot products (q8.h) for aarch64 NEON. Decode: each run of 16 int8 weights times its 16 int8
// activations with smull (i16 products, at most 128 * 127) and pairwise adds into 4 x i32, then one FMA with
// scale[group] * d[block]. Prefill: each run widened s8 -> s16 -> s32 -> f32, scaled once and shared by the NT
// activation rows.
#include <arm_neon.h>

#include <algorithm>

#include "cpu/q8.h"
#include "cpu/vec.h"

namespace jetchat::cpu {
namespace {

inline int32x4_t run_i32(const int8_t* w, const int8_t* x) {
  const int8x16_t a = vld1q_s8(w), b = vld1q_s8(x);
  return vpadalq_s16(vpaddlq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b))), vmull_high_s8(a, b));
}

void dot_row_i8(const uint8_t* row, int64_t cols, int group, const int8_t* xq, const float* d, const float* xsum,
                float* out) {
  const Q8Layout l{1, cols, group};
  const auto* q = reinterpret_cast<const int8_t*>(row);
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  const int64_t blocks = cols / kQ4Block;
  // Weights 0..15 and 16..31 of a block go to separate accumulators (they may be separate groups of 16).
  float32x4_t acc_lo = vdupq_n_f32(0), acc_hi = acc_lo;
  GroupCursor g(group);
  for (int64_t b0 = 0; b0 < blocks; b0 += kQ4XChunk) {
    const int64_t nb = std::min<int64_t>(kQ4XChunk, blocks - b0), base = b0 * kQ4Block;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t b = b0 + i, lo = base + 16 * i, hi = base + 16 * nb + 16 * i;
      acc_lo = vfmaq_n_f32(acc_lo, vcvtq_f32_s32(run_i32(q + lo, xq + lo)), scales[g.next()] * d[b]);
      acc_hi = vfmaq_n_f32(acc_hi, vcvtq_f32_s32(run_i32(q + hi, xq + hi)), scales[g.next()] * d[b]);
    }
  }
  float total = vaddvq_f32(vaddq_f32(acc_lo, acc_hi));
  for (int64_t g = 0; g < l.groups(); ++g) total -= mins[g] * xsum[g];
  *out = total;
}

void dot_i8(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
            const float* d, const float* xsum, float* out) {
  for (int r = 0; r < nrows; ++r) dot_row_i8(rows + size_t(r) * stride, cols, group, xq, d, xsum, out + r);
}

template <int NT>
void dot_n(const uint8_t* row, const Q8Layout& l, const float* x, int64_t ldx, const float* xsum, float* out) {
  const auto* q = reinterpret_cast<const int8_t*>(row);
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  const int64_t blocks = l.cols / kQ4Block;
  float32x4_t acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = vdupq_n_f32(0);
  GroupCursor g(l.group);
  for (int64_t b0 = 0; b0 < blocks; b0 += kQ4XChunk) {
    const int64_t nb = std::min<int64_t>(kQ4XChunk, blocks - b0);
    for (int64_t i = 0; i < 2 * nb; ++i) {  // in weight order: block b's weights 0..15, then its 16..31
      const int64_t b = b0 + i / 2, half = i % 2, e = b * kQ4Block + 16 * half;
      const int8x16_t v = vld1q_s8(q + b0 * kQ4Block + 16 * (half * nb + i / 2));
      const int16x8_t lo = vmovl_s8(vget_low_s8(v)), hi = vmovl_high_s8(v);
      const float s = scales[g.next()];
      const float32x4_t w[4] = {vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), s),
                                vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), s),
                                vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), s),
                                vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(hi)), s)};
      for (int i = 0; i < 4; ++i)
        for (int t = 0; t < NT; ++t) acc[t] = vfmaq_f32(acc[t], w[i], vld1q_f32(x + t * ldx + e + 4 * i));
    }
  }
  for (int t = 0; t < NT; ++t) {
    float min_term = 0;
    for (int64_t g = 0; g < l.groups(); ++g) min_term += mins[g] * xsum[t * l.groups() + g];
    out[t] = vaddvq_f32(acc[t]) - min_term;
  }
}

void dot(const uint8_t* row, int64_t cols, int group, const float* x, int64_t ldx, const float* xsum, int nt,
         float* out) {
  const Q8Layout l{1, cols, group};
  with_tile(nt, [&](auto nt_c) { dot_n<decltype(nt_c)::value>(row, l, x, ldx, xsum, out); });
}

}  // namespace

const Q8Kernels& q8_kernels_neon() {
  static const Q8Kernels k{"neon", dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
