// Every CUDA op against the CPU backend (or, for the 4-bit product, against a double-precision dequantised
// reference) on random inputs and odd or edge sizes, with outputs poisoned (NaN) before each run so that an
// unwritten element fails. Limits are relative L2 errors ‖got − ref‖ / ‖ref‖, stated per op where they are used.
// Skips when no CUDA device is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "backend.h"
#include "half.h"
#include "support/error_norms.h"

namespace jetchat {
namespace {

// JETCHAT_TEST_SMALL=1 keeps only the small cases of the size lists (for compute-sanitizer, whose racecheck
// runs the large ones for far too long; they take the same code paths).
bool small_only() {
  const char* e = std::getenv("JETCHAT_TEST_SMALL");
  return e && *e == '1';
}

class CudaOps : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = make_cuda_backend({});
    if (!b) GTEST_SKIP() << "no CUDA device: " << b.status().message();
    gpu = std::move(b.value());
  }
  void TearDown() override {
    if (gpu) {
      EXPECT_TRUE(gpu->status().is_ok()) << gpu->status().message();
    }
  }

  std::unique_ptr<Backend> gpu;
  std::unique_ptr<Backend> cpu = make_cpu_backend({2});
  std::mt19937 rng{11};

  std::vector<float> random(size_t n, float lo = -1, float hi = 1) {
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
  }
  Tensor put(Backend& b, const std::vector<float>& v, int64_t rows, int64_t cols, DType storage = DType::kF32) {
    auto t = b.upload({DType::kF32, rows, cols, v.data()}, storage);
    EXPECT_TRUE(t.is_ok()) << t.status().message();
    return *t;
  }
  // A device f32 tensor full of NaN.
  Tensor poisoned(int64_t rows, int64_t cols) {
    return put(*gpu, std::vector<float>(size_t(rows * cols), NAN), rows, cols);
  }
  std::vector<float> get(Backend& b, const Tensor& t) {
    std::vector<float> v(size_t(t.rows * t.cols));
    b.read(t, v.data());
    return v;
  }
  // One layer's KV cache of type t (int8: with its scales).
  static KvLayer kv_layer(Backend& b, DType t, int capacity, const AttentionShape& s) {
    KvLayer l;
    l.k = *b.alloc(t, capacity, s.kv_heads * s.head_dim);
    l.v = *b.alloc(t, capacity, s.kv_heads * s.head_dim);
    if (t == DType::kI8) {
      l.k_scale = *b.alloc(DType::kF32, capacity, s.kv_heads);
      l.v_scale = *b.alloc(DType::kF32, capacity, s.kv_heads);
    }
    return l;
  }
  static void free_layer(Backend& b, KvLayer& l) {
    for (Tensor* t : {&l.k, &l.v, &l.k_scale, &l.v_scale}) b.free(*t);
  }
};

// Dense products. n = 1 is the warp-per-row GEMV (f32 activations: 1e-5 for every weight type); n > 1 is cuBLAS
// with the activations rounded to the weight type (f16: 2e-3, bf16: 1e-2; f32: 1e-5).
TEST_F(CudaOps, DenseMatmulMatchesCpuForEveryDtypeAndTokenCount) {
  const std::pair<int, int> shapes[] = {{37, 72}, {1, 8}, {1000, 4104}, {130, 13}};
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
    for (auto [out, in] : shapes)
      for (int n : {1, 3, 64}) {
        for (bool accumulate : {false, true}) {
          auto wv = random(size_t(out) * in), xv = random(size_t(n) * in), bv = random(out), yv = random(size_t(n) * out);
          Tensor wc = put(*cpu, wv, out, in, dt), xc = put(*cpu, xv, n, in), bc = put(*cpu, bv, 1, out);
          Tensor yc = put(*cpu, yv, n, out), sc = *cpu->alloc(DType::kF32, n, out);
          Tensor wg = put(*gpu, wv, out, in, dt), xg = put(*gpu, xv, n, in), bg = put(*gpu, bv, 1, out);
          Tensor yg = accumulate ? put(*gpu, yv, n, out) : poisoned(n, out), sg = poisoned(n, out);
          if (accumulate) {
            cpu->matmul_add(yc, xc, wc, &bc, sc);
            gpu->matmul_add(yg, xg, wg, &bg, sg);
          } else {
            cpu->matmul(yc, xc, wc, &bc);
            gpu->matmul(yg, xg, wg, &bg);
          }
          const double limit = n == 1 || dt == DType::kF32 ? 1e-5 : dt == DType::kF16 ? 2e-3 : 1e-2;
          EXPECT_LT(test::relative_l2_error(get(*gpu, yg), get(*cpu, yc)), limit)
              << dtype_name(dt) << " " << out << "x" << in << " n=" << n << " accumulate=" << accumulate;
          for (Tensor* t : {&wc, &xc, &bc, &yc, &sc}) cpu->free(*t);
          for (Tensor* t : {&wg, &xg, &bg, &yg, &sg}) gpu->free(*t);
        }
      }
}

