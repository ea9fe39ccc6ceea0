// W4A16 matrix-matrix product for prefill on tensor cores: y[M, N] = x[M, K] · Wᵀ, x fp16, W 4-bit (ops.h).
//
// mma.sync.m16n8k16 (fp16 in, f32 accumulate) with the 4-bit weights turned into fp16 in registers: the fp16 copy
// of W never exists. A block of 4 warps computes BM (16, 32 or 64) tokens x 128 outputs; each warp owns 32
// outputs for all BM tokens, so every dequantised weight feeds BM / 16 mma. Tiles of 64 K values (activations,
// weight words, the scales and zeros of their groups) stream through shared memory in a 4-stage cp.async
// pipeline.
//
// The K order inside an mma is free as long as activations and weights agree: lane (g, t) of a warp (g = lane/4,
// t = lane%4) loads the whole 32-bit word (kb8 = k/8 + t, one output) that holds 8 consecutive K values, and uses
// them for two mma K steps: step s takes K 8t + 4s + {0,1} as the fragment's K {2t, 2t+1} and 8t + 4s + {2,3} as
// {2t+8, 2t+9}. The activation fragment then is one 16-byte load per row (8 consecutive K values of row g). The
// output columns are permuted likewise: lane g of n8 tile j is output 4g + j of the warp's 32, so one 16-byte load
// brings a lane its 4 words, and each lane ends with 8 consecutive outputs per row (two float4 stores).
//
// Where a matrix gives too few tiles for the multiprocessors, K is split across blocks: each writes f32 partial
// sums, which a second kernel adds in split order (deterministic) with the epilogue.
// Built for sm_80+ only (cp.async, mma.m16n8k16); elsewhere the backend keeps dequantise + cuBLAS.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "cuda/ops.h"

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 128;  // 4 warps side by side along the outputs
constexpr int kWarpN = 32;     // outputs per warp: 4 n8 tiles
constexpr int kBlockN = 4 * kWarpN;
constexpr int kBlockK = 64;  // two 32-K steps per stage
constexpr int kSteps = kBlockK / 32;
constexpr int kStages = 4;

// One pipeline stage. 16-byte chunks are XOR-swizzled so that the fragment loads hit distinct banks: activation
// rows g and g + 1 (read together) differ in bit 2 of the chunk, weight rows t = 0..3 in bits 1..2.
template <int MT>
struct Stage {
  static constexpr int kBlockM = 16 * MT;
  uint4 a[kBlockM][kBlockK / 8];        // fp16 activations [row][8 K values]
  uint4 b[kBlockK / 8][kBlockN / 4];    // weight words [kb8][4 outputs]
  uint4 s[kSteps][kBlockN / 8];         // fp16 scales of the group of each 32-K step [8 outputs]
  uint32_t z[kSteps][kBlockN / 8];      // qzeros words of that group [8 outputs]
};

__device__ __forceinline__ int a_chunk(int row, int c) { return c ^ ((row & 1) << 2); }
__device__ __forceinline__ int b_chunk(int kb8, int c) { return c ^ ((kb8 & 3) << 1); }

struct GemmArgs {
  W4Weight w;
  const __half* x;
  int m;
  Epilogue e;
  float* partial;  // split K: [splits][m][N]
};

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned s = unsigned(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(gmem), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async4(void* smem, const void* gmem, bool valid) {
  const unsigned s = unsigned(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(s), "l"(gmem), "r"(valid ? 4 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N));
}

// (1024 + nibble) in both halves, from the nibbles at bits 0 and 16 of w.
__device__ __forceinline__ __half2 nibbles_to_half2(uint32_t w) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xea;" : "=r"(r) : "r"(w), "n"(0x000f000f), "n"(0x64006400));
  return *reinterpret_cast<__half2*>(&r);
}

// (q - z) * s for the nibble pair at bits 0 and 16 of w: (q - z) is exact in fp16, one rounding in the product
// (the same fp16 weights as w4_dequantize's).
__device__ __forceinline__ uint32_t dequant(uint32_t w, __half2 z, __half2 s) {
  const __half2 v = __hmul2(__hsub2(nibbles_to_half2(w), z), s);
  return *reinterpret_cast<const uint32_t*>(&v);
}

