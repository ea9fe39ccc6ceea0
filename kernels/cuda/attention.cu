// Causal attention over the KV cache (fp16, or int8 with a scale per token and KV head), split along the
// sequence (flash-decoding).
//
// Block (query token, KV head, split): all query heads of the GQA group are served by one block, so each K/V
// byte is read once per group. A thread owns 8 dimensions (a chunk) of a head; the D / 8 threads of a key form
// a lane group, kKeyPar lane groups handle keys side by side and a tile is kRounds keys per lane group. At the
// start of a tile every thread issues all of its K and V loads for the tile at once, so a tile costs one global
// round trip (the next tile's keys are requested while this one's softmax and P·V run). Each lane group keeps
// its own online softmax (max, sum, output) over its keys, so the loop over the tiles has no block barrier;
// the lane groups are merged at the end, by shuffles within a warp and then through shared memory. A split
// that covers the whole context writes the output itself; otherwise each split leaves (max, sum, unnormalised
// output) per head and the splits are combined.
// Decode (one token) is a single kernel: RoPE on the fly for the query and the new key; the block whose split
// holds the new position rounds (fp16) or quantises (int8) the new key and value, writes them to the cache and
// scores them from its own copy. The cached keys are requested first, before the RoPE angles and, under a
// programmatic dependent launch (sm_90), before waiting for the q|k|v product; the last split of each KV head
// to finish (an arrival counter) combines the group's partial results.
// Plain sm_53+ instructions: also Xavier's (sm_72) path.
#include <algorithm>
#include <type_traits>

#include "cuda/arrival.h"
#include "cuda/dependent_launch.h"
#include "cuda/ops.h"
#include "kv_quant.h"

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxGroup = 8;         // query heads per KV head (GQA group) handled by one block
constexpr int kPrefillMaxSplits = 8;  // per (token, KV head): n tokens already give n x KV heads blocks
constexpr int kMaxSplits = 64;        // decode: splits per KV head at most (a combine reads them in one batch)
constexpr int kDecodeMinSplit = 64;   // decode: keys per split at least (shorter: the combine costs more than it saves)

// Keys handled side by side for head size D (one thread per 8 dimensions). A tile is kRounds keys per lane
// group, its K and V loads and its scores in registers. 4 rounds: 8 made the unrolled kernel twice as long
// (73 KB of code, fetched cold in every layer of a decode step) and decode slower (H100, 7B: 448 -> 462
// tok/s with 4; 2 lost at 4K context).
constexpr int kRounds = 4;
__host__ __device__ constexpr int key_par(int D) { return kThreads / (D / 8); }

struct Params {
  AttentionArgs a;
  float* scratch;      // [n * H][splits][2 + D]: max, sum, output
  unsigned* counters;  // decode: one per KV head
  int split_len, splits;  // prefill: keys per split; the grid's splits (the scratch's stride)
  float scale;
};

// 8 consecutive cache elements of one head as loaded (fp16: 16 bytes, int8: 8 bytes) and as floats (int8 without
// its scale, which the caller applies once per key).
template <typename T>
struct Chunk;
template <>
struct Chunk<__half> {
  using Raw = uint4;
  __device__ static void to_float(const Raw& r, float* f) {
    const __half2* h = reinterpret_cast<const __half2*>(&r);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 v = __half22float2(h[i]);
      f[2 * i] = v.x, f[2 * i + 1] = v.y;
    }
  }
};
template <>
struct Chunk<int8_t> {
  using Raw = uint2;
  __device__ static void to_float(const Raw& r, float* f) {
    const int8_t* b = reinterpret_cast<const int8_t*>(&r);
#pragma unroll
    for (int i = 0; i < 8; ++i) f[i] = float(b[i]);
  }
};

// Decode: keys per split for a context of `len` keys: the length spread over the grid's splits, at least
// kDecodeMinSplit keys each (a short context is one split that writes its output directly).
__device__ __forceinline__ int decode_split_len(const Params& p, int len) {
  const int per = (len + p.splits - 1) / p.splits;
  return (per + kDecodeMinSplit - 1) / kDecodeMinSplit * kDecodeMinSplit;
}

