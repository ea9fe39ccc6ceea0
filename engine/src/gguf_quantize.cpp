#include "gguf_quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "half.h"

namespace jetchat {
namespace {

void put_f16(std::vector<uint8_t>& out, float v) {
  const uint16_t h = f32_to_f16(v);
  out.push_back(uint8_t(h & 0xFF));
  out.push_back(uint8_t(h >> 8));
}

int clamp_round(float v, int lo, int hi) { return std::clamp(int(std::lround(v)), lo, hi); }

// Q4_0: the weight of largest magnitude maps to -8, so d = that weight / -8; q = round(x / d) + 8.
void q4_0(const float* x, std::vector<uint8_t>& out) {
  float max = 0;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > std::fabs(max)) max = x[j];
  const float d = f16_to_f32(f32_to_f16(max / -8.0f)), id = d != 0 ? 1.0f / d : 0.0f;
  put_f16(out, d);
  for (int j = 0; j < 16; ++j)
    out.push_back(uint8_t(clamp_round(x[j] * id + 8, 0, 15) | clamp_round(x[j + 16] * id + 8, 0, 15) << 4));
}

// Q8_0: d = max|x| / 127, q = round(x / d).
void q8_0(const float* x, std::vector<uint8_t>& out) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = f16_to_f32(f32_to_f16(amax / 127.0f)), id = d != 0 ? 1.0f / d : 0.0f;
  put_f16(out, d);
  for (int j = 0; j < 32; ++j) out.push_back(uint8_t(int8_t(clamp_round(x[j] * id, -127, 127))));
}

// Q4_K: each 32-weight sub-block gets scale (max - min) / 15 and min -min (min <= 0); the 8 scales and 8 mins are
// stored as 6-bit multiples of the super-block's d and dmin; then q = round((x + dmin*m) / (d*sc)).
void q4_k(const float* x, std::vector<uint8_t>& out) {
  float scale[8], min[8], max_scale = 0, max_min = 0;
  for (int s = 0; s < 8; ++s) {
    float lo = 0, hi = -INFINITY;
    for (int l = 0; l < 32; ++l) lo = std::min(lo, x[32 * s + l]), hi = std::max(hi, x[32 * s + l]);
    scale[s] = (hi - lo) / 15.0f;
    min[s] = -lo;
    max_scale = std::max(max_scale, scale[s]);
    max_min = std::max(max_min, min[s]);
  }
  const float d = f16_to_f32(f32_to_f16(max_scale / 63.0f)), dmin = f16_to_f32(f32_to_f16(max_min / 63.0f));
  int sc[8], m[8];
  for (int s = 0; s < 8; ++s) {
    sc[s] = d > 0 ? clamp_round(scale[s] / d, 0, 63) : 0;
    m[s] = dmin > 0 ? clamp_round(min[s] / dmin, 0, 63) : 0;
  }
  uint8_t packed[12] = {};
  for (int j = 0; j < 4; ++j) {
    packed[j] = uint8_t(sc[j] | (sc[j + 4] >> 4) << 6);
    packed[j + 4] = uint8_t(m[j] | (m[j + 4] >> 4) << 6);
    packed[j + 8] = uint8_t((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4);
  }
  put_f16(out, d);
  put_f16(out, dmin);
  out.insert(out.end(), packed, packed + 12);
  int q[256];
  for (int s = 0; s < 8; ++s) {
    const float step = d * float(sc[s]), offset = dmin * float(m[s]);
    for (int l = 0; l < 32; ++l) q[32 * s + l] = step > 0 ? clamp_round((x[32 * s + l] + offset) / step, 0, 15) : 0;
  }
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) out.push_back(uint8_t(q[64 * c + l] | q[64 * c + 32 + l] << 4));
}

}  // namespace

bool gguf_quantizable(GgmlType t) {
  return t == GgmlType::kF32 || t == GgmlType::kF16 || t == GgmlType::kQ8_0 || t == GgmlType::kQ4_0 ||
         t == GgmlType::kQ4_K;
}

void gguf_quantize(GgmlType t, const float* x, int64_t n, std::vector<uint8_t>& out) {
  switch (t) {
    case GgmlType::kF32: {
      const size_t at = out.size();
      out.resize(at + size_t(n) * 4);
      std::memcpy(out.data() + at, x, size_t(n) * 4);
      return;
    }
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) put_f16(out, x[i]);
      return;
    case GgmlType::kQ8_0:
      for (int64_t i = 0; i < n; i += 32) q8_0(x + i, out);
      return;
    case GgmlType::kQ4_0:
      for (int64_t i = 0; i < n; i += 32) q4_0(x + i, out);
      return;
    case GgmlType::kQ4_K:
      for (int64_t i = 0; i < n; i += 256) q4_k(x + i, out);
      return;
    default:
      return;
  }
}

}  // namespace jetchat