struct Awq {
  int64_t rows, cols;
  int group;
  std::vector<int32_t> qweight, qzeros;
  std::vector<uint16_t> scales;  // fp16
  HostQ4Matrix view() const {
    return HostQ4Matrix{rows, cols, group, qweight.data(), qzeros.data(), scales.data(), DType::kF16};
  }
  // w[r][k] as the AWQ format defines it: nibble i of a word holds column 8c + ORDER[i], ORDER = 0,2,4,6,1,3,5,7.
  double weight(int64_t r, int64_t k) const {
    static const int kRev[8] = {0, 4, 1, 5, 2, 6, 3, 7};
    const int shift = 4 * kRev[r % 8];
    const int q = (uint32_t(qweight[size_t(k * (rows / 8) + r / 8)]) >> shift) & 15;
    const int z = (uint32_t(qzeros[size_t((k / group) * (rows / 8) + r / 8)]) >> shift) & 15;
    return double(q - z) * f16_to_f32(scales[size_t((k / group) * rows + r)]);
  }
};

Awq random_awq(std::mt19937& rng, int64_t rows, int64_t cols, int group) {
  Awq a{rows, cols, group, {}, {}, {}};
  a.qweight.resize(size_t(cols * rows / 8));
  a.qzeros.resize(size_t(cols / group * rows / 8));
  a.scales.resize(size_t(cols / group * rows));
  for (auto& w : a.qweight) w = int32_t(rng());
  for (auto& w : a.qzeros) w = int32_t(rng());
  std::uniform_real_distribution<float> u(0.5f, 1.5f);
  for (auto& s : a.scales) s = f32_to_f16(u(rng) / std::sqrt(float(cols)));
  return a;
}

// The input row a one-token W4 product multiplies: x quantised to int8 per 32 inputs, d = max|x| / 127 (ops.h).
std::vector<float> decode_input(std::vector<float> x) {
  for (size_t b = 0; b < x.size(); b += 32) {
    float amax = 0.0f;
    for (size_t i = b; i < b + 32; ++i) amax = std::max(amax, std::fabs(x[i]));
    for (size_t i = b; i < b + 32; ++i) x[i] = amax > 0.0f ? std::nearbyint(x[i] * (127.0f / amax)) * (amax / 127.0f) : 0.0f;
  }
  return x;
}

// W4A16: decode GEMV (exact integer dot products of 4-bit weights and int8 inputs per 32, f32 sums) and the
// prefill path (fp16 weights and activations on tensor cores, f32 sums: the W4 GEMM, or dequantise + cuBLAS before
// sm_80 or with JETCHAT_W4_PREFILL=dequant): both within 2e-3 of the double-precision product of the input each
// multiplies (decode: decode_input(x)). Shapes cover split-K, tiles not full, group sizes 32..128,
// group = in_features, and in_features not a multiple of 64 (chunks of 32 inputs).
TEST_F(CudaOps, W4MatmulMatchesDequantisedReference) {
  struct Shape {
    int64_t rows, cols;
    int group;
  } shapes[] = {{256, 128, 128}, {8, 128, 32}, {72, 384, 64}, {40, 96, 32},     {4096, 4096, 128},
                {6144, 2048, 128}, {1000, 512, 512}, {2048, 14336, 128}};
  for (const auto& s : shapes)
    for (int n : {1, 5}) {
      if (small_only() && s.rows * s.cols > (int64_t(1) << 20)) continue;
      const Awq a = random_awq(rng, s.rows, s.cols, s.group);
      auto w = gpu->upload_q4(a.view());
      ASSERT_TRUE(w.is_ok()) << w.status().message();
      auto xv = random(size_t(n * s.cols), -3, 3), bv = random(size_t(s.rows)), yv = random(size_t(n * s.rows));
      Tensor x = put(*gpu, xv, n, s.cols), bias = put(*gpu, bv, 1, s.rows);
      if (n == 1) xv = decode_input(xv);
      for (bool accumulate : {false, true}) {
        Tensor y = accumulate ? put(*gpu, yv, n, s.rows) : poisoned(n, s.rows);
        Tensor scratch = poisoned(n, s.rows);
        if (accumulate)
          gpu->matmul_add(y, x, *w, &bias, scratch);
        else
          gpu->matmul(y, x, *w, &bias);
        std::vector<float> ref(size_t(n * s.rows));
        for (int t = 0; t < n; ++t)
          for (int64_t r = 0; r < s.rows; ++r) {
            double sum = bv[size_t(r)] + (accumulate ? yv[size_t(t * s.rows + r)] : 0.0);
            for (int64_t k = 0; k < s.cols; ++k) sum += a.weight(r, k) * xv[size_t(t * s.cols + k)];
            ref[size_t(t * s.rows + r)] = float(sum);
          }
        EXPECT_LT(test::relative_l2_error(get(*gpu, y), ref), 2e-3)
            << s.rows << "x" << s.cols << " g" << s.group << " n=" << n << " accumulate=" << accumulate;
        gpu->free(y);
        gpu->free(scratch);
      }
      for (Tensor* t : {&*w, &x, &bias}) gpu->free(*t);
    }
}

