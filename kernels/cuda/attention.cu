// Causal attention over the fp16 KV cache, split along the sequence (flash-decoding).
//
// Block (query token, KV head, split): all query heads of the GQA group are served by one block, so each K/V
// byte is read once per group. Keys are taken in tiles of 64: scores for the tile (D/8 threads per key, 16-byte
// loads, shuffle reduction), an online-softmax update per head, then P·V with each thread owning 8 dimensions
// of every head for a subset of the keys. Each split leaves (max, sum, unnormalised output) per head; a second
// kernel combines the splits. The score matrix never exists beyond one 64-key tile, so long prompts are fine.
// Decode (one token) is a single kernel: the block whose split holds the new position rotates the new key
// (RoPE on the fly, as for the query) and appends it and the value to the cache before reading, and the last
// split of each KV head to finish (an arrival counter) combines the group's partial results.
// Plain sm_53+ instructions: also Xavier's (sm_72) path.
#include <algorithm>

#include "cuda/ops.h"

namespace jetchat::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kMaxGroup = 8;        // query heads per KV head (GQA group) handled by one block
constexpr int kTile = 64;           // keys per online-softmax step
// Decode splits the sequence into runs of at least this many keys. The grid has capacity / kDecodeSplit splits
// per KV head (a recorded graph serves every length); the kernel spreads the current length over at most about
// two blocks per multiprocessor, so short contexts use few blocks of small work and long ones leave few partial
// results to combine.
constexpr int kDecodeSplit = 64;
constexpr int kPrefillMaxSplits = 8;  // per (token, KV head): n tokens already give n x KV heads blocks

struct Params {
  AttentionArgs a;
  float* scratch;      // [n * H][splits][2 + D]: max, sum, output
  unsigned* counters;  // decode: one per KV head
  int split_len, splits;  // decode: splits is the grid's (from the capacity); split_len follows the length
  int decode_splits;      // decode: how many splits the current length is spread over, at most
  float scale;
};

// Decode: keys per split for a context of `len` keys, whole tiles, so that at most p.decode_splits splits are
// busy (fewer partial results to combine at long contexts, all of them at short ones).
__device__ __forceinline__ int decode_split_len(const Params& p, int len) {
  const int per = (len + p.decode_splits - 1) / p.decode_splits;
  return max(kDecodeSplit, (per + kTile - 1) / kTile * kTile);
}

__device__ __forceinline__ int position0(const AttentionArgs& a) { return a.pos_dev ? *a.pos_dev : a.pos0; }

