// The same random models on the CUDA and the CPU backend: the same greedy tokens for 32 tokens (decode steps
// recorded into a CUDA graph and replayed), logits within 1e-2 relative L2 (fp16 KV cache and fp16 activations
// in the prefill GEMMs on the GPU), perplexity within 0.5%. One model is quantized to 4 bits first (RTN, group
// 32), so the fused W4 decode path (RMSNorm and SiLU gate inside the GEMVs) runs in the recorded graph; both
// backends then decode with int8 activations per 32 inputs (the CPU where it has integer dot products, as the GPU
// machines' Xeons do: the test prints the CPU backend). Their decode logits are held to 3e-2: the backends' inputs
// differ by float rounding (fp16 KV cache on the GPU), and where that moves an input across an int8 rounding
// boundary the product moves by a whole quantum (max|x| / 127): 1.2-1.9% after 3 layers on the H200. The kernel
// itself is held to 2e-3 of the exact int8 product in test_cuda_ops. Then both with an int8 KV cache (the same
// quantisation on both: the same limits), whose perplexity on the GPU is within 0.5% of the fp16 cache's (the
// CPU's int8-against-f32 test, test_kv_cache_int8, states the same bound). The 4-bit model runs once more with
// its output head rounded to 8 bits at load (--head q8) on both backends: the same limits.
// Skips when no CUDA device is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>

#include "jetchat/session.h"
#include "model_impl.h"
#include "quantize/quantizer.h"
#include "random_checkpoint.h"
#include "support/error_norms.h"
#include "support/fixtures.h"
#include "support/greedy_agreement.h"

namespace jetchat {
namespace {

struct Case {
  std::string name;
  RandomModelSpec spec;
  int w4_group = 0;  // > 0: quantized to 4 bits (RTN) with this group before loading
  HeadType head = HeadType::kAuto;
};

std::vector<Case> cases() {
  RandomModelSpec llama;  // GQA 4:2, head_dim 16, fp16
  RandomModelSpec il2;
  il2.architecture = "InternLM2ForCausalLM";
  il2.hidden_size = 256, il2.intermediate_size = 688, il2.heads = 8, il2.kv_heads = 2, il2.layers = 3;  // head_dim 32
  RandomModelSpec qwen;
  qwen.architecture = "Qwen2ForCausalLM";  // q/k/v biases
  qwen.hidden_size = 512, qwen.heads = 4, qwen.kv_heads = 4, qwen.dtype = "bfloat16";  // head_dim 128
  RandomModelSpec il2_w4 = il2;
  il2_w4.intermediate_size = 768;  // every linear packable at group 32
  return {{"llama_f16", llama, 0},
          {"internlm2_f16", il2, 0},
          {"qwen2_bf16", qwen, 0},
          {"internlm2_w4g32", il2_w4, 32},
          {"internlm2_w4g32_head_q8", il2_w4, 32, HeadType::kQ8}};
}

std::shared_ptr<Model> load(const std::string& dir, DeviceKind device, KvCacheType kv, HeadType head) {
  LoadParams p;
  p.device = device;
  p.kv_cache = kv;
  p.head = head;
  p.context_length = 512;
  p.threads = 2;
  auto m = Model::load(dir, p);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? *m : nullptr;
}

TEST(CudaEndToEnd, SameTokensLogitsAndPerplexityAsCpu) {
  if (!make_cuda_backend({})) GTEST_SKIP() << "no CUDA device";
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    std::string dir = test::scratch_dir("cuda_e2e_" + c.name);
    RandomModelSpec spec = c.spec;
    spec.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
    ASSERT_TRUE(write_random_checkpoint(spec, dir).is_ok());
    if (c.w4_group > 0) {
      quant::QuantizeOptions o;
      o.group = c.w4_group;
      const std::string w4 = test::scratch_dir("cuda_e2e_" + c.name + "_awq");
      ASSERT_TRUE(quant::quantize_model(dir, w4, o).is_ok());
      dir = w4;
    }
    double gpu_f16_perplexity = 0;
    for (KvCacheType kv_type : {KvCacheType::kAuto, KvCacheType::kInt8}) {
      SCOPED_TRACE(kv_type == KvCacheType::kInt8 ? "int8 KV cache" : "f32 (CPU) and fp16 (GPU) KV cache");
      auto cpu = load(dir, DeviceKind::kCpu, kv_type, c.head), gpu = load(dir, DeviceKind::kCuda, kv_type, c.head);
      ASSERT_TRUE(cpu && gpu);
      std::printf("%s on %s\n", c.name.c_str(), cpu->impl().backend->name().c_str());

      // Logits of a 100-token prompt (two prefill chunks) and of 20 single-token steps after it.
      std::vector<int32_t> ids(120);
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 37 + 11) % 509 + 3);
      const int vocab = spec.vocab_size;
      Transformer& tc = *cpu->impl().transformer;
      Transformer& tg = *gpu->impl().transformer;
      auto kc = tc.alloc_kv(256, cpu->impl().kv_dtype), kg = tg.alloc_kv(256, gpu->impl().kv_dtype);
      ASSERT_TRUE(kc.is_ok() && kg.is_ok());
      std::vector<float> lc(static_cast<size_t>(100 * vocab)), lg(static_cast<size_t>(100 * vocab), NAN);
      tc.forward(*kc, ids.data(), 100, 0, true, lc.data());
      tg.forward(*kg, ids.data(), 100, 0, true, lg.data());
      EXPECT_LT(test::relative_l2_error(lg, lc), 1e-2) << "prefill logits";
      for (int i = 100; i < 120; ++i) {
        std::vector<float> sc(static_cast<size_t>(vocab)), sg(static_cast<size_t>(vocab), NAN);
        tc.forward(*kc, &ids[size_t(i)], 1, i, false, sc.data());
        tg.forward(*kg, &ids[size_t(i)], 1, i, false, sg.data());
        EXPECT_LT(test::relative_l2_error(sg, sc), c.w4_group > 0 ? 3e-2 : 1e-2) << "decode logits at " << i;
      }
      tc.free_kv(*kc);
      tg.free_kv(*kg);
      EXPECT_TRUE(gpu->impl().backend->status().is_ok()) << gpu->impl().backend->status().message();

