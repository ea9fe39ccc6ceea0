// Matrix-vector products of quantised weights for decode (one token), and their dequantisation for the prefill
// path. Three weight formats share one kernel (a format policy supplies the loads and the integer products):
// - AWQ 4-bit (W4Weight): upload_q4 repacks AWQ's qweight once (w4_repack) into 16-byte vectors of 4 output
//   columns x 8 consecutive inputs, [K/8][N/4]: byte b of a column's word holds input 8kb + b in its low nibble
//   and 8kb + 4 + b in its high nibble, so `& 0x0f0f0f0f` and `>> 4 & 0x0f0f0f0f` give two words of four 4-bit
//   weights along K, each the operand of one dp4a. qzeros and scales keep AWQ's layout.
// - 4-bit with an f32 scale and minimum per group (QuantWeight, bits 4: GGUF Q4_1, Q4_K): the same vectors.
// - 8-bit with an f32 scale and minimum per group (QuantWeight, bits 8: GGUF Q5_K, Q6_K, Q8_0): 16-byte vectors
//   of 4 columns x 4 consecutive inputs, one dp4a operand per word.
//
// Decode multiplies in integers, as the CPU backend's decode does (kernels/cpu/q4.h): the input row is quantised
// to int8 per 32 inputs (d = max|x| / 127, with the sums of q per 16 for the zero or minimum terms), each block
// of a column is one int32 dot product of the weights and the int8 inputs, and the float result per block is
// s * d * (dot - z * sum q) (AWQ) or d * (s * dot - m * sum q). That is about 0.8 instructions per 4-bit weight
// where fp16 dequantisation took 2.6, which made the fp16 kernel as much issue- as memory-bound (ncu: 58% SM
// throughput at 0.51 of the copy bandwidth).
// A block covers 128 outputs (4 per lane) and its 8 warps split its K range; each warp streams its part in chunks,
// the next chunk's loads (weights, scales and the raw inputs) in flight while it forms and quantises one chunk's
// inputs in shared memory (plain, RMSNorm-weighted or SiLU-gated, GemvInput; no block barrier) and multiplies.
// The grid is one wave (plan_gemv). A K split across blocks ends in the last-arriving block of the tile, which
// sums the partials in a fixed order (deterministic), so there is one launch per product.
// dp4a exists from sm_61: this is also Xavier's (sm_72) path.
#include "cuda/arrival.h"
#include "cuda/dependent_launch.h"
#include "cuda/ops.h"
#include "cuda/weight_load.h"

#include <algorithm>
#include <cstdlib>
#include <type_traits>
#include <utility>

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kTileN = 32 * 4;  // outputs per block: 4 per lane, all warps on the same columns
constexpr int kXBlock = 32;     // inputs per int8 quantisation block (as the CPU's kQ4Block)
constexpr int kMaxChunks = 64;  // per warp (a bound for the K split's arithmetic only)

// (1024 + nibble) in both halves, from the nibbles at bits 0 and 16 of w.
__device__ __forceinline__ __half2 nibbles_to_half2(uint32_t w) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xea;" : "=r"(r) : "r"(w), "n"(0x000f000f), "n"(0x64006400));
  return *reinterpret_cast<__half2*>(&r);
}

// Zero point of column n in AWQ's packed qzeros word (nibble i holds column 8c + [0,2,4,6,1,3,5,7][i]).
__device__ __forceinline__ int awq_nibble(uint32_t word, int n) {
  return int(word >> (4 * ((n & 1) * 4 + (n & 7) / 2))) & 15;
}

using InputKind = GemvInput::Kind;

// A warp's quantised inputs of one chunk: int8 values, per 32 inputs the scale, per 16 the sum of q. Aligned so
// that every warp's copy (an array of them in shared memory) takes the multiplies' 8-byte loads.
template <int kInputs>
struct alignas(16) StagedInputs {
  int8_t q[kInputs];
  float d[kInputs / kXBlock];
  int sum[kInputs / 16];
};

// A lane's V raw inputs of one chunk (with the up half or the norm weights of a fused input), loaded with the
// chunk's weights and formed and quantised (stage) just before its product.
template <int V, InputKind M>
struct InputRun {
  float x[V], aux[M == InputKind::kPlain ? 1 : V];

