// W4A16 matrix-vector product for decode (one token) and the dequantisation for the prefill path.
//
// Layout: upload_q4 repacks AWQ's qweight [K, N/8] words once (w4_repack) so that the 4 words of rows
// 4kb..4kb+3 of one word column (8 outputs) are one 16-byte vector: qweight[(kb * N/8 + word) * 4 + k % 4].
// qzeros and scales keep AWQ's layout. Nibble order inside a word is AWQ's [0,2,4,6,1,3,5,7]: shifting a word by
// 4j puts columns 2j and 2j + 1 in the low nibble of each 16-bit half.
//
// Decode streams the weights: a warp covers 8 word columns (64 outputs) x 4 K lanes, so every 16-byte load of
// the warp is part of a fully used 128-byte line; each thread issues U independent 16-byte loads (4U rows of its
// 8 outputs, all in one quantisation group) before using any. Narrow 64-output tiles give enough blocks for
// every multiprocessor without a deep K split. The nibbles become fp16 in registers with the 0x6400 exponent
// trick (one lop3 per pair), (q - z) is exact in fp16, products are summed in fp16 over 4 rows only and then in
// f32, and the group scale is applied once per thread. The 4 K lanes of a warp meet through shuffles, the 8
// warps through shared memory; a K split across blocks ends in the last-arriving block of the tile, which sums
// the partials in a fixed order (deterministic), so there is one launch per product.
// The input row can be formed by the product itself (GemvInput), which saves the kernel that would produce it:
// RMSNorm (x * norm_w, the sum scaled by 1 / rms(x) at the end, the sum of squares gathered from the inputs the
// blocks load anyway) or the SiLU gate of a gate/up product. Each block forms its slice of the inputs once into
// shared memory while its weights are prefetched into L2.
// No sm_80+ instructions: lop3 and half2 arithmetic exist from sm_53, so this is also Xavier's (sm_72) path.
#include "cuda/ops.h"

#include <algorithm>
#include <cstdlib>

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kWordsPerTile = 8;                    // word columns per warp (8 lanes x 16 B = one 128-byte line)
constexpr int kTileN = kWordsPerTile * 8;           // 64 outputs per block
constexpr int kKLanes = kWarps * (32 / kWordsPerTile);  // 32 K lanes per block, each U x 4 rows
// Activations are scaled by 1/16 before the fp16 products: a 4-row fp16 partial sum of (q - z) * x stays finite
// for |x| < 17000 instead of 1092 (large activations exist in the MLP of real LLMs); undone with the scale.
constexpr float kXScale = 1.0f / 16.0f;

// (1024 + nibble) in both halves, from the nibbles at bits 0 and 16 of w.
__device__ __forceinline__ __half2 nibbles_to_half2(uint32_t w) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xea;" : "=r"(r) : "r"(w), "n"(0x000f000f), "n"(0x64006400));
  return *reinterpret_cast<__half2*>(&r);
}

struct GemvArgs {
  W4Weight w;
  GemvInput x;
  Epilogue e;
  SplitKScratch s;
};

using InputKind = GemvInput::Kind;

// Inputs 4i .. 4i + 3 of the product as given (kPlain, kRmsNorm: the norm is applied by the caller) or gated.
template <InputKind M>
__device__ __forceinline__ float4 load_input(const GemvInput& in, int k, int i) {
  float4 v = __ldg(reinterpret_cast<const float4*>(in.src) + i);
  if constexpr (M == InputKind::kSiluMul) {
    const float4 u = __ldg(reinterpret_cast<const float4*>(in.src + k) + i);
    // Fast division: g / (1 + e^-g) is 0 or g well before the approximation matters (8 lanes repeat it).
    auto silu_mul = [](float g, float up) { return __fdividef(g, 1.0f + __expf(-g)) * up; };
    v = make_float4(silu_mul(v.x, u.x), silu_mul(v.y, u.y), silu_mul(v.z, u.z), silu_mul(v.w, u.w));
  }
  return v;
}

// Batches of U <= 8 loads are capped at 48 registers, so 5 blocks share a multiprocessor where the RMSNorm and plain
// U = 8 products (54 and 64 registers) fitted 4 (the plain one now spills 28 bytes): H200, 7B 341 -> 345 tok/s,
// 20B 160 -> 164. A cap of 40 (6 blocks) spills more and is slower; U = 16 needs its 64 registers of loads.
constexpr int kMinBlocksPerSm = 5;

