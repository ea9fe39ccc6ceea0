// Qwen2 / Qwen2.5: the Llama names with q/k/v biases (no o bias); small models tie the embeddings.
#include "models/architecture.h"

namespace jetchat {

const Architecture& qwen2_architecture() {
  static const Architecture a{
      "Qwen2ForCausalLM", "qwen2", "chatml",
      "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
      "model.layers.{}.input_layernorm", "model.layers.{}.post_attention_layernorm",
      QkvLayout::kSeparate,
      "model.layers.{}.self_attn.q_proj", "model.layers.{}.self_attn.k_proj", "model.layers.{}.self_attn.v_proj",
      nullptr,
      "model.layers.{}.self_attn.o_proj",
      "model.layers.{}.mlp.gate_proj", "model.layers.{}.mlp.up_proj", "model.layers.{}.mlp.down_proj",
      /*qkv_bias_always=*/true, /*bias_from_config=*/false};
  return a;
}

}  // namespace jetchat
