// The weights of a model in backend memory, laid out for the forward pass: q/k/v fused into one matrix (rows
// [q heads | k heads | v heads]) and gate/up fused into one, so each layer is four matrix products.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "backend.h"
#include "checkpoint.h"
#include "model_config.h"
#include "models/architecture.h"

namespace jetchat {

struct LayerWeights {
  Tensor attn_norm;  // [1, hidden] f32
  Tensor wqkv;       // [q_dim + 2*kv_dim, hidden]
  Tensor bqkv;       // [1, q_dim + 2*kv_dim] f32, or empty
  Tensor wo;         // [hidden, q_dim]
  Tensor bo;         // [1, hidden] f32, or empty
  Tensor ffn_norm;   // [1, hidden] f32
  Tensor w_gate_up;  // [2*intermediate, hidden]: gate rows, then up rows
  Tensor w_down;     // [hidden, intermediate]
};

struct ModelWeights {
  Tensor embed;       // [vocab, hidden]
  Tensor final_norm;  // [1, hidden] f32
  Tensor lm_head;     // [vocab, hidden]; the same storage as embed when tied
  bool tied = false;  // lm_head is embed (an 8-bit head made at load is a copy: not tied, head_q8.h)
  std::vector<LayerWeights> layers;

  void free(Backend& b);
};

using LoadProgress = std::function<bool(int done, int total)>;  // return false to cancel

// Uploads every tensor the architecture needs, checking names, shapes and dtypes against the config.
Result<ModelWeights> load_weights(const ModelConfig& c, const Architecture& a, const Checkpoint& ck, Backend& b,
                                  const LoadProgress& progress);

}  // namespace jetchat
