// Portable reference implementation of the 8-bit dot products (q8.h); also the fallback without SIMD.
#include <algorithm>

#include "cpu/q8.h"
#include "cpu/vec.h"

namespace jetchat::cpu {
namespace {

// Calls f(offset, element, block) for each run of 16 weights of a row: its byte offset in qs (and in the
// activations of q4_quantize_x), the index of its first weight, and its kQ4Block block.
template <typename F>
void for_each_run(int64_t cols, F&& f) {
  const int64_t blocks = cols / kQ4Block;
  for (int64_t b0 = 0; b0 < blocks; b0 += kQ4XChunk) {
    const int64_t nb = std::min<int64_t>(kQ4XChunk, blocks - b0);
    for (int64_t run = 0; run < 2 * nb; ++run) {
      const int64_t b = b0 + run % nb;
      f(b0 * kQ4Block + 16 * run, b * kQ4Block + 16 * (run / nb), b);
    }
  }
}

void dot(const uint8_t* row, int64_t cols, int group, const float* x, int64_t ldx, const float* xsum, int nt,
         float* out) {
  const Q8Layout l{1, cols, group};
  const auto* q = reinterpret_cast<const int8_t*>(row);
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  for (int t = 0; t < nt; ++t) {
    const float* xt = x + t * ldx;
    float total = 0;
    for_each_run(cols, [&](int64_t off, int64_t e, int64_t) {
      float acc = 0;
      for (int j = 0; j < 16; ++j) acc += float(q[off + j]) * xt[e + j];
      total += scales[e / group] * acc;
    });
    for (int64_t g = 0; g < l.groups(); ++g) total -= mins[g] * xsum[t * l.groups() + g];
    out[t] = total;
  }
}

void dot_i8(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
            const float* d, const float* xsum, float* out) {
  const Q8Layout l{1, cols, group};
  for (int r = 0; r < nrows; ++r) {
    const uint8_t* row = rows + size_t(r) * stride;
    const auto* q = reinterpret_cast<const int8_t*>(row);
    const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
    const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
    float total = 0;
    for_each_run(cols, [&](int64_t off, int64_t e, int64_t b) {
      int32_t acc = 0;
      for (int j = 0; j < 16; ++j) acc += int32_t(q[off + j]) * xq[off + j];
      total += scales[e / group] * d[b] * float(acc);
    });
    for (int64_t g = 0; g < l.groups(); ++g) total -= mins[g] * xsum[g];
    out[r] = total;
  }
}

}  // namespace

const Q8Kernels& q8_kernels_scalar() {
  static const Q8Kernels k{"scalar", dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