// W4A16 prefill (the tensor-core W4 GEMM on sm_80+, dequantise + cuBLAS before): token counts around the 16-, 32-
// and 64-token tiles up to 513, outputs that are multiples of 8 but not of the 128-output tile, in_features that
// are not a multiple of the 64-K tile, group sizes 32..128 and group = in_features, and shapes long enough in K to
// be split across blocks. Against the double-precision product of the dequantised weights: activations and
// weights are rounded to fp16 and summed in f32, so the relative L2 error stays within 2e-3 and no element is off
// by more than 1e-2 of the output's RMS (one wrong element in the largest case moves the L2 error by only 3e-3).
TEST_F(CudaOps, W4PrefillMatchesDequantisedReference) {
  struct Shape {
    int64_t rows, cols;
    int group;
    std::vector<int> tokens;
  };
  const std::vector<int> many = {2, 7, 16, 17, 33, 64, 65, 513}, few = {3, 64, 129};
  const Shape shapes[] = {{8, 32, 32, many},       {72, 96, 32, many},      {200, 192, 64, many},
                          {136, 384, 128, many},   {1000, 512, 512, few},   {256, 2048, 128, many},
                          {4096, 1024, 128, few},  {2048, 4096, 64, {64}}};
  for (const auto& s : shapes) {
    if (small_only() && s.rows * s.cols > (int64_t(1) << 20)) continue;
    const Awq a = random_awq(rng, s.rows, s.cols, s.group);
    std::vector<double> wd(size_t(s.rows * s.cols));  // dequantised once: [rows][cols]
    for (int64_t r = 0; r < s.rows; ++r)
      for (int64_t k = 0; k < s.cols; ++k) wd[size_t(r * s.cols + k)] = a.weight(r, k);
    auto w = gpu->upload_q4(a.view());
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    for (int n : s.tokens) {
      if (small_only() && n > 65) continue;
      auto xv = random(size_t(n * s.cols), -3, 3), bv = random(size_t(s.rows)), yv = random(size_t(n * s.rows));
      std::vector<double> prod(size_t(n * s.rows));
      for (int t = 0; t < n; ++t)
        for (int64_t r = 0; r < s.rows; ++r) {
          double sum = 0;
          const double* wr = &wd[size_t(r * s.cols)];
          const float* xr = &xv[size_t(t * s.cols)];
          for (int64_t k = 0; k < s.cols; ++k) sum += wr[k] * xr[k];
          prod[size_t(t * s.rows + r)] = sum;
        }
      Tensor x = put(*gpu, xv, n, s.cols), bias = put(*gpu, bv, 1, s.rows);
      for (bool accumulate : {false, true}) {
        Tensor y = accumulate ? put(*gpu, yv, n, s.rows) : poisoned(n, s.rows);
        Tensor scratch = poisoned(n, s.rows);
        if (accumulate)
          gpu->matmul_add(y, x, *w, &bias, scratch);
        else
          gpu->matmul(y, x, *w, &bias);
        std::vector<float> ref(prod.size());
        double ss = 0;
        for (size_t i = 0; i < ref.size(); ++i) {
          ref[i] = float(prod[i] + bv[i % size_t(s.rows)] + (accumulate ? yv[i] : 0.0));
          ss += double(ref[i]) * ref[i];
        }
        const std::vector<float> got = get(*gpu, y);
        double worst = 0;
        for (size_t i = 0; i < ref.size(); ++i) {
          const double d = std::fabs(double(got[i]) - ref[i]);
          if (!(d <= worst)) worst = d;  // a NaN (unwritten element) sticks
        }
        const double rms = std::sqrt(ss / double(ref.size()));
        const std::string what = std::to_string(s.rows) + "x" + std::to_string(s.cols) + " g" +
                                 std::to_string(s.group) + " n=" + std::to_string(n) +
                                 " accumulate=" + std::to_string(accumulate);
        EXPECT_LT(test::relative_l2_error(got, ref), 2e-3) << what;
        EXPECT_LT(worst, 1e-2 * rms) << what;
        gpu->free(y);
        gpu->free(scratch);
      }
      gpu->free(x);
      gpu->free(bias);
    }
    gpu->free(*w);
  }
}

