// Random-weight models built straight into a backend, without a checkpoint file: the exact shapes of a named
// model with 4-bit AWQ-layout linears (handed to Backend::upload_q4, as the loader does) and fp16 embeddings,
// norms and output head. For benchmarks of shapes whose W4 checkpoints would take gigabytes to write.
#pragma once

#include "backend.h"
#include "model_config.h"
#include "random_checkpoint.h"
#include "weights.h"

namespace jetchat {

// The config a checkpoint of this spec would have, quantised AWQ 4-bit with `group` inputs per group.
ModelConfig random_w4_config(const RandomModelSpec& spec, int group = 128);

// Uniform random nibbles (never all zero), zero points 4..11 and scales that give each weight the spread of the
// dense random checkpoints (uniform, std 1/sqrt(in_features)). Filled with `threads` threads.
Result<ModelWeights> random_w4_weights(const ModelConfig& c, Backend& b, uint64_t seed, int threads);

}  // namespace jetchat
