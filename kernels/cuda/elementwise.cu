// Small memory-bound kernels: embedding lookup, SiLU gate, residual add, bias, dtype conversions, and the
// non-zero fill of the bandwidth test's buffers. Grid-stride loops; one thread per element or per 4.
#include <algorithm>

#include "cuda/ops.h"

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t count) {
  // Enough blocks to cover the elements, capped: the loops are grid-stride.
  return unsigned(std::min<int64_t>((count + kThreads - 1) / kThreads, int64_t(1) << 16));
}

template <typename T> __device__ __forceinline__ float load_f(const T* p, int64_t i);
template <> __device__ __forceinline__ float load_f(const __half* p, int64_t i) { return __half2float(p[i]); }
template <> __device__ __forceinline__ float load_f(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
template <> __device__ __forceinline__ float load_f(const float* p, int64_t i) { return p[i]; }
template <typename T> __device__ __forceinline__ void store_f(T* p, int64_t i, float v);
template <> __device__ __forceinline__ void store_f(__half* p, int64_t i, float v) { p[i] = __float2half_rn(v); }
template <> __device__ __forceinline__ void store_f(__nv_bfloat16* p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ void store_f(float* p, int64_t i, float v) { p[i] = v; }

template <typename T>
__global__ void embed_kernel(const T* table, int cols, const int32_t* ids, int n, float* out) {
  const int t = blockIdx.y;
  const int64_t row = int64_t(ids[t]) * cols;
  for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < cols; j += gridDim.x * blockDim.x)
    out[int64_t(t) * cols + j] = load_f(table, row + j);
}

__global__ void silu_mul_kernel(const float* gu, int n, int f, float* out) {
  const int64_t total = int64_t(n) * f;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / f, j = i % f;
    const float a = gu[t * 2 * f + j], u = gu[t * 2 * f + f + j];
    out[i] = a / (1.0f + __expf(-a)) * u;
  }
}

__global__ void add_kernel(float* x, const float* y, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    x[i] += y[i];
}

__global__ void add_bias_kernel(float* y, const float* bias, int n, int cols) {
  const int64_t total = int64_t(n) * cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    y[i] += bias[i % cols];
}

template <typename T>
__global__ void from_f32_kernel(const float* x, int64_t count, T* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    store_f(out, i, x[i]);
}

template <typename T>
__global__ void to_f32_kernel(const T* x, int64_t count, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = load_f(x, i);
}

__global__ void fill_kernel(uint32_t* p, int64_t words, uint32_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < words; i += int64_t(gridDim.x) * blockDim.x)
    p[i] = uint32_t(i) * 2654435761u ^ seed | 1u;
}

}  // namespace

cudaError_t embed(WType t, const void* table, int cols, const int32_t* ids_dev, int n, float* out,
                  cudaStream_t stream) {
  const dim3 grid(unsigned((cols + kThreads - 1) / kThreads), unsigned(n));
  switch (t) {
    case WType::kF16: embed_kernel<<<grid, kThreads, 0, stream>>>(static_cast<const __half*>(table), cols, ids_dev, n, out); break;
    case WType::kBF16: embed_kernel<<<grid, kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(table), cols, ids_dev, n, out); break;
    case WType::kF32: embed_kernel<<<grid, kThreads, 0, stream>>>(static_cast<const float*>(table), cols, ids_dev, n, out); break;
  }
  return cudaGetLastError();
}

cudaError_t silu_mul(const float* gate_up, int n, int f, float* out, cudaStream_t stream) {
  silu_mul_kernel<<<blocks_for(int64_t(n) * f), kThreads, 0, stream>>>(gate_up, n, f, out);
  return cudaGetLastError();
}

cudaError_t add(float* x, const float* y, int64_t count, cudaStream_t stream) {
  add_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, y, count);
  return cudaGetLastError();
}

cudaError_t add_bias(float* y, const float* bias, int n, int cols, cudaStream_t stream) {
  add_bias_kernel<<<blocks_for(int64_t(n) * cols), kThreads, 0, stream>>>(y, bias, n, cols);
  return cudaGetLastError();
}

cudaError_t f32_to(WType t, const float* x, int64_t count, void* out, cudaStream_t stream) {
  switch (t) {
    case WType::kF16: from_f32_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, count, static_cast<__half*>(out)); break;
    case WType::kBF16: from_f32_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, count, static_cast<__nv_bfloat16*>(out)); break;
    case WType::kF32: from_f32_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, count, static_cast<float*>(out)); break;
  }
  return cudaGetLastError();
}

cudaError_t convert_to_f32(WType t, const void* x, int64_t count, float* out, cudaStream_t stream) {
  switch (t) {
    case WType::kF16: to_f32_kernel<<<blocks_for(count), kThreads, 0, stream>>>(static_cast<const __half*>(x), count, out); break;
    case WType::kBF16: to_f32_kernel<<<blocks_for(count), kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), count, out); break;
    case WType::kF32: to_f32_kernel<<<blocks_for(count), kThreads, 0, stream>>>(static_cast<const float*>(x), count, out); break;
  }
  return cudaGetLastError();
}

cudaError_t device_code_available() {
  cudaFuncAttributes attr;
  return cudaFuncGetAttributes(&attr, fill_kernel);
}

cudaError_t fill_pattern(uint32_t* p, int64_t words, uint32_t seed, cudaStream_t stream) {
  fill_kernel<<<blocks_for(words), kThreads, 0, stream>>>(p, words, seed);
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