  __device__ __forceinline__ void load(const GemvInput& in, int K, int k0, int lane) {
    const int k = k0 + V * lane;
    load_run<true>(in.src + k, x);
    if constexpr (M == InputKind::kSiluMul) load_run<true>(in.src + K + k, aux);
    if constexpr (M == InputKind::kRmsNorm) load_run<false>(in.norm_w + k, aux);
  }

  // Rows the previous kernel wrote are read through L2 (ld.global.cg): under a dependent launch this kernel was
  // resident while they were written, so the read-only path (ld.global.nc) could return stale lines.
  template <bool kWritten>
  __device__ __forceinline__ static void load_run(const float* p, float* v) {
    if constexpr (V == 4) {
      const auto* p4 = reinterpret_cast<const float4*>(p);
      const float4 t = kWritten ? __ldcg(p4) : __ldg(p4);
      v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
    } else if constexpr (V == 2) {
      const auto* p2 = reinterpret_cast<const float2*>(p);
      const float2 t = kWritten ? __ldcg(p2) : __ldg(p2);
      v[0] = t.x, v[1] = t.y;
    } else {
      v[0] = kWritten ? __ldcg(p) : __ldg(p);
    }
  }

  // Forms the inputs (gate or norm weights applied), quantises them per 32 into the warp's `st` and returns this
  // lane's sum of squares of the raw inputs (RMSNorm: 1/rms scales the product's sum at the end).
  __device__ __forceinline__ float stage(int lane, StagedInputs<32 * V>& st) const {
    constexpr int kLanesPerBlock = kXBlock / V, kLanesPerSum = 16 / V;
    float v[V], ss = 0.0f;
#pragma unroll
    for (int i = 0; i < V; ++i) {
      v[i] = x[i];
      if constexpr (M == InputKind::kSiluMul) {
        // Fast division: g / (1 + e^-g) is 0 or g well before the approximation matters.
        v[i] = __fdividef(v[i], 1.0f + __expf(-v[i])) * aux[i];
      } else if constexpr (M == InputKind::kRmsNorm) {
        ss += v[i] * v[i];
        v[i] *= aux[i];
      }
    }
    float amax = 0.0f;
#pragma unroll
    for (int i = 0; i < V; ++i) amax = fmaxf(amax, fabsf(v[i]));
#pragma unroll
    for (int o = kLanesPerBlock / 2; o > 0; o /= 2) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    const float d = amax / 127.0f, inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    int sum = 0;
    uint32_t packed = 0;
#pragma unroll
    for (int i = 0; i < V; ++i) {
      const int qv = __float2int_rn(v[i] * inv);
      sum += qv;
      packed |= uint32_t(qv & 0xff) << (8 * i);
    }
#pragma unroll
    for (int o = kLanesPerSum / 2; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    __syncwarp();  // every lane is done reading the previous chunk staged here
    if constexpr (V == 4) reinterpret_cast<uint32_t*>(st.q)[lane] = packed;
    else if constexpr (V == 2) reinterpret_cast<uint16_t*>(st.q)[lane] = uint16_t(packed);
    else st.q[lane] = int8_t(packed);
    if (lane % kLanesPerBlock == 0) st.d[lane / kLanesPerBlock] = d;
    if (lane % kLanesPerSum == 0) st.sum[lane / kLanesPerSum] = sum;
    __syncwarp();
    return ss;
  }
};

// Dot products of 4-bit weights (a word: 8 inputs of one output, see the layout above) with staged inputs.
__device__ __forceinline__ int dot_4bit(uint32_t word, int2 x, int acc) {
  acc = __dp4a(int(word & 0x0f0f0f0fu), x.x, acc);
  return __dp4a(int((word >> 4) & 0x0f0f0f0fu), x.y, acc);
}

// Format policies: the weight, inputs per 16-byte vector, and a lane's registers for U vectors of 4 outputs with
// load() (before any use) and multiply() (acc[j] += chunk's w(k, 4 c4 + j) * x̂(k)).
struct AwqFormat {
  using Weight = W4Weight;
  static constexpr int kInputsPerVector = 8;
  template <int U>
  struct Regs {
    static constexpr int kBlocks = U * 8 / kXBlock;
    uint4 q[U];
    uint2 s[kBlocks];  // 4 fp16 scales
    uint32_t z[kBlocks];
    __device__ __forceinline__ void load(const Weight& w, int k0, int c4) {
      const int wpr = w.n / 4;
      const uint4* qp = reinterpret_cast<const uint4*>(w.qweight) + int64_t(k0 / 8) * wpr + c4;
#pragma unroll
      for (int u = 0; u < U; ++u) q[u] = load_weights(qp + int64_t(u) * wpr);
#pragma unroll
      for (int b = 0; b < kBlocks; ++b) {
        const int g = (k0 + b * kXBlock) / w.group;
        s[b] = __ldg(reinterpret_cast<const uint2*>(w.scales + int64_t(g) * w.n) + c4);
        z[b] = __ldg(w.qzeros + int64_t(g) * (w.n / 8) + c4 / 2);
      }
    }
    __device__ __forceinline__ void multiply(const StagedInputs<8 * U>& st, int c4, float acc[4]) const {
#pragma unroll
      for (int b = 0; b < kBlocks; ++b) {
        int dot[4] = {0, 0, 0, 0};
#pragma unroll
        for (int u = b * 4; u < b * 4 + 4; ++u) {
          const int2 xw = *reinterpret_cast<const int2*>(st.q + 8 * u);  // inputs 8u..8u+3, 8u+4..8u+7
          dot[0] = dot_4bit(q[u].x, xw, dot[0]);
          dot[1] = dot_4bit(q[u].y, xw, dot[1]);
          dot[2] = dot_4bit(q[u].z, xw, dot[2]);
          dot[3] = dot_4bit(q[u].w, xw, dot[3]);
        }
        const int xsum = st.sum[2 * b] + st.sum[2 * b + 1];
        const __half* sc = reinterpret_cast<const __half*>(&s[b]);
#pragma unroll
        for (int j = 0; j < 4; ++j)
          acc[j] += __half2float(sc[j]) * st.d[b] * float(dot[j] - awq_nibble(z[b], 4 * c4 + j) * xsum);
      }
    }
  };
};

// f32 scale and minimum of 4 outputs for the group of input k.
__device__ __forceinline__ void load_scale_min(const QuantWeight& w, int k, int c4, float4& s, float4& m) {
  const int64_t at = int64_t(k / w.group) * (w.n / 4) + c4;
  s = __ldg(reinterpret_cast<const float4*>(w.scales) + at);
  m = __ldg(reinterpret_cast<const float4*>(w.mins) + at);
}

__device__ __forceinline__ void add_scaled(float acc[4], float4 s, float4 m, float d, const int dot[4], int xsum) {
  acc[0] += d * (s.x * float(dot[0]) - m.x * float(xsum));
  acc[1] += d * (s.y * float(dot[1]) - m.y * float(xsum));
  acc[2] += d * (s.z * float(dot[2]) - m.z * float(xsum));
  acc[3] += d * (s.w * float(dot[3]) - m.w * float(xsum));
}

struct Float4Format {  // QuantWeight, bits 4 (group: a multiple of 32)
  using Weight = QuantWeight;
  static constexpr int kInputsPerVector = 8;
  template <int U>
  struct Regs {
    static constexpr int kBlocks = U * 8 / kXBlock;
    uint4 q[U];
    float4 s[kBlocks], m[kBlocks];
    __device__ __forceinline__ void load(const Weight& w, int k0, int c4) {
      const int wpr = w.n / 4;
      const uint4* qp = reinterpret_cast<const uint4*>(w.q) + int64_t(k0 / 8) * wpr + c4;
#pragma unroll
      for (int u = 0; u < U; ++u) q[u] = load_weights(qp + int64_t(u) * wpr);
#pragma unroll
      for (int b = 0; b < kBlocks; ++b) load_scale_min(w, k0 + b * kXBlock, c4, s[b], m[b]);
    }
    __device__ __forceinline__ void multiply(const StagedInputs<8 * U>& st, int, float acc[4]) const {
#pragma unroll
      for (int b = 0; b < kBlocks; ++b) {
        int dot[4] = {0, 0, 0, 0};
#pragma unroll
        for (int u = b * 4; u < b * 4 + 4; ++u) {
          const int2 xw = *reinterpret_cast<const int2*>(st.q + 8 * u);
          dot[0] = dot_4bit(q[u].x, xw, dot[0]);
          dot[1] = dot_4bit(q[u].y, xw, dot[1]);
          dot[2] = dot_4bit(q[u].z, xw, dot[2]);
          dot[3] = dot_4bit(q[u].w, xw, dot[3]);
        }
        add_scaled(acc, s[b], m[b], st.d[b], dot, st.sum[2 * b] + st.sum[2 * b + 1]);
      }
    }
  };
};

struct Float8Format {  // QuantWeight, bits 8 (group 16 or a multiple of 32)
  using Weight = QuantWeight;
  static constexpr int kInputsPerVector = 4;
  template <int U>
  struct Regs {
    static constexpr int kSubs = U * 4 / 16;  // 16-input sub-blocks (a Q6_K group) per chunk
    uint4 q[U];
    float4 s[kSubs], m[kSubs];
    __device__ __forceinline__ void load(const Weight& w, int k0, int c4) {
      const int wpr = w.n / 4;
      const uint4* qp = reinterpret_cast<const uint4*>(w.q) + int64_t(k0 / 4) * wpr + c4;
#pragma unroll
      for (int u = 0; u < U; ++u) q[u] = load_weights(qp + int64_t(u) * wpr);
#pragma unroll
      for (int b = 0; b < kSubs; ++b) load_scale_min(w, k0 + b * 16, c4, s[b], m[b]);
    }
    __device__ __forceinline__ void multiply(const StagedInputs<4 * U>& st, int, float acc[4]) const {
#pragma unroll
      for (int b = 0; b < kSubs; ++b) {
        int dot[4] = {0, 0, 0, 0};
#pragma unroll
        for (int u = b * 4; u < b * 4 + 4; ++u) {
          const int xw = *reinterpret_cast<const int*>(st.q + 4 * u);  // inputs 4u..4u+3
          dot[0] = __dp4a(int(q[u].x), xw, dot[0]);
          dot[1] = __dp4a(int(q[u].y), xw, dot[1]);
          dot[2] = __dp4a(int(q[u].z), xw, dot[2]);
          dot[3] = __dp4a(int(q[u].w), xw, dot[3]);
        }
        add_scaled(acc, s[b], m[b], st.d[b / 2], dot, st.sum[b]);
      }
    }
  };
};

template <class F>
struct GemvArgs {
  typename F::Weight w;
  GemvInput x;
  Epilogue e;
  SplitKScratch s;
};

// A lane's share of one chunk: U weight vectors of its 4 outputs, their scales, and its raw inputs.
template <class F, int U, InputKind M>
struct Chunk {
  static constexpr int kInputs = U * F::kInputsPerVector;
  typename F::template Regs<U> w;
  InputRun<kInputs / 32, M> in;
  __device__ __forceinline__ void load(const GemvArgs<F>& a, int k0, int c4, int lane) {
    if (c4 < a.w.n / 4) w.load(a.w, k0, c4);
    in.load(a.x, a.w.k, k0, lane);
  }
};

// Block (x, y): outputs 128x .. 128x + 127; warp w of it inputs from (8y + w) * chunks * C, `chunks` chunks of C
// inputs (fewer at the end of K). A lane keeps the next chunk's loads in flight while it stages and multiplies one.
template <class F, int U, InputKind M>
__global__ void __launch_bounds__(kThreads) quant_gemv_kernel(GemvArgs<F> a, int chunks) {
  using C = Chunk<F, U, M>;
  static_assert(C::kInputs % kXBlock == 0 && C::kInputs <= 128, "a chunk covers whole 32-input blocks");
  __shared__ float red[kWarps][kTileN];
  __shared__ float warp_ss[kWarps];
  __shared__ StagedInputs<C::kInputs> inputs[kWarps];
  __shared__ bool is_last;
  const int N = a.w.n, K = a.w.k, wpr = N / 4;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int c4 = blockIdx.x * 32 + lane;  // this lane's 4 columns: 4 c4 .. 4 c4 + 3
  const int k0 = (blockIdx.y * kWarps + warp) * chunks * C::kInputs;  // C::kInputs | K (plan_gemv)
  const int n = max(0, min(chunks, (K - k0) / C::kInputs));           // chunks of this warp
  const bool active = c4 < wpr;
  pdl_trigger();

  float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  float ss = 0.0f;
  if (n <= 0) pdl_wait();
  if (n > 0) {
    // Two chunks per round, so that the two register sets need no copies.
    StagedInputs<C::kInputs>& st = inputs[warp];
    C c0, c1;
    // The first weights do not depend on the previous kernel: under a dependent launch they are loaded while it
    // finishes; the inputs (and everything written) wait for it.
    if (c4 < wpr) c0.w.load(a.w, k0, c4);
    pdl_wait();
    c0.in.load(a.x, K, k0, lane);
    for (int i = 0; i < n; i += 2) {
      if (i + 1 < n) c1.load(a, k0 + (i + 1) * C::kInputs, c4, lane);
      ss += c0.in.stage(lane, st);
      if (active) c0.w.multiply(st, c4, acc);
      if (i + 1 >= n) break;
      if (i + 2 < n) c0.load(a, k0 + (i + 2) * C::kInputs, c4, lane);
      ss += c1.in.stage(lane, st);
      if (active) c1.w.multiply(st, c4, acc);
    }
  }

  // The 8 warps' K ranges of each output, then (split K) the blocks'.
  if (c4 < wpr) *reinterpret_cast<float4*>(&red[warp][4 * lane]) = make_float4(acc[0], acc[1], acc[2], acc[3]);
  if constexpr (M == InputKind::kRmsNorm) {
#pragma unroll
    for (int o = 16; o > 0; o /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if (lane == 0) warp_ss[warp] = ss;
  }
  const int t = threadIdx.x;
  const int out = blockIdx.x * kTileN + t;
  // The epilogue's bias and accumulated output, requested now so that their round trip overlaps the reductions
  // instead of following them (every block asks; the one that writes uses them).
  const bool writes = t < kTileN && out < N;
  const float bias = writes && a.e.bias ? a.e.bias[out] : 0.0f;
  const float prior = writes && a.e.accumulate ? __ldcg(a.e.y + out) : 0.0f;
  __syncthreads();
  float sum = 0.0f;  // warps past K wrote zeros
  if (t < kTileN && out < N) {
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
    __syncthreads();  // every partial written before the arrival is counted (arrival.h)
    if (t == 0) is_last = arrive(&a.s.counters[blockIdx.x]) == gridDim.y - 1;
    __syncthreads();
    if (!is_last) return;
    if (t == 0) a.s.counters[blockIdx.x] = 0;  // ready for the next launch
    if (t >= kTileN || out >= N) return;
    // The splits' partials (and sums of squares) requested kBatch at a time, each batch one round trip to L2,
    // and summed in a fixed order (deterministic).
    constexpr int kBatch = 8;
    const int splits = int(gridDim.y);
    sum = 0.0f, block_ss = 0.0f;
    for (int j0 = 0; j0 < splits; j0 += kBatch) {
      float v[kBatch], q[kBatch];
#pragma unroll
      for (int i = 0; i < kBatch; ++i) {
        const bool in = j0 + i < splits;
        v[i] = in ? __ldcg(a.s.partial + int64_t(j0 + i) * N + out) : 0.0f;
        q[i] = in && M == InputKind::kRmsNorm ? __ldcg(partial_ss + j0 + i) : 0.0f;
      }
#pragma unroll
      for (int i = 0; i < kBatch; ++i) sum += v[i], block_ss += q[i];
    }
  }
  if constexpr (M == InputKind::kRmsNorm) sum *= rsqrtf(block_ss / float(a.w.k) + a.x.eps);
  if (writes) {
    float v = sum;
    if (a.e.bias) v += bias;
    if (a.e.accumulate) v += prior;
    a.e.y[out] = v;
  }
}

// How a product is cut: U vectors per lane and chunk, `chunks` chunks per warp, grid (tiles, splits).
struct GemvPlan {
  int u = 8, chunks = 1;
  dim3 grid;
};

// Calls fn(std::integral_constant<int, U>) for the plan's U: 4, 8 or 16 vectors for the 4-bit formats (32, 64 or
// 128 inputs a chunk), 8 for the 8-bit one (32 inputs; 16 would not leave two blocks a multiprocessor).
template <class F, class Fn>
void with_unroll(int u, Fn&& fn) {
  if constexpr (F::kInputsPerVector == 8) {
    if (u == 16) return fn(std::integral_constant<int, 16>{});
    if (u == 4) return fn(std::integral_constant<int, 4>{});
  }
  fn(std::integral_constant<int, 8>{});
}

template <class F, int U, InputKind M>
int resident_blocks() {
  static const int n = [] {
    int b = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, quant_gemv_kernel<F, U, M>, kThreads, 0) != cudaSuccess) b = 1;
    return std::max(b, 1);
  }();
  return n;
}