__device__ __forceinline__ int position0(const AttentionArgs& a) { return a.pos_dev ? *a.pos_dev : a.pos0; }

// The rotary embedding (HF rotate_half: pairs d, d + half): element d of a head is rotated with the element
// partner(d); x = head[d], y = head[partner(d)], cos/sin per pair.
__device__ __forceinline__ int partner(int d, int half) { return d < half ? d + half : d < 2 * half ? d - half : d; }
__device__ __forceinline__ float rotated(float x, float y, int d, int half, const float* cs, const float* sn) {
  if (d < half) return x * cs[d] - y * sn[d];
  if (d < 2 * half) return x * cs[d - half] + y * sn[d - half];
  return x;
}

// cos and sin of position * inv_freq[j] for j < half: the angle reduced modulo 2π in double (at position 32K
// an f32 product loses the low bits of the phase), as the rope kernel does.
__device__ void rope_angles(const float* inv_freq, int half, int pos, float* cs, float* sn) {
  for (int j = threadIdx.x; j < half; j += blockDim.x) {
    const double two_pi = 6.283185307179586476925;
    double a = double(pos) * double(inv_freq[j]);
    a -= two_pi * floor(a / two_pi);
    sincosf(float(a), &sn[j], &cs[j]);
  }
}

// One warp stores x[0..D) (lane-strided, kPer values per lane) as row `pos` of KV head `h` of a cache: rounded to
// fp16, or quantised to int8 with the head's scale (kv_quant.h). Returns the values as the cache holds them
// (int8: without the scale, which goes to *scale_out) in keep[D].
template <int D, typename T>
__device__ void store_head(const float (&x)[(D + 31) / 32], T* dst, float* scale_dst, float* keep, float* scale_out) {
  constexpr int kPer = (D + 31) / 32;
  const int lane = threadIdx.x % 32;
  if constexpr (std::is_same_v<T, int8_t>) {
    float amax = 0.0f;
#pragma unroll
    for (int i = 0; i < kPer; ++i) amax = fmaxf(amax, fabsf(x[i]));  // x is 0 beyond D
#pragma unroll
    for (int o = 16; o > 0; o /= 2) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    const float inv = kv_int8_inv_scale(amax);
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      const int d = lane + 32 * i;
      if (d >= D) break;
      const int8_t q = kv_int8_quantize(x[i], inv);
      dst[d] = q;
      if (keep) keep[d] = float(q);
    }
    if (lane == 0) {
      *scale_dst = kv_int8_scale(amax);
      if (scale_out) *scale_out = kv_int8_scale(amax);
    }
  } else {
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      const int d = lane + 32 * i;
      if (d >= D) break;
      const __half h = __float2half_rn(x[i]);
      dst[d] = h;
      if (keep) keep[d] = __half2float(h);
    }
    if (lane == 0 && scale_out) *scale_out = 1.0f;
  }
}

