// The forward pass shared by every architecture: embeddings -> N x (attention, SwiGLU MLP) -> norm -> logits.
// Owns the model's weights and scratch activations in one Backend; a KvCache belongs to a session.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "backend.h"
#include "model_config.h"
#include "weights.h"

namespace jetchat {

struct KvCache {
  std::vector<KvLayer> layers;  // per layer: K and V [capacity, kv_dim] of `dtype` (+ scales for int8)
  DType dtype = DType::kF32;
  int capacity = 0;
  int64_t bytes = 0;
};

class Transformer {
 public:
  // Most tokens pushed through the layers at once; longer prompts go in chunks of this many.
  static constexpr int kChunk = 64;

  static Result<std::unique_ptr<Transformer>> create(const ModelConfig& c, ModelWeights weights, Backend& backend);
  ~Transformer();

  // K and V of every layer for one token; an int8 cache counts its scales (one f32 per KV head) too.
  static int64_t kv_bytes_per_token(const ModelConfig& c, DType kv_dtype = DType::kF32);
  static int64_t scratch_bytes(const ModelConfig& c);

  // A cache of `dtype` (one the backend supports: Backend::kv_dtype_supported), by default the backend's own.
  Result<KvCache> alloc_kv(int capacity, std::optional<DType> dtype = std::nullopt);
  void free_kv(KvCache& kv);

  // Runs tokens ids[0..n) at positions pos0.. (their K/V go into `kv`). Writes the logits of the last token
  // ([vocab]) or, with all_logits, of every token ([n, vocab]) to `logits`.
  void forward(KvCache& kv, const int32_t* ids, int n, int pos0, bool all_logits, float* logits);
  // Like forward, but the last token's logits stay on the backend for sample() (backends that sample on the
  // device: only the chosen id crosses to the host).
  // ids == nullptr (n == 1, backends that sample ahead): the token sample_ahead chose for pos0.
  void forward_on_device(KvCache& kv, const int32_t* ids, int n, int pos0);
  Result<int32_t> sample(const SamplingParams& p, const std::vector<int32_t>& penalized, uint64_t seed);
  // Backend::sample_ahead / take_sampled on the logits forward_on_device left.
  Status sample_ahead(const SamplingParams& p, const std::vector<int32_t>& penalized, bool penalize_last,
                      uint64_t seed, int next_pos);
  Result<int32_t> take_sampled() { return b_.take_sampled(); }

  const ModelConfig& config() const { return c_; }
  Backend& backend() { return b_; }
  int64_t weight_bytes() const { return weight_bytes_; }
  // Weight bytes one decoded token must read: everything but the embedding table (one row of it), unless
  // the table is also the output head.
  int64_t weight_bytes_read_per_token() const {
    return w_.tied ? weight_bytes_ : weight_bytes_ - int64_t(w_.embed.bytes) + int64_t(w_.embed.bytes / w_.embed.rows);
  }
  const ModelWeights& weights() const { return w_; }
  int64_t scratch_bytes() const { return scratch_bytes_; }

 private:
  Transformer(const ModelConfig& c, ModelWeights w, Backend& b) : c_(c), w_(std::move(w)), b_(b) {}
  enum class Logits { kNone, kLastToHost, kAllToHost, kLastOnDevice };
  void forward_chunk(KvCache& kv, const int32_t* ids, int n, int pos0, Logits want, float* logits);
  void layers_and_head(KvCache& kv, const int32_t* ids, int n, int pos0, const std::vector<float>& inv_freq,
                       Logits want);

  ModelConfig c_;
  ModelWeights w_;
  Backend& b_;
  int64_t weight_bytes_ = 0;
  int64_t scratch_bytes_ = 0;
  // Scratch activations, kChunk rows each; views of the first n rows are used per call.
  Tensor x_, xn_, qkv_, attn_, gate_up_, ffn_, logits_;
};

}  // namespace jetchat
