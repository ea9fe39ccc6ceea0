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

// Each unpacker writes one block's q[ggml_block_size] and its sub-blocks' scale s[] and min m[] (y = q * s - m).

// Q4_0 {f16 d; u8 qs[16]}: byte j holds weight j (low nibble) and j+16 (high); y = (q - 8) * d.
void q4_0(const uint8_t* b, int8_t* q, float* s, float* m) {
  const float d = f16_at(b);
  for (int j = 0; j < kQK / 2; ++j) q[j] = int8_t(b[2 + j] & 0xF), q[j + kQK / 2] = int8_t(b[2 + j] >> 4);
  s[0] = d;
  m[0] = 8 * d;
}

// Q4_1 {f16 d, m; u8 qs[16]}: nibbles as Q4_0; y = q * d + m.
void q4_1(const uint8_t* b, int8_t* q, float* s, float* m) {
  for (int j = 0; j < kQK / 2; ++j) q[j] = int8_t(b[4 + j] & 0xF), q[j + kQK / 2] = int8_t(b[4 + j] >> 4);
  s[0] = f16_at(b);
  m[0] = -f16_at(b + 2);
}

// Q8_0 {f16 d; i8 qs[32]}: y = q * d.
void q8_0(const uint8_t* b, int8_t* q, float* s, float* m) {
  std::memcpy(q, b + 2, kQK);
  s[0] = f16_at(b);
  m[0] = 0;
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block, packed in 12 bytes: sub-blocks 0-3
// in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); 4-7 in the nibbles of bytes 8-11 plus the top 2 bits
// of bytes 0-7. Sub-block j's scale is d * sc and its min dmin * m.
void k_scales(const uint8_t* b, float* s, float* m) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* p = b + 4;
  for (int j = 0; j < 8; ++j) {
    const int sc = j < 4 ? p[j] & 63 : (p[j + 4] & 0xF) | ((p[j - 4] >> 6) << 4);
    const int mn = j < 4 ? p[j + 4] & 63 : (p[j + 4] >> 4) | ((p[j] >> 6) << 4);
    s[j] = d * float(sc);
    m[j] = dmin * float(mn);
  }
}

// Q4_K {f16 d, dmin; u8 scales[12]; u8 qs[128]}: 64-weight chunk c reads qs[32c..32c+31], low nibbles are
// sub-block 2c, high nibbles sub-block 2c+1; y = d * sc * q - dmin * m.
void q4_k(const uint8_t* b, int8_t* q, float* s, float* m) {
  k_scales(b, s, m);
  const uint8_t* qs = b + 16;
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = int8_t(qs[32 * c + l] & 0xF);
      q[64 * c + 32 + l] = int8_t(qs[32 * c + l] >> 4);
    }
}

// Q5_K {f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: as Q4_K with a fifth bit per weight: weight l of
// sub-block s takes bit s of qh[l] as 16.
void q5_k(const uint8_t* b, int8_t* q, float* s, float* m) {
  k_scales(b, s, m);
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + 48;
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = int8_t((qs[32 * c + l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4));
      q[64 * c + 32 + l] = int8_t((qs[32 * c + l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4));
    }
}

// Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}: two halves of 128 weights; in half n, weight 32k + l
// (k < 4, l < 32) has low 4 bits from ql[64n + l + 32(k&1)] (low nibble for k < 2, high for k >= 2), high 2 bits
// from qh[32n + l] >> 2k, and scale scales[8n + 2k + l/16] (sub-block (128n + 32k + l) / 16); y = d * scale *
// (q - 32).
void q6_k(const uint8_t* b, int8_t* q, float* s, float* m) {
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
        q[128 * n + 32 * k + l] = int8_t((low | (high << 4)) - 32);
      }
  for (int j = 0; j < kQKK / 16; ++j) s[j] = d * float(sc[j]), m[j] = 0;
}

using UnpackFn = void (*)(const uint8_t*, int8_t*, float*, float*);

UnpackFn unpacker(GgmlType t) {
  switch (t) {
    case GgmlType::kQ4_0: return q4_0;
    case GgmlType::kQ4_1: return q4_1;
    case GgmlType::kQ8_0: return q8_0;
    case GgmlType::kQ4_K: return q4_k;
    case GgmlType::kQ5_K: return q5_k;
    case GgmlType::kQ6_K: return q6_k;
    default: return nullptr;
  }
}

}  // namespace

bool gguf_dequantizable(GgmlType t) {
  return t == GgmlType::kF32 || t == GgmlType::kF16 || t == GgmlType::kBF16 || unpacker(t) != nullptr;
}

int gguf_unpack_group(GgmlType t) {
  if (t == GgmlType::kQ6_K) return 16;
  return unpacker(t) ? 32 : 0;
}

int gguf_unpack_bits(GgmlType t) {
  switch (t) {
    case GgmlType::kQ4_0: case GgmlType::kQ4_1: case GgmlType::kQ4_K: return 4;
    case GgmlType::kQ8_0: case GgmlType::kQ5_K: case GgmlType::kQ6_K: return 8;
    default: return 0;
  }
}

void gguf_unpack(GgmlType t, const uint8_t* src, int64_t n, int group, int8_t* q, float* scales, float* mins) {
  const UnpackFn unpack = unpacker(t);
  const int64_t per = int64_t(ggml_block_size(t)), own = gguf_unpack_group(t), split = own / group;
  const size_t bytes = ggml_block_bytes(t);
  float s[kQKK / 16], m[kQKK / 16];  // the most sub-blocks a block has
  for (int64_t i = 0; i < n / per; ++i) {
    unpack(src + size_t(i) * bytes, q + i * per, s, m);
    for (int64_t j = 0; j < per / own; ++j)
      for (int64_t h = 0; h < split; ++h) {
        scales[(i * per / own + j) * split + h] = s[j];
        mins[(i * per / own + j) * split + h] = m[j];
      }
  }
}

void gguf_dequantize(GgmlType t, const uint8_t* src, int64_t n, float* out) {
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
    default: break;
  }
  if (!unpacker(t)) return;
  // One block at a time, so that no buffer of n bytes is needed.
  const int64_t per = int64_t(ggml_block_size(t)), group = gguf_unpack_group(t);
  const size_t bytes = ggml_block_bytes(t);
  int8_t q[kQKK];
  float s[kQKK / 16], m[kQKK / 16];
  for (int64_t i = 0; i < n / per; ++i) {
    gguf_unpack(t, src + size_t(i) * bytes, per, int(group), q, s, m);
    for (int64_t j = 0; j < per; ++j) out[i * per + j] = float(q[j]) * s[j / group] - m[j / group];
  }
}

}  // namespace jetchat
