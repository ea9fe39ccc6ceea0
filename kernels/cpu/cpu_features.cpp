// Picks the best VecKernels and Q4Kernels for the CPU the program runs on.
#include <string>

#include "cpu/q4.h"
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

std::vector<const Q4Kernels*> q4_kernels_available() {
  std::vector<const Q4Kernels*> v{&q4_kernels_scalar()};
  // Same features, same order as the VecKernels above: an ISA is used for both families or neither.
  for (const VecKernels* k : vec_kernels_available()) {
    const std::string isa = k->isa;
#if defined(JETCHAT_X86)
    if (isa == "avx2") v.push_back(&q4_kernels_avx2());
    if (isa == "avx512") v.push_back(&q4_kernels_avx512());
#elif defined(JETCHAT_ARM64)
    if (isa == "neon") v.push_back(&q4_kernels_neon());
#endif
  }
  return v;
}

const Q4Kernels& q4_kernels_best() {
  static const Q4Kernels* best = q4_kernels_available().back();
  return *best;
}

}  // namespace jetchat::cpu