      // Greedy generation through sessions (the GPU samples on the device and replays recorded steps). A random
      // model's top two logits are sometimes closer than the backends' rounding differences (fp16 KV cache): the
      // tokens must agree up to the first near tie in the CPU's logits.
      test::expect_same_greedy_tokens(c.name, cpu, gpu, cpu->impl().kv_dtype, 1e-2);

      // Perplexity over 300 tokens in windows of 128.
      std::vector<int32_t> text(300);
      for (size_t i = 0; i < text.size(); ++i) text[i] = int32_t((i * 91 + 5) % 509 + 3);
      Session pc(cpu), pg(gpu);
      auto ppc = pc.perplexity(text, 128, {}), ppg = pg.perplexity(text, 128, {});
      ASSERT_TRUE(ppc.is_ok() && ppg.is_ok());
      EXPECT_NEAR(*ppg / *ppc, 1.0, 0.005) << "perplexity cpu " << *ppc << " cuda " << *ppg;
      if (kv_type == KvCacheType::kAuto)
        gpu_f16_perplexity = *ppg;
      else
        EXPECT_NEAR(*ppg / gpu_f16_perplexity, 1.0, 0.005) << "cuda perplexity fp16 cache " << gpu_f16_perplexity
                                                           << " int8 cache " << *ppg;
    }
  }
}