// The fused decode paths of the W4 GEMV against the CPU backend's RMSNorm / SiLU gate followed by the
// double-precision product of the dequantised weights and decode_input of the formed row (quantising per 32 is
// scale-invariant, so the kernel's int8 row of x * norm_w is that of the normed row): 2e-3 as for the plain GEMV. One token takes the fused kernels; 3 tokens take the composed fallback (norm,
// then the prefill GEMM). Shapes: split-K, outputs not a multiple of the 64-output tile, group = in_features.
TEST_F(CudaOps, FusedNormAndGateW4ProductsMatchCpu) {
  struct Shape {
    int64_t rows, cols;
    int group;
  } shapes[] = {{72, 384, 64}, {4096, 4096, 128}, {1000, 512, 512}, {2048, 14336, 128}, {8, 128, 32}};
  for (const auto& s : shapes)
    for (int n : {1, 3}) {
      if (small_only() && s.rows * s.cols > (int64_t(1) << 20)) continue;
      const Awq a = random_awq(rng, s.rows, s.cols, s.group);
      auto w = gpu->upload_q4(a.view());
      ASSERT_TRUE(w.is_ok()) << w.status().message();
      const int64_t k = s.cols;
      auto xv = random(size_t(n * k), -3, 3), nv = random(size_t(k), 0.5f, 1.5f), bv = random(size_t(s.rows));
      auto gv = random(size_t(n * 2 * k), -6, 6), yv = random(size_t(n * s.rows));
      // The inputs the products should see, from the CPU backend.
      Tensor xc = put(*cpu, xv, n, k), nc = put(*cpu, nv, 1, k), gc = put(*cpu, gv, n, 2 * k);
      Tensor xnc = *cpu->alloc(DType::kF32, n, k), fc = *cpu->alloc(DType::kF32, n, k);
      cpu->rmsnorm(xnc, xc, nc, 1e-5f);
      cpu->silu_mul(fc, gc);
      std::vector<float> normed = get(*cpu, xnc), gated = get(*cpu, fc);
      if (n == 1) normed = decode_input(normed), gated = decode_input(gated);
      auto product = [&](const std::vector<float>& in, const float* bias, const float* acc) {
        std::vector<float> ref(size_t(n * s.rows));
        for (int t = 0; t < n; ++t)
          for (int64_t r = 0; r < s.rows; ++r) {
            double sum = (bias ? bias[r] : 0.0) + (acc ? acc[t * s.rows + r] : 0.0);
            for (int64_t c = 0; c < k; ++c) sum += a.weight(r, c) * in[size_t(t * k + c)];
            ref[size_t(t * s.rows + r)] = float(sum);
          }
        return ref;
      };

      Tensor xg = put(*gpu, xv, n, k), ng = put(*gpu, nv, 1, k), bg = put(*gpu, bv, 1, s.rows);
      Tensor y = poisoned(n, s.rows), xn = poisoned(n, k);
      gpu->rmsnorm_matmul(y, xn, xg, ng, 1e-5f, *w, &bg);
      EXPECT_LT(test::relative_l2_error(get(*gpu, y), product(normed, bv.data(), nullptr)), 2e-3)
          << "rmsnorm_matmul " << s.rows << "x" << s.cols << " g" << s.group << " n=" << n;

      Tensor gg = put(*gpu, gv, n, 2 * k), yg = put(*gpu, yv, n, s.rows), ffn = poisoned(n, k),
             scratch = poisoned(n, s.rows);
      gpu->silu_mul_matmul_add(yg, gg, *w, ffn, scratch);
      EXPECT_LT(test::relative_l2_error(get(*gpu, yg), product(gated, nullptr, yv.data())), 2e-3)
          << "silu_mul_matmul_add " << s.rows << "x" << s.cols << " g" << s.group << " n=" << n;

      for (Tensor* t : {&xc, &nc, &gc, &xnc, &fc}) cpu->free(*t);
      for (Tensor* t : {&*w, &xg, &ng, &bg, &y, &xn, &gg, &yg, &ffn, &scratch}) gpu->free(*t);
    }
}