// Combines the `used` splits of query qi's heads h0 .. h0 + nh - 1 into the output (the whole block). Every load
// from the scratch is an L2 round trip, so they are issued in batches: each split's max and sum at once (a lane
// per split), then up to kBatch splits' outputs at once.
__device__ void combine_heads(const Params& p, int qi, int h0, int nh, int used) {
  constexpr int kBatch = 16;
  __shared__ float weight[kMaxGroup][kMaxSplits];  // exp(max_s - max) / sum, per head and split
  const AttentionArgs& a = p.a;
  const int D = a.head_dim, stride = 2 + D;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  auto split_base = [&](int h, int s) { return p.scratch + (int64_t(qi * a.heads + h0 + h) * p.splits + s) * stride; };
  for (int h = warp; h < nh; h += kWarps) {
    float m[kMaxSplits / 32], l[kMaxSplits / 32];
#pragma unroll
    for (int j = 0; j < kMaxSplits / 32; ++j) {
      const int s = lane + 32 * j;
      m[j] = s < used ? __ldcg(split_base(h, s)) : -INFINITY;
      l[j] = s < used ? __ldcg(split_base(h, s) + 1) : 0.0f;
    }
    float mx = -INFINITY;
#pragma unroll
    for (int j = 0; j < kMaxSplits / 32; ++j) mx = fmaxf(mx, m[j]);
#pragma unroll
    for (int o = 16; o > 0; o /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float total = 0.0f;
#pragma unroll
    for (int j = 0; j < kMaxSplits / 32; ++j) total += __expf(m[j] - mx) * l[j];
#pragma unroll
    for (int o = 16; o > 0; o /= 2) total += __shfl_xor_sync(0xffffffffu, total, o);
#pragma unroll
    for (int j = 0; j < kMaxSplits / 32; ++j) weight[h][lane + 32 * j] = __expf(m[j] - mx) / total;  // 0 past used
  }
  __syncthreads();
  for (int i = threadIdx.x; i < nh * D; i += blockDim.x) {
    const int h = i / D, d = i % D;
    float o = 0.0f;
    for (int s0 = 0; s0 < used; s0 += kBatch) {
      float v[kBatch];
#pragma unroll
      for (int j = 0; j < kBatch; ++j) v[j] = s0 + j < used ? __ldcg(split_base(h, s0 + j) + 2 + d) : 0.0f;
#pragma unroll
      for (int j = 0; j < kBatch; ++j) o += weight[h][min(s0 + j, kMaxSplits - 1)] * v[j];
    }
    a.out[int64_t(qi) * a.out_stride + int64_t(h0 + h) * D + d] = o;
  }
}

// Prefill: block t appends token t's K and V heads (one warp per head) at position pos0 + t.
template <int D, typename T>
__global__ void kv_append_kernel(AttentionArgs a) {
  constexpr int kPer = (D + 31) / 32;
  const int t = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t pos = position0(a) + t;
  const float* src = a.qkv + int64_t(t) * a.qkv_stride + int64_t(a.heads) * D;  // K heads, then V heads
  for (int job = warp; job < 2 * a.kv_heads; job += blockDim.x / 32) {
    const bool is_v = job >= a.kv_heads;
    const int h = job - (is_v ? a.kv_heads : 0);
    float x[kPer];
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      const int d = lane + 32 * i;
      x[i] = d < D ? src[int64_t(job) * D + d] : 0.0f;
    }
    T* cache = static_cast<T*>(is_v ? a.v_cache : a.k_cache);
    float* scales = is_v ? a.v_scale : a.k_scale;
    store_head<D, T>(x, cache + pos * a.kv_heads * D + int64_t(h) * D, scales ? scales + pos * a.kv_heads + h : nullptr,
                     nullptr, nullptr);
  }
}

