// The int8 KV cache end to end on the CPU (the reference the CUDA tests compare with) against the f32 cache of the
// same random model: logits of a prompt and of decode steps within 1e-2 relative L2, the same greedy tokens for
// 32 tokens (up to the first near tie: a step whose top-2 gap is under twice that tolerance may go either way),
// perplexity within 0.5%. The cache's memory counts its scales, in ModelInfo (what the load's memory check uses,
// and what probe reports before loading for the app's check) and in the session's MemoryUsage.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "jetchat/session.h"
#include "model_impl.h"
#include "random_checkpoint.h"
#include "support/fixtures.h"
#include "support/greedy_agreement.h"
#include "support/logits_errors.h"

namespace jetchat {
namespace {

// Measured (2026-11-26): logits 4.7e-3 .. 6.4e-3, perplexity ratios 0.9996 .. 1.0001.
constexpr double kLogitsTolerance = 1e-2;
constexpr double kPerplexityTolerance = 0.005;

std::shared_ptr<Model> load(const std::string& dir, KvCacheType kv) {
  LoadParams p;
  p.context_length = 512;
  p.threads = 2;
  p.kv_cache = kv;
  auto m = Model::load(dir, p);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? *m : nullptr;
}

TEST(KvCacheInt8, CloseToTheF32CacheAndHalfTheMemoryOfF16) {
  RandomModelSpec llama;  // GQA 4:2, head_dim 16
  RandomModelSpec il2;
  il2.architecture = "InternLM2ForCausalLM";
  il2.hidden_size = 256, il2.intermediate_size = 688, il2.heads = 8, il2.kv_heads = 2, il2.layers = 3;  // head_dim 32
  RandomModelSpec qwen;
  qwen.architecture = "Qwen2ForCausalLM";
  qwen.hidden_size = 512, qwen.heads = 4, qwen.kv_heads = 4, qwen.dtype = "bfloat16";  // head_dim 128
  const std::pair<const char*, RandomModelSpec> specs[] = {{"llama", llama}, {"internlm2", il2}, {"qwen2", qwen}};
  for (auto [name, spec] : specs) {
    SCOPED_TRACE(name);
    const std::string dir = test::scratch_dir(std::string("kv_int8_") + name);
    spec.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
    ASSERT_TRUE(write_random_checkpoint(spec, dir).is_ok());
    auto ref = load(dir, KvCacheType::kAuto), q8 = load(dir, KvCacheType::kInt8);
    ASSERT_TRUE(ref && q8);
    const int head_dim = spec.hidden_size / spec.heads, kv_dim = spec.kv_heads * head_dim;
    EXPECT_EQ(q8->info().kv_bytes_per_token, int64_t(spec.layers) * 2 * (kv_dim + spec.kv_heads * 4));
    EXPECT_EQ(ref->info().kv_bytes_per_token, int64_t(spec.layers) * 2 * kv_dim * 4);
    EXPECT_EQ(load(dir, KvCacheType::kF16)->info().kv_bytes_per_token, int64_t(spec.layers) * 2 * kv_dim * 2);

    // Logits of a 100-token prompt (two prefill chunks) and of 20 single-token steps after it.
    std::vector<int32_t> ids(120);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 37 + 11) % 509 + 3);
    const test::LogitsErrors e = test::logits_errors(*ref, *q8, ids, 100, 256);  // f32 and int8 caches
    EXPECT_LT(e.prefill, kLogitsTolerance) << "prefill logits";
    EXPECT_LT(e.decode, kLogitsTolerance) << "decode logits";

    // Greedy generation through sessions; the f32 cache's logits say where a near tie allows a difference.
    test::expect_same_greedy_tokens(name, ref, q8, DType::kF32, kLogitsTolerance);
    {  // a live session holds the whole context's int8 cache
      Session s(q8);
      GenerateParams one;
      one.max_tokens = 1;
      ASSERT_TRUE(s.complete("Once", one).is_ok());
      EXPECT_EQ(q8->memory().kv_bytes, q8->info().kv_bytes_per_token * 512);
      // What probe promises for an int8 cache before loading (the app's memory check) is what was allocated.
      auto probed = ModelInfo::probe(dir);
      ASSERT_TRUE(probed.is_ok()) << probed.status().message();
      EXPECT_EQ(probed->kv_int8_bytes_per_token * 512, q8->memory().kv_bytes);
      EXPECT_EQ(probed->bytes_needed(512, KvCacheType::kInt8) - probed->bytes_needed(512),
                q8->memory().kv_bytes - ref->info().kv_bytes_per_token * 512);
    }

    // Perplexity over 300 tokens in windows of 128.
    std::vector<int32_t> text(300);
    for (size_t i = 0; i < text.size(); ++i) text[i] = int32_t((i * 91 + 5) % 509 + 3);
    Session pr(ref), pq(q8);
    auto ppr = pr.perplexity(text, 128, {}), ppq = pq.perplexity(text, 128, {});
    ASSERT_TRUE(ppr.is_ok() && ppq.is_ok());
    EXPECT_NEAR(*ppq / *ppr, 1.0, kPerplexityTolerance) << "perplexity f32 " << *ppr << " int8 " << *ppq;
    std::printf("%s: logits error prefill %.2e decode %.2e, perplexity f32 %.4f int8 %.4f\n", name, e.prefill,
                e.decode, *ppr, *ppq);
  }
}

}  // namespace
}  // namespace jetchat
