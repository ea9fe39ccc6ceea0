// The CPU's innermost loops, one implementation per instruction set (vec_scalar.cpp, vec_avx2.cpp, ...), chosen
// once at run time from the CPU's features. Everything else in the CPU backend is plain C++ around these.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

namespace jetchat::cpu {

// Most activation rows one weight row is multiplied with per call: the weight row is loaded once and reused
// from registers/L1 for all of them (prefill); decode uses nt = 1.
constexpr int kMaxTile = 8;

// Calls f(std::integral_constant<int, NT>{}) for the run-time tile height nt (1..kMaxTile), so each ISA file
// writes its kernels as templates on NT and shares this one switch.
template <typename F>
inline void with_tile(int nt, F&& f) {
  switch (nt) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 7: return f(std::integral_constant<int, 7>{});
    default: return f(std::integral_constant<int, kMaxTile>{});
  }
}

// out[t] = sum_k w[k] * x[t*ldx + k] for t < nt <= kMaxTile, k < n. w is one row of f32, f16 or bf16 weights.
using DotTileFn = void (*)(const void* w, const float* x, int64_t ldx, int nt, int64_t n, float* out);

struct VecKernels {
  const char* isa;
  DotTileFn dot_f32;
  DotTileFn dot_f16;
  DotTileFn dot_bf16;
};

const VecKernels& vec_kernels_scalar();
#if defined(JETCHAT_X86)
const VecKernels& vec_kernels_avx2();
const VecKernels& vec_kernels_avx512();
#elif defined(JETCHAT_ARM64)
const VecKernels& vec_kernels_neon();
#endif

// Every implementation this CPU can run, best last; and the best one.
std::vector<const VecKernels*> vec_kernels_available();
const VecKernels& vec_kernels_best();

}  // namespace jetchat::cpu
