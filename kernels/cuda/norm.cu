// RMSNorm over rows: one block per row, f32 sum of squares reduced through warp shuffles and shared memory.
#include "cuda/ops.h"

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) rmsnorm_kernel(const float* x, const float* w, int d, float eps,
                                                           float* out) {
  __shared__ float warp_sums[kThreads / 32];
  const float* xr = x + int64_t(blockIdx.x) * d;
  float* orow = out + int64_t(blockIdx.x) * d;
  float ss = 0.0f;
  for (int j = threadIdx.x; j < d; j += kThreads) ss += xr[j] * xr[j];
#pragma unroll
  for (int o = 16; o > 0; o /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, o);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = ss;
  __syncthreads();
  float total = 0.0f;
#pragma unroll
  for (int i = 0; i < kThreads / 32; ++i) total += warp_sums[i];
  const float inv = rsqrtf(total / float(d) + eps);
  for (int j = threadIdx.x; j < d; j += kThreads) orow[j] = xr[j] * inv * w[j];
}

}  // namespace

cudaError_t rmsnorm(const float* x, const float* w, int n, int d, float eps, float* out, cudaStream_t stream) {
  rmsnorm_kernel<<<unsigned(n), kThreads, 0, stream>>>(x, w, d, eps, out);
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
