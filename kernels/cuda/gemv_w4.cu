// W4A16 matrix-vector product for decode (one token) and the dequantisation for the prefill path.
//
// Decode reads every weight once, so the kernel is built around the weight stream: each thread issues R
// independent 16-byte loads of qweight (R rows x 32 outputs) before using any, a warp covers 4 rows x 128 bytes
// (whole cache lines), the nibbles become fp16 in registers with the 0x6400 exponent trick (one lop3 per pair),
// (q - z) is exact in fp16, products are summed in fp16 over 4 rows only and then in f32, and the group scale
// is applied once per thread at the end (all R rows of a thread lie in one quantisation group).
// Short matrices are split along K across blocks; the last block of each output tile to finish sums the
// partials in a fixed order (deterministic) and applies the epilogue, so there is one launch per product.
// No sm_80+ instructions: lop3 and half2 arithmetic exist from sm_53, so this is also Xavier's (sm_72) path.
#include "cuda/ops.h"

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kThreadsN = 8;                       // 8 threads x 16 B = one 128-byte line of a qweight row
constexpr int kLanesK = kThreads / kThreadsN;      // 32 row lanes per block
constexpr int kOutPerThread = 32;                  // one 16-byte load: 4 words x 8 nibbles
constexpr int kTileN = kThreadsN * kOutPerThread;  // 256 outputs per block
constexpr int kRedStride = kTileN + 8;             // padded so the 4 lanes of a warp hit different banks
// Activations are scaled by 1/16 before the fp16 products: a 4-row fp16 partial sum of (q - z) * x stays finite
// for |x| < 17000 instead of 1092 (large activations exist in the MLP of real LLMs); undone with the scale.
constexpr float kXScale = 1.0f / 16.0f;

// (1024 + nibble) in both halves, from the nibbles at bits 0 and 16 of w.
__device__ __forceinline__ __half2 nibbles_to_half2(uint32_t w) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xea;" : "=r"(r) : "r"(w), "n"(0x000f000f), "n"(0x64006400));
  return *reinterpret_cast<__half2*>(&r);
}

__device__ __forceinline__ uint4 load_words(const uint32_t* p, int words_left, bool vector) {
  if (vector && words_left >= 4) return __ldg(reinterpret_cast<const uint4*>(p));
  uint4 v = make_uint4(0, 0, 0, 0);
  if (words_left > 0) v.x = __ldg(p);
  if (words_left > 1) v.y = __ldg(p + 1);
  if (words_left > 2) v.z = __ldg(p + 2);
  if (words_left > 3) v.w = __ldg(p + 3);
  return v;
}

struct GemvArgs {
  W4Weight w;
  const float* x;
  Epilogue e;
  SplitKScratch s;
};

