// RMSNorm over rows: one block per row, f32 sum of squares reduced through warp shuffles and shared memory.
#include "cuda/ops.h"

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float squares(float v) { return v * v; }
__device__ __forceinline__ float squares(float4 v) { return v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w; }
__device__ __forceinline__ float scaled(float v, float inv, float g) { return v * inv * g; }
__device__ __forceinline__ float4 scaled(float4 v, float inv, float4 g) {
  return make_float4(v.x * inv * g.x, v.y * inv * g.y, v.z * inv * g.z, v.w * inv * g.w);
}

// V = float4 where rows allow it: a single-row call (the decode's final norm) is one block, so each thread keeps
// several independent 16-byte loads in flight instead of one scalar load at a time.
template <typename V>
__global__ void __launch_bounds__(kThreads) rmsnorm_kernel(const float* x, const float* w, int d, float eps,
                                                           float* out) {
  __shared__ float warp_sums[kThreads / 32];
  constexpr int kWidth = sizeof(V) / sizeof(float);
  const V* xr = reinterpret_cast<const V*>(x + int64_t(blockIdx.x) * d);
  const V* wv = reinterpret_cast<const V*>(w);
  V* orow = reinterpret_cast<V*>(out + int64_t(blockIdx.x) * d);
  const int dv = d / kWidth;
  float ss = 0.0f;
#pragma unroll 4
  for (int j = threadIdx.x; j < dv; j += kThreads) ss += squares(xr[j]);
#pragma unroll
  for (int o = 16; o > 0; o /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, o);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = ss;
  __syncthreads();
  float total = 0.0f;
#pragma unroll
  for (int i = 0; i < kThreads / 32; ++i) total += warp_sums[i];
  const float inv = rsqrtf(total / float(d) + eps);
#pragma unroll 4
  for (int j = threadIdx.x; j < dv; j += kThreads) orow[j] = scaled(xr[j], inv, wv[j]);
}

}  // namespace

cudaError_t rmsnorm(const float* x, const float* w, int n, int d, float eps, float* out, cudaStream_t stream) {
  const bool aligned = d % 4 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
                       reinterpret_cast<uintptr_t>(w) % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
  if (aligned)
    rmsnorm_kernel<float4><<<unsigned(n), kThreads, 0, stream>>>(x, w, d, eps, out);
  else
    rmsnorm_kernel<float><<<unsigned(n), kThreads, 0, stream>>>(x, w, d, eps, out);
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
