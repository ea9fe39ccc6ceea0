// Matrix-vector product for 16- and 32-bit weights (the output head, and models loaded without quantisation):
// one warp per output row streams the row with 16-byte loads, four in flight per lane, and reduces with shuffles.
#include "cuda/ops.h"
#include "cuda/weight_load.h"

namespace jetchat::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kUnroll = 4;  // independent 16-byte loads per lane before the first use

__device__ __forceinline__ void widen(const uint4& v, const __half*, float* f) {
  const __half2* h = reinterpret_cast<const __half2*>(&v);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 t = __half22float2(h[i]);
    f[2 * i] = t.x, f[2 * i + 1] = t.y;
  }
}
__device__ __forceinline__ void widen(const uint4& v, const __nv_bfloat16*, float* f) {
  const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    f[2 * i] = __uint_as_float(w[i] << 16);
    f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
  }
}
__device__ __forceinline__ void widen(const uint4& v, const float*, float* f) {
  f[0] = __uint_as_float(v.x), f[1] = __uint_as_float(v.y), f[2] = __uint_as_float(v.z), f[3] = __uint_as_float(v.w);
}
template <typename T> __device__ __forceinline__ float to_float(T v);
template <> __device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> __device__ __forceinline__ float to_float(float v) { return v; }

template <typename T>
__global__ void __launch_bounds__(kWarpsPerBlock * 32) dense_gemv_kernel(const T* w, int n, int k, const float* x,
                                                                           Epilogue e) {
  constexpr int kPer = 16 / sizeof(T);  // elements per 16-byte load
  const int lane = threadIdx.x % 32;
  const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  if (row >= n) return;
  const T* wr = w + int64_t(row) * k;
  float sum = 0.0f;
  // The vector loop needs 16-byte aligned rows; other widths fall to the scalar tail loop.
  const int kv = (k % kPer == 0) ? k : 0;
  for (int base = lane * kPer; base < kv; base += 32 * kPer * kUnroll) {
    uint4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int at = base + u * 32 * kPer;
      v[u] = at < kv ? load_weights(reinterpret_cast<const uint4*>(wr + at)) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int at = base + u * 32 * kPer;
      if (at >= kv) break;
      float f[kPer];
      widen(v[u], static_cast<const T*>(nullptr), f);
#pragma unroll
      for (int i = 0; i < kPer; i += 4) {
        const float4 xv = __ldg(reinterpret_cast<const float4*>(x + at + i));
        sum += f[i] * xv.x + f[i + 1] * xv.y + f[i + 2] * xv.z + f[i + 3] * xv.w;
      }
    }
  }
  for (int j = kv + lane; j < k; j += 32) sum += to_float(wr[j]) * x[j];
#pragma unroll
  for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  if (lane == 0) {
    if (e.bias) sum += e.bias[row];
    if (e.accumulate) sum += e.y[row];
    e.y[row] = sum;
  }
}

}  // namespace

cudaError_t dense_gemv(WType t, const void* w, int n, int k, const float* x, const Epilogue& e,
                       cudaStream_t stream) {
  const unsigned blocks = unsigned((n + kWarpsPerBlock - 1) / kWarpsPerBlock);
  const unsigned threads = kWarpsPerBlock * 32;
  switch (t) {
    case WType::kF16:
      dense_gemv_kernel<<<blocks, threads, 0, stream>>>(static_cast<const __half*>(w), n, k, x, e);
      break;
    case WType::kBF16:
      dense_gemv_kernel<<<blocks, threads, 0, stream>>>(static_cast<const __nv_bfloat16*>(w), n, k, x, e);
      break;
    case WType::kF32:
      dense_gemv_kernel<<<blocks, threads, 0, stream>>>(static_cast<const float*>(w), n, k, x, e);
      break;
  }
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
