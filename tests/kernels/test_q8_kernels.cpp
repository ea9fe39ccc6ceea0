// Grouped-quantised weights on the CPU (issue #6): the 8-bit layout's repack against the weights it was given,
// every SIMD kernel against the scalar one (f32 tiles and int8 activations), the backend's 4- and 8-bit matmul
// with f32 minimums against a double-precision loop, the default (f16) upload_quant, and refused shapes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "backend.h"
#include "cpu/q8.h"
#include "cpu/vec.h"
#include "half.h"

namespace jetchat {
namespace {

// A HostQuantMatrix with random q, scales and (non-integer-multiple) mins, and its weights in double.
struct QuantTensors {
  int bits;
  int64_t rows, cols;
  int group;
  std::vector<int8_t> q;
  std::vector<float> scales, mins;

  QuantTensors(int bits_, int64_t rows_, int64_t cols_, int group_, std::mt19937& rng)
      : bits(bits_), rows(rows_), cols(cols_), group(group_) {
    std::uniform_int_distribution<int> qd(bits == 4 ? 0 : -128, bits == 4 ? 15 : 127);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    q.resize(size_t(rows * cols));
    for (auto& v : q) v = int8_t(qd(rng));
    q[0] = int8_t(bits == 4 ? 15 : -128), q[1] = int8_t(bits == 4 ? 0 : 127);  // both extremes
    scales.resize(size_t(rows * cols / group));
    mins.resize(scales.size());
    for (size_t i = 0; i < scales.size(); ++i) {
      scales[i] = 0.001f + 0.01f * (u(rng) + 1);
      mins[i] = i % 7 == 0 ? 0.0f : scales[i] * 9.3f * u(rng);
    }
  }
  HostQuantMatrix host() const { return {bits, rows, cols, group, q.data(), scales.data(), mins.data()}; }
  float weight(int64_t r, int64_t k) const {
    const size_t g = size_t(r * (cols / group) + k / group);
    return float(q[size_t(r * cols + k)]) * scales[g] - mins[g];
  }
};

// A random Q8Layout row set written directly (not through the repack), as the kernels read it.
std::vector<uint8_t> random_q8_rows(const cpu::Q8Layout& l, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<uint8_t> rows(l.bytes());
  for (int64_t r = 0; r < l.rows; ++r) {
    uint8_t* row = rows.data() + r * l.row_stride();
    for (size_t i = 0; i < l.scales_offset(); ++i) row[i] = uint8_t(byte(rng));
    for (int64_t g = 0; g < l.groups(); ++g) {
      const float s = 0.002f + 0.01f * (u(rng) + 1), m = s * 40.0f * u(rng);
      std::memcpy(row + l.scales_offset() + g * 4, &s, 4);
      std::memcpy(row + l.mins_offset() + g * 4, &m, 4);
    }
  }
  return rows;
}

TEST(Q8Repack, BackendReadsBackExactlyTheWeightsGiven) {
  std::mt19937 rng(21);
  auto b = make_cpu_backend({2});
  for (int bits : {4, 8})
    for (int group : {16, 32, 64}) {
      if (bits == 4 && group == 16) continue;  // 4-bit groups are whole blocks of 32
      for (int64_t cols : {int64_t(32), int64_t(96), int64_t(32 * 9)}) {
        if (cols % group) continue;
        QuantTensors a(bits, 13, cols, group, rng);
        auto t = b->upload_quant(a.host());
        ASSERT_TRUE(t.is_ok()) << t.status().message();
        EXPECT_EQ(t->dtype, bits == 4 ? DType::kQ4 : DType::kQ8);
        std::vector<float> got(size_t(a.rows * cols));
        b->read(*t, got.data());
        for (int64_t r = 0; r < a.rows; ++r)
          for (int64_t k = 0; k < cols; ++k)
            ASSERT_EQ(got[size_t(r * cols + k)], a.weight(r, k))
                << bits << "-bit group " << group << " cols " << cols << " at " << r << "," << k;
        b->free(*t);
      }
    }
  EXPECT_EQ(b->bytes_in_use(), 0);
}

TEST(Q8Kernels, EverySimdPathMatchesScalar) {
  using namespace cpu;
  std::mt19937 rng(22);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const auto& ref = q8_kernels_scalar();
  for (int group : {16, 32, 64})
    for (int64_t blocks : {1, 2, 3, 5, 9}) {  // chunk tails of 1..3 blocks
      const int64_t cols = 32 * blocks;
      if (cols % group) continue;
      const Q8Layout l{1, cols, group};
      const auto row = random_q8_rows(l, rng);
      const int64_t ldx = cols + 3;  // rows of x not adjacent
      std::vector<float> x(size_t(kMaxTile * ldx)), xsum(size_t(kMaxTile * l.groups()));
      for (auto& v : x) v = u(rng);
      for (int t = 0; t < kMaxTile; ++t)
        for (int64_t k = 0; k < cols; ++k) xsum[size_t(t * l.groups() + k / group)] += x[size_t(t * ldx + k)];
      // |sum| of the terms bounds the reordering error: |q*s| <= 128 * 0.022, |m| <= 0.88 per weight, |x| <= 1.
      const double bound = 4e-6 * (128 * 0.022 + 0.88) * double(cols) + 1e-6;
      for (const Q8Kernels* impl : q8_kernels_available())
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

// The int8-activation kernels against the scalar f32 kernel: x^ differs from x by at most d[b] / 2 per element
// of block b, so |W.x^ - W.x| <= sum_k |w_k| d[b(k)] / 2, plus the f32 summation bound above. Blocks of very
// different magnitude and an all-zero one; 1 to 9 rows per call and nothing written past the last.
TEST(Q8Kernels, Int8ActivationsWithinRoundingBoundOfF32) {
  using namespace cpu;
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  constexpr int kRows = 9;
  int checked = 0;
  for (int group : {16, 32, 96})
    for (int64_t blocks : {3, 5, 6, 9, 15}) {
      const int64_t cols = 32 * blocks;
      if (cols % group) continue;
      const Q8Layout l{kRows, cols, group};
      const auto rows = random_q8_rows(l, rng);
      std::vector<float> x(static_cast<size_t>(cols)), xsum(static_cast<size_t>(l.groups()));
      for (int64_t b = 0; b < blocks; ++b) {
        const float mag = b == 1 ? 0.0f : std::pow(10.0f, 2 * u(rng));
        for (int j = 0; j < 32; ++j) x[size_t(b * 32 + j)] = mag * u(rng);
      }
      for (int64_t k = 0; k < cols; ++k) xsum[size_t(k / group)] += x[size_t(k)];
      Q4QuantX qx;
      q4_quantize_x(x.data(), cols, group, qx);
      float want[kRows];
      double bound[kRows];
      std::vector<float> w(static_cast<size_t>(cols));
      for (int r = 0; r < kRows; ++r) {
        const uint8_t* row = rows.data() + r * l.row_stride();
        q8_kernels_scalar().dot(row, cols, group, x.data(), cols, xsum.data(), 1, &want[r]);
        q8_dequant_row(l, row, w.data());
        double b_r = 0, abs_terms = 0;
        for (int64_t k = 0; k < cols; ++k) {
          b_r += std::fabs(w[size_t(k)]) * qx.d[size_t(k / 32)] / 2;
          abs_terms += (128 * 0.022 + 0.88) * std::fabs(x[size_t(k)]);
        }
        bound[r] = b_r + 4e-6 * abs_terms + 1e-6;
      }
      for (const Q8Kernels* impl : q8_kernels_available())
        for (int nrows : {1, 4, 9}) {
          float got[kRows + 1];
          std::fill(got, got + kRows + 1, NAN);
          impl->dot_i8(rows.data(), l.row_stride(), nrows, cols, group, qx.q.data(), qx.d.data(), qx.xsum.data(),
                       got);
          for (int r = 0; r < nrows; ++r)
            EXPECT_NEAR(got[r], want[r], bound[r])
                << impl->isa << " group " << group << " cols " << cols << " row " << r;
          EXPECT_TRUE(std::isnan(got[nrows])) << impl->isa << " wrote past row " << nrows;
          ++checked;
        }
    }
  EXPECT_GE(checked, 30);
  std::string names;
  for (const cpu::Q8Kernels* k : cpu::q8_kernels_available()) names += std::string(" ") + k->isa;
  std::printf("q8 kernels checked:%s\n", names.c_str());
}

// Every int8-activation kernel against the scalar one on the same quantised row: both compute W . x^ exactly up
// to f32 summation, so the bound is that of the sums (a relative 2e-6 of the terms' magnitudes; a kernel may
// compute q * s - m as (q + 128) * s - (m + 128 * s), hence 255 * s), far below the rounding bound of the test
// above: one step of a minimum wrong (s * xsum per group) fails it.
TEST(Q8Kernels, Int8KernelsMatchTheScalarInt8Kernel) {
  using namespace cpu;
  std::mt19937 rng(24);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  constexpr int kRows = 5;
  int shapes = 0;
  for (int group : {16, 32, 64, 96, 128})
    for (int64_t blocks : {1, 2, 3, 4, 5, 8, 9, 15}) {
      const int64_t cols = 32 * blocks;
      if (cols % group) continue;
      const Q8Layout l{kRows, cols, group};
      const auto rows = random_q8_rows(l, rng);
      std::vector<float> x(static_cast<size_t>(cols)), xsum(static_cast<size_t>(l.groups()));
      for (int64_t b = 0; b < blocks; ++b) {
        const float mag = std::pow(10.0f, u(rng)), offset = 0.5f * mag * u(rng);  // sums far from zero
        for (int j = 0; j < 32; ++j) x[size_t(b * 32 + j)] = offset + mag * u(rng);
      }
      Q4QuantX qx;
      q4_quantize_x(x.data(), cols, group, qx);
      float want[kRows];
      q8_kernels_scalar().dot_i8(rows.data(), l.row_stride(), kRows, cols, group, qx.q.data(), qx.d.data(),
                                 qx.xsum.data(), want);
      double bound[kRows];
      for (int r = 0; r < kRows; ++r) {
        const auto* row = rows.data() + r * l.row_stride();
        const auto* s = reinterpret_cast<const float*>(row + l.scales_offset());
        const auto* m = reinterpret_cast<const float*>(row + l.mins_offset());
        double terms = 0;
        for (int64_t k = 0; k < cols; ++k)
          terms += (255.0 * s[k / group] + std::fabs(m[k / group])) * std::fabs(x[size_t(k)]);
        bound[r] = 2e-6 * terms + 1e-6;
      }
      for (const Q8Kernels* impl : q8_kernels_available()) {
        float got[kRows];
        impl->dot_i8(rows.data(), l.row_stride(), kRows, cols, group, qx.q.data(), qx.d.data(), qx.xsum.data(), got);
        for (int r = 0; r < kRows; ++r)
          EXPECT_NEAR(got[r], want[r], bound[r]) << impl->isa << " group " << group << " cols " << cols << " row " << r;
      }
      ++shapes;
    }
  EXPECT_EQ(shapes, 24);
}

// y = x . W^T for prefill (f32 tiles, 11 rows: a full tile and a tail) and decode (one row, int8 activations)
// against double precision over the weights as given. Decode's bound is the int8 rounding of x (|x| <= 1,
// d <= 1/127 per element): sum_k |w_k| / 254, plus slack for f32 sums.
TEST(Q8Kernels, BackendMatmulMatchesTheWeightsGiven) {
  std::mt19937 rng(24);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto b = make_cpu_backend({2});
  for (int bits : {4, 8})
    for (int group : {16, 32}) {
      if (bits == 4 && group == 16) continue;
      const int64_t rows = 37, cols = 32 * 7;
      QuantTensors a(bits, rows, cols, group, rng);
      Tensor w = *b->upload_quant(a.host());
      for (int n : {11, 1}) {
        std::vector<float> xs(size_t(n * cols));
        for (auto& v : xs) v = u(rng);
        Tensor x = *b->upload({DType::kF32, n, cols, xs.data()}, DType::kF32);
        Tensor y = *b->alloc(DType::kF32, n, rows);
        b->matmul(y, x, w, nullptr);
        std::vector<float> ys(size_t(n * rows));
        b->read(y, ys.data());
        for (int t = 0; t < n; ++t)
          for (int64_t r = 0; r < rows; ++r) {
            double want = 0, abs_w = 0;
            for (int64_t k = 0; k < cols; ++k) {
              want += double(a.weight(r, k)) * xs[size_t(t * cols + k)];
              abs_w += std::fabs(a.weight(r, k));
            }
            const double bound = (n == 1 ? abs_w / 254 : 0) + 1e-5 * abs_w + 1e-5;
            EXPECT_NEAR(ys[size_t(t * rows + r)], want, bound) << bits << "-bit group " << group << " n " << n;
          }
        b->free(x);
        b->free(y);
      }
      b->free(w);
    }
}

// What backends without these kernels get (the CUDA backend): the weights rounded once to f16.
TEST(Q8Kernels, DefaultUploadExpandsToF16) {
  std::mt19937 rng(25);
  auto b = make_cpu_backend({1});
  QuantTensors a(8, 5, 64, 16, rng);
  auto t = b->Backend::upload_quant(a.host());
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ(t->dtype, DType::kF16);
  std::vector<float> got(size_t(5 * 64));
  b->read(*t, got.data());
  for (int64_t r = 0; r < 5; ++r)
    for (int64_t k = 0; k < 64; ++k) EXPECT_EQ(got[size_t(r * 64 + k)], f16_to_f32(f32_to_f16(a.weight(r, k))));
  b->free(*t);
}

TEST(Q8Repack, BackendRefusesLayoutsItCannotRun) {
  std::mt19937 rng(26);
  auto b = make_cpu_backend({1});
  QuantTensors a(8, 4, 96, 32, rng);
  auto expect_refused = [&](HostQuantMatrix m, const std::string& why) {
    auto t = b->upload_quant(m);
    ASSERT_FALSE(t.is_ok()) << why;
    EXPECT_NE(t.status().message().find(why), std::string::npos) << t.status().message();
  };
  HostQuantMatrix m = a.host();
  m.group_size = 48;  // neither 16 nor a multiple of 32
  expect_refused(m, "group size 48");
  m = a.host();
  m.cols = 80, m.group_size = 16;  // not a whole number of 32-weight blocks
  expect_refused(m, "in_features 80");
  m = a.host();
  m.bits = 4, m.group_size = 16;
  expect_refused(m, "group size 16");
  m = a.host();
  m.mins = nullptr;
  expect_refused(m, "mins");
}

}  // namespace
}  // namespace jetchat