// Weights with an f32 scale and minimum per group (GGUF's Q4_1/Q4_K at 4 bits, Q5_K/Q6_K/Q8_0 at 8, upload_quant):
// the one-token products (plain, RMSNorm-formed and SiLU-gated inputs) against the double-precision product of
// q * s - m and decode_input of the row they multiply, and the prefill path (dequantised fp16 weights, cuBLAS)
// against the plain input; 2e-3 as for AWQ. Groups 16 (8-bit only), 32 and 64; tiles not full; split K.
TEST_F(CudaOps, ScaleMinQuantisedProductsMatchReference) {
  struct Shape {
    int bits;
    int64_t rows, cols;
    int group;
  } shapes[] = {{4, 72, 384, 32}, {4, 4096, 4096, 32}, {4, 1000, 512, 64}, {8, 72, 384, 16},
                {8, 2048, 5632, 16}, {8, 1000, 512, 32}, {8, 8, 128, 64}};
  for (const auto& s : shapes) {
    if (small_only() && s.rows * s.cols > (int64_t(1) << 20)) continue;
    const int64_t k = s.cols, groups = k / s.group;
    std::vector<int8_t> q(size_t(s.rows * k));
    std::uniform_int_distribution<int> qd(s.bits == 4 ? 0 : -128, s.bits == 4 ? 15 : 127);
    for (auto& v : q) v = int8_t(qd(rng));
    const float range = s.bits == 4 ? 8.0f : 128.0f;
    auto scales = random(size_t(s.rows * groups), 0.5f / range, 1.5f / range);
    auto mins = random(size_t(s.rows * groups), -0.5f, 0.5f);
    auto w = gpu->upload_quant({s.bits, s.rows, k, s.group, q.data(), scales.data(), mins.data()});
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    auto weight = [&](int64_t r, int64_t c) {
      const size_t g = size_t(r * groups + c / s.group);
      return double(q[size_t(r * k + c)]) * scales[g] - mins[g];
    };
    auto product = [&](int n, const std::vector<float>& in, const float* acc) {
      std::vector<float> ref(size_t(n * s.rows));
      for (int t = 0; t < n; ++t)
        for (int64_t r = 0; r < s.rows; ++r) {
          double sum = acc ? acc[t * s.rows + r] : 0.0;
          for (int64_t c = 0; c < k; ++c) sum += weight(r, c) * in[size_t(t * k + c)];
          ref[size_t(t * s.rows + r)] = float(sum);
        }
      return ref;
    };
    const std::string what = std::to_string(s.bits) + "-bit " + std::to_string(s.rows) + "x" + std::to_string(k) +
                             " g" + std::to_string(s.group);
    for (int n : {1, 5}) {
      auto xv = random(size_t(n * k), -3, 3);
      Tensor x = put(*gpu, xv, n, k), y = poisoned(n, s.rows);
      gpu->matmul(y, x, *w, nullptr);
      EXPECT_LT(test::relative_l2_error(get(*gpu, y), product(n, n == 1 ? decode_input(xv) : xv, nullptr)), 2e-3)
          << what << " n=" << n;
      gpu->free(x), gpu->free(y);
    }
    // The fused one-token inputs, formed on the CPU for the reference.
    auto xv = random(size_t(k), -3, 3), nv = random(size_t(k), 0.5f, 1.5f), gv = random(size_t(2 * k), -6, 6),
         yv = random(size_t(s.rows));
    Tensor xc = put(*cpu, xv, 1, k), nc = put(*cpu, nv, 1, k), gc = put(*cpu, gv, 1, 2 * k);
    Tensor xnc = *cpu->alloc(DType::kF32, 1, k), fc = *cpu->alloc(DType::kF32, 1, k);
    cpu->rmsnorm(xnc, xc, nc, 1e-5f);
    cpu->silu_mul(fc, gc);
    Tensor xg = put(*gpu, xv, 1, k), ng = put(*gpu, nv, 1, k), y = poisoned(1, s.rows), xn = poisoned(1, k);
    gpu->rmsnorm_matmul(y, xn, xg, ng, 1e-5f, *w, nullptr);
    EXPECT_LT(test::relative_l2_error(get(*gpu, y), product(1, decode_input(get(*cpu, xnc)), nullptr)), 2e-3)
        << "rmsnorm_matmul " << what;
    Tensor gg = put(*gpu, gv, 1, 2 * k), yg = put(*gpu, yv, 1, s.rows), ffn = poisoned(1, k),
           scratch = poisoned(1, s.rows);
    gpu->silu_mul_matmul_add(yg, gg, *w, ffn, scratch);
    EXPECT_LT(test::relative_l2_error(get(*gpu, yg), product(1, decode_input(get(*cpu, fc)), yv.data())), 2e-3)
        << "silu_mul_matmul_add " << what;
    for (Tensor* t : {&xc, &nc, &gc, &xnc, &fc}) cpu->free(*t);
    for (Tensor* t : {&*w, &xg, &ng, &y, &xn, &gg, &yg, &ffn, &scratch}) gpu->free(*t);
  }
  // Shapes the kernels do not take are refused at upload, with the numbers.
  std::vector<int8_t> q(8 * 48);
  std::vector<float> sm(8 * 3, 0.5f);
  auto bad = gpu->upload_quant({4, 8, 48, 16, q.data(), sm.data(), sm.data()});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("group 16"), std::string::npos) << bad.status().message();
}

