#include "quantize/rtn.h"

#include <algorithm>
#include <cmath>

#include "half.h"

namespace jetchat::quant {
namespace {

constexpr int kAwqOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};  // nibble i holds output column 8c + kAwqOrder[i]

struct GroupQuant {
  float scale;  // f16-representable
  int zero;
};

// The f16-rounded scale is the one stored, so the codes are chosen against it.
GroupQuant fit_group(const float* w, int n) {
  float lo = w[0], hi = w[0];
  for (int i = 1; i < n; ++i) lo = std::min(lo, w[i]), hi = std::max(hi, w[i]);
  lo = std::min(lo, 0.0f);  // 0 inside the range: an all-positive or all-negative group is not clipped
  hi = std::max(hi, 0.0f);
  const float scale = f16_to_f32(f32_to_f16(std::max((hi - lo) / 15.0f, 1e-5f)));
  return {scale, std::clamp(int(std::lround(-lo / scale)), 0, 15)};
}

int code(float w, const GroupQuant& g) { return std::clamp(int(std::lround(w / g.scale)) + g.zero, 0, 15); }

}  // namespace

AwqLinear quantize_rtn(const float* w, int64_t rows, int64_t cols, int group) {
  AwqLinear q;
  q.rows = rows, q.cols = cols, q.group = group;
  const int64_t groups = cols / group, words = rows / 8;
  q.qweight.assign(size_t(cols * words), 0);
  q.qzeros.assign(size_t(groups * words), 0);
  q.scales.resize(size_t(groups * rows));
  std::vector<int> slot(8);
  for (int i = 0; i < 8; ++i) slot[size_t(kAwqOrder[i])] = i;
  for (int64_t r = 0; r < rows; ++r) {
    const int shift = 4 * slot[size_t(r % 8)];
    for (int64_t g = 0; g < groups; ++g) {
      const float* wg = w + r * cols + g * group;
      const GroupQuant gq = fit_group(wg, group);
      q.scales[size_t(g * rows + r)] = f32_to_f16(gq.scale);
      q.qzeros[size_t(g * words + r / 8)] |= int32_t(uint32_t(gq.zero) << shift);
      for (int j = 0; j < group; ++j)
        q.qweight[size_t((g * group + j) * words + r / 8)] |= int32_t(uint32_t(code(wg[j], gq)) << shift);
    }
  }
  return q;
}

void dequantize(const AwqLinear& q, float* w) {
  const int64_t words = q.rows / 8;
  std::vector<int> slot(8);
  for (int i = 0; i < 8; ++i) slot[size_t(kAwqOrder[i])] = i;
  for (int64_t r = 0; r < q.rows; ++r) {
    const int shift = 4 * slot[size_t(r % 8)];
    for (int64_t k = 0; k < q.cols; ++k) {
      const int64_t g = k / q.group;
      const int v = int((uint32_t(q.qweight[size_t(k * words + r / 8)]) >> shift) & 0xF);
      const int z = int((uint32_t(q.qzeros[size_t(g * words + r / 8)]) >> shift) & 0xF);
      w[r * q.cols + k] = float(v - z) * f16_to_f32(q.scales[size_t(g * q.rows + r)]);
    }
  }
}

void fake_quantize(float* w, int64_t rows, int64_t cols, int group) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < cols / group; ++g) {
      float* wg = w + r * cols + g * group;
      const GroupQuant gq = fit_group(wg, group);
      for (int j = 0; j < group; ++j) wg[j] = float(code(wg[j], gq) - gq.zero) * gq.scale;
    }
}

}  // namespace jetchat::quant
