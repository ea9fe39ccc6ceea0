// 8-bit weights on the CPU (GGUF Q8_0, Q6_K and Q5_K repacked exactly, issue #6): the row layout, the repack from
// HostQuantMatrix, and the per-ISA dot products (q8_scalar.cpp, q8_avx2.cpp, q8_neon.cpp), chosen once at run
// time like q4.h's. Decode multiplies the int8 weights with q4_quantize_x's int8 activations; prefill tiles use
// f32 activations. Stateless; the repack splits its work over the caller's ThreadPool.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend.h"
#include "cpu/q4.h"
#include "cpu/thread_pool.h"

namespace jetchat::cpu {

// One output row of a [rows, cols] 8-bit matrix, contiguous so that decode streams each row once:
//   qs     i8  [cols]         in the order q4_quantize_x stores the activations: per chunk of kQ4XChunk blocks of
//                             kQ4Block weights (nb blocks in the last), first each block's weights 0..15, then each
//                             block's 16..31 -- so the int8 dot product is an element-wise one, no shuffles
//   scales f32 [cols/group]   d (Q8_0) or d * sc (K-quants), exact in f32
//   mins   f32 [cols/group]   0 (Q8_0, Q6_K: its -32 offset is folded into q) or dmin * m (Q5_K)
// then padding to row_stride. Weight (r, k) = q * scales[k/group] - mins[k/group]. group is 16 (Q6_K's
// sub-blocks) or a multiple of kQ4Block; cols is a multiple of kQ4Block.
struct Q8Layout {
  int64_t rows = 0, cols = 0;
  int group = 0;

  int64_t groups() const { return cols / group; }
  size_t scales_offset() const { return size_t(cols); }
  size_t mins_offset() const { return scales_offset() + size_t(groups()) * sizeof(float); }
  size_t row_stride() const { return (mins_offset() + size_t(groups()) * sizeof(float) + 15) / 16 * 16; }
  size_t bytes() const { return size_t(rows) * row_stride(); }
};

// Byte offset in a row's qs of weight k (the chunk order above).
inline int64_t q8_position(int64_t k, int64_t cols) {
  const int64_t b = k / kQ4Block, b0 = b / kQ4XChunk * kQ4XChunk, j = k % kQ4Block;
  const int64_t nb = std::min<int64_t>(kQ4XChunk, cols / kQ4Block - b0);
  return b0 * kQ4Block + (j < 16 ? 16 * (b - b0) + j : 16 * nb + 16 * (b - b0) + j - 16);
}

// The group of each run of 16 weights, taken in weight order (0..15, 16..31, 32..47, ...), without a division
// per run (a divide per 16 weights made decode 4x slower: a 1B Q6_K model at 1.5 tok/s, 6.5 without).
class GroupCursor {
 public:
  explicit GroupCursor(int group) : runs_(group / 16) {}
  int64_t next() {
    const int64_t g = g_;
    if (++run_ == runs_) run_ = 0, ++g_;
    return g;
  }

 private:
  int runs_, run_ = 0;
  int64_t g_ = 0;
};

// Why an 8-bit HostQuantMatrix cannot be repacked for these kernels (empty when it can).
std::string q8_layout_problem(const HostQuantMatrix& m);

// HostQuantMatrix (bits 8) -> Q8Layout rows in dst (layout.bytes() bytes). m must pass q8_layout_problem.
void q8_repack(const HostQuantMatrix& m, uint8_t* dst, ThreadPool& pool);

// Row r of a repacked matrix as f32 [cols] (tests, Backend::read).
void q8_dequant_row(const Q8Layout& l, const uint8_t* row, float* out);

// The same two kernel shapes as Q4Kernels (q4.h), over Q8Layout rows: dot for f32 activation tiles (xsum per
// group, as there), dot_i8 for one activation row quantised by q4_quantize_x with this layout's group.
struct Q8Kernels {
  const char* isa;
  Q4DotTileFn dot;
  Q4DotI8Fn dot_i8;
};

const Q8Kernels& q8_kernels_scalar();
#if defined(JETCHAT_X86)
const Q8Kernels& q8_kernels_avx2();
const Q8Kernels& q8_kernels_avx512();  // avx2's f32 tiles + an AVX-512BW int8 decode kernel
const Q8Kernels& q8_kernels_avx512_vnni();  // the same + an AVX-512 VNNI int8 decode kernel for groups of 32k
#elif defined(JETCHAT_ARM64)
const Q8Kernels& q8_kernels_neon();
const Q8Kernels& q8_kernels_neon_dotprod();  // the same + an sdot (ARMv8.2 dotprod) int8 decode kernel
#endif

// Every implementation this CPU can run, best last; and the best one.
std::vector<const Q8Kernels*> q8_kernels_available();
const Q8Kernels& q8_kernels_best();

}  // namespace jetchat::cpu
