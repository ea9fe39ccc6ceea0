#include "quantize/awq_search.h"

#include <algorithm>
#include <cmath>

#include "quantize/rtn.h"

namespace jetchat::quant {
namespace {

// AutoAWQ's defaults: 20 grid points for the exponent; the loss is taken on a subset of the calibration rows
// (256 keep the search of a 1B model's layer to seconds on two cores).
constexpr int kGrid = 20;
constexpr int64_t kLossRows = 256;

// Mean squared error of x·(Q(W·s)/s)ᵀ against the reference outputs, over all weights.
class LossProbe {
 public:
  LossProbe(const std::vector<float>& x, int64_t cols, const std::vector<const std::vector<float>*>& weights,
            Backend& b, const std::vector<float>* down = nullptr)
      : cols_(cols), weights_(weights), b_(b), down_(down) {
    const int64_t tokens = int64_t(x.size()) / cols;
    rows_ = std::min(tokens, kLossRows);
    std::vector<float> sub(size_t(rows_ * cols));
    for (int64_t i = 0; i < rows_; ++i)  // evenly spaced over the calibration text
      std::copy_n(x.begin() + (i * tokens / rows_) * cols, cols, sub.begin() + i * cols);
    x_ = *b_.upload({DType::kF32, rows_, cols, sub.data()}, DType::kF32);
    for (const auto* w : weights_) reference_.push_back(product(*w));
    if (down_) reference_ = {mlp(reference_[0], reference_[1])};
  }
  ~LossProbe() { b_.free(x_); }

  double loss(const std::vector<float>& s, int group) {
    double err = 0;
    int64_t n = 0;
    std::vector<std::vector<float>> outs;
    for (size_t i = 0; i < weights_.size(); ++i) {
      std::vector<float> w = *weights_[i];
      const int64_t rows = int64_t(w.size()) / cols_;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < cols_; ++k) w[size_t(r * cols_ + k)] *= s[size_t(k)];
      fake_quantize(w.data(), rows, cols_, group);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < cols_; ++k) w[size_t(r * cols_ + k)] /= s[size_t(k)];
      outs.push_back(product(w));
    }
    if (down_) outs = {mlp(outs[0], outs[1])};
    for (size_t i = 0; i < outs.size(); ++i) {
      const std::vector<float>& y = outs[i];
      for (size_t j = 0; j < y.size(); ++j) err += double(y[j] - reference_[i][j]) * double(y[j] - reference_[i][j]);
      n += int64_t(y.size());
    }
    return err / double(n);
  }

 private:
  std::vector<float> product(const std::vector<float>& w) {
    const int64_t rows = int64_t(w.size()) / cols_;
    Tensor wt = *b_.upload({DType::kF32, rows, cols_, w.data()}, DType::kF32);
    Tensor y = *b_.alloc(DType::kF32, rows_, rows);
    b_.matmul(y, x_, wt, nullptr);
    std::vector<float> out(size_t(rows_ * rows));
    b_.read(y, out.data());
    b_.free(wt);
    b_.free(y);
    return out;
  }

  // silu(gate) * up, then the 16-bit down projection: the MLP's output for the probe rows.
  std::vector<float> mlp(const std::vector<float>& gate, const std::vector<float>& up) {
    std::vector<float> h(gate.size());
    for (size_t j = 0; j < h.size(); ++j) h[j] = gate[j] / (1.0f + std::exp(-gate[j])) * up[j];
    const int64_t inter = int64_t(h.size()) / rows_, hidden = int64_t(down_->size()) / inter;
    Tensor ht = *b_.upload({DType::kF32, rows_, inter, h.data()}, DType::kF32);
    Tensor dt = *b_.upload({DType::kF32, hidden, inter, down_->data()}, DType::kF32);
    Tensor y = *b_.alloc(DType::kF32, rows_, hidden);
    b_.matmul(y, ht, dt, nullptr);
    std::vector<float> out(size_t(rows_ * hidden));
    b_.read(y, out.data());
    b_.free(ht), b_.free(dt), b_.free(y);
    return out;
  }

  int64_t cols_, rows_ = 0;
  const std::vector<const std::vector<float>*>& weights_;
  Backend& b_;
  const std::vector<float>* down_;
  Tensor x_;
  std::vector<std::vector<float>> reference_;
};

}  // namespace

AwqScales search_awq_scales(const std::vector<float>& x, int64_t cols,
                            const std::vector<const std::vector<float>*>& weights, int group, Backend& b,
                            const std::vector<float>* mlp_down) {
  const int64_t tokens = int64_t(x.size()) / cols;
  // Mean |x| per input channel, and mean per-group-normalised |w| per input channel (AutoAWQ's duo scaling).
  std::vector<double> x_mean(static_cast<size_t>(cols)), w_mean(static_cast<size_t>(cols));
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t k = 0; k < cols; ++k) x_mean[size_t(k)] += std::fabs(x[size_t(t * cols + k)]);
  int64_t w_rows = 0;
  for (const auto* w : weights) {
    const int64_t rows = int64_t(w->size()) / cols;
    w_rows += rows;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < cols / group; ++g) {
        const float* wg = w->data() + r * cols + g * group;
        float mx = 1e-12f;
        for (int j = 0; j < group; ++j) mx = std::max(mx, std::fabs(wg[j]));
        for (int j = 0; j < group; ++j) w_mean[size_t(g * group + j)] += std::fabs(wg[j]) / mx;
      }
  }
  for (int64_t k = 0; k < cols; ++k) {
    x_mean[size_t(k)] /= double(std::max<int64_t>(tokens, 1));
    w_mean[size_t(k)] /= double(w_rows);
  }

  LossProbe probe(x, cols, weights, b, mlp_down);
  AwqScales best;
  best.scales.assign(size_t(cols), 1.0f);
  best.loss_rtn = best.loss = probe.loss(best.scales, group);
  std::vector<float> s(static_cast<size_t>(cols));
  for (int i = 0; i < kGrid; ++i) {
    const double ratio = double(i) / kGrid;
    double lo = INFINITY, hi = 0;
    for (int64_t k = 0; k < cols; ++k) {
      const double v = std::max(1e-4, std::pow(x_mean[size_t(k)], ratio) / (std::pow(w_mean[size_t(k)], 1 - ratio) + 1e-4));
      s[size_t(k)] = float(v);
      lo = std::min(lo, v), hi = std::max(hi, v);
    }
    const double norm = std::sqrt(lo * hi);  // centres the scales around 1 on a log scale
    for (auto& v : s) v = float(v / norm);
    const double l = probe.loss(s, group);
    if (l < best.loss) best.loss = l, best.scales = s, best.ratio = float(ratio);
  }
  return best;
}

}  // namespace jetchat::quant
