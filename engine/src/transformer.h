// The forward pass shared by every architecture: embeddings -> N x (attention, SwiGLU MLP) -> norm -> logits.
// Owns the model's weights and scratch activations in one Backend; a KvCache belongs to a session.
#pragma once

#include <memory>
#include <vector>

#include "backend.h"
#include "model_config.h"
#include "weights.h"

namespace jetchat {

struct KvCache {
  std::vector<Tensor> k, v;  // per layer: [capacity, kv_dim] f32
  int capacity = 0;
  int64_t bytes = 0;
};

class Transformer {
 public:
  // Most tokens pushed through the layers at once; longer prompts go in chunks of this many.
  static constexpr int kChunk = 64;

  static Result<std::unique_ptr<Transformer>> create(const ModelConfig& c, ModelWeights weights, Backend& backend);
  ~Transformer();

  static int64_t kv_bytes_per_token(const ModelConfig& c);
  static int64_t scratch_bytes(const ModelConfig& c);

  Result<KvCache> alloc_kv(int capacity);
  void free_kv(KvCache& kv);

  // Runs tokens ids[0..n) at positions pos0.. (their K/V go into `kv`). Writes the logits of the last token
  // ([vocab]) or, with all_logits, of every token ([n, vocab]) to `logits`.
  void forward(KvCache& kv, const int32_t* ids, int n, int pos0, bool all_logits, float* logits);

  const ModelConfig& config() const { return c_; }
  Backend& backend() { return b_; }
  int64_t weight_bytes() const { return weight_bytes_; }
  int64_t scratch_bytes() const { return scratch_bytes_; }

 private:
  Transformer(const ModelConfig& c, ModelWeights w, Backend& b) : c_(c), w_(std::move(w)), b_(b) {}
  void forward_chunk(KvCache& kv, const int32_t* ids, int n, int pos0, bool all_logits, float* logits);

  ModelConfig c_;
  ModelWeights w_;
  Backend& b_;
  int64_t weight_bytes_ = 0;
  int64_t scratch_bytes_ = 0;
  // Scratch activations, kChunk rows each; views of the first n rows are used per call.
  Tensor x_, xn_, qkv_, attn_, gate_up_, ffn_, logits_;
};

}  // namespace jetchat
