// Every SIMD implementation of the CPU's inner loops against the scalar one, on random data of awkward sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/thread_pool.h"
#include "cpu/vec.h"
#include "half.h"

namespace jetchat::cpu {
namespace {

TEST(VecKernels, EverySimdPathMatchesScalar) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const auto& ref = vec_kernels_scalar();
  const auto impls = vec_kernels_available();
  ASSERT_FALSE(impls.empty());
  for (int64_t n : {1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 257, 1000}) {
    std::vector<float> x(size_t(kMaxTile) * (n + 3));
    for (auto& v : x) v = u(rng);
    std::vector<float> wf(n);
    std::vector<uint16_t> wh(n), wb(n);
    for (int64_t k = 0; k < n; ++k) {
      wf[k] = u(rng);
      wh[k] = f32_to_f16(wf[k]);
      wb[k] = f32_to_bf16(wf[k]);
    }
    for (const VecKernels* impl : impls)
      for (int nt = 1; nt <= kMaxTile; ++nt) {
        struct {
          DotTileFn a, b;
          const void* w;
        } fns[] = {{impl->dot_f32, ref.dot_f32, wf.data()},
                   {impl->dot_f16, ref.dot_f16, wh.data()},
                   {impl->dot_bf16, ref.dot_bf16, wb.data()}};
        for (auto& f : fns) {
          float got[kMaxTile], want[kMaxTile];
          std::fill(got, got + kMaxTile, NAN);  // poisoned: an unwritten output fails
          f.a(f.w, x.data(), n + 3, nt, n, got);
          f.b(f.w, x.data(), n + 3, nt, n, want);
          for (int t = 0; t < nt; ++t)
            // Same products, different summation order: within a few ulps of the sum of |terms| (<= n).
            EXPECT_NEAR(got[t], want[t], 1e-6 * double(n) + 1e-6) << impl->isa << " n=" << n << " nt=" << nt;
        }
      }
  }
}

TEST(Half, ConversionsRoundTripAndRoundToNearestEven) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);                 // overflow -> inf
  EXPECT_EQ(f32_to_f16(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 2048), 0x3c00);    // tie -> even
  EXPECT_EQ(f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);
  for (uint32_t h = 0; h < 0x7c00; ++h) ASSERT_EQ(f32_to_f16(f16_to_f32(uint16_t(h))), h);
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0xc040), -3.0f);
}

TEST(ThreadPool, CoversTheRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {1, 2, 3, 5, 100, 1001}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
    }, 4);
    for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "n=" << n;
  }
}

}  // namespace
}  // namespace jetchat::cpu