// Element d of a head after the rotary embedding (HF rotate_half: pairs d, d + half), given cos/sin per pair.
__device__ __forceinline__ float rotated(const float* head, int d, int half, const float* cs, const float* sn) {
  if (d < half) return head[d] * cs[d] - head[d + half] * sn[d];
  if (d < 2 * half) return head[d] * cs[d - half] + head[d - half] * sn[d - half];
  return head[d];
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

// Combines the `used` splits of query qi's heads h0 .. h0 + nh - 1 into the output (the whole block).
__device__ void combine_heads(const Params& p, int qi, int h0, int nh, int used) {
  __shared__ float m_c[kMaxGroup], inv_c[kMaxGroup];
  const AttentionArgs& a = p.a;
  const int D = a.head_dim, stride = 2 + D;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  // Per head (one warp each): the largest max and the softmax denominator over the splits.
  for (int h = warp; h < nh; h += blockDim.x / 32) {
    const float* base = p.scratch + int64_t(qi * a.heads + h0 + h) * p.splits * stride;
    float mx = -INFINITY;
    for (int s = lane; s < used; s += 32) mx = fmaxf(mx, __ldcg(base + int64_t(s) * stride));
#pragma unroll
    for (int o = 16; o > 0; o /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float total = 0.0f;
    for (int s = lane; s < used; s += 32)
      total += __expf(__ldcg(base + int64_t(s) * stride) - mx) * __ldcg(base + int64_t(s) * stride + 1);
#pragma unroll
    for (int o = 16; o > 0; o /= 2) total += __shfl_xor_sync(0xffffffffu, total, o);
    if (lane == 0) m_c[h] = mx, inv_c[h] = 1.0f / total;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < nh * D; i += blockDim.x) {
    const int h = i / D, d = i % D;
    const float* base = p.scratch + int64_t(qi * a.heads + h0 + h) * p.splits * stride;
    float o = 0.0f;
#pragma unroll 4
    for (int s = 0; s < used; ++s)
      o += __expf(__ldcg(base + int64_t(s) * stride) - m_c[h]) * __ldcg(base + int64_t(s) * stride + 2 + d);
    a.out[int64_t(qi) * a.out_stride + int64_t(h0 + h) * D + d] = o * inv_c[h];
  }
}

__global__ void kv_append_kernel(AttentionArgs a) {
  const int t = blockIdx.x;
  const int kv_dim = a.kv_heads * a.head_dim;
  const int64_t dst = int64_t(position0(a) + t) * kv_dim;
  const float* src = a.qkv + int64_t(t) * a.qkv_stride + int64_t(a.heads) * a.head_dim;
  for (int j = threadIdx.x; j < kv_dim; j += blockDim.x) {
    a.k_cache[dst + j] = __float2half_rn(src[j]);
    a.v_cache[dst + j] = __float2half_rn(src[kv_dim + j]);
  }
}

// kDecode: one query (n == 1), RoPE on the fly when a.inv_freq is set, the append of the new key and value,
// and the combine in the last split to finish; otherwise the cache already holds the keys and a second kernel
// combines.
template <int D, bool kDecode>
__global__ void __launch_bounds__(kThreads) attention_split_kernel(Params p) {
  constexpr int kChunks = D / 8;                 // 16-byte chunks of a head
  constexpr int kKeyPar = kThreads / kChunks;    // keys handled side by side
  __shared__ float q_s[kMaxGroup][D];
  __shared__ float s_s[kMaxGroup][kTile];
  __shared__ float m_s[kMaxGroup], l_s[kMaxGroup], corr_s[kMaxGroup];
  __shared__ __align__(16) float red[kKeyPar][kMaxGroup * D];  // 32 KB whatever D: kKeyPar * D = 8 * kThreads
  __shared__ float cs[D / 2], sn[D / 2];
  __shared__ bool is_last;

  const AttentionArgs& a = p.a;
  const int group = a.heads / a.kv_heads;
  const int qi = blockIdx.x / a.kv_heads, kvh = blockIdx.x % a.kv_heads;
  const int len = position0(a) + qi + 1;  // keys 0..position of this query
  const int split_len = kDecode ? decode_split_len(p, len) : p.split_len;
  const int start = blockIdx.y * split_len;
  if (start >= len) return;
  const int end = min(len, start + split_len);
  const int kv_dim = a.kv_heads * D;
  const float* row = a.qkv + int64_t(qi) * a.qkv_stride;
  const int half = kDecode && a.inv_freq ? a.half_rot : 0;

  if (half > 0) {
    rope_angles(a.inv_freq, half, len - 1, cs, sn);
    __syncthreads();
  }
  for (int i = threadIdx.x; i < group * D; i += kThreads) {
    const int h = i / D, d = i % D;
    q_s[h][d] = rotated(row + int64_t(kvh * group + h) * D, d, half, cs, sn) * p.scale;
  }
  if (kDecode && end == len) {  // this split holds the new position: append its key and value first
    const float* k_new = row + int64_t(a.heads + kvh) * D;
    const float* v_new = row + int64_t(a.heads + a.kv_heads + kvh) * D;
    const int64_t dst = int64_t(len - 1) * kv_dim + kvh * D;
    for (int d = threadIdx.x; d < D; d += kThreads) {
      a.k_cache[dst + d] = __float2half_rn(rotated(k_new, d, half, cs, sn));
      a.v_cache[dst + d] = __float2half_rn(v_new[d]);
    }
  }
  if (threadIdx.x < kMaxGroup) m_s[threadIdx.x] = -INFINITY, l_s[threadIdx.x] = 0.0f;
  __syncthreads();  // also makes the appended key and value visible to the whole block

  const int c = threadIdx.x % kChunks, kp = threadIdx.x / kChunks;
  float acc[kMaxGroup][8];
#pragma unroll
  for (int h = 0; h < kMaxGroup; ++h)
#pragma unroll
    for (int i = 0; i < 8; ++i) acc[h][i] = 0.0f;

  for (int t0 = start; t0 < end; t0 += kTile) {
    const int tile_n = min(kTile, end - t0);
    // Scores of the tile.
    // Whole rounds of kKeyPar keys, so that every lane of a warp reaches the shuffles.
    const int rounds_end = (tile_n + kKeyPar - 1) / kKeyPar * kKeyPar;
    for (int j = kp; j < rounds_end; j += kKeyPar) {
      const bool valid = j < tile_n;
      const uint4 kv = valid ? *reinterpret_cast<const uint4*>(a.k_cache + int64_t(t0 + j) * kv_dim + kvh * D + c * 8)
                             : make_uint4(0, 0, 0, 0);
      const __half2* k2 = reinterpret_cast<const __half2*>(&kv);
      float kf[8];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float2 f = __half22float2(k2[i]);
        kf[2 * i] = f.x, kf[2 * i + 1] = f.y;
      }
#pragma unroll
      for (int h = 0; h < kMaxGroup; ++h) {
        if (h >= group) break;
        float s = 0.0f;
#pragma unroll
        for (int i = 0; i < 8; ++i) s += q_s[h][c * 8 + i] * kf[i];
#pragma unroll
        for (int o = kChunks / 2; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o, kChunks);
        if (c == 0 && valid) s_s[h][j] = s;
      }
    }
    __syncthreads();
    // Online softmax: warp w updates heads w, w + 4, ...
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    for (int h = warp; h < group; h += kThreads / 32) {
      float mx = -INFINITY;
      for (int j = lane; j < tile_n; j += 32) mx = fmaxf(mx, s_s[h][j]);
#pragma unroll
      for (int o = 16; o > 0; o /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
      const float m_new = fmaxf(m_s[h], mx);
      float sum = 0.0f;
      for (int j = lane; j < tile_n; j += 32) {
        const float e = __expf(s_s[h][j] - m_new);
        s_s[h][j] = e;
        sum += e;
      }
#pragma unroll
      for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
      if (lane == 0) {
        const float corr = __expf(m_s[h] - m_new);  // 0 on the first tile (m = -inf)
        corr_s[h] = corr;
        l_s[h] = l_s[h] * corr + sum;
        m_s[h] = m_new;
      }
    }
    __syncthreads();
    // Weighted values.
#pragma unroll
    for (int h = 0; h < kMaxGroup; ++h) {
      if (h >= group) break;
      const float corr = corr_s[h];
#pragma unroll
      for (int i = 0; i < 8; ++i) acc[h][i] *= corr;
    }
    for (int j = kp; j < tile_n; j += kKeyPar) {
      const uint4 vv = *reinterpret_cast<const uint4*>(a.v_cache + int64_t(t0 + j) * kv_dim + kvh * D + c * 8);
      const __half2* v2 = reinterpret_cast<const __half2*>(&vv);
      float vf[8];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float2 f = __half22float2(v2[i]);
        vf[2 * i] = f.x, vf[2 * i + 1] = f.y;
      }
#pragma unroll
      for (int h = 0; h < kMaxGroup; ++h) {
        if (h >= group) break;
        const float w = s_s[h][j];
#pragma unroll
        for (int i = 0; i < 8; ++i) acc[h][i] += w * vf[i];
      }
    }
    __syncthreads();  // s_s is rewritten by the next tile
  }

  // Sum the kKeyPar key subsets of every (head, dimension) at once through shared memory.
#pragma unroll
  for (int h = 0; h < kMaxGroup; ++h) {
    if (h >= group) break;
#pragma unroll
    for (int i = 0; i < 8; i += 4)
      *reinterpret_cast<float4*>(&red[kp][h * D + c * 8 + i]) =
          make_float4(acc[h][i], acc[h][i + 1], acc[h][i + 2], acc[h][i + 3]);
  }
  __syncthreads();
  for (int i = threadIdx.x; i < group * D; i += kThreads) {
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < kKeyPar; ++k) s += red[k][i];
    const int h = i / D, d = i % D;
    float* dst = p.scratch + (int64_t(qi * a.heads + kvh * group + h) * p.splits + blockIdx.y) * (2 + D);
    dst[2 + d] = s;
  }
  for (int h = threadIdx.x; h < group; h += kThreads) {
    float* dst = p.scratch + (int64_t(qi * a.heads + kvh * group + h) * p.splits + blockIdx.y) * (2 + D);
    dst[0] = m_s[h];
    dst[1] = l_s[h];
  }
  if constexpr (kDecode) {
    const int used = (len + split_len - 1) / split_len;
    __threadfence();  // partials visible device-wide before the arrival is counted
    __syncthreads();
    if (threadIdx.x == 0) is_last = atomicAdd(&p.counters[kvh], 1u) == unsigned(used - 1);
    __syncthreads();
    if (!is_last) return;
    __threadfence();
    if (threadIdx.x == 0) p.counters[kvh] = 0;  // ready for the next launch
    combine_heads(p, 0, kvh * group, group, used);
  }
}