// Elementwise ops and RMSNorm: f32 throughout, 1e-5 (RMSNorm's f32 sum of squares vs the CPU's double: 1e-5).
TEST_F(CudaOps, NormSiluAddEmbedMatchCpu) {
  for (auto [n, d] : {std::pair{1, 4096}, std::pair{7, 67}, std::pair{64, 2048}}) {
    auto xv = random(size_t(n) * d, -4, 4), wv = random(size_t(d), 0.5f, 1.5f), gv = random(size_t(n) * 2 * d, -6, 6);
    Tensor xc = put(*cpu, xv, n, d), wc = put(*cpu, wv, 1, d), gc = put(*cpu, gv, n, 2 * d),
           oc = *cpu->alloc(DType::kF32, n, d);
    Tensor xg = put(*gpu, xv, n, d), wg = put(*gpu, wv, 1, d), gg = put(*gpu, gv, n, 2 * d), og = poisoned(n, d);
    cpu->rmsnorm(oc, xc, wc, 1e-5f);
    gpu->rmsnorm(og, xg, wg, 1e-5f);
    EXPECT_LT(test::relative_l2_error(get(*gpu, og), get(*cpu, oc)), 1e-5) << "rmsnorm " << n << "x" << d;
    gpu->free(og);
    og = poisoned(n, d);
    cpu->silu_mul(oc, gc);
    gpu->silu_mul(og, gg);
    EXPECT_LT(test::relative_l2_error(get(*gpu, og), get(*cpu, oc)), 1e-5) << "silu_mul " << n << "x" << d;
    cpu->add(xc, oc);
    gpu->add(xg, og);
    EXPECT_LT(test::relative_l2_error(get(*gpu, xg), get(*cpu, xc)), 1e-6) << "add " << n << "x" << d;
    for (Tensor* t : {&xc, &wc, &gc, &oc}) cpu->free(*t);
    for (Tensor* t : {&xg, &wg, &gg, &og}) gpu->free(*t);
  }
  for (DType dt : {DType::kF16, DType::kBF16, DType::kF32}) {
    const int vocab = 301, d = 72;
    auto tv = random(size_t(vocab) * d);
    Tensor tc = put(*cpu, tv, vocab, d, dt), tg = put(*gpu, tv, vocab, d, dt);
    const std::vector<int32_t> ids = {0, 300, 17, 17, 150};
    Tensor oc = *cpu->alloc(DType::kF32, 5, d), og = poisoned(5, d);
    cpu->embed(oc, tc, ids.data(), 5);
    gpu->embed(og, tg, ids.data(), 5);
    EXPECT_EQ(get(*gpu, og), get(*cpu, oc)) << dtype_name(dt);
    cpu->free(tc), cpu->free(oc), gpu->free(tg), gpu->free(og);
  }
}

// RoPE: angles reduced in double on both sides, sin/cos in f32 on the GPU: 1e-5, also at position 30000.
TEST_F(CudaOps, RopeMatchesCpu) {
  const AttentionShape s{8, 2, 128};
  std::vector<float> inv(64);
  for (int j = 0; j < 64; ++j) inv[size_t(j)] = float(std::pow(1e6, -2.0 * j / 128));
  for (int pos0 : {0, 1, 30000})
    for (int n : {1, 9}) {
      const int cols = (s.heads + 2 * s.kv_heads) * s.head_dim;
      auto v = random(size_t(n) * cols, -2, 2);
      Tensor c = put(*cpu, v, n, cols), g = put(*gpu, v, n, cols);
      cpu->rope(c, s, pos0, inv);
      gpu->rope(g, s, pos0, inv);
      EXPECT_LT(test::relative_l2_error(get(*gpu, g), get(*cpu, c)), 1e-5) << "pos0=" << pos0 << " n=" << n;
      cpu->free(c), gpu->free(g);
    }
}

