// An independent, deliberately plain fp64 forward pass for the supported architectures, straight from the
// Hugging Face definitions: it reads the checkpoint by tensor name (no fusing, no engine kernels) and recomputes
// attention over the whole sequence without a KV cache. The engine's logits are checked against it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace jetchat::test {

// Logits [ids.size()][vocab] of every position for the model directory `dir`.
std::vector<std::vector<double>> reference_logits(const std::string& dir, const std::vector<int32_t>& ids);

// max |a - b| / max |b| over all positions.
double max_relative_error(const std::vector<std::vector<float>>& a, const std::vector<std::vector<double>>& b);

}  // namespace jetchat::test