template <class F>
int resident_blocks(int u, InputKind kind) {
  int n = 1;
  with_unroll<F>(u, [&](auto U) {
    switch (kind) {
      case InputKind::kPlain: n = resident_blocks<F, U(), InputKind::kPlain>(); break;
      case InputKind::kRmsNorm: n = resident_blocks<F, U(), InputKind::kRmsNorm>(); break;
      case InputKind::kSiluMul: n = resident_blocks<F, U(), InputKind::kSiluMul>(); break;
    }
  });
  return n;
}

// One wave: as many K splits as let the tiles fill the blocks that are resident at once (no block waits for a
// second wave), each warp streaming its K range chunk by chunk. JETCHAT_W4_UNROLL / JETCHAT_W4_CHUNKS override
// (measurement only).
template <class F>
GemvPlan plan_gemv(const typename F::Weight& w, InputKind kind, int sm_count) {
  static const int forced_u = [] { const char* e = std::getenv("JETCHAT_W4_UNROLL"); return e ? std::atoi(e) : 0; }();
  static const int forced_chunks = [] { const char* e = std::getenv("JETCHAT_W4_CHUNKS"); return e ? std::atoi(e) : 0; }();
  GemvPlan p;
  p.u = forced_u == 4 || forced_u == 16 ? forced_u : 8;
  if (F::kInputsPerVector != 8) p.u = 8;
  while (p.u > 4 && w.k % (F::kInputsPerVector * p.u)) p.u /= 2;
  const int chunk = F::kInputsPerVector * p.u;
  const int64_t tiles = (w.n + kTileN - 1) / kTileN;
  const int64_t warp_chunks = w.k / chunk;
  const int64_t resident = int64_t(resident_blocks<F>(p.u, kind)) * sm_count;
  const int64_t splits = std::clamp<int64_t>(resident / tiles, 1, (warp_chunks + kWarps - 1) / kWarps);
  p.chunks = int(std::min<int64_t>((warp_chunks + splits * kWarps - 1) / (splits * kWarps), kMaxChunks));
  if (forced_chunks > 0) p.chunks = std::min(forced_chunks, kMaxChunks);
  const int64_t per_block = int64_t(p.chunks) * kWarps;
  p.grid = dim3(unsigned(tiles), unsigned((warp_chunks + per_block - 1) / per_block));
  return p;
}

