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

// Q4_1: d = (max - min) / 15 and m = min, both f16; q = round((x - m) / d).
void q4_1(const float* x, std::vector<uint8_t>& out) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < 32; ++j) lo = std::min(lo, x[j]), hi = std::max(hi, x[j]);
  const float d = f16_to_f32(f32_to_f16((hi - lo) / 15.0f)), m = f16_to_f32(f32_to_f16(lo));
  const float id = d != 0 ? 1.0f / d : 0.0f;
  put_f16(out, d);
  put_f16(out, m);
  for (int j = 0; j < 16; ++j)
    out.push_back(uint8_t(clamp_round((x[j] - m) * id, 0, 15) | clamp_round((x[j + 16] - m) * id, 0, 15) << 4));
}

// Q4_K and Q5_K (levels 15 or 31): each 32-weight sub-block gets scale (max - min) / levels and min -min
// (min <= 0); the 8 scales and 8 mins are stored as 6-bit multiples of the super-block's d and dmin (appended to
// out with the 12 packed scale bytes); then q[256] = round((x + dmin*m) / (d*sc)).
void k_quant_scales(const float* x, int levels, std::vector<uint8_t>& out, int* q) {
  float scale[8], min[8], max_scale = 0, max_min = 0;
  for (int s = 0; s < 8; ++s) {
    float lo = 0, hi = -INFINITY;
    for (int l = 0; l < 32; ++l) lo = std::min(lo, x[32 * s + l]), hi = std::max(hi, x[32 * s + l]);
    scale[s] = (hi - lo) / float(levels);
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
  for (int s = 0; s < 8; ++s) {
    const float step = d * float(sc[s]), offset = dmin * float(m[s]);
    for (int l = 0; l < 32; ++l)
      q[32 * s + l] = step > 0 ? clamp_round((x[32 * s + l] + offset) / step, 0, levels) : 0;
  }
}

// Q4_K: the low nibbles of qs[32c + l] are sub-block 2c, the high ones sub-block 2c + 1.
void q4_k(const float* x, std::vector<uint8_t>& out) {
  int q[256];
  k_quant_scales(x, 15, out, q);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) out.push_back(uint8_t(q[64 * c + l] | q[64 * c + 32 + l] << 4));
}

// Q5_K: Q4_K's nibbles plus qh[l], whose bit s is the fifth bit of weight l of sub-block s.
void q5_k(const float* x, std::vector<uint8_t>& out) {
  int q[256];
  k_quant_scales(x, 31, out, q);
  uint8_t qh[32] = {};
  for (int s = 0; s < 8; ++s)
    for (int l = 0; l < 32; ++l) qh[l] = uint8_t(qh[l] | (q[32 * s + l] >> 4) << s);
  out.insert(out.end(), qh, qh + 32);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) out.push_back(uint8_t((q[64 * c + l] & 0xF) | (q[64 * c + 32 + l] & 0xF) << 4));
}

// Q6_K: each 16-weight sub-block gets scale max|x| / 31, stored as an 8-bit multiple of the super-block's d;
// q = round(x / (d*sc)) + 32 in 0..63, split into ql nibbles and qh 2-bit fields as gguf_dequant.cpp reads them.
void q6_k(const float* x, std::vector<uint8_t>& out) {
  float scale[16], max_scale = 0;
  for (int s = 0; s < 16; ++s) {
    float amax = 0;
    for (int l = 0; l < 16; ++l) amax = std::max(amax, std::fabs(x[16 * s + l]));
    scale[s] = amax / 31.0f;
    max_scale = std::max(max_scale, scale[s]);
  }
  const float d = f16_to_f32(f32_to_f16(max_scale / 127.0f));
  int8_t sc[16];
  int q[256];
  for (int s = 0; s < 16; ++s) {
    sc[s] = int8_t(d > 0 ? clamp_round(scale[s] / d, 0, 127) : 0);
    const float step = d * float(sc[s]);
    for (int l = 0; l < 16; ++l) q[16 * s + l] = step > 0 ? clamp_round(x[16 * s + l] / step, -32, 31) + 32 : 32;
  }
  uint8_t ql[128] = {}, qh[64] = {};
  for (int n = 0; n < 2; ++n)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const int v = q[128 * n + 32 * k + l];
        uint8_t& low = ql[64 * n + l + 32 * (k & 1)];
        low = uint8_t(low | (k < 2 ? v & 0xF : (v & 0xF) << 4));
        qh[32 * n + l] = uint8_t(qh[32 * n + l] | (v >> 4) << (2 * k));
      }
  out.insert(out.end(), ql, ql + 128);
  out.insert(out.end(), qh, qh + 64);
  for (int s = 0; s < 16; ++s) out.push_back(uint8_t(sc[s]));
  put_f16(out, d);
}

}  // namespace

bool gguf_quantizable(GgmlType t) {
  switch (t) {
    case GgmlType::kF32: case GgmlType::kF16: case GgmlType::kQ8_0: case GgmlType::kQ4_0: case GgmlType::kQ4_1:
    case GgmlType::kQ4_K: case GgmlType::kQ5_K: case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
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
    case GgmlType::kQ4_1:
      for (int64_t i = 0; i < n; i += 32) q4_1(x + i, out);
      return;
    case GgmlType::kQ4_K:
      for (int64_t i = 0; i < n; i += 256) q4_k(x + i, out);
      return;
    case GgmlType::kQ5_K:
      for (int64_t i = 0; i < n; i += 256) q5_k(x + i, out);
      return;
    case GgmlType::kQ6_K:
      for (int64_t i = 0; i < n; i += 256) q6_k(x + i, out);
      return;
    default:
      return;
  }
}

}  // namespace jetchat
