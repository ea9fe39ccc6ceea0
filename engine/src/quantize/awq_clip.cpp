#include "quantize/awq_clip.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "quantize/rtn.h"

namespace jetchat::quant {
namespace {

// AutoAWQ's grid: the range shrunk by 0, 5, ..., 45% (never below half of it).
constexpr int kShrinkSteps = 10;
constexpr double kShrinkStep = 0.05;

// dᵀ G d for one group, G [n, n] row-major: G·d is accumulated row by row (d_i times row i), a loop with
// independent lanes that the compiler vectorises without reordering any sum.
double quadratic_form(const double* gram, const double* d, int n, double* gd) {
  std::fill(gd, gd + n, 0.0);
  for (int i = 0; i < n; ++i) {
    const double di = d[i];
    const double* gi = gram + i * n;
    for (int j = 0; j < n; ++j) gd[j] += gi[j] * di;
  }
  double sum = 0;
  for (int j = 0; j < n; ++j) sum += d[j] * gd[j];
  return sum;
}

// Runs fn(begin, end) over [0, count) in `threads` contiguous parts (0: one per core).
template <class Fn>
void parallel_for(int64_t count, int threads, Fn fn) {
  const int64_t parts = std::clamp<int64_t>(threads > 0 ? threads : std::thread::hardware_concurrency(), 1, count);
  std::vector<std::thread> pool;
  for (int64_t p = 1; p < parts; ++p) pool.emplace_back(fn, p * count / parts, (p + 1) * count / parts);
  fn(int64_t(0), count / parts);
  for (auto& t : pool) t.join();
}

}  // namespace

GroupGram group_gram(const std::vector<float>& x, int64_t cols, const std::vector<float>& in_scale, int group,
                     int threads) {
  GroupGram gg;
  gg.cols = cols, gg.group = group;
  const int64_t tokens = int64_t(x.size()) / cols, n = group;
  gg.g.assign(size_t(cols * n), 0.0);
  parallel_for(cols / n, threads, [&](int64_t g0, int64_t g1) {  // each part owns groups [g0, g1)
    std::vector<double> xg(static_cast<size_t>(n));
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t g = g0; g < g1; ++g) {
        for (int64_t i = 0; i < n; ++i) {
          const int64_t k = g * n + i;
          xg[size_t(i)] = double(x[size_t(t * cols + k)]) / (in_scale.empty() ? 1.0 : double(in_scale[size_t(k)]));
        }
        double* G = gg.g.data() + g * n * n;
        for (int64_t i = 0; i < n; ++i) {
          const double xi = xg[size_t(i)];
          for (int64_t j = 0; j < n; ++j) G[i * n + j] += xi * xg[size_t(j)];
        }
      }
  });
  return gg;
}

ClipResult clip_search(float* w, int64_t rows, const GroupGram& gram, int threads) {
  const int n = gram.group;
  const int64_t groups = gram.cols / n;
  std::vector<ClipResult> results;
  std::mutex m;
  parallel_for(rows, threads, [&](int64_t r0, int64_t r1) {
    ClipResult res;
    std::vector<float> clipped(static_cast<size_t>(n)), q(static_cast<size_t>(n)), best(static_cast<size_t>(n));
    std::vector<double> d(static_cast<size_t>(n)), gd(static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t g = 0; g < groups; ++g) {
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
          for (int j = 0; j < n; ++j) d[size_t(j)] = double(wg[j]) - double(q[size_t(j)]);
          const double err = quadratic_form(G, d.data(), n, gd.data());
          if (s == 0) res.before += err;
          if (s == 0 || err < best_err) best_err = err, best = clipped;
        }
        res.after += best_err;
        std::copy(best.begin(), best.end(), wg);
      }
    std::lock_guard<std::mutex> lock(m);
    results.push_back(res);
  });
  ClipResult total;
  for (const ClipResult& r : results) total.before += r.before, total.after += r.after;
  return total;
}

}  // namespace jetchat::quant
