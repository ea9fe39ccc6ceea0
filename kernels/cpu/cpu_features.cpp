// Picks the best VecKernels for the CPU the program runs on.
#include "cpu/vec.h"

namespace jetchat::cpu {

std::vector<const VecKernels*> vec_kernels_available() {
  std::vector<const VecKernels*> v{&vec_kernels_scalar()};
#if defined(JETCHAT_X86)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
    v.push_back(&vec_kernels_avx2());
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    v.push_back(&vec_kernels_avx512());
#elif defined(JETCHAT_ARM64)
  v.push_back(&vec_kernels_neon());  // NEON is part of the aarch64 baseline
#endif
  return v;
}

const VecKernels& vec_kernels_best() {
  static const VecKernels* best = vec_kernels_available().back();
  return *best;
}

}  // namespace jetchat::cpu