template <class F>
int64_t scratch_floats(const typename F::Weight& w, int sm_count) {
  int64_t most = 0;
  for (InputKind kind : {InputKind::kPlain, InputKind::kRmsNorm, InputKind::kSiluMul}) {
    const dim3 g = plan_gemv<F>(w, kind, sm_count).grid;
    if (g.y > 1) most = std::max(most, int64_t(g.y) * w.n + int64_t(g.x) * g.y);
  }
  return most;
}

template <class F>
cudaError_t gemv(const typename F::Weight& w, const GemvInput& x, const Epilogue& e, const SplitKScratch& s,
                 int sm_count, cudaStream_t stream) {
  if (x.kind == InputKind::kRmsNorm && !x.norm_w) return cudaErrorInvalidValue;
  const GemvPlan p = plan_gemv<F>(w, x.kind, sm_count);
  if (p.grid.y > 1 && (int64_t(p.grid.y) * w.n + int64_t(p.grid.x) * p.grid.y > s.partial_floats ||
                       int(p.grid.x) > s.counter_count))
    return cudaErrorInvalidValue;
  const GemvArgs<F> a{w, x, e, s};
  cudaError_t err = cudaSuccess;
  with_unroll<F>(p.u, [&](auto U) {
    auto* kernel = x.kind == InputKind::kPlain     ? quant_gemv_kernel<F, U(), InputKind::kPlain>
                   : x.kind == InputKind::kRmsNorm ? quant_gemv_kernel<F, U(), InputKind::kRmsNorm>
                                                   : quant_gemv_kernel<F, U(), InputKind::kSiluMul>;
    err = launch_kernel(dependent_launch_enabled(), kernel, p.grid, dim3(kThreads), 0, stream, a, p.chunks);
  });
  return err;
}