__device__ __forceinline__ void mma(float* c, const uint32_t* a, const uint32_t* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Enqueues the copies of K tile `kt` (K values 64 kt .. 64 kt + 63) into `st`; what lies outside x or W is zeros.
template <int MT>
__device__ __forceinline__ void load_stage(Stage<MT>& st, const GemmArgs& a, int m0, int n0, int kt) {
  const int K = a.w.k, N = a.w.n, k0 = kt * kBlockK, tid = threadIdx.x;
#pragma unroll
  for (int i = tid; i < Stage<MT>::kBlockM * (kBlockK / 8); i += kThreads) {
    const int r = i / (kBlockK / 8), c = i % (kBlockK / 8);
    const bool ok = m0 + r < a.m && k0 + 8 * c < K;
    cp_async16(&st.a[r][a_chunk(r, c)], ok ? a.x + int64_t(m0 + r) * K + k0 + 8 * c : a.x, ok);
  }
  const uint4* qw = reinterpret_cast<const uint4*>(a.w.qweight);
#pragma unroll
  for (int i = tid; i < (kBlockK / 8) * (kBlockN / 4); i += kThreads) {
    const int r = i / (kBlockN / 4), c = i % (kBlockN / 4);
    const bool ok = k0 + 8 * r < K && n0 + 4 * c < N;
    cp_async16(&st.b[r][b_chunk(r, c)], ok ? qw + int64_t(k0 / 8 + r) * (N / 4) + n0 / 4 + c : qw, ok);
  }
  if (tid < kSteps * (kBlockN / 8)) {
    const int h = tid / (kBlockN / 8), c = tid % (kBlockN / 8);
    const int k = k0 + 32 * h, n = n0 + 8 * c;
    const bool ok = k < K && n < N;
    const int64_t g = ok ? k / a.w.group : 0;
    cp_async16(&st.s[h][c], a.w.scales + (ok ? g * N + n : 0), ok);
    cp_async4(&st.z[h][c], a.w.qzeros + (ok ? g * (N / 8) + n / 8 : 0), ok);
  }
}

template <int MT>
__global__ void __launch_bounds__(kThreads) w4_gemm_kernel(GemmArgs a) {
  extern __shared__ uint4 smem[];
  Stage<MT>* stages = reinterpret_cast<Stage<MT>*>(smem);
  const int N = a.w.n;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const int m0 = blockIdx.y * Stage<MT>::kBlockM, n0 = blockIdx.x * kBlockN;
  // This split's K tiles.
  const int tiles = (a.w.k + kBlockK - 1) / kBlockK, splits = int(gridDim.z);
  const int kt0 = int(int64_t(tiles) * blockIdx.z / splits), kt1 = int(int64_t(tiles) * (blockIdx.z + 1) / splits);
  const int count = kt1 - kt0;

  float acc[MT][4][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[i][j][c] = 0.0f;

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < count) load_stage(stages[s], a, m0, n0, kt0 + s);
    cp_async_commit();
  }
  for (int it = 0; it < count; ++it) {
    cp_async_wait<kStages - 2>();
    __syncthreads();  // tile `it` visible to all; every warp is done with the stage refilled next
    if (it + kStages - 1 < count) load_stage(stages[(it + kStages - 1) % kStages], a, m0, n0, kt0 + it + kStages - 1);
    cp_async_commit();
    const Stage<MT>& st = stages[it % kStages];
#pragma unroll
    for (int h = 0; h < kSteps; ++h) {
      // The group's zero points and scales of this lane's 4 outputs (warp * 32 + 4g + j), each in both halves.
      // qzeros' AWQ order puts outputs 2p, 2p + 1 of a word in nibbles p, p + 4.
      const uint32_t zw = st.z[h][warp * 4 + g / 2] >> (8 * (g & 1));
      const __half2 z01 = nibbles_to_half2(zw), z23 = nibbles_to_half2(zw >> 4);
      const uint2 sv = reinterpret_cast<const uint2*>(&st.s[h][0])[warp * 8 + g];
      const __half2 s01 = *reinterpret_cast<const __half2*>(&sv.x), s23 = *reinterpret_cast<const __half2*>(&sv.y);
      const __half2 z[4] = {__low2half2(z01), __high2half2(z01), __low2half2(z23), __high2half2(z23)};
      const __half2 s[4] = {__low2half2(s01), __high2half2(s01), __low2half2(s23), __high2half2(s23)};
      const uint4 q = st.b[4 * h + t][b_chunk(t, warp * 8 + g)];
      const uint32_t words[4] = {q.x, q.y, q.z, q.w};
      uint32_t bf[2][4][2];  // [K step][n8 tile][register]
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        // Bytes (0, 2, 1, 3): K 8t + {0, 1} now sit at bits 0 and 16, K + 2, + 3 at 8 and 24, the high nibbles
        // (K + 4 ..) 4 bits above.
        const uint32_t w = __byte_perm(words[j], 0, 0x3120);
        bf[0][j][0] = dequant(w, z[j], s[j]);
        bf[0][j][1] = dequant(w >> 8, z[j], s[j]);
        bf[1][j][0] = dequant(w >> 4, z[j], s[j]);
        bf[1][j][1] = dequant(w >> 12, z[j], s[j]);
      }
#pragma unroll
      for (int i = 0; i < MT; ++i) {
        const int r = 16 * i + g;
        const uint4 lo = st.a[r][a_chunk(r, 4 * h + t)], hi = st.a[r + 8][a_chunk(r + 8, 4 * h + t)];
        const uint32_t af[2][4] = {{lo.x, hi.x, lo.y, hi.y}, {lo.z, hi.z, lo.w, hi.w}};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          mma(acc[i][j], af[0], bf[0][j]);
          mma(acc[i][j], af[1], bf[1][j]);
        }
      }
    }
  }
  cp_async_wait<0>();

  // Lane (g, t) holds rows 16i + g and 16i + g + 8, outputs warp * 32 + 8t .. + 7 (n8 tile j: 8t + j, 8t + 4 + j).
  const int col = n0 + warp * kWarpN + 8 * t;
  if (col >= N) return;  // N % 8 == 0: the 8 outputs are all in or all out
  // Split K: this split's partial sums go to plane blockIdx.z of [split][M][N] (w4_gemm_reduce_kernel adds them).
  float* const plane = a.partial + blockIdx.z * (int64_t(a.m) * N);
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = m0 + 16 * i + g + 8 * half;
      if (row >= a.m) continue;
      float4 o[2];
      o[0] = make_float4(acc[i][0][2 * half], acc[i][1][2 * half], acc[i][2][2 * half], acc[i][3][2 * half]);
      o[1] = make_float4(acc[i][0][2 * half + 1], acc[i][1][2 * half + 1], acc[i][2][2 * half + 1],
                         acc[i][3][2 * half + 1]);
      if (splits > 1) {
        float4* p = reinterpret_cast<float4*>(plane + int64_t(row) * N + col);
        p[0] = o[0], p[1] = o[1];
        continue;
      }
      float4* y = reinterpret_cast<float4*>(a.e.y + int64_t(row) * N + col);
