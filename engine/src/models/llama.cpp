// Llama-2/3 (and Mistral): the Hugging Face Llama layout.
#include "models/architecture.h"

namespace jetchat {

const Architecture& llama_architecture() {
  static const Architecture a{
      "LlamaForCausalLM", "llama", "llama2",
      "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
      "model.layers.{}.input_layernorm", "model.layers.{}.post_attention_layernorm",
      QkvLayout::kSeparate,
      "model.layers.{}.self_attn.q_proj", "model.layers.{}.self_attn.k_proj", "model.layers.{}.self_attn.v_proj",
      nullptr,
      "model.layers.{}.self_attn.o_proj",
      "model.layers.{}.mlp.gate_proj", "model.layers.{}.mlp.up_proj", "model.layers.{}.mlp.down_proj",
      /*qkv_bias_always=*/false, /*bias_from_config=*/true};
  return a;
}

}  // namespace jetchat
