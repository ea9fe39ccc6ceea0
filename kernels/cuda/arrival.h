// Counting a block's arrival in a group whose last block finishes the work (a K split's tile, a KV head's
// sequence splits). The block's threads write their results; a block barrier; then one thread adds to the
// counter with an acquire-release atomic: the barrier orders the other threads' writes before that release
// (cumulativity in the PTX memory model), and the barrier after it orders the last block's reads after the
// acquire. One fence for the block instead of a sequentially consistent fence in every thread (H100: the
// 7B decodes 4% faster, the 1.8B 8%).
#pragma once

namespace jetchat::cuda {

__device__ __forceinline__ unsigned arrive(unsigned* counter) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
  unsigned old;
  asm volatile("atom.acq_rel.gpu.global.add.u32 %0, [%1], 1;" : "=r"(old) : "l"(counter) : "memory");
  return old;
#else
  __threadfence();
  const unsigned old = atomicAdd(counter, 1u);
  __threadfence();
  return old;
#endif
}

}  // namespace jetchat::cuda
