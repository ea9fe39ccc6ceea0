#include "quantize/awq_clip.h"

#include <algorithm>

#include "quantize/rtn.h"

namespace jetchat::quant {
namespace {

// AutoAWQ's grid: the range shrunk by 0, 5, ..., 45% (never below half of it).
constexpr int kShrinkSteps = 10;
constexpr double kShrinkStep = 0.05;

double quadratic_form(const double* gram, const float* d, int n) {
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    double row = 0;
    for (int j = 0; j < n; ++j) row += gram[i * n + j] * double(d[j]);
    sum += double(d[i]) * row;
  }
  return sum;
}

}  // namespace

GroupGram group_gram(const std::vector<float>& x, int64_t cols, const std::vector<float>& in_scale, int group) {
  GroupGram gg;
  gg.cols = cols, gg.group = group;
  const int64_t tokens = int64_t(x.size()) / cols, n = group;
  gg.g.assign(size_t(cols * n), 0.0);
  std::vector<double> xs(static_cast<size_t>(cols));
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t k = 0; k < cols; ++k)
      xs[size_t(k)] = double(x[size_t(t * cols + k)]) / (in_scale.empty() ? 1.0 : double(in_scale[size_t(k)]));
    for (int64_t g = 0; g < cols / n; ++g) {
      const double* xg = xs.data() + g * n;
      double* G = gg.g.data() + g * n * n;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) G[i * n + j] += xg[i] * xg[j];
    }
  }
  return gg;
}

ClipResult clip_search(float* w, int64_t rows, const GroupGram& gram) {
  const int n = gram.group;
  ClipResult res;
  std::vector<float> clipped(static_cast<size_t>(n)), q(static_cast<size_t>(n)), d(static_cast<size_t>(n)),
      best(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < gram.cols / n; ++g) {
      float* wg = w + r * gram.cols + g * n;
      const double* G = gram.g.data() + g * n * n;
      float lo = 0, hi = 0;  // the range round-to-nearest spans always holds 0 (rtn.h)
      for (int j = 0; j < n; ++j) lo = std::min(lo, wg[j]), hi = std::max(hi, wg[j]);
      double best_err = 0;
      for (int s = 0; s < kShrinkSteps; ++s) {
        const float shrink = float(1.0 - s * kShrinkStep);
        for (int j = 0; j < n; ++j) clipped[size_t(j)] = std::clamp(wg[j], lo * shrink, hi * shrink);
        q = clipped;
        fake_quantize(q.data(), 1, n, n);
        for (int j = 0; j < n; ++j) d[size_t(j)] = wg[j] - q[size_t(j)];
        const double err = quadratic_form(G, d.data(), n);
        if (s == 0) res.before += err;
        if (s == 0 || err < best_err) best_err = err, best = clipped;
      }
      res.after += best_err;
      std::copy(best.begin(), best.end(), wg);
    }
  return res;
}

}  // namespace jetchat::quant
