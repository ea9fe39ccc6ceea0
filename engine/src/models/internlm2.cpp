// InternLM2: its own names, a fused wqkv grouped per KV head, w1/w3/w2 for gate/up/down, no biases.
#include "models/architecture.h"

namespace jetchat {

const Architecture& internlm2_architecture() {
  static const Architecture a{
      "InternLM2ForCausalLM", "internlm2", "internlm2",
      "model.tok_embeddings.weight", "model.norm.weight", "output.weight",
      "model.layers.{}.attention_norm", "model.layers.{}.ffn_norm",
      QkvLayout::kInternLM2Grouped,
      nullptr, nullptr, nullptr,
      "model.layers.{}.attention.wqkv",
      "model.layers.{}.attention.wo",
      "model.layers.{}.feed_forward.w1", "model.layers.{}.feed_forward.w3", "model.layers.{}.feed_forward.w2",
      /*qkv_bias_always=*/false, /*bias_from_config=*/false};
  return a;
}

}  // namespace jetchat