template <int U, InputKind M>
__global__ void __launch_bounds__(kThreads, U >= 16 ? 1 : kMinBlocksPerSm) w4_gemv_kernel(GemvArgs a) {
  __shared__ float red[kWarps][kTileN];
  __shared__ float warp_ss[kWarps];
  __shared__ float4 x_s[M == InputKind::kPlain ? 1 : kKLanes * U];  // the block's formed inputs
  __shared__ bool is_last;
  const int N = a.w.n, KB = a.w.k / 4, wpr = N / 8;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int cw = lane % kWordsPerTile;
  const int kl = warp * (32 / kWordsPerTile) + lane / kWordsPerTile;
  const int word = blockIdx.x * kWordsPerTile + cw;
  const int kb0 = (blockIdx.y * kKLanes + kl) * U;  // U | KB (see pick_unroll), so kb0 < KB covers all U
  const bool active = word < wpr && kb0 < KB;

  float acc[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) acc[i] = 0.0f;

  const uint4* qp = reinterpret_cast<const uint4*>(a.w.qweight) + int64_t(kb0) * wpr + word;
  // A fused input is formed once per block into shared memory (the 8 word columns of a warp share every input).
  // RMSNorm: the product runs on x * norm_w and the sum is scaled by 1 / rms(x) at the end; the sum of squares
  // of the block's inputs is reduced with the outputs and, under a K split, across the splits by the last block.
  float ss = 0.0f;
  if constexpr (M != InputKind::kPlain) {
    // The weights are fetched into L2 meanwhile (a prefetch holds no registers across the barrier).
    if (active) {
#pragma unroll
      for (int u = 0; u < U; ++u) asm volatile("prefetch.global.L2 [%0];" ::"l"(qp + int64_t(u) * wpr));
    }
    const int first = blockIdx.y * kKLanes * U;
    for (int i = threadIdx.x; i < kKLanes * U; i += kThreads) {
      float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      if (first + i < KB) {
        v = load_input<M>(a.x, a.w.k, first + i);
        if constexpr (M == InputKind::kRmsNorm) {
          ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
          const float4 nw = __ldg(reinterpret_cast<const float4*>(a.x.norm_w) + first + i);
          v = make_float4(v.x * nw.x, v.y * nw.y, v.z * nw.z, v.w * nw.w);
        }
      }
      x_s[i] = v;
    }
    __syncthreads();
  }
  if (active) {
    uint4 q[U];
#pragma unroll
    for (int u = 0; u < U; ++u) q[u] = __ldg(qp + int64_t(u) * wpr);
    const int g = kb0 * 4 / a.w.group;
    const uint32_t zw = __ldg(a.w.qzeros + int64_t(g) * wpr + word);
    const uint4 sv = __ldg(reinterpret_cast<const uint4*>(a.w.scales + int64_t(g) * N) + word);
    float4 xs[U];
#pragma unroll
    for (int u = 0; u < U; ++u)
      xs[u] = M == InputKind::kPlain ? load_input<M>(a.x, a.w.k, kb0 + u) : x_s[kl * U + u];
    __half2 z[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) z[j] = nibbles_to_half2(zw >> (4 * j));
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const uint32_t words[4] = {q[u].x, q[u].y, q[u].z, q[u].w};
      const float xr[4] = {xs[u].x, xs[u].y, xs[u].z, xs[u].w};
      __half2 part[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) part[j] = __float2half2_rn(0.0f);
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const __half2 xv = __float2half2_rn(xr[r] * kXScale);
#pragma unroll
        for (int j = 0; j < 4; ++j) part[j] = __hfma2(__hsub2(nibbles_to_half2(words[r] >> (4 * j)), z[j]), xv, part[j]);
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 f = __half22float2(part[j]);
        acc[2 * j] += f.x;
        acc[2 * j + 1] += f.y;
      }
    }
    const __half* scale = reinterpret_cast<const __half*>(&sv);
#pragma unroll
    for (int c = 0; c < 8; ++c) acc[c] *= __half2float(scale[c]) * (1.0f / kXScale);
  }

  // The warp's 4 K lanes (lanes cw, cw + 8, cw + 16, cw + 24), then the 8 warps.