// kDecode: one query (n == 1), RoPE on the fly when a.inv_freq is set, the append of the new key and value,
// and the combine in the last split to finish; otherwise the cache already holds the keys and a second kernel
// combines. G: the GQA group rounded up to a power of two (the loops over the heads have no run-time bound, so
// the dependency chains of all heads interleave; the heads beyond the group compute on a zero query and are
// never stored). Dynamic shared memory: kWarps x group x D floats (the warps' partial outputs).
//
// Each set of kChunks threads that shares a key (a "lane group") keeps its own online softmax (max, sum, output)
// over the keys it handles, so the loop over the tiles has no block-wide barrier: after the shuffle reduction of
// a score every thread of the lane group holds it. The lane groups' results are merged once at the end.
template <int D, int G, typename T, bool kDecode>
__global__ void __launch_bounds__(kThreads) attention_split_kernel(Params p) {
  pdl_trigger();  // the output projection's GEMV may start loading its weights
  constexpr int kChunks = D / 8;              // 8-dimension chunks of a head
  constexpr int kKeyPar = key_par(D);         // keys handled side by side (lane groups)
  constexpr int kTile = kRounds * kKeyPar;    // keys per tile
  constexpr int kPer = (D + 31) / 32;         // elements of a head per lane when one warp handles it
  constexpr int kQPer = (G * D + kThreads - 1) / kThreads;  // query elements per thread
  constexpr bool kInt8 = std::is_same_v<T, int8_t>;
  using Raw = typename Chunk<T>::Raw;
  __shared__ float q_s[G][D];
  __shared__ float cs[D / 2], sn[D / 2];
  __shared__ float new_k[D], new_v[D], new_scale[2];  // decode: the new key and value as the cache holds them
  __shared__ float m_w[kWarps][G], l_w[kWarps][G];    // each warp's max and sum per head
  __shared__ bool is_last;
  extern __shared__ __align__(16) float red[];  // [kWarps][group * D]

  const AttentionArgs& a = p.a;
  const int group = a.heads / a.kv_heads;
  const int qi = blockIdx.x / a.kv_heads, kvh = blockIdx.x % a.kv_heads;
  const int len = position0(a) + qi + 1;  // keys 0..position of this query
  const int split_len = kDecode ? decode_split_len(p, len) : p.split_len;
  const int start = blockIdx.y * split_len;
  if (start >= len) return;
  const int end = min(len, start + split_len);
  const int used = (len + split_len - 1) / split_len;
  const int kv_dim = a.kv_heads * D;
  const bool holds_new = kDecode && end == len;  // this split holds the new position (not read from the cache)
  const T* kc = static_cast<const T*>(a.k_cache);
  const T* vc = static_cast<const T*>(a.v_cache);
  const int c = threadIdx.x % kChunks, kp = threadIdx.x / kChunks;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  // This thread's keys of a tile: t0 + r * kKeyPar + kp. Their raw chunks (and int8 scales), loaded before use.
  // The cached keys were written by earlier steps, so they are requested before waiting for the previous kernel.
  Raw kr[kRounds], vr[kRounds];
  float ks[kRounds], vs[kRounds];
  auto cached = [&](int key) { return key < end && !(holds_new && key == len - 1); };
  auto load_k = [&](int t0) {
#pragma unroll
    for (int r = 0; r < kRounds; ++r) {
      const int key = t0 + r * kKeyPar + kp;
      const bool ok = cached(key);
      kr[r] = ok ? *reinterpret_cast<const Raw*>(kc + int64_t(key) * kv_dim + kvh * D + c * 8) : Raw{};
      if constexpr (kInt8) ks[r] = ok ? a.k_scale[int64_t(key) * a.kv_heads + kvh] : 0.0f;
    }
  };
  auto load_v = [&](int t0) {
#pragma unroll
    for (int r = 0; r < kRounds; ++r) {
      const int key = t0 + r * kKeyPar + kp;
      const bool ok = cached(key);
      vr[r] = ok ? *reinterpret_cast<const Raw*>(vc + int64_t(key) * kv_dim + kvh * D + c * 8) : Raw{};
      if constexpr (kInt8) vs[r] = ok ? a.v_scale[int64_t(key) * a.kv_heads + kvh] : 0.0f;
    }
  };
  load_k(start);
  load_v(start);
  const int half = kDecode && a.inv_freq ? a.half_rot : 0;
  if (half > 0) rope_angles(a.inv_freq, half, len - 1, cs, sn);
  pdl_wait();  // the query and the new key and value are the previous kernel's output

  // The query's elements (each with its rotation partner) and, in the block holding the new position, the new
  // key's (warp 0) and value's (warp 1). Read through L2: under a dependent launch the previous kernel wrote them
  // while this one was resident.
  const float* row = a.qkv + int64_t(qi) * a.qkv_stride;
  float qx[kQPer], qy[kQPer];
#pragma unroll
  for (int k = 0; k < kQPer; ++k) {
    const int i = threadIdx.x + k * kThreads, h = i / D, d = i % D;
    const float* head = row + int64_t(kvh * group + h) * D;
    qx[k] = i < group * D ? __ldcg(head + d) : 0.0f;  // heads beyond the group: a zero query
    qy[k] = i < group * D ? __ldcg(head + partner(d, half)) : 0.0f;
  }
  const bool appends = holds_new && warp < 2;
  float x[kPer], y[kPer];
  if (appends) {
    const float* src = row + int64_t(warp == 0 ? a.heads + kvh : a.heads + a.kv_heads + kvh) * D;
    const int rot = warp == 0 ? half : 0;  // values are not rotated
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      const int d = lane + 32 * i;
      x[i] = d < D ? __ldcg(src + d) : 0.0f;
      y[i] = d < D ? __ldcg(src + partner(d, rot)) : 0.0f;
    }
  }
  if (half > 0) __syncthreads();  // the angles
