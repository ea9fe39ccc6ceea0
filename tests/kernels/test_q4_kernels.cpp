// 4-bit weights on the CPU: the AWQ repack against hand-built tensors, every SIMD kernel against the scalar one,
// and the backend's 4-bit matmul against a double-precision loop over the dequantised weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "backend.h"
#include "cpu/q4.h"
#include "cpu/vec.h"
#include "half.h"

namespace jetchat {
namespace {

// AWQ's packing, written out independently of the engine: nibble i of word (k, c) is output column 8c + kOrder[i].
constexpr int kOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};

// An AWQ GEMM matrix built from explicit q[k][n], z[g][n], s[g][n].
struct AwqTensors {
  int64_t rows, cols;
  int group;
  std::vector<int32_t> qweight, qzeros;
  std::vector<uint16_t> scales;  // f16
  std::vector<int> q, z;         // [cols][rows], [groups][rows]
  std::vector<float> s;          // [groups][rows], exactly representable in f16

  AwqTensors(int64_t rows_, int64_t cols_, int group_, std::mt19937& rng) : rows(rows_), cols(cols_), group(group_) {
    const int64_t groups = cols / group;
    std::uniform_int_distribution<int> nib(0, 15);
    std::uniform_real_distribution<float> sc(0.001f, 0.1f);
    q.resize(size_t(cols * rows));
    z.resize(size_t(groups * rows));
    s.resize(size_t(groups * rows));
    for (auto& v : q) v = nib(rng);
    for (size_t i = 0; i < z.size(); ++i) z[i] = i % 5 == 0 ? 0 : i % 5 == 1 ? 15 : nib(rng);  // both extremes
    for (auto& v : s) v = f16_to_f32(f32_to_f16(sc(rng)));
    qweight = pack(q, cols);
    qzeros = pack(z, groups);
    for (float v : s) scales.push_back(f32_to_f16(v));
  }
  std::vector<int32_t> pack(const std::vector<int>& v, int64_t n_rows) const {
    std::vector<int32_t> out(size_t(n_rows * rows / 8));
    for (int64_t r = 0; r < n_rows; ++r)
      for (int64_t c = 0; c < rows / 8; ++c) {
        uint32_t w = 0;
        for (int i = 0; i < 8; ++i) w |= uint32_t(v[size_t(r * rows + c * 8 + kOrder[i])]) << (4 * i);
        out[size_t(r * rows / 8 + c)] = int32_t(w);
      }
    return out;
  }
  HostQ4Matrix host() const {
    return {rows, cols, group, qweight.data(), qzeros.data(), scales.data(), DType::kF16};
  }
  float weight(int64_t n, int64_t k) const {  // nn.Linear view [rows=out, cols=in]
    const size_t g = size_t((k / group) * rows + n);
    return float(q[size_t(k * rows + n)] - z[g]) * s[g];
  }
};

TEST(Q4Repack, HandPackedWordFollowsAwqNibbleOrder) {
  // One 32-bit word 0x76543210 holds nibble value i in nibble i, so output column kOrder[i] gets value i:
  // columns 0..7 read 0, 4, 1, 5, 2, 6, 3, 7. Zero points 0 (columns 0..7, group 0) and 15 (group 1) are tested.
  const int64_t rows = 8, cols = 64;
  std::vector<int32_t> qweight(size_t(cols), int32_t(0x76543210));
  std::vector<int32_t> qzeros = {0, int32_t(0xFFFFFFFFu)};
  std::vector<uint16_t> scales(size_t(2 * rows), f32_to_f16(0.5f));
  auto b = make_cpu_backend({2});
  auto t = b->upload_q4({rows, cols, 32, qweight.data(), qzeros.data(), scales.data(), DType::kF16});
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  std::vector<float> w(size_t(rows * cols));
  b->read(*t, w.data());
  const int expect[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  for (int n = 0; n < 8; ++n)
    for (int k = 0; k < cols; ++k)
      ASSERT_EQ(w[size_t(n * cols + k)], (expect[n] - (k < 32 ? 0 : 15)) * 0.5f) << "n=" << n << " k=" << k;
  b->free(*t);
  EXPECT_EQ(b->bytes_in_use(), 0);
}

TEST(Q4Repack, RoundTripOfRandomAwqTensorsIsExact) {
  std::mt19937 rng(3);
  auto b = make_cpu_backend({3});
  for (int group : {32, 64, 128})
    for (int64_t rows : {8, 24, 72}) {
      const int64_t cols = group * 3;
      AwqTensors a(rows, cols, group, rng);
      auto t = b->upload_q4(a.host());
      ASSERT_TRUE(t.is_ok()) << t.status().message();
      EXPECT_EQ(t->dtype, DType::kQ4);
      std::vector<float> w(size_t(rows * cols));
      b->read(*t, w.data());
      for (int64_t n = 0; n < rows; ++n)
        for (int64_t k = 0; k < cols; ++k)
          ASSERT_EQ(w[size_t(n * cols + k)], a.weight(n, k)) << "group " << group << " n=" << n << " k=" << k;
      b->free(*t);
    }
}

TEST(Q4Repack, BackendRefusesLayoutsItCannotRun) {
  std::mt19937 rng(4);
  auto b = make_cpu_backend({1});
  AwqTensors a(16, 64, 32, rng);
  HostQ4Matrix m = a.host();
  m.rows = 12;  // not a multiple of 8 outputs per int32
  EXPECT_NE(b->upload_q4(m).status().message().find("multiple of 8"), std::string::npos);
  m = a.host();
  m.group_size = 16;
  EXPECT_NE(b->upload_q4(m).status().message().find("group size 16"), std::string::npos);
  m = a.host();
  m.cols = 48;
  m.group_size = 32;
  EXPECT_NE(b->upload_q4(m).status().message().find("not a multiple of the group size"), std::string::npos);
  m = a.host();
  m.qzeros = nullptr;
  EXPECT_FALSE(b->upload_q4(m).is_ok());
}

TEST(Q4Kernels, EverySimdPathMatchesScalar) {
  using namespace cpu;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> byte(0, 255);
  const auto& ref = q4_kernels_scalar();
  const auto impls = q4_kernels_available();
  for (int group : {32, 64, 128})
    for (int64_t cols : {int64_t(group), int64_t(group) * 3, int64_t(group) * 7}) {
      const Q4Layout l{1, cols, group};
      std::vector<uint8_t> row(l.row_stride());
      for (size_t i = 0; i < l.scales_offset(); ++i) row[i] = uint8_t(byte(rng));
      for (int64_t g = 0; g < l.groups(); ++g) {
        const float s = 0.01f + 0.05f * (u(rng) + 1), m = s * (7.5f + 9.0f * u(rng));  // not a multiple of s
        std::memcpy(row.data() + l.scales_offset() + g * 4, &s, 4);
        std::memcpy(row.data() + l.mins_offset() + g * 4, &m, 4);
      }
      const int64_t ldx = cols + 5;  // rows of x not adjacent
      std::vector<float> x(size_t(kMaxTile * ldx)), xsum(size_t(kMaxTile * l.groups()));
      for (auto& v : x) v = u(rng);
      for (int t = 0; t < kMaxTile; ++t)
        for (int64_t g = 0; g < l.groups(); ++g)
          for (int j = 0; j < group; ++j) xsum[size_t(t * l.groups() + g)] += x[size_t(t * ldx + g * group + j)];
      // |sum| of the terms bounds the reordering error: (15 + 16.5) * 0.11 per weight, |x| <= 1.
      const double bound = 4e-6 * 31.5 * 0.11 * double(cols) + 1e-6;
      for (const Q4Kernels* impl : impls)
        for (int nt = 1; nt <= kMaxTile; ++nt) {
          float got[kMaxTile], want[kMaxTile];
          std::fill(got, got + kMaxTile, NAN);
          impl->dot(row.data(), cols, group, x.data(), ldx, xsum.data(), nt, got);
          ref.dot(row.data(), cols, group, x.data(), ldx, xsum.data(), nt, want);
          for (int t = 0; t < nt; ++t)
            EXPECT_NEAR(got[t], want[t], bound) << impl->isa << " group " << group << " cols " << cols << " nt " << nt;
        }
    }
}

// Issue #3: the int8-activation decode kernels against the f32 scalar kernel. x^ = d * xq differs from x by at
// most d[b] / 2 per element of block b, so |W.x^ - W.x| <= sum_b d[b] / 2 * sum_{k in b} |w_k|; on top of that
// the f32 summation bound of the test above. Odd group counts, chunk tails of 1..3 blocks, a group of 96 (not a
// power of two), blocks of very different magnitude and an all-zero block; 1 to 9 rows per call (kernels take
// several rows per pass and the rest one at a time), and nothing written past the last row.
TEST(Q4Kernels, Int8ActivationsWithinRoundingBoundOfF32) {
  using namespace cpu;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::pair<const char*, Q4DotI8Fn>> impls{{"scalar-int8", q4_dot_i8_scalar}};
  for (const Q4Kernels* k : q4_kernels_available())
    if (k->dot_i8) impls.push_back({k->isa, k->dot_i8});
  constexpr int kRows = 9;
  int checked = 0;
  for (int group : {32, 64, 96, 128})
    for (int ngroups : {1, 3, 5, 7, 11, 17}) {
      const int64_t cols = int64_t(group) * ngroups;
      const Q4Layout l{kRows, cols, group};
      const size_t stride = l.row_stride();
      std::vector<uint8_t> rows(l.bytes());
      std::vector<float> scale(size_t(kRows * l.groups()));
      for (int r = 0; r < kRows; ++r) {
        uint8_t* row = rows.data() + r * stride;
        for (size_t i = 0; i < l.scales_offset(); ++i) row[i] = uint8_t(byte(rng));
        for (int64_t g = 0; g < l.groups(); ++g) {
          float& s = scale[size_t(r * l.groups() + g)];
          s = 0.01f + 0.05f * (u(rng) + 1);
          const float m = s * (7.5f + 9.0f * u(rng));
          std::memcpy(row + l.scales_offset() + g * 4, &s, 4);
          std::memcpy(row + l.mins_offset() + g * 4, &m, 4);
        }
      }
      std::vector<float> x(static_cast<size_t>(cols)), xsum(static_cast<size_t>(l.groups()));
      for (int64_t b = 0; b < cols / kQ4Block; ++b) {
        const float mag = b == 1 ? 0.0f : std::pow(10.0f, 2 * u(rng));  // 0.01 .. 100, block 1 all zero
        for (int j = 0; j < kQ4Block; ++j) x[size_t(b * kQ4Block + j)] = mag * u(rng);
      }
      for (int64_t k = 0; k < cols; ++k) xsum[size_t(k / group)] += x[size_t(k)];
      Q4QuantX qx;
      q4_quantize_x(x.data(), cols, group, qx);

      float want[kRows];
      double bound[kRows];
      for (int r = 0; r < kRows; ++r) {
        const uint8_t* row = rows.data() + r * stride;
        q4_kernels_scalar().dot(row, cols, group, x.data(), cols, xsum.data(), 1, &want[r]);
        double b_r = 0, abs_terms = 0;
        for (int64_t k = 0; k < cols; ++k) {
          const int64_t b = k / kQ4Block, g = k / group;
          const int q = k % kQ4Block < 16 ? row[size_t(b * 16 + k % 16)] & 0xF : row[size_t(b * 16 + k % 16)] >> 4;
          const float s = scale[size_t(r * l.groups() + g)];
          float m;
          std::memcpy(&m, row + l.mins_offset() + g * 4, 4);
          const double w = double(q) * s - m;
          b_r += std::fabs(w) * qx.d[size_t(b)] / 2;
          abs_terms += (15.0 * s + std::fabs(m)) * std::fabs(x[size_t(k)]);
        }
        bound[r] = b_r + 4e-6 * abs_terms + 1e-6;
      }
      for (const auto& [isa, fn] : impls)
        for (int nrows : {1, 3, 4, 5, 8, 9}) {
          float got[kRows + 1];
          std::fill(got, got + kRows + 1, NAN);
          fn(rows.data(), stride, nrows, cols, group, qx.q.data(), qx.d.data(), qx.xsum.data(), got);
          for (int r = 0; r < nrows; ++r)
            EXPECT_NEAR(got[r], want[r], bound[r]) << isa << " group " << group << " cols " << cols << " row " << r
                                                   << " of " << nrows;
          EXPECT_TRUE(std::isnan(got[nrows])) << isa << " wrote past row " << nrows;
          ++checked;
        }
    }
  EXPECT_GE(checked, 100);
  std::string names;  // which kernels this CPU ran (qemu's -cpu decides on aarch64: sdot or not)
  for (const auto& impl : impls) names += std::string(" ") + impl.first;
  std::printf("int8 kernels checked:%s\n", names.c_str());
}

TEST(Q4Kernels, QuantizedActivationsRoundToNearest) {
  using namespace cpu;
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  const int64_t cols = 32 * 7;  // one chunk of 4 blocks and a tail of 3
  const int group = 32;
  std::vector<float> x(static_cast<size_t>(cols));
  for (auto& v : x) v = u(rng);
  x[5] = 7.5f;  // the block's max
  cpu::Q4QuantX qx;
  q4_quantize_x(x.data(), cols, group, qx);
  EXPECT_FLOAT_EQ(qx.d[0], 7.5f / 127);
  for (int64_t b = 0; b < cols / 32; ++b) {
    const int64_t b0 = b / 4 * 4, nb = std::min<int64_t>(4, cols / 32 - b0), i = b - b0;
    double sum = 0;
    for (int j = 0; j < 32; ++j) {
      const int8_t q = qx.q[size_t(b0 * 32 + (j < 16 ? 16 * i + j : 16 * nb + 16 * i + j - 16))];
      EXPECT_LE(std::fabs(qx.d[size_t(b)] * q - x[size_t(b * 32 + j)]), qx.d[size_t(b)] * 0.5001f) << b << " " << j;
      EXPECT_GE(q, -127);
      sum += q;
    }
    EXPECT_NEAR(qx.xsum[size_t(b)], qx.d[size_t(b)] * sum, 1e-5);
  }
}

TEST(Q4Kernels, BackendMatmulMatchesDequantisedWeights) {
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto b = make_cpu_backend({3});
  for (int group : {32, 128}) {
    const int64_t rows = 40, cols = group * 2;
    AwqTensors a(rows, cols, group, rng);
    Tensor w = *b->upload_q4(a.host());
    std::vector<float> bias(static_cast<size_t>(rows));
    for (auto& v : bias) v = u(rng);
    Tensor bt = *b->upload({DType::kF32, 1, rows, bias.data()}, DType::kF32);
    for (int n : {1, 3, 8, 9, 13}) {
      std::vector<float> xv(size_t(n * cols));
      for (auto& v : xv) v = u(rng);
      Tensor x = *b->upload({DType::kF32, n, cols, xv.data()}, DType::kF32);
      Tensor y = *b->alloc(DType::kF32, n, rows);
      b->matmul(y, x, w, &bt);
      std::vector<float> got(size_t(n * rows));
      b->read(y, got.data());
      for (int t = 0; t < n; ++t)
        for (int64_t r = 0; r < rows; ++r) {
          double s = bias[size_t(r)], rounding = 0;
          for (int64_t k = 0; k < cols; ++k) s += double(a.weight(r, k)) * xv[size_t(t * cols + k)];
          if (n == 1) {  // decode may use int8 activations (issue #3): + their rounding, d[b] / 2 per element
            for (int64_t b = 0; b < cols / 32; ++b) {
              float amax = 0, wabs = 0;
              for (int64_t k = b * 32; k < b * 32 + 32; ++k) {
                amax = std::max(amax, std::fabs(xv[size_t(k)]));
                wabs += std::fabs(a.weight(r, k));
              }
              rounding += double(amax) / 127 / 2 * wabs;
            }
          }
          ASSERT_NEAR(got[size_t(t * rows + r)], s, 1e-5 * double(cols) + rounding) << "group " << group << " n=" << n;
        }
      b->free(x);
      b->free(y);
    }
    b->free(w);
    b->free(bt);
  }
  EXPECT_EQ(b->bytes_in_use(), 0);
}

}  // namespace
}  // namespace jetchat