// One thread per 8 AWQ words (inputs 8kb..8kb+7 of one word column, 8 outputs) -> two output vectors.
__global__ void w4_repack_kernel(const uint32_t* awq, uint4* out, int n, int kb_count) {
  const int wpr = n / 8;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= int64_t(kb_count) * wpr) return;
  const int64_t kb = i / wpr;
  const int word = int(i % wpr);
  uint32_t rows[8];
#pragma unroll
  for (int r = 0; r < 8; ++r) rows[r] = awq[(8 * kb + r) * wpr + word];
  uint32_t cols[8];
#pragma unroll
  for (int c = 0; c < 8; ++c) {
    uint32_t v = 0;
#pragma unroll
    for (int b = 0; b < 4; ++b)
      v |= uint32_t(awq_nibble(rows[b], c) | awq_nibble(rows[b + 4], c) << 4) << (8 * b);
    cols[c] = v;
  }
  uint4* o = out + kb * (n / 4) + 2 * word;
  o[0] = make_uint4(cols[0], cols[1], cols[2], cols[3]);
  o[1] = make_uint4(cols[4], cols[5], cols[6], cols[7]);
}

// Thread (x, y): the vector of inputs 8kb..8kb+7 of outputs 4c..4c+3 -> one 16-byte run of 8 fp16 per output.
__global__ void w4_dequantize_kernel(W4Weight w, int row0, int rows, __half* out) {
  const int c4 = row0 / 4 + blockIdx.x * blockDim.x + threadIdx.x;
  const int kb = blockIdx.y * blockDim.y + threadIdx.y;
  if (c4 >= (row0 + rows) / 4 || kb >= w.k / 8) return;
  const int g = kb * 8 / w.group;  // 8 | group, so the 8 inputs share a group
  const uint4 qv = __ldg(reinterpret_cast<const uint4*>(w.qweight) + int64_t(kb) * (w.n / 4) + c4);
  const uint32_t zw = __ldg(w.qzeros + int64_t(g) * (w.n / 8) + c4 / 2);
  const uint32_t words[4] = {qv.x, qv.y, qv.z, qv.w};
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const int n = 4 * c4 + j;
    const __half2 s = __half2half2(w.scales[int64_t(g) * w.n + n]);
    const __half2 z = __half2half2(__int2half_rn(1024 + awq_nibble(zw, n)));
    // Bytes 0 and 2 -> inputs 0 and 2 (low nibbles) or 4 and 6 (high); the word shifted by 8 -> 1 and 3, 5 and 7.
    const __half2 lo02 = __hmul2(__hsub2(nibbles_to_half2(words[j]), z), s);
    const __half2 lo13 = __hmul2(__hsub2(nibbles_to_half2(words[j] >> 8), z), s);
    const __half2 hi46 = __hmul2(__hsub2(nibbles_to_half2(words[j] >> 4), z), s);
    const __half2 hi57 = __hmul2(__hsub2(nibbles_to_half2(words[j] >> 12), z), s);
    __half2 run[4];
    run[0] = __lows2half2(lo02, lo13);    // inputs 0, 1
    run[1] = __highs2half2(lo02, lo13);   // 2, 3
    run[2] = __lows2half2(hi46, hi57);    // 4, 5
    run[3] = __highs2half2(hi46, hi57);   // 6, 7
    *reinterpret_cast<uint4*>(out + int64_t(n - row0) * w.k + 8 * kb) = *reinterpret_cast<const uint4*>(run);
  }
}