#pragma unroll
  for (int k = 0; k < kQPer; ++k) {
    const int i = threadIdx.x + k * kThreads;
    if (i < G * D) q_s[i / D][i % D] = rotated(qx[k], qy[k], i % D, half, cs, sn) * p.scale;
  }
  if (appends) {
#pragma unroll
    for (int i = 0; i < kPer; ++i) x[i] = rotated(x[i], y[i], lane + 32 * i, warp == 0 ? half : 0, cs, sn);
    const int64_t at = int64_t(len - 1) * kv_dim + kvh * D;
    float* scales = warp == 0 ? a.k_scale : a.v_scale;
    store_head<D, T>(x, static_cast<T*>(warp == 0 ? a.k_cache : a.v_cache) + at,
                     scales ? scales + int64_t(len - 1) * a.kv_heads + kvh : nullptr, warp == 0 ? new_k : new_v,
                     &new_scale[warp]);
  }
  __syncthreads();

  float m[G], l[G], acc[G][8];
#pragma unroll
  for (int h = 0; h < G; ++h) {
    m[h] = -INFINITY, l[h] = 0.0f;
#pragma unroll
    for (int i = 0; i < 8; ++i) acc[h][i] = 0.0f;
  }

  for (int t0 = start; t0 < end; t0 += kTile) {
    // Scores (every lane runs every round: the shuffles need whole warps). Selects rather than branches, so
    // that the rounds' chains interleave.
    float s[kRounds][G];
#pragma unroll
    for (int r = 0; r < kRounds; ++r) {
      const int key = t0 + r * kKeyPar + kp;
      const bool fresh = holds_new && key == len - 1;
      float kf[8];
      Chunk<T>::to_float(kr[r], kf);
#pragma unroll
      for (int i = 0; i < 8; ++i) kf[i] = fresh ? new_k[c * 8 + i] : kf[i];
      const float kscale = fresh ? new_scale[0] : kInt8 ? ks[r] : 1.0f;
#pragma unroll
      for (int h = 0; h < G; ++h) {
        float dot = 0.0f;
#pragma unroll
        for (int i = 0; i < 8; ++i) dot += q_s[h][c * 8 + i] * kf[i];
#pragma unroll
        for (int o = kChunks / 2; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, o, kChunks);
        s[r][h] = key < end ? dot * kscale : -INFINITY;
      }
    }
    if (t0 + kTile < end) load_k(t0 + kTile);  // the next tile's keys are on their way during this one's P·V
    // Online softmax of the lane group's keys of this tile, then the weighted values.
#pragma unroll
    for (int h = 0; h < G; ++h) {
      float mx = m[h];
#pragma unroll
      for (int r = 0; r < kRounds; ++r) mx = fmaxf(mx, s[r][h]);
      const float base = mx == -INFINITY ? 0.0f : mx;  // no key yet: every weight is 0, not NaN
      const float corr = __expf(m[h] - base);
      m[h] = mx;
      l[h] *= corr;
#pragma unroll
      for (int i = 0; i < 8; ++i) acc[h][i] *= corr;
#pragma unroll
      for (int r = 0; r < kRounds; ++r) {
        s[r][h] = __expf(s[r][h] - base);
        l[h] += s[r][h];
      }
    }
#pragma unroll
    for (int r = 0; r < kRounds; ++r) {
      const int key = t0 + r * kKeyPar + kp;
      const bool fresh = holds_new && key == len - 1;
      float vf[8];
      Chunk<T>::to_float(vr[r], vf);
#pragma unroll
      for (int i = 0; i < 8; ++i) vf[i] = fresh ? new_v[c * 8 + i] : vf[i];
      const float vscale = fresh ? new_scale[1] : kInt8 ? vs[r] : 1.0f;
#pragma unroll
      for (int h = 0; h < G; ++h) {
        const float w = s[r][h] * vscale;
#pragma unroll
        for (int i = 0; i < 8; ++i) acc[h][i] += w * vf[i];
      }
    }
    if (t0 + kTile < end) load_v(t0 + kTile);
  }

  // Merge the lane groups: those of a warp by shuffles, then the warps through shared memory.
