// Token sampling on the device, so that only the chosen id crosses to the host. One block:
// repetition penalty on the listed ids (and the previous choice, when sampling ahead), then greedy argmax (ties
// to the lowest id, as the host sampler), or:
// the top-k threshold by a 4-pass radix select over the logits, the survivors gathered and bitonic-sorted in
// shared memory, softmax with temperature, min-p and top-p cut-offs over the sorted prefix sums, and a draw
// from a counter-based generator seeded per step. Survivors are capped at kMaxSampleCandidates: with top-k off
// the tail beyond the best 1024 tokens is left out (its mass is negligible once top-p or min-p apply).
#include "cuda/ops.h"

namespace jetchat::cuda {
namespace {

constexpr int kThreads = kMaxSampleCandidates;  // one thread per candidate slot

__device__ __forceinline__ uint32_t order_key(float f) {
  const uint32_t b = __float_as_uint(f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);  // larger float -> larger key
}

__device__ __forceinline__ bool precedes(float va, int ia, float vb, int ib) {
  return va > vb || (va == vb && ia < ib);
}

__device__ __forceinline__ double uniform01(uint64_t seed) {  // splitmix64 -> 53 bits
  uint64_t z = seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return double(z >> 11) * (1.0 / 9007199254740992.0);
}

// Inclusive prefix sum of one value per thread across the block.
__device__ float block_scan(float v, float* warp_tot) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int o = 1; o < 32; o *= 2) {
    const float t = __shfl_up_sync(0xffffffffu, v, o);
    if (lane >= o) v += t;
  }
  if (lane == 31) warp_tot[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float w = warp_tot[lane];
#pragma unroll
    for (int o = 1; o < 32; o *= 2) {
      const float t = __shfl_up_sync(0xffffffffu, w, o);
      if (lane >= o) w += t;
    }
    warp_tot[lane] = w;
  }
  __syncthreads();
  return v + (warp > 0 ? warp_tot[warp - 1] : 0.0f);
}

// The choice, where the caller wants it (one thread).
__device__ void emit(const SampleArgs& a, int32_t id) {
  *a.out_id = id;
  if (a.chosen) *a.chosen = id;
  if (a.next_step) a.next_step[0] = a.next_pos, a.next_step[1] = id;
}

