// jetchat-cli quantize: a 16-bit Hugging Face checkpoint -> an AutoAWQ-compatible 4-bit one (GEMM packing,
// asymmetric, fp16 group scales). Streams layer by layer: the input is memory-mapped and each layer's linears
// are converted and written before the next layer is read, so the peak memory is about one layer in f32 (plus,
// for AWQ, the embeddings, the output head and the calibration activations), not the model.
#pragma once

#include <functional>
#include <string>

#include "jetchat/status.h"

namespace jetchat::quant {

struct QuantizeOptions {
  int group = 128;            // 32, 64 or 128
  std::string method = "rtn";  // rtn | awq
  std::string calib_path;     // awq: UTF-8 calibration text
  int calib_tokens = 4096;    // awq: tokens of the text used, in sequences of calib_seq
  int calib_seq = 512;
  bool clip = true;           // awq: also search each group's clipping range (AutoAWQ's apply_clip)
  int threads = 0;            // CPU threads for the calibration forward pass and the search
  std::function<void(int done, int total)> progress;  // per layer
};

Status quantize_model(const std::string& in_dir, const std::string& out_dir, const QuantizeOptions& o);

}  // namespace jetchat::quant
