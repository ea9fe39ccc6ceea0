// Converts a llama2.c checkpoint (legacy version-0 .bin) into our Hugging Face-style model directory.
#pragma once

#include <string>

#include "jetchat/status.h"

namespace jetchat {

// Writes out_dir/config.json and model.safetensors (f32); copies `tokenizer_model` to out_dir/tokenizer.model
// when given. llama2.c rotates adjacent pairs, so q/k rows are permuted into HF's rotate_half order: the engine
// has one RoPE convention.
Status import_llama2c(const std::string& bin_path, const std::string& out_dir, const std::string& tokenizer_model);

}  // namespace jetchat