// Thread (x, y): vector (y, x) of a QuantWeight -> one run of fp16 per output (8 inputs for bits 4, 4 for bits 8).
__global__ void quant_dequantize_kernel(QuantWeight w, int row0, int rows, __half* out) {
  const int c4 = row0 / 4 + blockIdx.x * blockDim.x + threadIdx.x;
  const int per = w.bits == 4 ? 8 : 4;  // inputs per vector
  const int kv = blockIdx.y * blockDim.y + threadIdx.y;
  if (c4 >= (row0 + rows) / 4 || kv >= w.k / per) return;
  const int k0 = kv * per;
  const uint4 qv = __ldg(reinterpret_cast<const uint4*>(w.q) + int64_t(kv) * (w.n / 4) + c4);
  const uint32_t words[4] = {qv.x, qv.y, qv.z, qv.w};
  const int64_t g = int64_t(k0 / w.group) * w.n;  // per | group: a vector's inputs share a group
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const int n = 4 * c4 + j;
    const float s = __ldg(w.scales + g + n), m = __ldg(w.mins + g + n);
    __half run[8];
    if (w.bits == 4) {
#pragma unroll
      for (int b = 0; b < 4; ++b) {
        run[b] = __float2half(float((words[j] >> (8 * b)) & 15) * s - m);
        run[b + 4] = __float2half(float((words[j] >> (8 * b + 4)) & 15) * s - m);
      }
      *reinterpret_cast<uint4*>(out + int64_t(n - row0) * w.k + k0) = *reinterpret_cast<const uint4*>(run);
    } else {
#pragma unroll
      for (int b = 0; b < 4; ++b) run[b] = __float2half(float(int8_t(words[j] >> (8 * b))) * s - m);
      *reinterpret_cast<uint2*>(out + int64_t(n - row0) * w.k + k0) = *reinterpret_cast<const uint2*>(run);
    }
  }
}

}  // namespace

