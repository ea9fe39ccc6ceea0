// A Hugging Face model directory (16-bit safetensors, config.json, tokenizer) written as one GGUF file laid
// out as llama.cpp's converter lays it out: llama/internlm2 q/k rows permuted for adjacent-pair RoPE, InternLM2's
// grouped wqkv split into attn_q/attn_k/attn_v, norms and biases F32, Llama-3.1 RoPE scaling as rope_freqs, the
// SentencePiece (tokenizer.model) or byte-level BPE (tokenizer.json) vocabulary in tokenizer.ggml.*. For tests and for benchmarking GGUF types against our W4A16 on the same weights.
#pragma once

#include <string>

#include "gguf.h"
#include "jetchat/status.h"

namespace jetchat {

// `linear_type` (F32, F16, Q8_0, Q4_0, Q4_K) is used for the attention and MLP linears; a linear whose inputs are
// not a multiple of that type's block falls back to F16 (llama.cpp falls back too). The embedding table and the
// output head are written F16 with any quantised type, as our W4A16 models keep them 16-bit.
Status convert_to_gguf(const std::string& model_dir, const std::string& out_path, GgmlType linear_type);

}  // namespace jetchat
