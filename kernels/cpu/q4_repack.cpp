// AWQ GEMM tensors and 4-bit HostQuantMatrix -> the CPU kernels' row layout (q4.h), and back to f32 for tests
// and Backend::read.
#include <algorithm>
#include <cstring>

#include "cpu/q4.h"
#include "half.h"

namespace jetchat::cpu {
namespace {

// AWQ packs output columns 8c..8c+7 into one int32 with nibble i holding column 8c + kOrder[i]; column 8c + j
// therefore sits in nibble kNibbleOf[j] (FORMATS.md section 1).
constexpr int kNibbleOf[8] = {0, 4, 1, 5, 2, 6, 3, 7};

// Packed columns per repack tile: 16 int32 are one 64-byte line of qweight, so each line read is used whole.
constexpr int64_t kTile = 16;

float scale_at(const HostQ4Matrix& m, int64_t i) {
  switch (m.scales_dtype) {
    case DType::kF16: return f16_to_f32(static_cast<const uint16_t*>(m.scales)[i]);
    case DType::kBF16: return bf16_to_f32(static_cast<const uint16_t*>(m.scales)[i]);
    default: return static_cast<const float*>(m.scales)[i];
  }
}

}  // namespace

std::string q4_layout_problem(const HostQ4Matrix& m) {
  if (!m.qweight || !m.qzeros || !m.scales) return "qweight, qzeros and scales are all required";
  if (m.rows <= 0 || m.cols <= 0 || m.rows % 8) return "out_features must be a positive multiple of 8";
  if (m.group_size <= 0 || m.group_size % kQ4Block)
    return "group size " + std::to_string(m.group_size) + " is not a multiple of " + std::to_string(kQ4Block);
  if (m.cols % m.group_size)
    return "in_features " + std::to_string(m.cols) + " is not a multiple of the group size " +
           std::to_string(m.group_size);
  if (m.scales_dtype == DType::kQ4) return "scales must be f16, bf16 or f32";
  return {};
}

void q4_repack_awq(const HostQ4Matrix& m, uint8_t* dst, ThreadPool& pool) {
  const Q4Layout l{m.rows, m.cols, m.group_size};
  const int64_t packed = m.rows / 8, groups = l.groups(), stride = int64_t(l.row_stride());
  pool.parallel_for((packed + kTile - 1) / kTile, [&](int64_t t0, int64_t t1) {
    uint32_t words[kQ4Block];
    for (int64_t c0 = t0 * kTile; c0 < std::min(packed, t1 * kTile); c0 += kTile) {
      const int64_t c1 = std::min(packed, c0 + kTile);
      for (int64_t kb = 0; kb < m.cols / kQ4Block; ++kb)
        for (int64_t c = c0; c < c1; ++c) {
          for (int j = 0; j < kQ4Block; ++j) words[j] = uint32_t(m.qweight[(kb * kQ4Block + j) * packed + c]);
          for (int j = 0; j < 8; ++j) {
            const int shift = 4 * kNibbleOf[j];
            uint8_t* out = dst + (c * 8 + j) * stride + kb * (kQ4Block / 2);
            for (int b = 0; b < kQ4Block / 2; ++b)
              out[b] = uint8_t(((words[b] >> shift) & 0xF) | (((words[b + 16] >> shift) & 0xF) << 4));
          }
        }
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t c = c0; c < c1; ++c) {
          const uint32_t z = uint32_t(m.qzeros[g * packed + c]);
          for (int j = 0; j < 8; ++j) {
            const int64_t r = c * 8 + j;
            uint8_t* row = dst + r * stride;
            const float s = scale_at(m, g * m.rows + r), min = float((z >> (4 * kNibbleOf[j])) & 0xF) * s;
            std::memcpy(row + l.scales_offset() + size_t(g) * sizeof(float), &s, sizeof s);
            std::memcpy(row + l.mins_offset() + size_t(g) * sizeof(float), &min, sizeof min);
          }
        }
      const size_t used = l.mins_offset() + size_t(groups) * sizeof(float);
      for (int64_t r = c0 * 8; r < c1 * 8; ++r)  // deterministic padding bytes
        std::memset(dst + r * stride + used, 0, size_t(stride) - used);
    }
  });
}

std::string q4_quant_layout_problem(const HostQuantMatrix& m) {
  if (!m.q || !m.scales || !m.mins) return "q, scales and mins are all required";
  if (m.bits != 4) return "not a 4-bit matrix";
  if (m.rows <= 0 || m.cols <= 0) return "empty shape";
  if (m.group_size <= 0 || m.group_size % kQ4Block || m.cols % m.group_size)
    return "group size " + std::to_string(m.group_size) + " is not a multiple of " + std::to_string(kQ4Block) +
           " dividing " + std::to_string(m.cols);
  return {};
}

void q4_repack_quant(const HostQuantMatrix& m, uint8_t* dst, ThreadPool& pool) {
  const Q4Layout l{m.rows, m.cols, m.group_size};
  const size_t groups = size_t(l.groups()), stride = l.row_stride(), used = l.mins_offset() + groups * 4;
  pool.parallel_for(m.rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      uint8_t* row = dst + size_t(r) * stride;
      const int8_t* q = m.q + r * m.cols;
      for (int64_t kb = 0; kb < m.cols; kb += kQ4Block)
        for (int j = 0; j < kQ4Block / 2; ++j)
          row[kb / 2 + j] = uint8_t((q[kb + j] & 0xF) | (q[kb + 16 + j] & 0xF) << 4);
      std::memcpy(row + l.scales_offset(), m.scales + size_t(r) * groups, groups * 4);
      std::memcpy(row + l.mins_offset(), m.mins + size_t(r) * groups, groups * 4);
      std::memset(row + used, 0, stride - used);  // deterministic padding bytes
    }
  }, 16);
}

void q4_dequant_row(const Q4Layout& l, const uint8_t* row, float* out) {
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  for (int64_t k = 0; k < l.cols; ++k) {
    const uint8_t byte = row[k / kQ4Block * (kQ4Block / 2) + k % 16];
    const int q = k % kQ4Block < 16 ? byte & 0xF : byte >> 4;
    out[k] = float(q) * scales[k / l.group] - mins[k / l.group];
  }
}

}  // namespace jetchat::cpu
