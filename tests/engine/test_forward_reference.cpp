// The engine's forward pass against the independent fp64 reference, for every architecture and weight dtype,
// both in one prefill and token by token through the KV cache.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "jetchat/engine.h"
#include "model_impl.h"
#include "random_checkpoint.h"
#include "support/fixtures.h"
#include "support/reference_forward.h"

namespace jetchat {
namespace {

struct Case {
  std::string name;
  RandomModelSpec spec;
};

std::vector<Case> cases() {
  std::vector<Case> v;
  RandomModelSpec base;  // Llama, GQA 4:2, f16
  base.vocab_size = 512;
  v.push_back({"llama_gqa_f16", base});
  auto f32 = base;
  f32.dtype = "float32";
  v.push_back({"llama_f32", f32});
  auto bf16 = base;
  bf16.dtype = "bfloat16";
  v.push_back({"llama_bf16_tied", bf16});
  v.back().spec.tie_word_embeddings = true;
  auto linear = f32;
  linear.rope_scaling_json = R"({"type": "linear", "factor": 2.0})";
  v.push_back({"llama_rope_linear", linear});
  auto il2 = f32;
  il2.architecture = "InternLM2ForCausalLM";
  il2.heads = 8;
  il2.kv_heads = 2;
  il2.hidden_size = 64;
  il2.max_position = 12;  // the 20-token test sequence runs past it: dynamic NTK scaling is in play
  il2.rope_theta = 1000000.0;
  il2.rope_scaling_json = R"({"type": "dynamic", "factor": 2.0})";
  v.push_back({"internlm2_grouped_wqkv_dynamic_ntk", il2});
  auto il1 = f32;
  il1.architecture = "InternLMForCausalLM";
  il1.kv_heads = il1.heads;
  il1.attention_bias = true;
  v.push_back({"internlm_v1_bias", il1});
  auto qwen = f32;
  qwen.architecture = "Qwen2ForCausalLM";
  qwen.tie_word_embeddings = true;
  v.push_back({"qwen2_bias_tied", qwen});
  auto tr5 = f32;  // transformers 5 writes rope_parameters instead of rope_theta
  v.push_back({"llama_rope_parameters", tr5});
  return v;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ForwardReference : public ::testing::TestWithParam<Case> {};

TEST_P(ForwardReference, LogitsMatchFp64Reference) {
  const Case& c = GetParam();
  const std::string dir = test::scratch_dir("fwd_" + c.name);
  RandomModelSpec spec = c.spec;
  spec.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
  ASSERT_TRUE(write_random_checkpoint(spec, dir).is_ok());
  if (c.name == "llama_rope_parameters") {
    // Rewrite config.json the transformers-5 way: theta inside rope_parameters, "dtype" not "torch_dtype".
    std::string cfg = test::read_file(dir + "/config.json");
    auto j = nlohmann::json::parse(cfg);
    j.erase("rope_theta");
    j.erase("torch_dtype");
    j["dtype"] = "float32";
    j["rope_parameters"] = {{"rope_theta", 500.0}, {"rope_type", "default"}};
    test::write_file(dir + "/config.json", j.dump());
  }
  const std::vector<int32_t> ids = {1, 17, 300, 5, 77, 128, 511, 42, 9, 250, 3, 64, 65, 400, 12, 13, 200, 7, 99, 1};
  auto ref = test::reference_logits(dir, ids);
  if (c.name == "llama_rope_parameters") {
    // The reference reads rope_theta from the top level; give it the same value through a copy of the config.
    auto j = nlohmann::json::parse(test::read_file(dir + "/config.json"));
    const std::string ref_dir = test::scratch_dir("fwd_rope_parameters_ref");
    j["rope_theta"] = 500.0;
    test::write_file(ref_dir + "/config.json", j.dump());
    std::filesystem::copy_file(dir + "/model.safetensors", ref_dir + "/model.safetensors");
    ref = test::reference_logits(ref_dir, ids);
  }
  ASSERT_EQ(ref.size(), ids.size());

  LoadParams lp;
  lp.context_length = 32;
  lp.threads = 2;
  auto model = Model::load(dir, lp);
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  Transformer& tr = *(*model)->impl().transformer;
  const int vocab = spec.vocab_size;

  // One prefill with every position's logits.
  auto kv = tr.alloc_kv(32);
  ASSERT_TRUE(kv.is_ok());
  std::vector<float> all(ids.size() * vocab);
  tr.forward(*kv, ids.data(), int(ids.size()), 0, true, all.data());
  std::vector<std::vector<float>> got(ids.size());
  for (size_t t = 0; t < ids.size(); ++t) got[t].assign(all.begin() + t * vocab, all.begin() + (t + 1) * vocab);
  const double tol = spec.dtype == "float32" ? 1e-4 : 2e-3;  // f16/bf16: the engine stores weights as given but
                                                              // rounds activations nowhere; reference reads the
                                                              // same 16-bit values, so only summation order differs
  EXPECT_LT(test::max_relative_error(got, ref), tol) << c.name;

  // Prefill 11 tokens, then one token at a time through the KV cache: same logits. With dynamic NTK scaling a
  // cached key keeps the rotation of the length it was computed at (as in HF generate), so token-by-token and
  // whole-sequence logits legitimately differ past max_position: compare only up to it there.
  const size_t steps_end = spec.rope_scaling_json.find("dynamic") != std::string::npos
                               ? size_t(spec.max_position)
                               : ids.size();
  const auto ref_steps = steps_end == ids.size()
                             ? ref
                             : test::reference_logits(dir, std::vector<int32_t>(ids.begin(), ids.begin() + steps_end));
  tr.free_kv(*kv);
  kv = tr.alloc_kv(32);
  std::vector<std::vector<float>> step(ids.size(), std::vector<float>(vocab));
  std::vector<float> last(vocab);
  tr.forward(*kv, ids.data(), 11, 0, false, last.data());
  std::vector<std::vector<float>> inc = {last};
  std::vector<std::vector<double>> ref_inc = {ref_steps[10]};
  for (size_t t = 11; t < steps_end; ++t) {
    tr.forward(*kv, &ids[t], 1, int(t), false, last.data());
    inc.push_back(last);
    ref_inc.push_back(ref_steps[t]);
  }
  EXPECT_LT(test::max_relative_error(inc, ref_inc), tol) << c.name << " (incremental)";
  tr.free_kv(*kv);
}

INSTANTIATE_TEST_SUITE_P(Architectures, ForwardReference, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace jetchat
