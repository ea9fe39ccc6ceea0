// Decode with int8 activations for AVX-512 VNNI (issue #3): vpdpbusd multiplies the weights' u8 nibbles by the
// s8 activations of q4_quantize_x and sums each four products into an i32 lane, so one 64-byte load of packed
// weights (4 blocks, 128 weights) costs an and, a shift, two vpdpbusd, one convert and one FMA with the per-lane
// scale d[block] * scale[group] -- no widening shuffles; the minimums cost one 16-lane FMA per 16 groups and
// each row one horizontal sum (one thread, 5632 x 2048 g128 from L3: 0.187 ms, was 0.239). Rows go one after
// the other, so memory sees one sequential stream: four rows per pass (sharing the activation loads) ran 1.4x
// faster from L3 but 0.6x from DRAM, where decode reads its weights (one thread, 2048-wide rows; prefetching
// the next four rows in order recovered DRAM speed but lost the in-cache gain). The activations' scales spread
// over their lanes once per call (not a permute per chunk and row) and a software prefetch of the row four on
// made it 1.24-1.29x faster per thread on a 16-core Xeon, in cache and from DRAM, and W4 decode 1.36-1.49x
// (BENCHMARKS.md, 2026-11-26). Prefill tiles keep avx512's f32 kernel.
#include <immintrin.h>

#include <vector>

#include "cpu/avx512_lane_scales.h"
#include "cpu/q4.h"

namespace jetchat::cpu {
namespace {

// The 16 i32 lanes of one chunk of nb <= 4 blocks for one row: w are its packed weights (nb * 16 bytes used),
// xlo / xhi the chunk's runs x[0..15] / x[16..31] of each block, as q4_quantize_x orders them.
inline __m512i chunk_i32(__m512i w, __m512i xlo, __m512i xhi) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(w, m4), xlo);
  return _mm512_dpbusd_epi32(s, _mm512_and_si512(_mm512_srli_epi16(w, 4), m4), xhi);
}

// Sum over groups of min * xsum as 16 lanes, to be subtracted before the final reduction.
inline __m512 min_terms(const float* mins, const float* xsum, int64_t groups) {
  __m512 z = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; g += 16) {
    const __mmask16 m = groups - g >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (groups - g)) - 1);
    z = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, mins + g), _mm512_maskz_loadu_ps(m, xsum + g), z);
  }
  return z;
}

// out = row . x^. dsp: the activations' d of each full chunk spread over its lanes (16 floats per chunk), built
// once per call for all its rows. `ahead` is the row to prefetch while this one is multiplied.
void dot_row(const uint8_t* row, const uint8_t* ahead, size_t stride, int64_t cols, int group, const int8_t* xq,
             const float* d, const float* dsp, const float* xsum, float* out) {
  const Q4Layout l{1, cols, group};
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const int64_t blocks = cols / kQ4Block, full = blocks / kQ4XChunk * kQ4XChunk;
  // Two accumulators: consecutive chunks' FMAs do not wait on each other.
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
  int64_t b0 = 0;
  auto chunk = [&](int64_t c0, __m512 acc) {
    const int8_t* x = xq + c0 * kQ4Block;
    _mm_prefetch(reinterpret_cast<const char*>(ahead + c0 * (kQ4Block / 2)), _MM_HINT_T0);
    const __m512i w = _mm512_loadu_si512(row + c0 * (kQ4Block / 2));
    const __m512 sc = _mm512_mul_ps(_mm512_loadu_ps(dsp + 4 * c0), lane_scales(scales, c0, group));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(chunk_i32(w, _mm512_loadu_si512(x), _mm512_loadu_si512(x + 64))), sc,
                           acc);
  };
  for (; b0 + 2 * kQ4XChunk <= full; b0 += 2 * kQ4XChunk) {
    acc0 = chunk(b0, acc0);
    acc1 = chunk(b0 + kQ4XChunk, acc1);
  }
  if (b0 < full) acc0 = chunk(b0, acc0);
  if (const int64_t nb = blocks - full; nb > 0) {
    // A last chunk of 1..3 blocks: masked loads of its nb * 16 bytes (x holds its lo runs, then its hi runs).
    const int8_t* x = xq + full * kQ4Block;
    const __mmask64 m = (__mmask64(1) << (16 * nb)) - 1;
    float sc[kQ4XChunk] = {};
    for (int64_t j = 0; j < nb; ++j) sc[j] = scales[(full + j) * kQ4Block / group] * d[full + j];
    const __m512i w = _mm512_maskz_loadu_epi8(m, row + full * (kQ4Block / 2));
    const __m512i s = chunk_i32(w, _mm512_maskz_loadu_epi8(m, x), _mm512_maskz_loadu_epi8(m, x + 16 * nb));
    acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), spread(_mm_loadu_ps(sc)), acc1);
  }
  for (size_t at = (full * kQ4Block / 2 + 63) / 64 * 64; at < stride; at += 64)  // the rest: tail, scales, mins
    _mm_prefetch(reinterpret_cast<const char*>(ahead + at), _MM_HINT_T0);
  const __m512 z = min_terms(reinterpret_cast<const float*>(row + l.mins_offset()), xsum, l.groups());
  *out = _mm512_reduce_add_ps(_mm512_sub_ps(_mm512_add_ps(acc0, acc1), z));
}

// Rows one after the other, each prefetching the row kAhead rows on while it is multiplied (the hardware
// prefetcher alone did not keep up once the inner loop got cheaper). The last rows of a call prefetch their own
// row (the next call's rows belong to another thread).
void dot_i8(const uint8_t* rows, size_t stride, int nrows, int64_t cols, int group, const int8_t* xq,
            const float* d, const float* xsum, float* out) {
  constexpr int kAhead = 4;
  const int64_t chunks = cols / kQ4Block / kQ4XChunk;
  thread_local std::vector<float> dsp;
  dsp.resize(size_t(chunks) * 16);
  for (int64_t c = 0; c < chunks; ++c) _mm512_storeu_ps(dsp.data() + 16 * c, spread(_mm_loadu_ps(d + 4 * c)));
  for (int r = 0; r < nrows; ++r)
    dot_row(rows + size_t(r) * stride, rows + size_t(r + kAhead < nrows ? r + kAhead : r) * stride, stride, cols,
            group, xq, d, dsp.data(), xsum, out + r);
}

}  // namespace

const Q4Kernels& q4_kernels_avx512_vnni() {
  static const Q4Kernels k{"avx512-vnni", q4_kernels_avx512().dot, dot_i8};
  return k;
}

}  // namespace jetchat::cpu
