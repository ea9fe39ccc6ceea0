#include "backend.h"

#include <chrono>

namespace jetchat {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kQ4: return "q4";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16:
    case DType::kBF16: return 2;
    case DType::kQ4: return 0;
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
