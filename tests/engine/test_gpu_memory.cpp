// read_gpu_memory() (the app's GPU memory gauge) against what the GPU really does: on a machine with a discrete
// NVIDIA GPU, a 1 GiB allocation through the CUDA backend shows up as ~1 GiB more used memory. Skips where
// there is no NVIDIA driver (CI) or no usable GPU.
#include <gtest/gtest.h>

#include "backend.h"
#include "jetchat/engine.h"

namespace jetchat {
namespace {

TEST(GpuMemory, FollowsAnAllocationOnTheDevice) {
  auto backend = make_cuda_backend({});
  if (!backend) GTEST_SKIP() << "no usable GPU: " << backend.status().message();
  auto before = read_gpu_memory(0);
  if (!before) GTEST_SKIP() << before.status().message();
  EXPECT_GT(before->total, int64_t(1) << 30);
  EXPECT_GT(before->used, 0);
  EXPECT_LE(before->used, before->total);

  constexpr int64_t kBytes = int64_t(1) << 30;
  auto t = (*backend)->alloc(DType::kF16, kBytes / 2 / 4096, 4096);
  ASSERT_TRUE(t) << t.status().message();
  auto during = read_gpu_memory(0);
  ASSERT_TRUE(during);
  EXPECT_EQ(during->total, before->total);
  // The driver rounds allocations up to its page size and may reserve a little more.
  EXPECT_GE(during->used - before->used, kBytes * 95 / 100);
  EXPECT_LE(during->used - before->used, kBytes * 110 / 100);
  (*backend)->free(*t);
  auto after = read_gpu_memory(0);
  ASSERT_TRUE(after);
  EXPECT_LE(after->used - before->used, kBytes * 5 / 100);
}

}  // namespace
}  // namespace jetchat
