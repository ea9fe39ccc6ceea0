#include "support/greedy_agreement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "jetchat/session.h"
#include "model_impl.h"

namespace jetchat::test {

void expect_same_greedy_tokens(const std::string& name, const std::shared_ptr<Model>& reference,
                               const std::shared_ptr<Model>& other, DType kv_dtype, double tolerance) {
  constexpr size_t kTokens = 32;
  GenerateParams g;
  g.sampling = SamplingParams::greedy();
  g.max_tokens = int(kTokens);
  Session sr(reference), so(other);
  auto rr = sr.complete("Once upon a time", g), ro = so.complete("Once upon a time", g);
  ASSERT_TRUE(rr.is_ok() && ro.is_ok()) << rr.status().message() << ro.status().message();
  ASSERT_EQ(rr->generated_ids.size(), kTokens);

  // The reference's logits at each step of its own sequence.
  Transformer& t = *reference->impl().transformer;
  std::vector<int32_t> seq = rr->prompt_ids;
  seq.insert(seq.end(), rr->generated_ids.begin(), rr->generated_ids.end());
  auto kv = t.alloc_kv(256, kv_dtype);
  ASSERT_TRUE(kv.is_ok());
  const size_t vocab = size_t(reference->impl().config.vocab_size);
  std::vector<float> l(vocab);
  t.forward(*kv, seq.data(), int(rr->prompt_ids.size()), 0, false, l.data());
  size_t must_agree = kTokens;  // the tokens before the first near tie
  for (size_t i = 0; i < kTokens; ++i) {
    std::vector<float> sorted = l;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    double ms = 0;
    for (float v : l) ms += double(v) * v;
    if (sorted[0] - sorted[1] < 2 * tolerance * std::sqrt(ms / double(vocab))) {
      must_agree = i;  // this step may go either way; the ones before must agree
      std::printf("%s: near tie at generated token %zu (top-2 gap %.4f)\n", name.c_str(), i, sorted[0] - sorted[1]);
      break;
    }
    const size_t pos = rr->prompt_ids.size() + i;
    if (i + 1 < kTokens) t.forward(*kv, &seq[pos], 1, int(pos), false, l.data());
  }
  t.free_kv(*kv);
  ASSERT_GE(ro->generated_ids.size(), must_agree);
  for (size_t i = 0; i < must_agree; ++i)
    EXPECT_EQ(ro->generated_ids[i], rr->generated_ids[i]) << "generated token " << i;
}

}  // namespace jetchat::test
