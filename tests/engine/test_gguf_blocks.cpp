// GGUF block decoding against hand-built blocks: every type's fields set to chosen values and the expected floats
// written out here from the format description (FORMATS.md section 3, ggml-common.h), not from the decoder. Then
// our round-to-nearest encoders against their error bounds, through the decoder.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "gguf_dequant.h"
#include "gguf_quantize.h"

namespace jetchat {
namespace {

using Block = std::vector<uint8_t>;

void put16(Block& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }

// fp16 bit patterns of the few scales used below.
constexpr uint16_t kHalf1 = 0x3C00, kHalf0_5 = 0x3800, kHalf0_25 = 0x3400, kHalf0_125 = 0x3000, kHalfMinus1 = 0xBC00,
                   kHalfMinus2 = 0xC000, kHalf2 = 0x4000;

std::vector<float> decode(GgmlType t, const Block& b, int64_t n) {
  EXPECT_EQ(b.size() * ggml_block_size(t), size_t(n) * ggml_block_bytes(t)) << ggml_type_name(t);
  std::vector<float> y(static_cast<size_t>(n));
  gguf_dequantize(t, b.data(), n, y.data());
  return y;
}

void expect_values(const std::vector<float>& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-6 * (1 + std::fabs(want[i]))) << what << " [" << i << "]";
}

TEST(GgufBlocks, PlainTypes) {
  Block f32(8);
  const float a = 1.5f, b = -3.25e-3f;
  std::memcpy(f32.data(), &a, 4);
  std::memcpy(f32.data() + 4, &b, 4);
  expect_values(decode(GgmlType::kF32, f32, 2), {1.5, -3.25e-3}, "F32");
  Block f16(6);
  put16(f16, 0, kHalf1), put16(f16, 2, kHalfMinus2), put16(f16, 4, 0x3555);  // 0x3555 = 0.333251953125
  expect_values(decode(GgmlType::kF16, f16, 3), {1.0, -2.0, 0.333251953125}, "F16");
  Block bf16(4);
  put16(bf16, 0, 0x3F80), put16(bf16, 2, 0x4049);  // 1.0, 3.140625
  expect_values(decode(GgmlType::kBF16, bf16, 2), {1.0, 3.140625}, "BF16");
}

TEST(GgufBlocks, Q4_0) {
  // {f16 d; u8 qs[16]}, two blocks. Byte j: weight j in the low nibble, weight j+16 in the high; y = (q - 8) * d.
  Block b(36);
  put16(b, 0, kHalf0_5);
  put16(b, 18, kHalfMinus2);
  for (int j = 0; j < 16; ++j) {
    b[2 + j] = uint8_t(j | (15 - j) << 4);
    b[20 + j] = uint8_t(((j * 5) & 15) | ((j * 3) & 15) << 4);
  }
  std::vector<double> want(64);
  for (int j = 0; j < 16; ++j) {
    want[j] = (j - 8) * 0.5;
    want[16 + j] = ((15 - j) - 8) * 0.5;
    want[32 + j] = (((j * 5) & 15) - 8) * -2.0;
    want[48 + j] = (((j * 3) & 15) - 8) * -2.0;
  }
  expect_values(decode(GgmlType::kQ4_0, b, 64), want, "Q4_0");
}

TEST(GgufBlocks, Q4_1) {
  // {f16 d, m; u8 qs[16]}; y = q * d + m.
  Block b(20);
  put16(b, 0, kHalf0_25);
  put16(b, 2, kHalfMinus1);
  for (int j = 0; j < 16; ++j) b[4 + j] = uint8_t(j | ((j + 3) & 15) << 4);
  std::vector<double> want(32);
  for (int j = 0; j < 16; ++j) {
    want[j] = j * 0.25 - 1.0;
    want[16 + j] = ((j + 3) & 15) * 0.25 - 1.0;
  }
  expect_values(decode(GgmlType::kQ4_1, b, 32), want, "Q4_1");
}

TEST(GgufBlocks, Q8_0) {
  // {f16 d; i8 qs[32]}; y = q * d.
  Block b(34);
  put16(b, 0, kHalf0_125);
  std::vector<double> want(32);
  for (int j = 0; j < 32; ++j) {
    const int q = j * 8 - 128;  // -128 .. 120
    b[2 + j] = uint8_t(int8_t(q));
    want[j] = q * 0.125;
  }
  expect_values(decode(GgmlType::kQ8_0, b, 32), want, "Q8_0");
}

// The 12 scale bytes of a Q4_K/Q5_K super-block for 6-bit scales sc[8] and mins m[8]: bytes 0-3 and 4-7 hold
// sc[0..3] and m[0..3] in their low 6 bits and the top 2 bits of sc[4..7] and m[4..7] in their high 2 bits; bytes
// 8-11 hold the low 4 bits of sc[4..7] (low nibble) and m[4..7] (high nibble).
void pack_k_scales(const int sc[8], const int m[8], uint8_t* out) {
  for (int j = 0; j < 4; ++j) {
    out[j] = uint8_t((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[4 + j] = uint8_t((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    out[8 + j] = uint8_t((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
}

// Scales and mins that use all 6 bits (values above 15 exercise the split high bits).
constexpr int kSc[8] = {1, 2, 3, 4, 17, 33, 50, 63};
constexpr int kMin[8] = {0, 5, 10, 15, 20, 40, 48, 63};

TEST(GgufBlocks, Q4_K) {
  // {f16 d, dmin; u8 scales[12]; u8 qs[128]}; weight i is in sub-block s = i/32; 64-weight chunk c = i/64 reads
  // qs[32c + i%32], the low nibble for even s and the high for odd s; y = d*sc[s]*q - dmin*m[s].
  Block b(144);
  put16(b, 0, kHalf0_5);
  put16(b, 2, kHalf0_25);
  pack_k_scales(kSc, kMin, b.data() + 4);
  for (int i = 0; i < 128; ++i) b[16 + i] = uint8_t(i * 37 + 11);
  std::vector<double> want(256);
  for (int i = 0; i < 256; ++i) {
    const int s = i / 32, byte = b[16 + 32 * (i / 64) + i % 32];
    const int q = s % 2 == 0 ? byte & 15 : byte >> 4;
    want[i] = 0.5 * kSc[s] * q - 0.25 * kMin[s];
  }
  expect_values(decode(GgmlType::kQ4_K, b, 256), want, "Q4_K");
}

TEST(GgufBlocks, Q5_K) {
  // {f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: Q4_K's nibble plus bit s of qh[i%32] as 16.
  Block b(176);
  put16(b, 0, kHalf2);
  put16(b, 2, kHalf0_5);
  pack_k_scales(kSc, kMin, b.data() + 4);
  for (int l = 0; l < 32; ++l) b[16 + l] = uint8_t(l * 73 + 5);
  for (int i = 0; i < 128; ++i) b[48 + i] = uint8_t(i * 29 + 3);
  std::vector<double> want(256);
  for (int i = 0; i < 256; ++i) {
    const int s = i / 32, byte = b[48 + 32 * (i / 64) + i % 32];
    const int q = (s % 2 == 0 ? byte & 15 : byte >> 4) + 16 * ((b[16 + i % 32] >> s) & 1);
    want[i] = 2.0 * kSc[s] * q - 0.5 * kMin[s];
  }
  expect_values(decode(GgmlType::kQ5_K, b, 256), want, "Q5_K");
}

TEST(GgufBlocks, Q6_K) {
  // {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}. In each half (128 weights: ql += 64, qh += 32, scales += 8),
  // for l < 32 and is = l/16:
  //   y[l]    = d*sc[is]  *((ql[l]    & 15 | (qh[l]      & 3) << 4) - 32)
  //   y[l+32] = d*sc[is+2]*((ql[l+32] & 15 | (qh[l] >> 2 & 3) << 4) - 32)
  //   y[l+64] = d*sc[is+4]*((ql[l]    >> 4 | (qh[l] >> 4 & 3) << 4) - 32)
  //   y[l+96] = d*sc[is+6]*((ql[l+32] >> 4 | (qh[l] >> 6 & 3) << 4) - 32)
  Block b(210);
  for (int i = 0; i < 128; ++i) b[i] = uint8_t(i * 53 + 7);
  for (int i = 0; i < 64; ++i) b[128 + i] = uint8_t(i * 91 + 13);
  const int8_t sc[16] = {1, -2, 3, -4, 5, 127, -128, 8, -9, 10, 11, -12, 13, 14, -15, 16};
  std::memcpy(b.data() + 192, sc, 16);
  put16(b, 208, kHalf0_125);
  std::vector<double> want(256);
  for (int n = 0; n < 2; ++n) {
    const uint8_t* ql = b.data() + 64 * n;
    const uint8_t* qh = b.data() + 128 + 32 * n;
    const int8_t* s = sc + 8 * n;
    double* y = want.data() + 128 * n;
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      y[l] = 0.125 * s[is] * (((ql[l] & 15) | (qh[l] & 3) << 4) - 32);
      y[l + 32] = 0.125 * s[is + 2] * (((ql[l + 32] & 15) | (qh[l] >> 2 & 3) << 4) - 32);
      y[l + 64] = 0.125 * s[is + 4] * (((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32);
      y[l + 96] = 0.125 * s[is + 6] * (((ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4) - 32);
    }
  }
  expect_values(decode(GgmlType::kQ6_K, b, 256), want, "Q6_K");
}

// Our encoders, decoded again: each weight within its type's rounding bound.
TEST(GgufBlocks, EncodersRoundTripWithinTheirBounds) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(1024);
  for (float& v : x) v = u(rng);
  x[5] = 0, x[300] = 1.0f, x[301] = -1.0f;  // exact extremes
  std::fill(x.begin() + 512, x.begin() + 544, 0.0f);  // an all-zero block must decode to zeros
  struct Case {
    GgmlType t;
    double bound;  // on |y - x| for weights in [-1, 1]
  } cases[] = {
      {GgmlType::kF16, 1.0 / 2048},
      {GgmlType::kQ8_0, 0.5 / 127 + 1e-3},  // half a step of max|x|/127, plus fp16 rounding of d
      {GgmlType::kQ4_0, 1.0 / 8 + 1e-3},    // a full step: the far side of the block clamps at q = 15
      {GgmlType::kQ4_K, 2.0 / 15 / 2 + 0.03},  // half a step of (max-min)/15, plus 6-bit rounding of scale/min
      {GgmlType::kQ4_1, 2.0 / 15 / 2 + 2e-3},  // half a step of (max-min)/15, plus fp16 rounding of d and m
      {GgmlType::kQ5_K, 2.0 / 31 / 2 + 0.03},  // half a step of (max-min)/31, plus 6-bit rounding of scale/min
      {GgmlType::kQ6_K, 1.0 / 31 / 2 + 5e-3},  // half a step of max|x|/31, plus 8-bit rounding of the scale
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> blocks;
    gguf_quantize(c.t, x.data(), int64_t(x.size()), blocks);
    ASSERT_EQ(blocks.size(), x.size() / ggml_block_size(c.t) * ggml_block_bytes(c.t)) << ggml_type_name(c.t);
    std::vector<float> y(x.size());
    gguf_dequantize(c.t, blocks.data(), int64_t(x.size()), y.data());
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, double(std::fabs(y[i] - x[i])));
    EXPECT_LE(worst, c.bound) << ggml_type_name(c.t);
    for (size_t i = 512; i < 544; ++i) EXPECT_EQ(y[i], 0.0f) << ggml_type_name(c.t);
  }
}

}  // namespace
}  // namespace jetchat
