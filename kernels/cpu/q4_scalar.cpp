// Portable reference implementation of the 4-bit dot product (q4.h); also the fallback without SIMD.
#include <algorithm>
#include <cmath>

#include "cpu/q4.h"
#include "cpu/vec.h"

namespace jetchat::cpu {
namespace {

// Per group: s * sum q*x - m * sum x, so the minimum costs one multiply per group, not one per weight.
void dot(const uint8_t* row, int64_t cols, int group, const float* x, int64_t ldx, const float* xsum, int nt,
         float* out) {
  const Q4Layout l{1, cols, group};
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
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
      total += scales[g] * acc - mins[g] * xsum[t * groups + g];
    }
    out[t] = total;
  }
}

}  // namespace

void q4_quantize_x(const float* x, int64_t cols, int group, Q4QuantX& out) {
  const int64_t blocks = cols / kQ4Block;
  out.q.resize(size_t(cols));
  out.d.resize(size_t(blocks));
  out.xsum.assign(size_t(cols / group), 0.0f);
  for (int64_t b0 = 0; b0 < blocks; b0 += kQ4XChunk) {
    const int64_t nb = std::min<int64_t>(kQ4XChunk, blocks - b0);
    int8_t* chunk = out.q.data() + b0 * kQ4Block;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t b = b0 + i;
      const float* xb = x + b * kQ4Block;
      float amax = 0;
      for (int j = 0; j < kQ4Block; ++j) amax = std::max(amax, std::fabs(xb[j]));
      const float d = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
      int isum[2] = {};  // per run of 16, for groups of 16
      for (int j = 0; j < kQ4Block; ++j) {
        const int v = int(std::nearbyint(std::clamp(xb[j] * inv, -127.0f, 127.0f)));
        isum[j / 16] += v;
        chunk[j < 16 ? 16 * i + j : 16 * nb + 16 * i + (j - 16)] = int8_t(v);
      }
      out.d[size_t(b)] = d;
      for (int h = 0; h < 2; ++h) out.xsum[size_t((b * kQ4Block + 16 * h) / group)] += d * float(isum[h]);
    }
  }
}

void q4_dot_i8_scalar(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
                      const float* d, const float* xsum, float* out) {
  const Q4Layout l{1, cols, group};
  const int64_t blocks = cols / kQ4Block;
  for (int r = 0; r < nrows; ++r) {
    const uint8_t* row = rows + size_t(r) * stride;
    const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
    const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
    float total = 0;
    for (int64_t b0 = 0; b0 < blocks; b0 += kQ4XChunk) {
      const int64_t nb = std::min<int64_t>(kQ4XChunk, blocks - b0);
      const int8_t* chunk = xq + b0 * kQ4Block;
      for (int64_t i = 0; i < nb; ++i) {
        const int64_t b = b0 + i;
        const uint8_t* qs = row + b * (kQ4Block / 2);
        int32_t acc = 0;
        for (int j = 0; j < 16; ++j)
          acc += int32_t(qs[j] & 0xF) * chunk[16 * i + j] + int32_t(qs[j] >> 4) * chunk[16 * nb + 16 * i + j];
        total += scales[b * kQ4Block / group] * d[b] * float(acc);
      }
    }
    for (int64_t g = 0; g < l.groups(); ++g) total -= mins[g] * xsum[g];
    out[r] = total;
  }
}

const Q4Kernels& q4_kernels_scalar() {
  static const Q4Kernels k{"scalar", dot};
  return k;
}

}  // namespace jetchat::cpu
