#include "backend.h"

#include <chrono>
#include <vector>

#include "half.h"

namespace jetchat {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kQ4: return "q4";
    case DType::kQ8: return "q8";
    case DType::kI8: return "int8";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16:
    case DType::kBF16: return 2;
    case DType::kQ4:
    case DType::kQ8: return 0;
    case DType::kI8: return 1;
  }
  return 0;
}

Tensor Tensor::rows_view(int64_t first, int64_t n) const {
  Tensor v = *this;
  const size_t row_bytes = size_t(cols) * dtype_size(dtype);
  v.data = static_cast<char*>(data) + size_t(first) * row_bytes;
  v.rows = n;
  v.bytes = size_t(n) * row_bytes;
  return v;
}

Result<Tensor> Backend::upload_quant(const HostQuantMatrix& m) {
  if (!m.q || !m.scales || !m.mins || m.rows <= 0 || m.cols <= 0 || m.group_size <= 0 || m.cols % m.group_size)
    return Status(StatusCode::kInvalidArgument, "upload_quant: [" + std::to_string(m.rows) + ", " +
                                                    std::to_string(m.cols) + "] group " +
                                                    std::to_string(m.group_size) + " is not a valid quantised matrix");
  const int64_t groups = m.cols / m.group_size;
  std::vector<uint16_t> f16(size_t(m.rows * m.cols));  // [rows, cols]
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t k = 0; k < m.cols; ++k) {
      const int64_t g = r * groups + k / m.group_size;
      f16[size_t(r * m.cols + k)] = f32_to_f16(float(m.q[r * m.cols + k]) * m.scales[g] - m.mins[g]);
    }
  return upload(HostMatrix{DType::kF16, m.rows, m.cols, f16.data()}, DType::kF16);
}

Result<double> Backend::time_per_call(const std::function<void()>& fn, int reps) {
  fn();  // warm-up
  sync();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) fn();
  sync();
  JETCHAT_TRY(status());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

}  // namespace jetchat
