// Sampling: greedy is argmax, each filter keeps exactly the tokens its definition keeps, frequencies follow the
// softmax, and a seed reproduces a run.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "sampler.h"

namespace jetchat {
namespace {

std::vector<float> logits() { return {1.0f, 3.0f, 2.0f, 0.5f, 2.9f, -1.0f, 0.0f, 2.5f}; }

TEST(Sampler, GreedyIsArgmax) {
  Sampler s(SamplingParams::greedy());
  auto l = logits();
  EXPECT_EQ(s.sample(l.data(), 8, {}), 1);
}

TEST(Sampler, RepetitionPenaltyDemotesRecentTokens) {
  SamplingParams p = SamplingParams::greedy();
  p.repetition_penalty = 1.2f;
  Sampler s(p);
  auto l = logits();
  EXPECT_EQ(s.sample(l.data(), 8, {1}), 4);  // 3.0 / 1.2 = 2.5 < 2.9
  EXPECT_FLOAT_EQ(l[1], 2.5f);
  auto neg = logits();
  s.sample(neg.data(), 8, {5});
  EXPECT_FLOAT_EQ(neg[5], -1.2f);  // negative logits are multiplied
}

// Draws many samples and returns the frequencies.
std::map<int, double> frequencies(const SamplingParams& p, int n) {
  Sampler s(p);
  std::map<int, double> f;
  for (int i = 0; i < n; ++i) {
    auto l = logits();
    f[s.sample(l.data(), 8, {})] += 1.0 / n;
  }
  return f;
}

TEST(Sampler, FrequenciesFollowTemperatureSoftmax) {
  SamplingParams p;
  p.temperature = 2.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.repetition_penalty = 1.0f;
  p.seed = 7;
  auto f = frequencies(p, 40000);
  auto l = logits();
  double z = 0;
  for (float x : l) z += std::exp(x / 2.0);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(f[i], std::exp(l[i] / 2.0) / z, 0.01) << "token " << i;
}

TEST(Sampler, TopKTopPAndMinPKeepTheRightTokens) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.repetition_penalty = 1.0f;
  p.seed = 3;
  p.top_k = 2;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  auto f = frequencies(p, 4000);
  EXPECT_EQ(f.size(), 2u);  // tokens 1 (3.0) and 4 (2.9)
  EXPECT_TRUE(f.count(1) && f.count(4));

  p.top_k = 0;
  p.top_p = 0.5f;  // probabilities sorted: 3.0 -> .29, 2.9 -> .26: the first two reach 0.5
  f = frequencies(p, 4000);
  EXPECT_EQ(f.size(), 2u);

  p.top_p = 1.0f;
  p.min_p = 0.5f;  // keeps logits within ln(2) of the max: 3.0, 2.9, 2.5
  f = frequencies(p, 4000);
  EXPECT_EQ(f.size(), 3u);
  EXPECT_TRUE(f.count(7));
}

TEST(Sampler, SeedReproduces) {
  SamplingParams p;
  p.seed = 1234;
  Sampler a(p), b(p);
  for (int i = 0; i < 100; ++i) {
    auto la = logits(), lb = logits();
    ASSERT_EQ(a.sample(la.data(), 8, {}), b.sample(lb.data(), 8, {}));
  }
}

}  // namespace
}  // namespace jetchat