#pragma unroll
  for (int h = 0; h < G; ++h) {
#pragma unroll
    for (int o = 16; o >= kChunks; o /= 2) {
      const float m_o = __shfl_xor_sync(0xffffffffu, m[h], o), l_o = __shfl_xor_sync(0xffffffffu, l[h], o);
      const float mx = fmaxf(m[h], m_o), base = mx == -INFINITY ? 0.0f : mx;
      const float c_self = __expf(m[h] - base), c_other = __expf(m_o - base);
      l[h] = l[h] * c_self + l_o * c_other;
#pragma unroll
      for (int i = 0; i < 8; ++i) acc[h][i] = acc[h][i] * c_self + __shfl_xor_sync(0xffffffffu, acc[h][i], o) * c_other;
      m[h] = mx;
    }
    if (lane < kChunks && h < group)
#pragma unroll
      for (int i = 0; i < 8; i += 4)
        *reinterpret_cast<float4*>(&red[(warp * group + h) * D + c * 8 + i]) =
            make_float4(acc[h][i], acc[h][i + 1], acc[h][i + 2], acc[h][i + 3]);
    if (lane == 0) m_w[warp][h] = m[h], l_w[warp][h] = l[h];
  }
  __syncthreads();
  const bool direct = used == 1;  // one split covers the context: the output, normalised, needs no combine
  for (int i = threadIdx.x; i < group * D; i += kThreads) {
    const int h = i / D, d = i % D;
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) mx = fmaxf(mx, m_w[w][h]);  // every split holds a key: mx is finite
    float o = 0.0f, sum = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float e = __expf(m_w[w][h] - mx);
      o += e * red[w * group * D + i];
      sum += e * l_w[w][h];
    }
    if (direct) {
      a.out[int64_t(qi) * a.out_stride + int64_t(kvh * group + h) * D + d] = o / sum;
    } else {
      float* dst = p.scratch + (int64_t(qi * a.heads + kvh * group + h) * p.splits + blockIdx.y) * (2 + D);
      dst[2 + d] = o;
      if (d == 0) dst[0] = mx, dst[1] = sum;
    }
  }
  if (direct) return;
  if constexpr (kDecode) {
    __syncthreads();  // every partial written before the arrival is counted (arrival.h)
    if (threadIdx.x == 0) is_last = arrive(&p.counters[kvh]) == unsigned(used - 1);
    __syncthreads();
    if (!is_last) return;
    if (threadIdx.x == 0) p.counters[kvh] = 0;  // ready for the next launch
    combine_heads(p, 0, kvh * group, group, used);
  }
}

// Prefill: block (query token, KV head) combines the splits of the group's heads (a single split wrote its
// output itself).
__global__ void attention_combine_kernel(Params p) {
  const AttentionArgs& a = p.a;
  const int group = a.heads / a.kv_heads;
  const int qi = blockIdx.x / a.kv_heads, kvh = blockIdx.x % a.kv_heads;
  const int len = position0(a) + qi + 1;
  const int used = (len + p.split_len - 1) / p.split_len;
  if (used > 1) combine_heads(p, qi, kvh * group, group, used);
}

// Splits of the sequence: decode spreads a context over about one block per multiprocessor (the kernel sizes
// them from the length it reads, so a recorded graph serves every length; two per multiprocessor left more
// partial results to combine: H100, 7B at 4K context 412 -> 393 tok/s); prefill over at most
// kPrefillMaxSplits whole tiles per query.
void plan(const AttentionArgs& a, int keys, int sm_count, int* split_len, int* splits) {
  if (a.n == 1) {
    *split_len = 0;
    *splits = std::clamp(std::min((a.capacity + kDecodeMinSplit - 1) / kDecodeMinSplit, sm_count / a.kv_heads), 1,
                         kMaxSplits);
    return;
  }
  const int tile = key_par(a.head_dim) * kRounds;
  const int per = (keys + kPrefillMaxSplits - 1) / kPrefillMaxSplits;
  *split_len = (per + tile - 1) / tile * tile;
  *splits = (keys + *split_len - 1) / *split_len;
}