#pragma unroll
  for (int c = 0; c < 8; ++c) {
    acc[c] += __shfl_xor_sync(0xffffffffu, acc[c], 8);
    acc[c] += __shfl_xor_sync(0xffffffffu, acc[c], 16);
  }
  if (lane < kWordsPerTile) {
#pragma unroll
    for (int c = 0; c < 8; ++c) red[warp][cw * 8 + c] = acc[c];
  }
  if constexpr (M == InputKind::kRmsNorm) {
#pragma unroll
    for (int o = 16; o > 0; o /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if (lane == 0) warp_ss[warp] = ss;
  }
  __syncthreads();
  const int t = threadIdx.x;
  const int out = blockIdx.x * kTileN + t;
  float sum = 0.0f;
  if (t < kTileN) {
#pragma unroll
    for (int w = 0; w < kWarps; ++w) sum += red[w][t];
  }
  float block_ss = 0.0f;
  if constexpr (M == InputKind::kRmsNorm) {
#pragma unroll
    for (int w = 0; w < kWarps; ++w) block_ss += warp_ss[w];
  }
  // Split-K partial sums of squares follow the partial outputs ([splits][N], then [tiles][splits]); every tile
  // computes the same value for a split, and each tile's last block reads its own tile's.
  float* const partial_ss = a.s.partial + int64_t(gridDim.y) * N + int64_t(blockIdx.x) * gridDim.y;

  if (gridDim.y > 1) {
    if (t < kTileN && out < N) a.s.partial[int64_t(blockIdx.y) * N + out] = sum;
    if (M == InputKind::kRmsNorm && t == 0) partial_ss[blockIdx.y] = block_ss;
    __threadfence();  // partials visible device-wide before the arrival is counted
    __syncthreads();
    if (t == 0) is_last = atomicAdd(&a.s.counters[blockIdx.x], 1u) == gridDim.y - 1;
    __syncthreads();
    if (!is_last) return;
    __threadfence();
    if (t == 0) a.s.counters[blockIdx.x] = 0;  // ready for the next launch
    if (t >= kTileN || out >= N) return;
    // Four independent chains (loads in flight), combined in a fixed order.
    float s4[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    const int splits = int(gridDim.y);
    int j = 0;
    for (; j + 4 <= splits; j += 4) {
#pragma unroll
      for (int i = 0; i < 4; ++i) s4[i] += __ldcg(a.s.partial + int64_t(j + i) * N + out);
    }
    for (; j < splits; ++j) s4[0] += __ldcg(a.s.partial + int64_t(j) * N + out);
    sum = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    if constexpr (M == InputKind::kRmsNorm) {
      block_ss = 0.0f;
      for (int i = 0; i < splits; ++i) block_ss += __ldcg(partial_ss + i);
    }
  }
  if constexpr (M == InputKind::kRmsNorm) sum *= rsqrtf(block_ss / float(a.w.k) + a.x.eps);
  if (t < kTileN && out < N) {
    float v = sum;
    if (a.e.bias) v += a.e.bias[out];
    if (a.e.accumulate) v += a.e.y[out];
    a.e.y[out] = v;
  }
}

// 16-byte loads per thread: as many as keep at least `kMinBlocksPerSm` blocks per multiprocessor, fewer for
// short matrices so that they still spread over every multiprocessor. 4U rows must divide the group. Fused
// inputs stop at 8 (measured on an H200, 7B shape: gate/up 27.7 us at U = 8 against 30.3 at 16).
// JETCHAT_W4_UNROLL / JETCHAT_W4_MIN_BLOCKS override (measurement only).
int pick_unroll(const W4Weight& w, InputKind kind, int sm_count) {
  static const int forced = [] { const char* e = std::getenv("JETCHAT_W4_UNROLL"); return e ? std::atoi(e) : 0; }();
  static const int min_blocks = [] {
    const char* e = std::getenv("JETCHAT_W4_MIN_BLOCKS");
    return e ? std::atoi(e) : 2;
  }();
  if (forced > 0 && w.group % (4 * forced) == 0) return forced;
  const int tiles = (w.n / 8 + kWordsPerTile - 1) / kWordsPerTile;
  for (int u : {16, 8, 4, 2}) {
    if (w.group % (4 * u) || (u > 8 && kind != InputKind::kPlain)) continue;
    const int splits = (w.k / 4 + kKLanes * u - 1) / (kKLanes * u);
    if (int64_t(tiles) * splits >= int64_t(min_blocks) * sm_count) return u;
  }
  return 1;
}

dim3 gemv_grid(const W4Weight& w, int u) {
  return dim3(unsigned((w.n / 8 + kWordsPerTile - 1) / kWordsPerTile),
              unsigned((w.k / 4 + kKLanes * u - 1) / (kKLanes * u)));
}

__global__ void w4_repack_kernel(const uint32_t* awq, uint32_t* out, int wpr, int kb_count) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;  // one output uint4
  if (i >= int64_t(kb_count) * wpr) return;
  const int64_t kb = i / wpr, word = i % wpr;
  uint4 v;
  v.x = awq[(4 * kb + 0) * wpr + word];
  v.y = awq[(4 * kb + 1) * wpr + word];
  v.z = awq[(4 * kb + 2) * wpr + word];
  v.w = awq[(4 * kb + 3) * wpr + word];
  reinterpret_cast<uint4*>(out)[i] = v;
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
  // Rows kb..kb+7 of this word column: two 16-byte vectors of the repacked layout (kb is a multiple of 8).
  const uint4* qp = reinterpret_cast<const uint4*>(w.qweight) + int64_t(kb / 4) * words_per_row + word;
  const uint4 qa = __ldg(qp), qb = __ldg(qp + words_per_row);
  const uint32_t qrows[8] = {qa.x, qa.y, qa.z, qa.w, qb.x, qb.y, qb.z, qb.w};
#pragma unroll
  for (int r = 0; r < 8; r += 2) {
    const uint32_t q0 = qrows[r];
    const uint32_t q1 = qrows[r + 1];
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

template <InputKind M>
void launch_gemv(int u, dim3 grid, const GemvArgs& a, cudaStream_t stream) {
  switch (u) {
    case 16: w4_gemv_kernel<16, M><<<grid, kThreads, 0, stream>>>(a); break;
    case 8: w4_gemv_kernel<8, M><<<grid, kThreads, 0, stream>>>(a); break;
    case 4: w4_gemv_kernel<4, M><<<grid, kThreads, 0, stream>>>(a); break;
    case 2: w4_gemv_kernel<2, M><<<grid, kThreads, 0, stream>>>(a); break;
    default: w4_gemv_kernel<1, M><<<grid, kThreads, 0, stream>>>(a); break;
  }
}

}  // namespace

int64_t w4_gemv_scratch_floats(const W4Weight& w, int sm_count) {
  int64_t most = 0;
  for (InputKind kind : {InputKind::kPlain, InputKind::kRmsNorm, InputKind::kSiluMul}) {
    const dim3 g = gemv_grid(w, pick_unroll(w, kind, sm_count));
    if (g.y > 1) most = std::max(most, int64_t(g.y) * w.n + int64_t(g.x) * g.y);
  }
  return most;
}

cudaError_t w4_repack(const uint32_t* awq_qweight, uint32_t* out, int n, int k, cudaStream_t stream) {
  if (n % 8 || k % 4) return cudaErrorInvalidValue;
  const int64_t vectors = int64_t(k / 4) * (n / 8);
  w4_repack_kernel<<<unsigned((vectors + 255) / 256), 256, 0, stream>>>(awq_qweight, out, n / 8, k / 4);
  return cudaGetLastError();
}

cudaError_t w4_gemv(const W4Weight& w, const GemvInput& x, const Epilogue& e, const SplitKScratch& s, int sm_count,
                    cudaStream_t stream) {
  if (w.n % 8 || w.group % 4 || w.k % w.group) return cudaErrorInvalidValue;
  if (x.kind == InputKind::kRmsNorm && !x.norm_w) return cudaErrorInvalidValue;
  const int u = pick_unroll(w, x.kind, sm_count);
  const dim3 grid = gemv_grid(w, u);
  if (grid.y > 1 && (int64_t(grid.y) * w.n + int64_t(grid.x) * grid.y > s.partial_floats ||
                     int(grid.x) > s.counter_count))
    return cudaErrorInvalidValue;
  const GemvArgs a{w, x, e, s};
  switch (x.kind) {
    case InputKind::kPlain: launch_gemv<InputKind::kPlain>(u, grid, a, stream); break;
    case InputKind::kRmsNorm: launch_gemv<InputKind::kRmsNorm>(u, grid, a, stream); break;
    case InputKind::kSiluMul: launch_gemv<InputKind::kSiluMul>(u, grid, a, stream); break;
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
