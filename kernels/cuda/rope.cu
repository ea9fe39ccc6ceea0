// Rotary position embedding (HF rotate_half) in place on the query and key heads of each token's qkv row.
// Angles: position * inv_freq is formed and reduced modulo 2π in double (at position 32K an f32 product loses
// the low bits of the phase), then sin/cos in f32; once per frequency per token, shared by every head.
#include "cuda/ops.h"

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxHalfRot = 256;  // head_dim up to 512

__global__ void __launch_bounds__(kThreads) rope_kernel(float* qkv, int64_t stride, int heads, int head_dim,
                                                        const float* inv_freq, int half, int pos0,
                                                        const int* pos_dev) {
  __shared__ float cs[kMaxHalfRot], sn[kMaxHalfRot];
  const int t = blockIdx.x;
  const int pos = (pos_dev ? *pos_dev : pos0) + t;
  for (int j = threadIdx.x; j < half; j += kThreads) {
    const double two_pi = 6.283185307179586476925;
    double a = double(pos) * double(inv_freq[j]);
    a -= two_pi * floor(a / two_pi);
    float s, c;
    sincosf(float(a), &s, &c);
    cs[j] = c, sn[j] = s;
  }
  __syncthreads();
  float* row = qkv + int64_t(t) * stride;
  for (int i = threadIdx.x; i < heads * half; i += kThreads) {
    const int h = i / half, j = i % half;
    float* v = row + int64_t(h) * head_dim;
    const float x0 = v[j], x1 = v[j + half];
    v[j] = x0 * cs[j] - x1 * sn[j];
    v[j + half] = x1 * cs[j] + x0 * sn[j];
  }
}

}  // namespace

cudaError_t rope(float* qkv, int n, int64_t row_stride, int heads, int head_dim, const float* inv_freq_dev,
                 int half_rot, int pos0, const int* pos_dev, cudaStream_t stream) {
  if (half_rot > kMaxHalfRot) return cudaErrorInvalidValue;
  rope_kernel<<<unsigned(n), kThreads, 0, stream>>>(qkv, row_stride, heads, head_dim, inv_freq_dev, half_rot, pos0,
                                                    pos_dev);
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
