#include "quantize/calibration_backend.h"

#include <cstring>

namespace jetchat::quant {

void CalibrationBackend::watch(const Tensor* weights[kLinearCount]) {
  for (int i = 0; i < kLinearCount; ++i) {
    watched_[i] = weights[i]->data;
    inputs[i].clear();
  }
  output.clear();
}

void CalibrationBackend::unwatch() {
  for (auto& w : watched_) w = nullptr;
  after_down_ = false;
}

void CalibrationBackend::append(std::vector<float>& to, Backend& b, const Tensor& t) {
  const size_t at = to.size();
  to.resize(at + size_t(t.rows * t.cols));
  b.read(t, to.data() + at);
}

void CalibrationBackend::embed(Tensor& out, const Tensor&, const int32_t*, int n) {
  const size_t count = size_t(n) * size_t(out.cols);
  std::memcpy(out.data, hidden_->data() + cursor_, count * sizeof(float));  // host memory: see the header
  cursor_ += count;
}

void CalibrationBackend::record(const Tensor& x, const Tensor& w) {
  for (int i = 0; i < kLinearCount; ++i)
    if (w.data == watched_[i]) append(inputs[i], *inner_, x);
}

void CalibrationBackend::matmul(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias) {
  record(x, w);
  inner_->matmul(y, x, w, bias);
  after_down_ = w.data == watched_[kDown];
}

void CalibrationBackend::add(Tensor& x, const Tensor& y) {
  inner_->add(x, y);
  if (after_down_) append(output, *inner_, x);  // the residual stream leaving the layer
  after_down_ = false;
}

}  // namespace jetchat::quant