// Attention over a history written by an earlier call (prefill), then the call under test. The GPU's cache is
// fp16: 3e-3. Covers one and many sequence splits, GQA groups 1..6 and head sizes 16..128.
TEST_F(CudaOps, AttentionMatchesCpuForDecodeAndPrefill) {
  struct Case {
    AttentionShape s;
    int history, n, capacity;
  } cases[] = {{{8, 2, 128}, 0, 1, 64},    {{8, 2, 128}, 100, 1, 4096}, {{8, 2, 128}, 1000, 1, 1100},
               {{4, 4, 64}, 0, 64, 128},   {{4, 4, 64}, 300, 17, 400},  {{12, 2, 16}, 77, 1, 200},
               {{32, 8, 128}, 2000, 33, 2100}};
  for (const auto& c : cases) {
    if (small_only() && c.history > 256) continue;
    const int cols = (c.s.heads + 2 * c.s.kv_heads) * c.s.head_dim;
    KvLayer kc = kv_layer(*cpu, DType::kF32, c.capacity, c.s), kg = kv_layer(*gpu, DType::kF16, c.capacity, c.s);
    auto run = [&](int pos0, int n) {
      auto q = random(size_t(n) * cols, -2, 2);
      Tensor qc = put(*cpu, q, n, cols), qg = put(*gpu, q, n, cols);
      Tensor oc = *cpu->alloc(DType::kF32, n, c.s.heads * c.s.head_dim), og = poisoned(n, c.s.heads * c.s.head_dim);
      cpu->attention(oc, qc, kc, c.s, pos0);
      gpu->attention(og, qg, kg, c.s, pos0);
      const double err = test::relative_l2_error(get(*gpu, og), get(*cpu, oc));
      cpu->free(qc), cpu->free(oc), gpu->free(qg), gpu->free(og);
      return err;
    };
    for (int done = 0; done < c.history; done += 64) run(done, std::min(64, c.history - done));
    EXPECT_LT(run(c.history, c.n), 3e-3) << "heads " << c.s.heads << "/" << c.s.kv_heads << " D=" << c.s.head_dim
                                         << " history " << c.history << " n=" << c.n;
    free_layer(*cpu, kc), free_layer(*gpu, kg);
  }
}

// RoPE fused into decode attention (the query and the new key rotated inside the kernel, the new key and value
// appended by the split that holds them, the splits combined by the last to finish) against the CPU's rope
// followed by attention, over consecutive steps that cross a 64-key split boundary, and at 2200 keys over 8 KV
// heads, where the splits grow beyond 64 keys; prompts go through the unfused prefill path. Full and partial
// rotary dimensions, GQA groups 1..6. fp16 cache: 3e-3.
TEST_F(CudaOps, RopeAttentionDecodeMatchesCpu) {
  struct Case {
    AttentionShape s;
    int rot;  // rotated dimensions of a head
    int history, capacity;
  } cases[] = {{{8, 2, 128}, 128, 0, 64},     {{8, 2, 128}, 128, 61, 4096}, {{12, 2, 16}, 8, 126, 200},
               {{4, 4, 64}, 32, 190, 300},    {{32, 8, 128}, 128, 2200, 2300}};
  for (const auto& c : cases) {
    if (small_only() && c.history > 256) continue;
    const int cols = (c.s.heads + 2 * c.s.kv_heads) * c.s.head_dim;
    std::vector<float> inv(size_t(c.rot / 2));
    for (int j = 0; j < c.rot / 2; ++j) inv[size_t(j)] = float(std::pow(1e4, -2.0 * j / c.rot));
    KvLayer kc = kv_layer(*cpu, DType::kF32, c.capacity, c.s), kg = kv_layer(*gpu, DType::kF16, c.capacity, c.s);
    auto run = [&](int pos0, int n) {
      auto q = random(size_t(n) * cols, -2, 2);
      Tensor qc = put(*cpu, q, n, cols), qg = put(*gpu, q, n, cols);
      Tensor oc = *cpu->alloc(DType::kF32, n, c.s.heads * c.s.head_dim), og = poisoned(n, c.s.heads * c.s.head_dim);
      cpu->rope_attention(oc, qc, kc, c.s, pos0, inv);
      gpu->rope_attention(og, qg, kg, c.s, pos0, inv);
      const double err = test::relative_l2_error(get(*gpu, og), get(*cpu, oc));
      cpu->free(qc), cpu->free(oc), gpu->free(qg), gpu->free(og);
      return err;
    };
    for (int done = 0; done < c.history; done += 64) run(done, std::min(64, c.history - done));
    for (int step = 0; step < 4; ++step)
      EXPECT_LT(run(c.history + step, 1), 3e-3) << "heads " << c.s.heads << "/" << c.s.kv_heads << " D="
                                                << c.s.head_dim << " rot " << c.rot << " position "
                                                << c.history + step;
    free_layer(*cpu, kc), free_layer(*gpu, kg);
  }
}

