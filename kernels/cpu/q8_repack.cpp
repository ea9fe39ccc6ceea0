// HostQuantMatrix (8-bit) -> the CPU kernels' row layout (q8.h), and back to f32 for tests and Backend::read.
#include <cstring>

#include "cpu/q8.h"

namespace jetchat::cpu {

std::string q8_layout_problem(const HostQuantMatrix& m) {
  if (!m.q || !m.scales || !m.mins) return "q, scales and mins are all required";
  if (m.bits != 8) return "not an 8-bit matrix";
  if (m.rows <= 0 || m.cols <= 0 || m.cols % kQ4Block)
    return "in_features " + std::to_string(m.cols) + " is not a positive multiple of " + std::to_string(kQ4Block);
  if (m.group_size != 16 && (m.group_size <= 0 || m.group_size % kQ4Block || m.cols % m.group_size))
    return "group size " + std::to_string(m.group_size) + " is neither 16 nor a multiple of " +
           std::to_string(kQ4Block) + " dividing " + std::to_string(m.cols);
  return {};
}

void q8_repack(const HostQuantMatrix& m, uint8_t* dst, ThreadPool& pool) {
  const Q8Layout l{m.rows, m.cols, m.group_size};
  const size_t groups = size_t(l.groups()), stride = l.row_stride(), used = l.mins_offset() + groups * 4;
  pool.parallel_for(m.rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      uint8_t* row = dst + size_t(r) * stride;
      const int8_t* q = m.q + r * m.cols;
      for (int64_t k = 0; k < m.cols; ++k) row[q8_position(k, m.cols)] = uint8_t(q[k]);
      std::memcpy(row + l.scales_offset(), m.scales + size_t(r) * groups, groups * 4);
      std::memcpy(row + l.mins_offset(), m.mins + size_t(r) * groups, groups * 4);
      std::memset(row + used, 0, stride - used);  // deterministic padding bytes
    }
  }, 16);
}

void q8_dequant_row(const Q8Layout& l, const uint8_t* row, float* out) {
  const float* scales = reinterpret_cast<const float*>(row + l.scales_offset());
  const float* mins = reinterpret_cast<const float*>(row + l.mins_offset());
  for (int64_t k = 0; k < l.cols; ++k)
    out[k] = float(int8_t(row[q8_position(k, l.cols)])) * scales[k / l.group] - mins[k / l.group];
}

}  // namespace jetchat::cpu