template <int R>
__global__ void __launch_bounds__(kThreads) w4_gemv_kernel(GemvArgs a) {
  __shared__ float red[kLanesK * kRedStride];
  __shared__ bool is_last;
  const int N = a.w.n, K = a.w.k, words_per_row = N / 8;
  const int tn = threadIdx.x % kThreadsN, lane = threadIdx.x / kThreadsN;
  const int n0 = blockIdx.x * kTileN + tn * kOutPerThread;
  const int k0 = (blockIdx.y * kLanesK + lane) * R;
  const int w0 = n0 / 8;
  const int words_left = words_per_row - w0;
  const bool vector = (words_per_row % 4) == 0;  // rows start 16-byte aligned

  float acc[kOutPerThread];
#pragma unroll
  for (int i = 0; i < kOutPerThread; ++i) acc[i] = 0.0f;

  if (k0 < K && words_left > 0) {
    uint4 q[R];
#pragma unroll
    for (int r = 0; r < R; ++r) q[r] = load_words(a.w.qweight + int64_t(k0 + r) * words_per_row + w0, words_left, vector);
    const int g = k0 / a.w.group;
    const uint4 zw = load_words(a.w.qzeros + int64_t(g) * words_per_row + w0, words_left, vector);
    float xs[R];
#pragma unroll
    for (int r = 0; r < R; r += 4) {
      const float4 v = __ldg(reinterpret_cast<const float4*>(a.x + k0 + r));
      xs[r] = v.x, xs[r + 1] = v.y, xs[r + 2] = v.z, xs[r + 3] = v.w;
    }
    __half2 z[16];
    const uint32_t zwords[4] = {zw.x, zw.y, zw.z, zw.w};
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) z[i * 4 + j] = nibbles_to_half2(zwords[i] >> (4 * j));

#pragma unroll
    for (int rb = 0; rb < R; rb += 4) {
      __half2 part[16];
#pragma unroll
      for (int p = 0; p < 16; ++p) part[p] = __float2half2_rn(0.0f);
#pragma unroll
      for (int r = rb; r < rb + 4; ++r) {
        const __half2 xv = __float2half2_rn(xs[r] * kXScale);
        const uint32_t words[4] = {q[r].x, q[r].y, q[r].z, q[r].w};
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j)
            part[i * 4 + j] = __hfma2(__hsub2(nibbles_to_half2(words[i] >> (4 * j)), z[i * 4 + j]), xv, part[i * 4 + j]);
      }
#pragma unroll
      for (int p = 0; p < 16; ++p) {
        const float2 f = __half22float2(part[p]);
        acc[2 * p] += f.x;
        acc[2 * p + 1] += f.y;
      }
    }
    // Pair p = 4i + j of word i holds columns 8i + 2j and 8i + 2j + 1.
    const __half* sc = a.w.scales + int64_t(g) * N + n0;
    __half scale[kOutPerThread];
    if (vector && words_left >= 4) {
#pragma unroll
      for (int i = 0; i < kOutPerThread / 8; ++i)
        *reinterpret_cast<uint4*>(scale + 8 * i) = __ldg(reinterpret_cast<const uint4*>(sc) + i);
    } else {
#pragma unroll
      for (int c = 0; c < kOutPerThread; ++c) scale[c] = n0 + c < N ? sc[c] : __float2half(0.0f);
    }
#pragma unroll
    for (int c = 0; c < kOutPerThread; ++c) acc[c] *= __half2float(scale[c]) * (1.0f / kXScale);
  }

  // Sum the 32 row lanes: red[lane][c * 8 + tn] for output tn * 32 + c.
#pragma unroll
  for (int c = 0; c < kOutPerThread; ++c) red[lane * kRedStride + c * kThreadsN + tn] = acc[c];
  __syncthreads();
  const int t = threadIdx.x;
  const int out = blockIdx.x * kTileN + (t % kThreadsN) * kOutPerThread + t / kThreadsN;
  float sum = 0.0f;
#pragma unroll 8
  for (int l = 0; l < kLanesK; ++l) sum += red[l * kRedStride + t];

  if (gridDim.y > 1) {
    if (out < N) a.s.partial[int64_t(blockIdx.y) * N + out] = sum;
    __threadfence();  // partials visible device-wide before the arrival is counted
    __syncthreads();
    if (t == 0) is_last = atomicAdd(&a.s.counters[blockIdx.x], 1u) == gridDim.y - 1;
    __syncthreads();
    if (!is_last) return;
    __threadfence();
    sum = 0.0f;
    if (out < N)
      for (int j = 0; j < int(gridDim.y); ++j) sum += __ldcg(a.s.partial + int64_t(j) * N + out);
    if (t == 0) a.s.counters[blockIdx.x] = 0;  // ready for the next launch
  }
  if (out < N) {
    float v = sum;
    if (a.e.bias) v += a.e.bias[out];
    if (a.e.accumulate) v += a.e.y[out];
    a.e.y[out] = v;
  }
}

// Rows per thread: as many as keep at least two blocks per multiprocessor (more bytes in flight per thread),
// fewer for short matrices so that they still spread over every multiprocessor. R must divide the group.
int pick_rows(const W4Weight& w, int sm_count) {
  const int tiles = (w.n + kTileN - 1) / kTileN;
  for (int r : {16, 8}) {
    if (w.group % r) continue;
    const int splits = (w.k + kLanesK * r - 1) / (kLanesK * r);
    if (int64_t(tiles) * splits >= 2 * int64_t(sm_count)) return r;
  }
  return 4;
}