int64_t w4_gemv_scratch_floats(const W4Weight& w, int sm_count) { return scratch_floats<AwqFormat>(w, sm_count); }

cudaError_t w4_repack(const uint32_t* awq_qweight, uint32_t* out, int n, int k, cudaStream_t stream) {
  if (n % 8 || k % 8) return cudaErrorInvalidValue;
  const int64_t threads = int64_t(k / 8) * (n / 8);
  w4_repack_kernel<<<unsigned((threads + 255) / 256), 256, 0, stream>>>(awq_qweight, reinterpret_cast<uint4*>(out),
                                                                         n, k / 8);
  return cudaGetLastError();
}

cudaError_t w4_gemv(const W4Weight& w, const GemvInput& x, const Epilogue& e, const SplitKScratch& s, int sm_count,
                    cudaStream_t stream) {
  if (w.n % 8 || w.group % kXBlock || w.k % w.group) return cudaErrorInvalidValue;
  return gemv<AwqFormat>(w, x, e, s, sm_count, stream);
}

bool quant_supported(const QuantWeight& w) {
  if (w.n % 8 || w.k % kXBlock || w.group <= 0 || w.k % w.group) return false;
  return w.bits == 4 ? w.group % kXBlock == 0 : w.bits == 8 && (w.group == 16 || w.group % kXBlock == 0);
}