#pragma unroll
      for (int q = 0; q < 2; ++q) {
        if (a.e.bias) {
          const float4 b = *reinterpret_cast<const float4*>(a.e.bias + col + 4 * q);
          o[q].x += b.x, o[q].y += b.y, o[q].z += b.z, o[q].w += b.w;
        }
        if (a.e.accumulate) {
          const float4 p = y[q];
          o[q].x += p.x, o[q].y += p.y, o[q].z += p.z, o[q].w += p.w;
        }
        y[q] = o[q];
      }
    }
}

#else  // below sm_80 there is no cp.async / mma.m16n8k16: never launched there (w4_gemm_available)

template <int MT>
__global__ void __launch_bounds__(kThreads) w4_gemm_kernel(GemmArgs) {
  __trap();
}

#endif

// y = (accumulate ? y : 0) + bias + the split partial sums, added in split order (deterministic). One thread per
// 4 outputs; with every output in flight at once the partials cost one pass over them, where the last block of
// each tile adding them would make as many dependent trips to L2 as there are splits.
__global__ void w4_gemm_reduce_kernel(const float* partial, int splits, int64_t outputs, int n, Epilogue e) {
  const int64_t i = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) * 4;
  if (i >= outputs) return;
  float4 sum = __ldcg(reinterpret_cast<const float4*>(partial + i));
#pragma unroll 4
  for (int z = 1; z < splits; ++z) {
    const float4 p = __ldcg(reinterpret_cast<const float4*>(partial + z * outputs + i));
    sum.x += p.x, sum.y += p.y, sum.z += p.z, sum.w += p.w;
  }
  if (e.bias) {
    const float4 b = *reinterpret_cast<const float4*>(e.bias + i % n);
    sum.x += b.x, sum.y += b.y, sum.z += b.z, sum.w += b.w;
  }
  float4* y = reinterpret_cast<float4*>(e.y + i);
  if (e.accumulate) {
    const float4 p = *y;
    sum.x += p.x, sum.y += p.y, sum.z += p.z, sum.w += p.w;
  }
  *y = sum;
}

// Blocks of the MT-tile kernel a multiprocessor holds at once (registers and shared memory decide), once per
// process; also opts the kernel in to the shared memory it needs above the 48 KB default. 0 on failure.
template <int MT>
int resident_blocks() {
  static const int blocks = [] {
    constexpr int bytes = int(kStages * sizeof(Stage<MT>));
    int n = 0;
    if (cudaFuncSetAttribute(w4_gemm_kernel<MT>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes) != cudaSuccess ||
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, w4_gemm_kernel<MT>, kThreads, bytes) != cudaSuccess)
      return 0;
    return n;
  }();
  return blocks;
}