dim3 gemv_grid(const W4Weight& w, int rows) {
  return dim3(unsigned((w.n + kTileN - 1) / kTileN), unsigned((w.k + kLanesK * rows - 1) / (kLanesK * rows)));
}

__global__ void w4_dequantize_kernel(W4Weight w, int row0, int rows, __half* out) {
  // Thread (x, y): qweight word x (8 outputs) of rows k = 8 * (blockIdx.y * blockDim.y + y) .. + 8; writes eight
  // 16-byte runs, one per output, so neighbouring y threads fill whole 32-byte sectors.
  const int words_per_row = w.n / 8;
  const int word = row0 / 8 + blockIdx.x * blockDim.x + threadIdx.x;
  const int kb = (blockIdx.y * blockDim.y + threadIdx.y) * 8;
  if (word >= (row0 + rows) / 8 || kb >= w.k) return;
  const int g = kb / w.group;  // 8 | group, so the 8 rows share a group
  const uint32_t zw = w.qzeros[int64_t(g) * words_per_row + word];
  __half2 res[8][4];  // [output column within the word][row pair]
#pragma unroll
  for (int r = 0; r < 8; r += 2) {
    const uint32_t q0 = __ldg(w.qweight + int64_t(kb + r) * words_per_row + word);
    const uint32_t q1 = __ldg(w.qweight + int64_t(kb + r + 1) * words_per_row + word);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const __half2 z = nibbles_to_half2(zw >> (4 * j));
      const __half2 s = *reinterpret_cast<const __half2*>(w.scales + int64_t(g) * w.n + word * 8 + 2 * j);
      const __half2 a = __hmul2(__hsub2(nibbles_to_half2(q0 >> (4 * j)), z), s);  // row r, columns 2j, 2j+1
      const __half2 b = __hmul2(__hsub2(nibbles_to_half2(q1 >> (4 * j)), z), s);  // row r+1
      res[2 * j][r / 2] = __lows2half2(a, b);
      res[2 * j + 1][r / 2] = __highs2half2(a, b);
    }
  }
#pragma unroll
  for (int c = 0; c < 8; ++c) {
    const int row = word * 8 + c - row0;
    *reinterpret_cast<uint4*>(out + int64_t(row) * w.k + kb) = *reinterpret_cast<const uint4*>(res[c]);
  }
}

}  // namespace

int64_t w4_gemv_scratch_floats(const W4Weight& w, int sm_count) {
  const dim3 g = gemv_grid(w, pick_rows(w, sm_count));
  return g.y > 1 ? int64_t(g.y) * w.n : 0;
}

cudaError_t w4_gemv(const W4Weight& w, const float* x, const Epilogue& e, const SplitKScratch& s, int sm_count,
                    cudaStream_t stream) {
  if (w.n % 8 || w.group % 4 || w.k % w.group) return cudaErrorInvalidValue;
  const int rows = pick_rows(w, sm_count);
  const dim3 grid = gemv_grid(w, rows);
  if (grid.y > 1 && (int64_t(grid.y) * w.n > s.partial_floats || int(grid.x) > s.counter_count))
    return cudaErrorInvalidValue;
  const GemvArgs a{w, x, e, s};
  switch (rows) {
    case 16: w4_gemv_kernel<16><<<grid, kThreads, 0, stream>>>(a); break;
    case 8: w4_gemv_kernel<8><<<grid, kThreads, 0, stream>>>(a); break;
    default: w4_gemv_kernel<4><<<grid, kThreads, 0, stream>>>(a); break;
  }
  return cudaGetLastError();
}

cudaError_t w4_dequantize(const W4Weight& w, int row0, int rows, __half* out, cudaStream_t stream) {
  if (row0 % 8 || rows % 8 || w.k % 8 || w.group % 8) return cudaErrorInvalidValue;
  const dim3 block(32, 8);
  const dim3 grid(unsigned((rows / 8 + 31) / 32), unsigned((w.k / 8 + 7) / 8));
  w4_dequantize_kernel<<<grid, block, 0, stream>>>(w, row0, rows, out);
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
