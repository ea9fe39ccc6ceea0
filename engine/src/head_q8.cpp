#include "head_q8.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/q8.h"

namespace jetchat {

int head_q8_group(int64_t cols) {
  for (int g : {128, 64, 32})
    if (cols > 0 && cols % g == 0) return g;
  return 0;
}

std::string head_q8_problem(int64_t cols) {
  if (head_q8_group(cols) == 0)
    return "the output head's " + std::to_string(cols) + " inputs (hidden_size) are not a multiple of 32, the 8-bit "
           "kernels' block";
  return {};
}

int64_t head_q8_bytes(int64_t rows, int64_t cols) {
  return int64_t(cpu::Q8Layout{rows, cols, head_q8_group(cols)}.bytes());
}

void quantize_rows_q8(const float* w, int64_t rows, int64_t cols, int group, int8_t* q, float* scales, float* mins) {
  const int64_t groups = cols / group;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const float* x = w + r * cols + g * group;
      const auto [lo, hi] = std::minmax_element(x, x + group);
      // q = round((x - lo) / scale) - 128 spans the group's range; then x ~ q * scale + lo + 128 * scale.
      const float scale = (*hi - *lo) / 255.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
      int8_t* qg = q + r * cols + g * group;
      for (int i = 0; i < group; ++i)
        qg[i] = int8_t(std::clamp(std::lround((x[i] - *lo) * inv), 0L, 255L) - 128);
      scales[r * groups + g] = scale;
      mins[r * groups + g] = -(*lo + 128.0f * scale);
    }
}

Status quantize_head_q8(ModelWeights& w, Backend& b) {
  const Tensor head = w.lm_head;
  if (head.dtype != DType::kF16 && head.dtype != DType::kBF16 && head.dtype != DType::kF32)
    return Status(StatusCode::kUnsupported, std::string("8-bit head: the output head is already ") +
                                                dtype_name(head.dtype) + "; only a 16- or 32-bit head is made 8-bit");
  if (const std::string why = head_q8_problem(head.cols); !why.empty())
    return Status(StatusCode::kUnsupported, "8-bit head: " + why);
  const int64_t rows = head.rows, cols = head.cols;
  const int group = head_q8_group(cols), groups = int(cols / group);
  std::vector<int8_t> q(size_t(rows * cols));
  std::vector<float> scales(size_t(rows * groups)), mins(scales.size());
  // Slices of about 4 M weights: the f32 staging stays small whatever the vocabulary.
  const int64_t slice = std::max<int64_t>(1, (int64_t(1) << 22) / cols);
  std::vector<float> f32(size_t(std::min(slice, rows) * cols));
  for (int64_t r0 = 0; r0 < rows; r0 += slice) {
    const int64_t n = std::min(slice, rows - r0);
    b.read(head.rows_view(r0, n), f32.data());
    JETCHAT_TRY(b.status());
    quantize_rows_q8(f32.data(), n, cols, group, q.data() + r0 * cols, scales.data() + r0 * groups,
                     mins.data() + r0 * groups);
  }
  auto t = b.upload_quant(HostQuantMatrix{8, rows, cols, group, q.data(), scales.data(), mins.data()});
  if (!t) return Status(t.status().code(), "8-bit head: " + t.status().message());
  if (!w.tied) b.free(w.lm_head);
  w.lm_head = *t;
  w.tied = false;
  return Status::ok();
}

}  // namespace jetchat
