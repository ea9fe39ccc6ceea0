// A GGUF model file (llama, including Llama-3; qwen2; internlm2) as the engine runs it: hyper-parameters from the
// file's metadata, and its tensors uploaded through the Backend in the engine's own layout. GGUF llama and
// internlm2 store q/k rows permuted for adjacent-pair RoPE; they are un-permuted here so the forward pass keeps
// its one rotate_half convention. q|k|v and gate|up are fused as for checkpoints.
//
// Tensor types: a linear whose parts are all Q4_0 is repacked into the W4A16 layout (groups of 32, zero point 8,
// the block's fp16 scale: exact). Every other quantised type (Q4_1, Q4_K, Q5_K, Q6_K, Q8_0) is dequantised to f16
// at load, one fused matrix at a time: their per-block minimums are not integer multiples of the scale, so our
// integer zero points cannot hold them exactly. F32/F16/BF16 tensors keep their type.
#pragma once

#include <memory>
#include <string>

#include "backend.h"
#include "gguf.h"
#include "model_config.h"
#include "models/architecture.h"
#include "weights.h"

namespace jetchat {

struct GgufModelDesc {
  ModelConfig config;
  const Architecture* arch = nullptr;
  bool qk_permuted = false;  // llama, internlm2: q/k rows in the adjacent-pair order
  std::string dtype;         // the linears' tensor types, most common first ("gguf Q4_K+Q6_K")
  int64_t weight_bytes = 0;  // in backend memory once loaded (CPU layouts)
  int64_t head_bytes = 0;    // of them the output head's; 0 when tied to the embedding
  std::string chat_template; // tokenizer.chat_template, or ""
};

// Reads and checks the metadata and every tensor's name, shape and type; uploads nothing.
Result<GgufModelDesc> describe_gguf_model(const GgufFile& f);

Result<ModelWeights> load_gguf_weights(const GgufModelDesc& d, const GgufFile& f, Backend& b,
                                       const LoadProgress& progress);

}  // namespace jetchat
