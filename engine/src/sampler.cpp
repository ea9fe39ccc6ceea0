#include "sampler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_set>

namespace jetchat {

Sampler::Sampler(const SamplingParams& p)
    : p_(p), rng_(p.seed ? p.seed : uint64_t(std::chrono::steady_clock::now().time_since_epoch().count())) {}

int32_t Sampler::sample(float* logits, int vocab, const std::vector<int32_t>& recent) {
  if (p_.repetition_penalty != 1.0f && p_.repeat_window > 0) {
    // CTRL-style penalty, as HF and llama.cpp apply it: divide positive logits, multiply negative ones.
    std::unordered_set<int32_t> seen;
    const size_t from = recent.size() > size_t(p_.repeat_window) ? recent.size() - p_.repeat_window : 0;
    for (size_t i = from; i < recent.size(); ++i)
      if (recent[i] >= 0 && recent[i] < vocab && seen.insert(recent[i]).second) {
        float& l = logits[recent[i]];
        l = l > 0 ? l / p_.repetition_penalty : l * p_.repetition_penalty;
      }
  }
  if (p_.temperature <= 0.0f) return int32_t(std::max_element(logits, logits + vocab) - logits);

  cand_.resize(vocab);
  for (int i = 0; i < vocab; ++i) cand_[i] = {logits[i] / p_.temperature, i};
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first; };
  size_t n = size_t(vocab);
  if (p_.top_k > 0 && size_t(p_.top_k) < n) {
    std::partial_sort(cand_.begin(), cand_.begin() + p_.top_k, cand_.end(), by_logit);
    n = size_t(p_.top_k);
  } else {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }
  // Softmax over the survivors (sorted, so cand_[0] is the max).
  std::vector<double> prob(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (prob[i] = std::exp(double(cand_[i].first - cand_[0].first)));
  for (auto& q : prob) q /= sum;
  size_t keep = n;
  if (p_.min_p > 0.0f) {
    const double floor = p_.min_p * prob[0];
    keep = 1;
    while (keep < n && prob[keep] >= floor) ++keep;
  }
  if (p_.top_p < 1.0f) {
    double cum = 0;
    size_t k = 0;
    while (k < keep) {
      cum += prob[k++];
      if (cum >= p_.top_p) break;
    }
    keep = k;
  }
  double mass = 0;
  for (size_t i = 0; i < keep; ++i) mass += prob[i];
  double r = std::uniform_real_distribution<double>(0.0, mass)(rng_);
  for (size_t i = 0; i < keep; ++i) {
    r -= prob[i];
    if (r <= 0) return cand_[i].second;
  }
  return cand_[keep - 1].second;
}

}  // namespace jetchat