int64_t quant_gemv_scratch_floats(const QuantWeight& w, int sm_count) {
  return w.bits == 4 ? scratch_floats<Float4Format>(w, sm_count) : scratch_floats<Float8Format>(w, sm_count);
}

cudaError_t quant_gemv(const QuantWeight& w, const GemvInput& x, const Epilogue& e, const SplitKScratch& s,
                       int sm_count, cudaStream_t stream) {
  if (!quant_supported(w)) return cudaErrorInvalidValue;
  return w.bits == 4 ? gemv<Float4Format>(w, x, e, s, sm_count, stream) : gemv<Float8Format>(w, x, e, s, sm_count, stream);
}

cudaError_t quant_dequantize(const QuantWeight& w, int row0, int rows, __half* out, cudaStream_t stream) {
  if (!quant_supported(w) || row0 % 8 || rows % 8) return cudaErrorInvalidValue;
  const dim3 block(32, 8);
  const dim3 grid(unsigned((rows / 4 + 31) / 32), unsigned((w.k / (w.bits == 4 ? 8 : 4) + 7) / 8));
  quant_dequantize_kernel<<<grid, block, 0, stream>>>(w, row0, rows, out);
  return cudaGetLastError();
}

cudaError_t w4_dequantize(const W4Weight& w, int row0, int rows, __half* out, cudaStream_t stream) {
  if (row0 % 8 || rows % 8 || w.k % 8 || w.group % 8) return cudaErrorInvalidValue;
  const dim3 block(32, 8);
  const dim3 grid(unsigned((rows / 4 + 31) / 32), unsigned((w.k / 8 + 7) / 8));
  w4_dequantize_kernel<<<grid, block, 0, stream>>>(w, row0, rows, out);
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