__global__ void __launch_bounds__(kThreads) sample_kernel(SampleArgs a) {
  __shared__ float val[kThreads];
  __shared__ int idx[kThreads];
  __shared__ unsigned hist[256];
  __shared__ float warp_tot[32];
  __shared__ uint32_t s_prefix, s_mask;
  __shared__ int s_krem, s_above, s_equal, s_keep;
  const int tid = threadIdx.x;

  auto penalize = [&](int id) {
    if (id < 0 || id >= a.vocab) return;
    const float l = a.logits[id];
    a.logits[id] = l > 0.0f ? l / a.repetition_penalty : l * a.repetition_penalty;
  };
  bool listed = false;  // the previous choice is in the list (penalised once only)
  const int also = a.penalize_also ? *a.penalize_also : -1;
  for (int i = tid; i < a.penalized_count; i += kThreads) {
    penalize(a.penalized[i]);
    listed |= a.penalized[i] == also;
  }
  if (__syncthreads_or(listed) == 0 && tid == 0) penalize(also);
  __syncthreads();

  if (a.temperature <= 0.0f) {
    // Greedy: each thread's best over 16-byte loads (one SM reads the whole row, so the loads must be wide and
    // many in flight: scalar loads took 15 µs for a 92K vocabulary on an H100), then warps, then the block.
    float best = -INFINITY;
    int best_i = a.vocab;
    auto consider = [&](float v, int i) {
      if (best_i == a.vocab || precedes(v, i, best, best_i)) best = v, best_i = i;
    };
    const int n4 = reinterpret_cast<uintptr_t>(a.logits) % 16 == 0 ? a.vocab / 4 : 0;
    const float4* l4 = reinterpret_cast<const float4*>(a.logits);
#pragma unroll 4
    for (int j = tid; j < n4; j += kThreads) {
      const float4 v = l4[j];
      consider(v.x, 4 * j), consider(v.y, 4 * j + 1), consider(v.z, 4 * j + 2), consider(v.w, 4 * j + 3);
    }
    for (int i = 4 * n4 + tid; i < a.vocab; i += kThreads) consider(a.logits[i], i);
    auto reduce_warp = [&]() {
#pragma unroll
      for (int o = 16; o > 0; o /= 2) {
        const float v = __shfl_xor_sync(0xffffffffu, best, o);
        const int i = __shfl_xor_sync(0xffffffffu, best_i, o);
        if (i < a.vocab && (best_i == a.vocab || precedes(v, i, best, best_i))) best = v, best_i = i;
      }
    };
    reduce_warp();
    if (tid % 32 == 0) val[tid / 32] = best, idx[tid / 32] = best_i;
    __syncthreads();
    if (tid < 32) {
      best = tid < kThreads / 32 ? val[tid] : -INFINITY;
      best_i = tid < kThreads / 32 ? idx[tid] : a.vocab;
      reduce_warp();
      if (tid == 0) emit(a, best_i < a.vocab ? best_i : 0);
    }
    return;
  }

  const int k = min(a.vocab, a.top_k > 0 ? min(a.top_k, kThreads) : kThreads);
  if (tid == 0) s_prefix = 0, s_mask = 0, s_krem = k, s_above = 0, s_equal = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    if (tid < 256) hist[tid] = 0;
    __syncthreads();
    const uint32_t prefix = s_prefix, mask = s_mask;
    for (int i = tid; i < a.vocab; i += kThreads) {
      const uint32_t key = order_key(a.logits[i]);
      if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 0xffu], 1u);
    }
    __syncthreads();
    if (tid == 0) {
      int cum = 0;
      for (int d = 255; d >= 0; --d) {
        if (cum + int(hist[d]) >= s_krem) {
          s_krem -= cum;
          s_prefix |= uint32_t(d) << shift;
          s_mask |= 0xffu << shift;
          break;
        }
        cum += int(hist[d]);
      }
    }
    __syncthreads();
  }
  // s_prefix is the k-th largest key; s_krem of the keys equal to it are taken.
  const uint32_t thr = s_prefix;
  const int take_equal = s_krem;
  val[tid] = -INFINITY, idx[tid] = 0x7fffffff;
  __syncthreads();
  for (int i = tid; i < a.vocab; i += kThreads) {
    const uint32_t key = order_key(a.logits[i]);
    int slot = -1;
    if (key > thr) {
      slot = atomicAdd(&s_above, 1);
    } else if (key == thr) {
      const int e = atomicAdd(&s_equal, 1);
      if (e < take_equal) slot = k - take_equal + e;
    }
    if (slot >= 0) val[slot] = a.logits[i], idx[slot] = i;
  }
  __syncthreads();
  for (int size = 2; size <= kThreads; size *= 2)
    for (int j = size / 2; j > 0; j /= 2) {
      const int other = tid ^ j;
      if (other > tid) {
        const bool first = precedes(val[tid], idx[tid], val[other], idx[other]);
        if (((tid & size) == 0) != first) {
          const float tv = val[tid];
          val[tid] = val[other], val[other] = tv;
          const int ti = idx[tid];
          idx[tid] = idx[other], idx[other] = ti;
        }
      }
      __syncthreads();
    }
  const float top = val[0];
  const float p = tid < k ? __expf((val[tid] - top) / a.temperature) : 0.0f;
  const float cum = block_scan(p, warp_tot);
  const float total = warp_tot[31];  // block_scan leaves the inclusive totals per warp: the last is the sum
  __shared__ float cums[kThreads];
  __shared__ float mass;
  cums[tid] = cum;
  if (tid == 0) s_keep = k;
  __syncthreads();
  // As the host sampler: min-p keeps slots with p >= min_p * best; top-p keeps the shortest prefix whose
  // probability reaches top_p. Both are prefixes of the sorted slots, so keep is the first slot either drops.
  if (tid > 0 && tid < k) {
    if (a.min_p > 0.0f && p < a.min_p) atomicMin(&s_keep, tid);
    if (a.top_p < 1.0f && cums[tid - 1] / total >= a.top_p) atomicMin(&s_keep, tid);
  }
  __syncthreads();
  const int keep = s_keep;
  if (tid == 0) mass = cums[keep - 1];
  __syncthreads();
  const float r = float(uniform01(a.seed) * double(mass));
  // The first slot whose prefix reaches r (exactly one thread); rounding past the end falls to the last slot.
  if (tid < keep) {
    const bool reaches = cum >= r && (tid == 0 || cums[tid - 1] < r);
    const bool last_fallback = tid == keep - 1 && cum < r;
    if (reaches || last_fallback) emit(a, idx[tid]);
  }
}

}  // namespace

cudaError_t sample(const SampleArgs& a, cudaStream_t stream) {
  sample_kernel<<<1, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace jetchat::cuda