// Prefill: block (query token, KV head) combines the splits of the group's heads.
__global__ void attention_combine_kernel(Params p) {
  const AttentionArgs& a = p.a;
  const int group = a.heads / a.kv_heads;
  const int qi = blockIdx.x / a.kv_heads, kvh = blockIdx.x % a.kv_heads;
  const int len = position0(a) + qi + 1;
  combine_heads(p, qi, kvh * group, group, (len + p.split_len - 1) / p.split_len);
}

void plan(const AttentionArgs& a, int keys, int* split_len, int* splits) {
  if (a.n == 1) {
    *split_len = kDecodeSplit;
    *splits = (a.capacity + kDecodeSplit - 1) / kDecodeSplit;
    return;
  }
  const int per = (keys + kPrefillMaxSplits - 1) / kPrefillMaxSplits;
  *split_len = std::max(kTile, (per + kTile - 1) / kTile * kTile);
  *splits = (keys + *split_len - 1) / *split_len;
}

template <bool kDecode>
void launch_split(const Params& p, dim3 grid, cudaStream_t stream) {
  switch (p.a.head_dim) {
    case 16: attention_split_kernel<16, kDecode><<<grid, kThreads, 0, stream>>>(p); break;
    case 32: attention_split_kernel<32, kDecode><<<grid, kThreads, 0, stream>>>(p); break;
    case 64: attention_split_kernel<64, kDecode><<<grid, kThreads, 0, stream>>>(p); break;
    case 128: attention_split_kernel<128, kDecode><<<grid, kThreads, 0, stream>>>(p); break;
    default: attention_split_kernel<256, kDecode><<<grid, kThreads, 0, stream>>>(p); break;
  }
}

}  // namespace

