// Picks the best VecKernels, Q4Kernels and Q8Kernels for the CPU the program runs on.
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(JETCHAT_HAVE_NEON_DOTPROD)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#include <cstdlib>
#include <string>

#include "cpu/q4.h"
#include "cpu/q8.h"
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

#if defined(JETCHAT_HAVE_AVXVNNI)
// AVX-VNNI is CPUID leaf 7 sub-leaf 1 EAX bit 4 (read directly: not every compiler's __builtin_cpu_supports
// knows "avxvnni"); the OS's saving of the YMM state is implied by the avx2 check that precedes it.
bool has_avx_vnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4) & 1;
}
#endif

std::vector<const Q4Kernels*> q4_kernels_available() {
  std::vector<const Q4Kernels*> v{&q4_kernels_scalar()};
  // Int8-activation decode (issue #3): a base ISA's f32 kernels plus an integer dot product, listed after that
  // ISA where the CPU has one. JETCHAT_Q4_ACT=f32 leaves them out (f32 activations everywhere, for A/B runs).
  const char* act = std::getenv("JETCHAT_Q4_ACT");
  [[maybe_unused]] const bool int8 = !(act && std::string(act) == "f32");
  // Same features, same order as the VecKernels above: an ISA is used for both families or neither.
  for (const VecKernels* k : vec_kernels_available()) {
    const std::string isa = k->isa;
#if defined(JETCHAT_X86)
    if (isa == "avx2") {
      v.push_back(&q4_kernels_avx2());
#if defined(JETCHAT_HAVE_AVXVNNI)
      if (int8 && has_avx_vnni()) v.push_back(&q4_kernels_avx2_vnni());
#endif
    }
    if (isa == "avx512") {
      v.push_back(&q4_kernels_avx512());
#if defined(JETCHAT_HAVE_AVX512VNNI)
      if (int8 && __builtin_cpu_supports("avx512vnni")) v.push_back(&q4_kernels_avx512_vnni());
#endif
    }
#elif defined(JETCHAT_ARM64)
    if (isa == "neon") {
      v.push_back(&q4_kernels_neon());
#if defined(JETCHAT_HAVE_NEON_DOTPROD)
      if (int8 && (getauxval(AT_HWCAP) & HWCAP_ASIMDDP)) v.push_back(&q4_kernels_neon_dotprod());
#endif
    }
#endif
  }
  return v;
}

const Q4Kernels& q4_kernels_best() {
  static const Q4Kernels* best = q4_kernels_available().back();
  return *best;
}

std::vector<const Q8Kernels*> q8_kernels_available() {
  std::vector<const Q8Kernels*> v{&q8_kernels_scalar()};
  for (const VecKernels* k : vec_kernels_available()) {
    [[maybe_unused]] const std::string isa = k->isa;
#if defined(JETCHAT_X86)
    if (isa == "avx2") v.push_back(&q8_kernels_avx2());
    if (isa == "avx512") {
      v.push_back(&q8_kernels_avx512());
#if defined(JETCHAT_HAVE_AVX512VNNI)
      if (__builtin_cpu_supports("avx512vnni")) v.push_back(&q8_kernels_avx512_vnni());
#endif
    }
#elif defined(JETCHAT_ARM64)
    if (isa == "neon") {
      v.push_back(&q8_kernels_neon());
#if defined(JETCHAT_HAVE_NEON_DOTPROD)
      if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) v.push_back(&q8_kernels_neon_dotprod());
#endif
    }
#endif
  }
  return v;
}

const Q8Kernels& q8_kernels_best() {
  static const Q8Kernels* best = q8_kernels_available().back();
  return *best;
}

}  // namespace jetchat::cpu
