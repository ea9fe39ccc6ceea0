// What differs between the supported model families: tensor names and layout quirks. One shared forward pass
// (transformer.cpp) runs them all; adding a family means adding one description file here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jetchat {

struct ModelConfig;

enum class QkvLayout {
  kSeparate,         // q_proj, k_proj, v_proj
  kInternLM2Grouped  // one wqkv whose rows are [kv_heads][q heads of the group..., k, v][head_dim]
};

struct Architecture {
  const char* hf_name;   // config.json "architectures"[0]
  const char* family;    // llama, internlm2, internlm, qwen2
  const char* default_template;
  // Whole-model tensors (".weight" included).
  const char* embed;
  const char* final_norm;
  const char* lm_head;
  // Per-layer tensor prefixes; "{}" is the layer index; ".weight"/".bias"/".qweight" are appended.
  const char* attn_norm;
  const char* ffn_norm;
  QkvLayout qkv_layout;
  const char* q;     // kSeparate
  const char* k;
  const char* v;
  const char* wqkv;  // kInternLM2Grouped
  const char* o;
  const char* gate;
  const char* up;
  const char* down;
  bool qkv_bias_always;      // Qwen2: q/k/v biases regardless of config
  bool bias_from_config;     // Llama attention_bias / InternLM "bias": q/k/v/o biases when the config says so

  bool has_qkv_bias(const ModelConfig& c) const;
  bool has_o_bias(const ModelConfig& c) const;
};

// Substitutes the layer index into a per-layer prefix.
std::string layer_name(const char* pattern, int layer);

const Architecture* find_architecture(std::string_view hf_name);
std::vector<std::string> supported_architectures();

const Architecture& llama_architecture();
const Architecture& internlm2_architecture();
const Architecture& internlm_architecture();
const Architecture& qwen2_architecture();

}  // namespace jetchat
