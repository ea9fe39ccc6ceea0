#include "gguf_dequant.h"

#include <cstring>

#include "half.h"

namespace jetchat {
namespace {

uint16_t u16_at(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
float f16_at(const uint8_t* p) { return f16_to_f32(u16_at(p)); }

constexpr int kQK = 32;    // weights per Q4_0 / Q4_1 / Q8_0 block
constexpr int kQKK = 256;  // weights per K-quant super-block

// Q4_0 {f16 d; u8 qs[16]}: byte j holds weight j (low nibble) and j+16 (high); y = (q - 8) * d.
void q4_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = float((qs[j] & 0xF) - 8) * d;
    y[j + kQK / 2] = float((qs[j] >> 4) - 8) * d;
  }
}

// Q4_1 {f16 d, m; u8 qs[16]}: nibbles as Q4_0; y = q * d + m.
void q4_1(const uint8_t* b, float* y) {
  const float d = f16_at(b), m = f16_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = float(qs[j] & 0xF) * d + m;
    y[j + kQK / 2] = float(qs[j] >> 4) * d + m;
  }
}

// Q8_0 {f16 d; i8 qs[32]}: y = q * d.
void q8_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  for (int j = 0; j < kQK; ++j) y[j] = float(int8_t(b[2 + j])) * d;
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block, packed in 12 bytes: sub-blocks 0-3
// in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); 4-7 in the nibbles of bytes 8-11 plus the top 2 bits
// of bytes 0-7.
void k_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K {f16 d, dmin; u8 scales[12]; u8 qs[128]}: 64-weight chunk c reads qs[32c..32c+31], low nibbles are
// sub-block 2c, high nibbles sub-block 2c+1; y = d * sc * q - dmin * m.
void q4_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qs = b + 16;
  for (int c = 0; c < 4; ++c) {
    int sc0, m0, sc1, m1;
    k_scale_min(scales, 2 * c, &sc0, &m0);
    k_scale_min(scales, 2 * c + 1, &sc1, &m1);
    for (int l = 0; l < 32; ++l) {
      y[64 * c + l] = d * float(sc0) * float(qs[32 * c + l] & 0xF) - dmin * float(m0);
      y[64 * c + 32 + l] = d * float(sc1) * float(qs[32 * c + l] >> 4) - dmin * float(m1);
    }
  }
}

// Q5_K {f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: as Q4_K with a fifth bit per weight: weight l of
// sub-block s takes bit s of qh[l] as 16.
void q5_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + 48;
  for (int c = 0; c < 4; ++c) {
    int sc0, m0, sc1, m1;
    k_scale_min(scales, 2 * c, &sc0, &m0);
    k_scale_min(scales, 2 * c + 1, &sc1, &m1);
    for (int l = 0; l < 32; ++l) {
      const int lo = (qs[32 * c + l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4);
      const int hi = (qs[32 * c + l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4);
      y[64 * c + l] = d * float(sc0) * float(lo) - dmin * float(m0);
      y[64 * c + 32 + l] = d * float(sc1) * float(hi) - dmin * float(m1);
    }
  }
}

// Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}: two halves of 128 weights; in half n, weight 32k + l
// (k < 4, l < 32) has low 4 bits from ql[64n + l + 32(k&1)] (low nibble for k < 2, high for k >= 2), high 2 bits
// from qh[32n + l] >> 2k, and scale scales[8n + 2k + l/16]; y = d * scale * (q - 32).
void q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = f16_at(b + 208);
  for (int n = 0; n < 2; ++n)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const uint8_t low_byte = ql[64 * n + l + 32 * (k & 1)];
        const int low = k < 2 ? low_byte & 0xF : low_byte >> 4;
        const int high = (qh[32 * n + l] >> (2 * k)) & 3;
        y[128 * n + 32 * k + l] = d * float(sc[8 * n + 2 * k + l / 16]) * float((low | (high << 4)) - 32);
      }
}

}  // namespace

bool gguf_dequantizable(GgmlType t) {
  switch (t) {
    case GgmlType::kF32: case GgmlType::kF16: case GgmlType::kBF16: case GgmlType::kQ8_0: case GgmlType::kQ4_0:
    case GgmlType::kQ4_1: case GgmlType::kQ4_K: case GgmlType::kQ5_K: case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}

void gguf_dequantize(GgmlType t, const uint8_t* src, int64_t n, float* out) {
  using BlockFn = void (*)(const uint8_t*, float*);
  BlockFn block = nullptr;
  switch (t) {
    case GgmlType::kF32:
      std::memcpy(out, src, size_t(n) * 4);
      return;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) out[i] = f16_at(src + 2 * i);
      return;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(u16_at(src + 2 * i));
      return;
    case GgmlType::kQ4_0: block = q4_0; break;
    case GgmlType::kQ4_1: block = q4_1; break;
    case GgmlType::kQ8_0: block = q8_0; break;
    case GgmlType::kQ4_K: block = q4_k; break;
    case GgmlType::kQ5_K: block = q5_k; break;
    case GgmlType::kQ6_K: block = q6_k; break;
    default: return;
  }
  const int64_t per = int64_t(ggml_block_size(t));
  const size_t bytes = ggml_block_bytes(t);
  for (int64_t i = 0; i < n / per; ++i) block(src + size_t(i) * bytes, out + i * per);
}

}  // namespace jetchat
