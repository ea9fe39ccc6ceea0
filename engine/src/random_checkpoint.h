// Writes random-weight checkpoints (never all zeros) of any supported architecture in our on-disk format, for
// tests, benchmarks and a first run without a real model.
#pragma once

#include <cstdint>
#include <string>

#include "jetchat/status.h"

namespace jetchat {

struct RandomModelSpec {
  std::string architecture = "LlamaForCausalLM";
  int vocab_size = 512;
  int hidden_size = 64;
  int intermediate_size = 176;
  int layers = 2;
  int heads = 4;
  int kv_heads = 2;
  int max_position = 2048;
  bool tie_word_embeddings = false;
  bool attention_bias = false;     // Llama / InternLM "bias"
  std::string dtype = "float16";   // float32, float16, bfloat16
  double rope_theta = 10000.0;
  std::string rope_scaling_json;   // "" or a JSON object written as config.json's rope_scaling
  uint64_t seed = 1;
  std::string tokenizer_model;     // copied to tokenizer.model when set
  std::string bpe_tokenizer;       // "qwen2", "llama3": a byte-level BPE tokenizer of that family (random_tokenizer.h)
};

// Named shapes: "tiny" (the default above), "internlm2-1.8b", "internlm2-7b", "internlm2-20b", "llama-1b"
// (TinyLlama-1.1B shape), "llama-2-7b"; with a byte-level BPE tokenizer of their family: "qwen2.5-0.5b",
// "llama-3.2-1b" and the tiny "qwen2.5-tiny", "llama3-tiny".
Result<RandomModelSpec> random_model_shape(const std::string& name);

Status write_random_checkpoint(const RandomModelSpec& spec, const std::string& out_dir);

}  // namespace jetchat
