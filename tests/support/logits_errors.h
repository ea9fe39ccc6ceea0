// Two loaded models run over the same tokens, their logits compared (an 8-bit head against the 16-bit one, an
// int8 KV cache against the f32 one).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "jetchat/engine.h"

namespace jetchat::test {

struct LogitsErrors {
  double prefill = INFINITY;  // relative L2 error of all the prompt's logits (the prefill path)
  double decode = INFINITY;   // the worst single-token step's after it
};

// `other`'s logits against `reference`'s: ids[0..prompt) as one prompt, then each later id as a decode step.
// Each model gets a fresh KV cache of `capacity` tokens of the type it was loaded with; infinite errors where
// one cannot be allocated.
LogitsErrors logits_errors(Model& reference, Model& other, const std::vector<int32_t>& ids, int prompt, int capacity);

}  // namespace jetchat::test
