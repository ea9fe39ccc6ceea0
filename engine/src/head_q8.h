// The output head quantised to 8 bits at load (LoadParams::head = HeadType::kQ8): per row and group of inputs,
// w = q * scale - min with q in -128..127 (the range of the group mapped onto the 256 levels), stored by the
// backend's 8-bit layout (Backend::upload_quant, the kernels of GGUF's Q8_0) and multiplied by its 8-bit kernels.
// Decode reads about 0.53 (group 128) of the f16 head's bytes per token. Checkpoints keep their 16-bit heads; a
// tied embedding table stays as stored (only the head's product uses the 8-bit copy).
#pragma once

#include <cstdint>
#include <string>

#include "backend.h"
#include "weights.h"

namespace jetchat {

// The group for a head of `cols` inputs: 128, 64 or 32, the largest dividing cols; 0 when none does.
int head_q8_group(int64_t cols);

// Why a head of `cols` inputs cannot be made 8-bit (empty when it can).
std::string head_q8_problem(int64_t cols);

// Bytes of the 8-bit head in backend memory (the CPU layout; CUDA's is within a few bytes per row of it).
int64_t head_q8_bytes(int64_t rows, int64_t cols);

// Rounds rows x cols weights to the 8-bit form above: q [rows, cols], scales and mins [rows, cols/group].
void quantize_rows_q8(const float* w, int64_t rows, int64_t cols, int group, int8_t* q, float* scales, float* mins);

// Replaces w.lm_head by its 8-bit form, reading the 16/32-bit head back from the backend a slice of rows at a
// time (host memory: the 8-bit matrix plus one slice in f32). Frees the old head unless it is the embedding
// table, which stays; w.tied is false afterwards (the head has storage of its own).
Status quantize_head_q8(ModelWeights& w, Backend& b);

}  // namespace jetchat
