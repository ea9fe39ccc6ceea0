// Two loaded models that should decode alike (CPU and CUDA, or two KV cache types) compared by their greedy tokens.
#pragma once

#include <memory>
#include <string>

#include "backend.h"
#include "jetchat/engine.h"

namespace jetchat::test {

// Generates 32 greedy tokens after "Once upon a time" with both models and expects the same ids up to the first
// step at which the reference's own logits (its cache in `kv_dtype`) have a near tie: a top-2 gap under twice
// `tolerance` times their RMS. That step may go either way, the ones before must agree; it is printed when it
// happens (on random models it does, now and then).
void expect_same_greedy_tokens(const std::string& name, const std::shared_ptr<Model>& reference,
                               const std::shared_ptr<Model>& other, DType kv_dtype, double tolerance);

}  // namespace jetchat::test
