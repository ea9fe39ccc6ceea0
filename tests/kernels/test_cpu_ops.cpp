// The CPU backend's ops against plain double-precision loops, on random inputs and odd sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <utility>

#include "backend.h"
#include "half.h"

namespace jetchat {
namespace {

class CpuOps : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> b = make_cpu_backend({3});
  std::mt19937 rng{5};
  std::vector<Tensor> owned;  // freed after each test so the sanitizer build sees no leaks
  void TearDown() override {
    for (auto& t : owned) b->free(t);
    EXPECT_EQ(b->bytes_in_use(), 0);
  }
  Tensor alloc(int64_t rows, int64_t cols) {
    auto t = b->alloc(DType::kF32, rows, cols);
    EXPECT_TRUE(t.is_ok());
    owned.push_back(*t);
    return *t;
  }
  std::vector<float> random(size_t n, float lo = -1, float hi = 1) {
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
  }
  Tensor put(const std::vector<float>& v, int64_t rows, int64_t cols, DType storage = DType::kF32) {
    auto t = b->upload({DType::kF32, rows, cols, v.data()}, storage);
    EXPECT_TRUE(t.is_ok());
    owned.push_back(*t);
    return *t;
  }
  std::vector<float> get(const Tensor& t) {
    std::vector<float> v(size_t(t.rows * t.cols));
    b->read(t, v.data());
    return v;
  }
};

TEST_F(CpuOps, MatmulWithBiasForEveryDtypeAndTokenCount) {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
    for (int n : {1, 3, 8, 9, 13}) {
      const int out = 37, in = 71;
      auto wv = random(size_t(out) * in), xv = random(size_t(n) * in), bv = random(out);
      Tensor w = put(wv, out, in, dt), x = put(xv, n, in), bias = put(bv, 1, out);
      Tensor y = alloc(n, out);
      b->matmul(y, x, w, &bias);
      // The reference uses the weights as stored (rounded to dt).
      auto ws = get(w);
      auto got = get(y);
      for (int t = 0; t < n; ++t)
        for (int r = 0; r < out; ++r) {
          double s = bv[r];
          for (int k = 0; k < in; ++k) s += double(ws[size_t(r) * in + k]) * xv[size_t(t) * in + k];
          ASSERT_NEAR(got[size_t(t) * out + r], s, 1e-5 * in) << dtype_name(dt) << " n=" << n;
        }
    }
}

TEST_F(CpuOps, RmsnormAndSiluMul) {
  const int n = 5, d = 67;
  auto xv = random(size_t(n) * d), wv = random(d, 0.5f, 1.5f);
  Tensor x = put(xv, n, d), w = put(wv, 1, d), o = alloc(n, d);
  b->rmsnorm(o, x, w, 1e-5f);
  auto got = get(o);
  for (int t = 0; t < n; ++t) {
    double ss = 0;
    for (int j = 0; j < d; ++j) ss += double(xv[t * d + j]) * xv[t * d + j];
    const double inv = 1 / std::sqrt(ss / d + 1e-5);
    for (int j = 0; j < d; ++j) ASSERT_NEAR(got[t * d + j], xv[t * d + j] * inv * wv[j], 1e-5);
  }
  auto gv = random(size_t(n) * 2 * d, -4, 4);
  Tensor g = put(gv, n, 2 * d);
  b->silu_mul(o, g);
  got = get(o);
  for (int t = 0; t < n; ++t)
    for (int j = 0; j < d; ++j) {
      const double a = gv[t * 2 * d + j], u = gv[t * 2 * d + d + j];
      ASSERT_NEAR(got[t * d + j], a / (1 + std::exp(-a)) * u, 1e-5);
    }
}

TEST_F(CpuOps, RopeRotatesPairsHalfApart) {
  const AttentionShape s{3, 1, 8};
  const int n = 4, pos0 = 1000, cols = (3 + 2) * 8;
  auto v = random(size_t(n) * cols);
  Tensor t = put(v, n, cols);
  std::vector<float> inv = {1.0f, 0.1f, 0.01f, 0.001f};
  b->rope(t, s, pos0, inv);
  auto got = get(t);
  for (int r = 0; r < n; ++r)
    for (int h = 0; h < 5; ++h)
      for (int j = 0; j < 8; ++j) {
        const float* src = &v[size_t(r) * cols + h * 8];
        double want = src[j];
        if (h < 4) {  // q heads and the k head rotate; v does not
          const int jj = j % 4;
          const double a = double(pos0 + r) * inv[jj], c = std::cos(a), sn = std::sin(a);
          want = j < 4 ? src[jj] * c - src[jj + 4] * sn : src[jj + 4] * c + src[jj] * sn;
        }
        ASSERT_NEAR(got[size_t(r) * cols + h * 8 + j], want, 2e-5) << r << " " << h << " " << j;
      }
}

TEST_F(CpuOps, CausalAttentionWithGqaOverTheCache) {
  const AttentionShape s{4, 2, 16};
  const int ctx = 40, pos0 = 23, n = 5, qkv_cols = (4 + 2 * 2) * 16, kv_dim = 32;
  // Earlier tokens already in the cache; the new ones arrive in qkv.
  auto kc0 = random(size_t(ctx) * kv_dim), vc0 = random(size_t(ctx) * kv_dim);
  Tensor kc = put(kc0, ctx, kv_dim), vc = put(vc0, ctx, kv_dim);
  auto qv = random(size_t(n) * qkv_cols, -2, 2);
  Tensor qkv = put(qv, n, qkv_cols), out = alloc(n, 64);
  KvLayer kv{kc, vc, {}, {}};
  b->attention(out, qkv, kv, s, pos0);
  auto got = get(out);
  auto K = [&](int p, int i) { return p < pos0 ? kc0[size_t(p) * kv_dim + i] : qv[size_t(p - pos0) * qkv_cols + 64 + i]; };
  auto V = [&](int p, int i) { return p < pos0 ? vc0[size_t(p) * kv_dim + i] : qv[size_t(p - pos0) * qkv_cols + 96 + i]; };
  for (int t = 0; t < n; ++t)
    for (int h = 0; h < 4; ++h) {
      const int kvh = h / 2, len = pos0 + t + 1;
      std::vector<double> w(len);
      double mx = -1e300, z = 0;
      for (int p = 0; p < len; ++p) {
        double d = 0;
        for (int i = 0; i < 16; ++i) d += double(qv[size_t(t) * qkv_cols + h * 16 + i]) * K(p, kvh * 16 + i);
        mx = std::max(mx, w[p] = d / 4.0);
      }
      for (auto& e : w) z += (e = std::exp(e - mx));
      for (int i = 0; i < 16; ++i) {
        double o = 0;
        for (int p = 0; p < len; ++p) o += w[p] / z * V(p, kvh * 16 + i);
        ASSERT_NEAR(got[size_t(t) * 64 + h * 16 + i], o, 1e-5) << t << " " << h << " " << i;
      }
    }
}

// An f16 or int8 cache holds each appended key and value as the type allows: f16 rounded (within 2^-11
// relative), int8 per token and KV head with scale = max|x| / 127, |q| <= 127 reached by the largest element, and
// |q * scale - x| <= scale / 2. Attention then reads exactly those values: 1e-5 against double loops over them.
// Two calls (a prompt of 9, then 3 tokens) with GQA 6:2.
TEST_F(CpuOps, AttentionOverF16AndInt8Caches) {
  const AttentionShape s{6, 2, 16};
  const int ctx = 16, qkv_cols = (6 + 2 * 2) * 16, kv_dim = 32, q_dim = 96;
  for (DType dt : {DType::kF16, DType::kI8}) {
    SCOPED_TRACE(dtype_name(dt));
    KvLayer kv;
    for (Tensor* t : {&kv.k, &kv.v}) owned.push_back(*t = *b->alloc(dt, ctx, kv_dim));
    if (dt == DType::kI8)
      for (Tensor* t : {&kv.k_scale, &kv.v_scale}) *t = alloc(ctx, s.kv_heads);
    std::vector<float> all_rows;  // every token's qkv row, in position order
    for (auto [pos0, n] : {std::pair{0, 9}, std::pair{9, 3}}) {
      auto qv = random(size_t(n) * qkv_cols, -3, 3);
      all_rows.insert(all_rows.end(), qv.begin(), qv.end());
      Tensor qkv = put(qv, n, qkv_cols), out = alloc(n, q_dim);
      b->attention(out, qkv, kv, s, pos0);
      auto got = get(out);
      // What the cache holds, checked against the appended values.
      auto stored = [&](const KvLayer& l, bool is_v, int p, int i) -> double {
        const Tensor& t = is_v ? l.v : l.k;
        if (dt == DType::kF16) return f16_to_f32(static_cast<const uint16_t*>(t.data)[p * kv_dim + i]);
        const float scale = static_cast<const float*>((is_v ? l.v_scale : l.k_scale).data)[p * s.kv_heads + i / 16];
        return double(static_cast<const int8_t*>(t.data)[p * kv_dim + i]) * scale;
      };
      for (int p = pos0; p < pos0 + n; ++p)
        for (bool is_v : {false, true})
          for (int h = 0; h < s.kv_heads; ++h) {
            const float* x = &all_rows[size_t(p) * qkv_cols + q_dim + (is_v ? kv_dim : 0) + h * 16];
            double amax = 0;
            for (int d = 0; d < 16; ++d) amax = std::max(amax, double(std::fabs(x[d])));
            if (dt == DType::kF16) {
              for (int d = 0; d < 16; ++d)
                ASSERT_NEAR(stored(kv, is_v, p, h * 16 + d), x[d], std::fabs(x[d]) * 0x1p-11) << p << " " << d;
              continue;
            }
            const float scale = static_cast<const float*>((is_v ? kv.v_scale : kv.k_scale).data)[p * s.kv_heads + h];
            ASSERT_NEAR(scale, amax / 127, amax * 1e-7);
            int qmax = 0;
            for (int d = 0; d < 16; ++d) {
              const int q = static_cast<const int8_t*>((is_v ? kv.v : kv.k).data)[p * kv_dim + h * 16 + d];
              qmax = std::max(qmax, std::abs(q));
              ASSERT_LE(std::fabs(q * double(scale) - x[d]), scale * 0.5 * (1 + 1e-5)) << p << " " << d;
            }
            ASSERT_EQ(qmax, 127) << p << " " << h;
          }
      for (int t = 0; t < n; ++t)
        for (int h = 0; h < 6; ++h) {
          const int kvh = h / 3, len = pos0 + t + 1;
          std::vector<double> w(len);
          double mx = -1e300, z = 0;
          for (int p = 0; p < len; ++p) {
            double d = 0;
            for (int i = 0; i < 16; ++i)
              d += double(qv[size_t(t) * qkv_cols + h * 16 + i]) * stored(kv, false, p, kvh * 16 + i);
            mx = std::max(mx, w[p] = d / 4.0);
          }
          for (auto& e : w) z += (e = std::exp(e - mx));
          for (int i = 0; i < 16; ++i) {
            double o = 0;
            for (int p = 0; p < len; ++p) o += w[p] / z * stored(kv, true, p, kvh * 16 + i);
            ASSERT_NEAR(got[size_t(t) * q_dim + h * 16 + i], o, 1e-5) << t << " " << h << " " << i;
          }
        }
    }
  }
}

}  // namespace
}  // namespace jetchat
