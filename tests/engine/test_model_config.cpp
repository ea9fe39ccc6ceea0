// config.json as transformers 4.x and 5.x write it, and the RoPE frequencies each scaling variant implies.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "model_config.h"
#include "rope.h"

namespace jetchat {
namespace {

nlohmann::json base() {
  return nlohmann::json::parse(R"({"architectures":["InternLM2ForCausalLM"],"vocab_size":92544,
    "hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,
    "num_key_value_heads":8,"max_position_embeddings":32768,"rms_norm_eps":1e-5,"bias":false,
    "rope_theta":1000000,"rope_scaling":{"type":"dynamic","factor":2.0},"torch_dtype":"bfloat16",
    "eos_token_id":[2,92542]})");
}

TEST(ModelConfig, ParsesTransformers4Layout) {
  auto c = ModelConfig::parse(base(), "config.json");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->kv_dim(), 1024);
  EXPECT_EQ(c->rope_theta, 1e6);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kDynamic);
  EXPECT_EQ(c->rope_scaling.factor, 2.0);
  EXPECT_EQ(c->dtype, "bfloat16");
  EXPECT_EQ(c->eos_token_ids, (std::vector<int>{2, 92542}));
}

TEST(ModelConfig, ParsesTransformers5Layout) {
  auto j = base();
  j.erase("rope_theta");
  j.erase("rope_scaling");
  j.erase("torch_dtype");
  j["dtype"] = "float16";
  j["rope_parameters"] = {{"rope_theta", 500000.0}, {"rope_type", "llama3"}, {"factor", 8.0},
                          {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                          {"original_max_position_embeddings", 8192}};
  auto c = ModelConfig::parse(j, "config.json");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->rope_theta, 500000.0);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_EQ(c->rope_scaling.original_max_position, 8192);
  EXPECT_EQ(c->dtype, "float16");
}

TEST(ModelConfig, RefusesBrokenConfigsClearly) {
  auto empty = ModelConfig::parse(nlohmann::json::object(), "cfg.json");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.status().message().find("cfg.json"), std::string::npos);
  auto j = base();
  j["num_key_value_heads"] = 7;
  EXPECT_FALSE(ModelConfig::parse(j, "c").is_ok());
  j = base();
  j["hidden_size"] = "4096";
  auto wrong_type = ModelConfig::parse(j, "c");
  ASSERT_FALSE(wrong_type.is_ok());
  EXPECT_NE(wrong_type.status().message().find("hidden_size"), std::string::npos);
  j = base();
  j["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  EXPECT_EQ(ModelConfig::parse(j, "c").status().code(), StatusCode::kUnsupported);
  j = base();
  j.erase("architectures");
  EXPECT_FALSE(ModelConfig::parse(j, "c").is_ok());
}

TEST(Rope, ScalingVariantsFollowTheirFormulas) {
  auto c = *ModelConfig::parse(base(), "c");
  const int D = c.head_dim;
  // Below max_position dynamic NTK changes nothing.
  auto plain = rope_inv_freq(c, 100);
  for (int j = 0; j < D / 2; ++j) EXPECT_FLOAT_EQ(plain[j], float(std::pow(1e6, -2.0 * j / D)));
  // Past it the base grows: base' = base * (f*L/max - (f-1))^(D/(D-2)).
  const int L = 65536;
  auto ntk = rope_inv_freq(c, L);
  const double base2 = 1e6 * std::pow(2.0 * L / 32768 - 1.0, double(D) / (D - 2));
  for (int j = 0; j < D / 2; ++j) EXPECT_NEAR(ntk[j], std::pow(base2, -2.0 * j / D), 1e-7 * plain[j] + 1e-12);
  c.rope_scaling.type = RopeScalingType::kLinear;
  auto lin = rope_inv_freq(c, L);
  for (int j = 0; j < D / 2; ++j) EXPECT_FLOAT_EQ(lin[j], plain[j] / 2.0f);
}

}  // namespace
}  // namespace jetchat
