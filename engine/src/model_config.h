// Hyper-parameters of a checkpoint, from config.json as written by transformers 4.x (rope_theta/rope_scaling at
// top level, torch_dtype) and 5.x (rope_parameters, dtype).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "jetchat/status.h"

namespace jetchat {

enum class RopeScalingType { kNone, kLinear, kDynamic, kLlama3 };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  int original_max_position = 8192;  // llama3
};

struct QuantConfig {
  std::string method;   // "" (16-bit weights), "awq", "gptq"
  int bits = 16;
  int group_size = 0;
  bool zero_point = true;
  std::string version;  // awq: "gemm"
  bool desc_act = false;  // gptq act-order
  bool sym = false;
};

struct ModelConfig {
  std::string architecture;   // HF class name, e.g. "LlamaForCausalLM"
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int max_position = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  std::vector<float> rope_freq_factors;  // [head_dim/2] divisors of inv_freq, or empty (GGUF rope_freqs: Llama-3.1)
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // InternLM v1 "bias", Llama "attention_bias"
  std::string dtype = "float16";  // torch_dtype / dtype as written
  int bos_token_id = 1;
  std::vector<int> eos_token_ids{2};
  QuantConfig quant;

  int q_dim() const { return num_heads * head_dim; }
  int kv_dim() const { return num_kv_heads * head_dim; }

  // `where` names the file in error messages.
  static Result<ModelConfig> parse(const nlohmann::json& j, const std::string& where);
  static Result<ModelConfig> load(const std::string& model_dir);
};

}  // namespace jetchat