bool attention_supported(int heads, int kv_heads, int head_dim) {
  if (kv_heads <= 0 || kv_heads > kAttentionCounters || heads % kv_heads || heads / kv_heads > kMaxGroup)
    return false;
  return head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 128 || head_dim == 256;
}

int64_t attention_scratch_floats(const AttentionArgs& a, int keys) {
  int split_len, splits;
  plan(a, keys, &split_len, &splits);
  return int64_t(a.n) * a.heads * splits * (2 + a.head_dim);
}

cudaError_t attention(const AttentionArgs& a, float* scratch, unsigned* counters, int sm_count, cudaStream_t stream) {
  if (!attention_supported(a.heads, a.kv_heads, a.head_dim)) return cudaErrorInvalidValue;
  if (a.inv_freq && (a.n != 1 || a.half_rot <= 0 || 2 * a.half_rot > a.head_dim)) return cudaErrorInvalidValue;
  // Decode spreads a context over about two blocks per multiprocessor (as many as the capacity allows).
  Params p{a, scratch, counters, 0, 0, std::max(1, 2 * sm_count / a.kv_heads), 1.0f / sqrtf(float(a.head_dim))};
  // For n > 1 the host knows the positions (prefill is never recorded into a graph).
  plan(a, a.pos0 + a.n, &p.split_len, &p.splits);
  const dim3 grid(unsigned(a.n * a.kv_heads), unsigned(p.splits));
  if (a.n == 1) {
    launch_split<true>(p, grid, stream);
    return cudaGetLastError();
  }
  kv_append_kernel<<<unsigned(a.n), 256, 0, stream>>>(a);
  launch_split<false>(p, grid, stream);
  attention_combine_kernel<<<unsigned(a.n * a.kv_heads), kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
