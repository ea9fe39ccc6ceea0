#include "models/architecture.h"

#include "model_config.h"

namespace jetchat {

bool Architecture::has_qkv_bias(const ModelConfig& c) const {
  return qkv_bias_always || (bias_from_config && c.attention_bias);
}
bool Architecture::has_o_bias(const ModelConfig& c) const { return bias_from_config && c.attention_bias; }

std::string layer_name(const char* pattern, int layer) {
  std::string s(pattern);
  const auto at = s.find("{}");
  if (at != std::string::npos) s.replace(at, 2, std::to_string(layer));
  return s;
}

namespace {
const Architecture* const* all() {
  static const Architecture* const list[] = {&llama_architecture(), &internlm2_architecture(),
                                             &internlm_architecture(), &qwen2_architecture(), nullptr};
  return list;
}
}  // namespace

const Architecture* find_architecture(std::string_view hf_name) {
  for (auto a = all(); *a; ++a)
    if (hf_name == (*a)->hf_name) return *a;
  // Mistral checkpoints are the Llama layout under another name.
  if (hf_name == "MistralForCausalLM") return &llama_architecture();
  return nullptr;
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> v;
  for (auto a = all(); *a; ++a) v.emplace_back((*a)->hf_name);
  return v;
}

}  // namespace jetchat