// A session on the GPU samples ahead: each step is fed by the device sampler and issued before the host has read
// the token it runs. Its tokens must be those of a plain loop over the same device sampler (one step, one
// synchronous draw), with the session's seed sequence and penalty window: sampled with a repetition penalty
// over a short window (repeats make the ahead sampler's "previous token, unless listed" case happen), greedy,
// and with one and two tokens asked for. A reply stopped while a token is sampled ahead leaves nothing behind: the
// same request again gives the same tokens.
TEST(CudaEndToEnd, SamplingAheadGivesTheTokensOfAStepByStepLoop) {
  if (!make_cuda_backend({})) GTEST_SKIP() << "no CUDA device";
  RandomModelSpec spec;
  spec.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
  const std::string dir = test::scratch_dir("cuda_e2e_sampling_ahead");
  ASSERT_TRUE(write_random_checkpoint(spec, dir).is_ok());
  auto gpu = load(dir, DeviceKind::kCuda, KvCacheType::kAuto, HeadType::kAuto);
  ASSERT_TRUE(gpu);
  ASSERT_TRUE(gpu->impl().backend->samples_ahead());
  Transformer& tr = *gpu->impl().transformer;

  SamplingParams sampled;
  sampled.temperature = 1.2f, sampled.top_k = 0, sampled.top_p = 0.98f, sampled.min_p = 0.0f;
  sampled.repetition_penalty = 1.5f, sampled.repeat_window = 6, sampled.seed = 1234;
  SamplingParams greedy = SamplingParams::greedy();
  greedy.seed = 7;
  const struct {
    SamplingParams sp;
    int max_tokens;
  } runs[] = {{sampled, 48}, {greedy, 48}, {sampled, 1}, {greedy, 2}};
  for (const auto& run : runs) {
    SCOPED_TRACE("temperature " + std::to_string(run.sp.temperature) + ", " + std::to_string(run.max_tokens) +
                 " tokens");
    GenerateParams gp;
    gp.sampling = run.sp;
    gp.max_tokens = run.max_tokens;
    Session session(gpu);
    auto g = session.complete("Once upon a time", gp);
    ASSERT_TRUE(g.is_ok()) << g.status().message();
    const std::vector<int32_t>& got = g->generated_ids;
    EXPECT_GE(got.size(), std::min<size_t>(size_t(run.max_tokens), 8)) << "stopped early: " << g->stats.stop_reason;

    // The plain loop.
    auto kv = tr.alloc_kv(gpu->impl().context_length, gpu->impl().kv_dtype);
    ASSERT_TRUE(kv.is_ok());
    const std::vector<int32_t>& prompt = g->prompt_ids;
    tr.forward_on_device(*kv, prompt.data(), int(prompt.size()), 0);
    std::mt19937_64 seeds(run.sp.seed);
    std::vector<int32_t> recent = prompt, want;
    while (want.size() < got.size()) {
      std::vector<int32_t> penalized;  // the distinct ids of the last repeat_window tokens
      const size_t window = run.sp.repetition_penalty != 1.0f ? size_t(run.sp.repeat_window) : 0;
      for (size_t i = recent.size() - std::min(recent.size(), window); i < recent.size(); ++i)
        if (std::find(penalized.begin(), penalized.end(), recent[i]) == penalized.end())
          penalized.push_back(recent[i]);
      auto id = tr.sample(run.sp, penalized, seeds());
      ASSERT_TRUE(id.is_ok()) << id.status().message();
      want.push_back(*id);
      recent.push_back(*id);
      tr.forward_on_device(*kv, &*id, 1, int(recent.size()) - 1);
    }
    tr.free_kv(*kv);
    EXPECT_EQ(got, want);

    // Stopped by its callback while a token is sampled ahead, then the same request again: the token left
    // pending must not leak into the next reply. (reset: a kept cache would feed the last prompt token again
    // through the one-token kernels, whose rounding differs from the prompt's.)
    session.reset();
    int pieces = 0;
    auto stopped = session.complete("Once upon a time", gp, [&](std::string_view) { return ++pieces < 5; });
    ASSERT_TRUE(stopped.is_ok()) << stopped.status().message();
    const std::vector<int32_t>& head = stopped->generated_ids;
    EXPECT_TRUE(head.size() <= got.size() && std::equal(head.begin(), head.end(), got.begin()));
    session.reset();
    auto again = session.complete("Once upon a time", gp);
    ASSERT_TRUE(again.is_ok()) << again.status().message();
    EXPECT_EQ(again->generated_ids, got) << "the same request after one stopped early";
  }
  EXPECT_TRUE(gpu->impl().backend->status().is_ok()) << gpu->impl().backend->status().message();
}

}  // namespace
}  // namespace jetchat