template <int D, int G, typename T, bool kDecode>
void launch_split_g(const Params& p, dim3 grid, cudaStream_t stream) {
  auto* kernel = attention_split_kernel<D, G, T, kDecode>;
  // Beyond 48 KB of dynamic shared memory (D = 256 with a group of 7 or 8) a kernel must opt in, once.
  constexpr int kMaxRed = kWarps * G * D * int(sizeof(float));
  if constexpr (kMaxRed > 48 * 1024) {
    static const cudaError_t opted =
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kMaxRed);
    (void)opted;  // a failure shows as the launch's error
  }
  const size_t red = size_t(kWarps) * (p.a.heads / p.a.kv_heads) * D * sizeof(float);
  // Decode waits for the previous kernel (the q|k|v product) only after requesting the cached keys.
  launch_kernel(kDecode && dependent_launch_enabled(), kernel, grid, dim3(kThreads), red, stream, p);
}

template <int D, typename T, bool kDecode>
void launch_split(const Params& p, dim3 grid, cudaStream_t stream) {
  const int group = p.a.heads / p.a.kv_heads;
  if (group == 1) return launch_split_g<D, 1, T, kDecode>(p, grid, stream);
  if (group == 2) return launch_split_g<D, 2, T, kDecode>(p, grid, stream);
  if (group <= 4) return launch_split_g<D, 4, T, kDecode>(p, grid, stream);
  launch_split_g<D, kMaxGroup, T, kDecode>(p, grid, stream);
}

template <int D>
void launch_for(const Params& p, dim3 grid, cudaStream_t stream) {
  const bool int8 = p.a.k_scale != nullptr;
  if (p.a.n == 1) {
    if (int8) return launch_split<D, int8_t, true>(p, grid, stream);
    return launch_split<D, __half, true>(p, grid, stream);
  }
  if (int8) {
    kv_append_kernel<D, int8_t><<<unsigned(p.a.n), kThreads, 0, stream>>>(p.a);
    launch_split<D, int8_t, false>(p, grid, stream);
  } else {
    kv_append_kernel<D, __half><<<unsigned(p.a.n), kThreads, 0, stream>>>(p.a);
    launch_split<D, __half, false>(p, grid, stream);
  }
  attention_combine_kernel<<<unsigned(p.a.n * p.a.kv_heads), kThreads, 0, stream>>>(p);
}

}  // namespace

bool attention_supported(int heads, int kv_heads, int head_dim) {
  if (kv_heads <= 0 || kv_heads > kAttentionCounters || heads % kv_heads || heads / kv_heads > kMaxGroup)
    return false;
  return head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 128 || head_dim == 256;
}

int64_t attention_scratch_floats(const AttentionArgs& a, int keys, int sm_count) {
  int split_len, splits;
  plan(a, keys, sm_count, &split_len, &splits);
  return int64_t(a.n) * a.heads * splits * (2 + a.head_dim);
}

cudaError_t attention(const AttentionArgs& a, float* scratch, unsigned* counters, int sm_count, cudaStream_t stream) {
  if (!attention_supported(a.heads, a.kv_heads, a.head_dim)) return cudaErrorInvalidValue;
  if (a.inv_freq && (a.n != 1 || a.half_rot <= 0 || 2 * a.half_rot > a.head_dim)) return cudaErrorInvalidValue;
  if ((a.k_scale == nullptr) != (a.v_scale == nullptr)) return cudaErrorInvalidValue;
  Params p{a, scratch, counters, 0, 0, 1.0f / sqrtf(float(a.head_dim))};
  // For n > 1 the host knows the positions (prefill is never recorded into a graph).
  plan(a, a.pos0 + a.n, sm_count, &p.split_len, &p.splits);
  const dim3 grid(unsigned(a.n * a.kv_heads), unsigned(p.splits));
  switch (a.head_dim) {
    case 16: launch_for<16>(p, grid, stream); break;
    case 32: launch_for<32>(p, grid, stream); break;
    case 64: launch_for<64>(p, grid, stream); break;
    case 128: launch_for<128>(p, grid, stream); break;
    default: launch_for<256>(p, grid, stream); break;
  }
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