struct Plan {
  int mt = 4;  // 16-token mma tiles per block: 1, 2 or 4
  int resident = 0;
  dim3 grid;
};

// Tokens per block from the token count, then the K split, from a cost model in units of one K tile of every
// resident block: a wave is as many blocks as the multiprocessors hold at once, each split a block of its own,
// which also writes its partial sums (about 2.5 K tiles' worth of bytes); the reduction moves (splits + 1) planes
// of outputs. The cheapest split wins (the first of equals), with at least 4 K tiles per split (the pipeline fills
// 3 first) and at most 16. JETCHAT_W4_GEMM_SPLITS overrides it (measurement only).
Plan plan(const W4Weight& w, int m, int sm_count) {
  static const int forced = [] {
    const char* e = std::getenv("JETCHAT_W4_GEMM_SPLITS");
    return e ? std::atoi(e) : 0;
  }();
  Plan p;
  p.mt = m <= 16 ? 1 : m <= 32 ? 2 : 4;
  p.resident = p.mt == 1 ? resident_blocks<1>() : p.mt == 2 ? resident_blocks<2>() : resident_blocks<4>();
  const size_t stage_bytes = p.mt == 1 ? sizeof(Stage<1>) : p.mt == 2 ? sizeof(Stage<2>) : sizeof(Stage<4>);
  const int tiles_m = (m + 16 * p.mt - 1) / (16 * p.mt), tiles_n = (w.n + kBlockN - 1) / kBlockN;
  const int k_tiles = (w.k + kBlockK - 1) / kBlockK;
  const int64_t tiles = int64_t(tiles_m) * tiles_n, wave = std::max<int64_t>(1, int64_t(p.resident) * sm_count);
  const double plane_units = double(m) * w.n * 4 / (double(wave) * double(stage_bytes));
  int splits = 1;
  double best = 1e300;
  for (int s = 1; s <= std::min(16, std::max(1, k_tiles / 4)); ++s) {
    const int64_t waves = (tiles * s + wave - 1) / wave;
    const double cost = double(waves) * ((k_tiles + s - 1) / s + (s > 1 ? 2.5 : 0.0)) +
                        (s > 1 ? (s + 1) * plane_units : 0.0);
    if (cost < best) best = cost, splits = s;
  }
  if (forced > 0) splits = std::min(forced, k_tiles);
  p.grid = dim3(unsigned(tiles_n), unsigned(tiles_m), unsigned(splits));
  return p;
}

template <int MT>
void launch(const Plan& p, const GemmArgs& a, cudaStream_t stream) {
  w4_gemm_kernel<MT><<<p.grid, kThreads, kStages * sizeof(Stage<MT>), stream>>>(a);
}

}  // namespace

bool w4_gemm_available() {
  // The device's image of the kernel must come from sm_80+ code: a build whose only code for this GPU is older
  // (sm_72 PTX JIT-compiled on an Orin, say) holds the stub.
  cudaFuncAttributes attr{};
  return cudaFuncGetAttributes(&attr, w4_gemm_kernel<4>) == cudaSuccess && attr.ptxVersion >= 80;
}

bool w4_gemm_supported(const W4Weight& w) { return w.n % 8 == 0 && w.group % 32 == 0 && w.k % w.group == 0; }

int64_t w4_gemm_scratch_floats(const W4Weight& w, int m, int sm_count) {
  const Plan p = plan(w, m, sm_count);
  return p.grid.z > 1 ? int64_t(p.grid.z) * m * w.n : 0;
}

cudaError_t w4_gemm(const W4Weight& w, const __half* x, int m, const Epilogue& e, float* partial,
                    int64_t partial_floats, int sm_count, cudaStream_t stream) {
  if (m < 1 || !w4_gemm_supported(w)) return cudaErrorInvalidValue;
  const Plan p = plan(w, m, sm_count);
  if (p.resident == 0) return cudaErrorInvalidConfiguration;  // the kernel does not fit a multiprocessor
  const int64_t outputs = int64_t(m) * w.n;
  if (p.grid.z > 1 && int64_t(p.grid.z) * outputs > partial_floats) return cudaErrorInvalidValue;
  const GemmArgs a{w, x, m, e, partial};
  switch (p.mt) {
    case 1: launch<1>(p, a, stream); break;
    case 2: launch<2>(p, a, stream); break;
    default: launch<4>(p, a, stream); break;
  }
  if (p.grid.z > 1) {
    const int64_t threads = outputs / 4;
    w4_gemm_reduce_kernel<<<unsigned((threads + 255) / 256), 256, 0, stream>>>(partial, int(p.grid.z), outputs, w.n,
                                                                                 e);
  }
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
