// 4-bit weights on the CPU: the layout upload_q4 repacks AWQ checkpoints into, the repack itself, and the
// per-ISA dot-product kernels (q4_scalar.cpp, q4_avx2.cpp, ...), chosen once at run time like vec.h's.
// Everything here is stateless; the repack splits its work over the caller's ThreadPool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend.h"
#include "cpu/thread_pool.h"

namespace jetchat::cpu {

// Weights per packed block: a block of 32 weights is 16 bytes, byte j holding weight j in its low nibble and
// weight j+16 in its high nibble, so one 16-byte load and a mask/shift give two runs of 16 consecutive weights.
constexpr int kQ4Block = 32;

// One output row of a [rows, cols] 4-bit matrix, contiguous so that decode streams each row once:
//   qs     u8  [cols/2]      kQ4Block-weight blocks as above
//   scales f32 [cols/group]  exact copies of the checkpoint's f16/bf16 scales (GGUF: d, or d * sc for Q4_K)
//   mins   f32 [cols/group]  what the group subtracts: zero * scale for AWQ (exact in f32: an 11-bit mantissa
//                            times 0..15), 8 * d for Q4_0, -m for Q4_1, dmin * m for Q4_K
// then padding to row_stride. Weight (r, k) = q * scales[k/group] - mins[k/group]. An f32 minimum instead of a u8
// zero point is what lets GGUF's Q4_1/Q4_K run here without rounding; it costs 3 bytes per group (BENCHMARKS.md).
struct Q4Layout {
  int64_t rows = 0, cols = 0;
  int group = 0;

  int64_t groups() const { return cols / group; }
  size_t scales_offset() const { return size_t(cols) / 2; }
  size_t mins_offset() const { return scales_offset() + size_t(groups()) * sizeof(float); }
  size_t row_stride() const { return (mins_offset() + size_t(groups()) * sizeof(float) + 15) / 16 * 16; }
  size_t bytes() const { return size_t(rows) * row_stride(); }
};

// Why a HostQ4Matrix cannot be repacked for these kernels (empty when it can).
std::string q4_layout_problem(const HostQ4Matrix& m);

// AWQ GEMM tensors -> Q4Layout rows in dst (layout.bytes() bytes). m must pass q4_layout_problem.
void q4_repack_awq(const HostQ4Matrix& m, uint8_t* dst, ThreadPool& pool);

// The same for a 4-bit HostQuantMatrix (GGUF Q4_1, Q4_K): scales and mins copied, q packed.
std::string q4_quant_layout_problem(const HostQuantMatrix& m);
void q4_repack_quant(const HostQuantMatrix& m, uint8_t* dst, ThreadPool& pool);

// Row r of a repacked matrix as f32 [cols] (tests, Backend::read).
void q4_dequant_row(const Q4Layout& l, const uint8_t* row, float* out);

// out[t] = sum_k W[row][k] * x[t*ldx + k] for t < nt <= kMaxTile, where row points at one Q4Layout row and
// xsum[t*groups + g] is the sum of x[t] over group g (computed once per activation row by the caller), which
// the group's minimum multiplies.
using Q4DotTileFn = void (*)(const uint8_t* row, int64_t cols, int group, const float* x, int64_t ldx,
                             const float* xsum, int nt, float* out);

// Decode with int8 activations (issue #3): the activation row is quantised once per matmul by q4_quantize_x,
// per kQ4Block block b: d[b] = max|x| / 127, xq = round(x / d[b]) in -127..127, stored reordered so that the
// integer kernels need no shuffles. Blocks go in chunks of kQ4XChunk (the last chunk may be shorter, nb blocks):
// first the nb runs x[0..15] of its blocks (16 bytes each), then the nb runs x[16..31] -- the order a 64-byte
// load of the packed weights has after `& 0xF` and `>> 4`. xsum[g] is the group's sum of the *quantised*
// values (sum of d[b] * xq), so the result is exactly W . x^ with x^ the dequantised row: the minimums add no
// error of their own, and the only error is that of x^ (|x^ - x| <= d[b] / 2 per element). Groups may be as
// small as 16 (the 8-bit layout of q8.h, for Q6_K).
constexpr int kQ4XChunk = 4;
struct Q4QuantX {
  std::vector<int8_t> q;    // [cols], reordered as above
  std::vector<float> d;     // [cols / kQ4Block]
  std::vector<float> xsum;  // [cols / group]
};
void q4_quantize_x(const float* x, int64_t cols, int group, Q4QuantX& out);

// out[i] = W[row i] . x^ for i < nrows Q4Layout rows `stride` bytes apart, starting at rows, and one activation
// row quantised by q4_quantize_x (xq, d, xsum from Q4QuantX). Several rows per call let a kernel load each
// activation chunk once for several weight rows.
using Q4DotI8Fn = void (*)(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
                           const float* d, const float* xsum, float* out);

struct Q4Kernels {
  const char* isa;
  Q4DotTileFn dot;
  Q4DotI8Fn dot_i8 = nullptr;  // set where the CPU has integer dot products (VNNI, sdot); used for nt == 1
};

// Portable reference of the int8-activation kernel (tests).
void q4_dot_i8_scalar(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
                      const float* d, const float* xsum, float* out);

const Q4Kernels& q4_kernels_scalar();
#if defined(JETCHAT_X86)
const Q4Kernels& q4_kernels_avx2();
const Q4Kernels& q4_kernels_avx512();
const Q4Kernels& q4_kernels_avx512_vnni();  // avx512's f32 kernels + an AVX-512 VNNI int8 decode kernel
const Q4Kernels& q4_kernels_avx2_vnni();    // avx2's f32 kernels + an AVX-VNNI (VEX, 256-bit) int8 decode kernel
#elif defined(JETCHAT_ARM64)
const Q4Kernels& q4_kernels_neon();
const Q4Kernels& q4_kernels_neon_dotprod();  // neon's f32 kernels + an sdot (ARMv8.2 dotprod) int8 decode kernel
#endif

// Every implementation this CPU can run, best last; and the best one.
std::vector<const Q4Kernels*> q4_kernels_available();
const Q4Kernels& q4_kernels_best();

}  // namespace jetchat::cpu
