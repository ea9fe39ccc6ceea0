// f32 -> GGUF blocks for the types our converter writes (F32, F16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K): plain
// round-to-nearest, enough to produce files of each type for tests and benchmarks (llama.cpp's own quantizers
// search scales more carefully; files they write load the same way). Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "gguf.h"

namespace jetchat {

bool gguf_quantizable(GgmlType t);

// Encodes n weights (a whole number of ggml_block_size(t) blocks) as t's blocks, appended to out.
void gguf_quantize(GgmlType t, const float* x, int64_t n, std::vector<uint8_t>& out);

}  // namespace jetchat