// The int8 cache (kv_quant.h: the same quantisation on both backends), so the GPU is compared with the CPU over
// an int8 cache of its own: prompts in chunks of at most 64 through the prefill path (append kernel, splits,
// combine), then decode steps with RoPE fused (the new key and value quantised inside the kernel and scored from
// the block's own copy) that cross tile and split boundaries; GQA groups 1..8, head sizes 16..256 (256 with a
// group of 8 needs more than 48 KB of shared memory). Limit 1e-3: the same quantised values, summed in another
// order; a rotated key's element may round to the neighbouring step where the GPU's sin/cos differ from the CPU's
// in the last bit.
TEST_F(CudaOps, Int8CacheAttentionMatchesCpuWithTheSameQuantisation) {
  struct Case {
    AttentionShape s;
    int rot;  // rotated dimensions of a head
    int history, capacity;
  } cases[] = {{{8, 2, 128}, 128, 0, 64},    {{8, 2, 128}, 128, 125, 4096}, {{12, 2, 16}, 8, 77, 200},
               {{4, 4, 64}, 64, 253, 300},   {{16, 2, 256}, 256, 70, 100},  {{32, 8, 128}, 128, 2200, 2300}};
  for (const auto& c : cases) {
    if (small_only() && c.history > 256) continue;
    const int cols = (c.s.heads + 2 * c.s.kv_heads) * c.s.head_dim, q_dim = c.s.heads * c.s.head_dim;
    std::vector<float> inv(size_t(c.rot / 2));
    for (int j = 0; j < c.rot / 2; ++j) inv[size_t(j)] = float(std::pow(1e4, -2.0 * j / c.rot));
    KvLayer kc = kv_layer(*cpu, DType::kI8, c.capacity, c.s), kg = kv_layer(*gpu, DType::kI8, c.capacity, c.s);
    auto run = [&](int pos0, int n) {
      auto q = random(size_t(n) * cols, -2, 2);
      Tensor qc = put(*cpu, q, n, cols), qg = put(*gpu, q, n, cols);
      Tensor oc = *cpu->alloc(DType::kF32, n, q_dim), og = poisoned(n, q_dim);
      if (n == 1) {
        cpu->rope_attention(oc, qc, kc, c.s, pos0, inv);
        gpu->rope_attention(og, qg, kg, c.s, pos0, inv);
      } else {
        cpu->attention(oc, qc, kc, c.s, pos0);
        gpu->attention(og, qg, kg, c.s, pos0);
      }
      const double err = test::relative_l2_error(get(*gpu, og), get(*cpu, oc));
      cpu->free(qc), cpu->free(oc), gpu->free(qg), gpu->free(og);
      return err;
    };
    for (int done = 0; done < c.history; done += 64) {
      const int n = std::min(64, c.history - done);
      EXPECT_LT(run(done, n), 1e-3) << "prefill: heads " << c.s.heads << "/" << c.s.kv_heads << " D=" << c.s.head_dim
                                    << " positions " << done << ".." << done + n - 1;
    }
    for (int step = 0; step < 5; ++step)
      EXPECT_LT(run(c.history + step, 1), 1e-3) << "decode: heads " << c.s.heads << "/" << c.s.kv_heads << " D="
                                                << c.s.head_dim << " position " << c.history + step;
    free_layer(*cpu, kc), free_layer(*gpu, kg);
  }
}

// Device sampling: greedy is the host's argmax (ties to the lowest id); top-k keeps draws inside the k best;
// a tiny top-p or min-p of 1 leaves only the best; the repetition penalty moves greedy off a penalised best.
TEST_F(CudaOps, SamplingOnTheDevice) {
  for (int vocab : {7, 1000, 92544}) {
    auto lv = random(size_t(vocab), -5, 5);
    const int best = int(std::max_element(lv.begin(), lv.end()) - lv.begin());
    std::vector<int> order(static_cast<size_t>(vocab));
    for (int i = 0; i < vocab; ++i) order[size_t(i)] = i;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return lv[size_t(a)] > lv[size_t(b)]; });
    auto draw = [&](const SamplingParams& p, const std::vector<int32_t>& pen, uint64_t seed) {
      Tensor l = put(*gpu, lv, 1, vocab);
      auto id = gpu->sample(l, p, pen, seed);
      gpu->free(l);
      EXPECT_TRUE(id.is_ok()) << id.status().message();
      return id.is_ok() ? *id : -1;
    };
    EXPECT_EQ(draw(SamplingParams::greedy(), {}, 1), best) << vocab;
    SamplingParams p;
    p.repetition_penalty = 1.0f;
    p.top_k = 5, p.top_p = 1.0f, p.min_p = 0.0f, p.temperature = 1.5f;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const int id = draw(p, {}, seed);
      EXPECT_TRUE(std::find(order.begin(), order.begin() + std::min(5, vocab), id) != order.begin() + std::min(5, vocab))
          << "top-k draw " << id << " vocab " << vocab;
    }
    p.top_k = 0, p.top_p = 1e-6f;
    EXPECT_EQ(draw(p, {}, 3), best);
    p.top_p = 1.0f, p.min_p = 1.0f;
    EXPECT_EQ(draw(p, {}, 4), best);
    SamplingParams g = SamplingParams::greedy();
    g.repetition_penalty = 1000.0f;
    if (lv[size_t(best)] > 0 && lv[size_t(order[1])] > 0) {
      EXPECT_EQ(draw(g, {best}, 5), order[1]);
    }
  }
}

}  // namespace
}  // namespace jetchat
