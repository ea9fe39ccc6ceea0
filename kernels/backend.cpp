#include "backend.h"

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

}  // namespace jetchat
