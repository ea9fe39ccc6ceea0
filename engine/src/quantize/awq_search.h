// Activation-aware weight quantization's scale search (Lin et al. 2023, as AutoAWQ's _search_best_scale does it):
// per input channel k a scale s_k so that quantizing W·diag(s) and feeding X·diag(1/s) loses least on calibration
// inputs. The caller folds 1/s into the op that produces X (an RMSNorm weight, or the rows of a linear).
#pragma once

#include <cstdint>
#include <vector>

#include "backend.h"

namespace jetchat::quant {

struct AwqScales {
  std::vector<float> scales;  // [cols]; all 1 when no candidate beat plain round-to-nearest
  double loss_rtn = 0;        // mean squared output error of round-to-nearest on the scored calibration rows
  double loss = 0;            // the same with the chosen scales
  float ratio = -1;           // the chosen grid point; -1 for plain round-to-nearest
};

// x: calibration inputs [tokens, cols] f32; weights: linears that all read x, each [rows_i, cols] f32.
// The loss is the squared error of their outputs, or, with mlp_down ([hidden, inter] f32, 16-bit) and weights
// {gate, up}, of the MLP's output silu(x·gateᵀ) * (x·upᵀ) · downᵀ (AutoAWQ scores gate|up by the MLP block).
// Products are computed with the backend's f32 matmul.
AwqScales search_awq_scales(const std::vector<float>& x, int64_t cols,
                            const std::vector<const std::vector<float>*>& weights, int group, Backend& b,
                            const std::vector<float>* mlp_down = nullptr);

}  // namespace jetchat::quant
