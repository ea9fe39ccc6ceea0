// Picks the next token from logits: repetition penalty, temperature, top-k, top-p, min-p, seeded RNG.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "jetchat/params.h"

namespace jetchat {

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  // `logits` [vocab] is modified in place. `recent` are the previous tokens the repetition penalty looks at.
  int32_t sample(float* logits, int vocab, const std::vector<int32_t>& recent);

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> cand_;
};

}  // namespace jetchat
