#include "transformer.h"

#include <algorithm>

#include "half.h"
#include "rope.h"

namespace jetchat {

int64_t Transformer::kv_bytes_per_token(const ModelConfig& c, DType kv_dtype) {
  const int64_t scales = kv_dtype == DType::kI8 ? int64_t(c.num_kv_heads) * int64_t(sizeof(float)) : 0;
  return int64_t(c.num_layers) * 2 * (c.kv_dim() * int64_t(dtype_size(kv_dtype)) + scales);
}

int64_t Transformer::scratch_bytes(const ModelConfig& c) {
  const int64_t per_row = 2 * c.hidden_size + (c.q_dim() + 2 * c.kv_dim()) + c.q_dim() + 3 * int64_t(c.intermediate_size);
  return (per_row * kChunk + int64_t(kChunk) * c.vocab_size) * int64_t(sizeof(float));
}

Result<std::unique_ptr<Transformer>> Transformer::create(const ModelConfig& c, ModelWeights weights,
                                                         Backend& backend) {
  const int64_t before = backend.bytes_in_use();
  std::unique_ptr<Transformer> t(new Transformer(c, std::move(weights), backend));
  const int64_t qkv = c.q_dim() + 2 * c.kv_dim();
  struct Want {
    Tensor* t;
    int64_t cols;
  } wants[] = {{&t->x_, c.hidden_size},       {&t->xn_, c.hidden_size},
               {&t->qkv_, qkv},               {&t->attn_, c.q_dim()},
               {&t->gate_up_, 2 * int64_t(c.intermediate_size)}, {&t->ffn_, c.intermediate_size},
               {&t->logits_, c.vocab_size}};
  for (auto& w : wants) {
    auto a = backend.alloc(DType::kF32, kChunk, w.cols);
    if (!a) return a.status();  // the destructor frees what was allocated
    *w.t = *a;
  }
  t->scratch_bytes_ = backend.bytes_in_use() - before;
  t->weight_bytes_ = before;  // the backend held only this model's weights before the scratch
  return t;
}

Transformer::~Transformer() {
  for (Tensor* t : {&x_, &xn_, &qkv_, &attn_, &gate_up_, &ffn_, &logits_}) b_.free(*t);
  w_.free(b_);
}

Result<KvCache> Transformer::alloc_kv(int capacity, std::optional<DType> type) {
  const DType dtype = type.value_or(b_.kv_dtype());
  if (!b_.kv_dtype_supported(dtype))
    return Status(StatusCode::kUnsupported, b_.name() + ": no " + dtype_name(dtype) + " KV cache");
  KvCache kv;
  kv.dtype = dtype;
  kv.capacity = capacity;
  for (int l = 0; l < c_.num_layers; ++l) {
    kv.layers.emplace_back();
    KvLayer& layer = kv.layers.back();
    struct Want {
      Tensor* t;
      DType dtype;
      int64_t cols;
    } wants[] = {{&layer.k, dtype, c_.kv_dim()},
                 {&layer.v, dtype, c_.kv_dim()},
                 {&layer.k_scale, DType::kF32, dtype == DType::kI8 ? c_.num_kv_heads : 0},
                 {&layer.v_scale, DType::kF32, dtype == DType::kI8 ? c_.num_kv_heads : 0}};
    for (const Want& w : wants) {
      if (w.cols == 0) continue;
      auto t = b_.alloc(w.dtype, capacity, w.cols);
      if (!t) {
        free_kv(kv);
        return t.status();
      }
      *w.t = *t;
      kv.bytes += int64_t(t->bytes);
    }
  }
  return kv;
}

void Transformer::free_kv(KvCache& kv) {
  for (auto& l : kv.layers)
    for (Tensor* t : {&l.k, &l.v, &l.k_scale, &l.v_scale}) b_.free(*t);
  kv = KvCache{};
}

void Transformer::forward(KvCache& kv, const int32_t* ids, int n, int pos0, bool all_logits, float* logits) {
  for (int done = 0; done < n; done += kChunk) {
    const int m = std::min(kChunk, n - done);
    const bool last = done + m == n;
    if (all_logits)
      forward_chunk(kv, ids + done, m, pos0 + done, Logits::kAllToHost, logits + int64_t(done) * c_.vocab_size);
    else
      forward_chunk(kv, ids + done, m, pos0 + done, last && logits ? Logits::kLastToHost : Logits::kNone, logits);
  }
}

void Transformer::forward_on_device(KvCache& kv, const int32_t* ids, int n, int pos0) {
  for (int done = 0; done < n; done += kChunk) {
    const int m = std::min(kChunk, n - done);
    forward_chunk(kv, ids + done, m, pos0 + done, done + m == n ? Logits::kLastOnDevice : Logits::kNone, nullptr);
  }
}

Result<int32_t> Transformer::sample(const SamplingParams& p, const std::vector<int32_t>& penalized, uint64_t seed) {
  Tensor row = logits_.rows_view(0, 1);
  return b_.sample(row, p, penalized, seed);
}

Status Transformer::sample_ahead(const SamplingParams& p, const std::vector<int32_t>& penalized, bool penalize_last,
                                 uint64_t seed, int next_pos) {
  Tensor row = logits_.rows_view(0, 1);
  return b_.sample_ahead(row, p, penalized, penalize_last, seed, next_pos);
}

void Transformer::forward_chunk(KvCache& kv, const int32_t* ids, int n, int pos0, Logits want, float* logits) {
  const std::vector<float> inv_freq = rope_inv_freq(c_, pos0 + n);
  // Everything a recorded step captures besides ids and position: this model's buffers, the cache, the rope
  // frequencies (dynamic NTK changes them with the length) and which logits are computed.
  uint64_t key = 1469598103934665603ull;
  auto mix = [&key](uint64_t v) { key = (key ^ v) * 1099511628211ull; };
  mix(reinterpret_cast<uintptr_t>(this));
  mix(reinterpret_cast<uintptr_t>(kv.layers.empty() ? nullptr : kv.layers[0].k.data));
  mix(uint64_t(want));
  for (float f : inv_freq) mix(f32_to_bits(f));
  if (b_.begin_step(key, ids, n, pos0)) {
    layers_and_head(kv, ids, n, pos0, inv_freq, want);
    b_.end_step();
  }
  if (want == Logits::kLastToHost || want == Logits::kAllToHost)
    b_.read(logits_.rows_view(0, want == Logits::kAllToHost ? n : 1), logits);
}

void Transformer::layers_and_head(KvCache& kv, const int32_t* ids, int n, int pos0,
                                  const std::vector<float>& inv_freq, Logits want) {
  const AttentionShape shape{c_.num_heads, c_.num_kv_heads, c_.head_dim};
  Tensor x = x_.rows_view(0, n);          // (n, hidden) residual stream
  Tensor xn = xn_.rows_view(0, n);        // (n, hidden) normed input of a block, then its output
  Tensor qkv = qkv_.rows_view(0, n);      // (n, q_dim + 2 kv_dim)
  Tensor attn = attn_.rows_view(0, n);    // (n, q_dim)
  Tensor gate_up = gate_up_.rows_view(0, n);  // (n, 2 intermediate)
  Tensor ffn = ffn_.rows_view(0, n);      // (n, intermediate)

  b_.embed(x, w_.embed, ids, n);
  for (int l = 0; l < c_.num_layers; ++l) {
    const LayerWeights& w = w_.layers[l];
    b_.rmsnorm_matmul(qkv, xn, x, w.attn_norm, float(c_.rms_norm_eps), w.wqkv,
                      w.bqkv.empty() ? nullptr : &w.bqkv);
    b_.rope_attention(attn, qkv, kv.layers[l], shape, pos0, inv_freq);
    b_.matmul_add(x, attn, w.wo, w.bo.empty() ? nullptr : &w.bo, xn);

    b_.rmsnorm_matmul(gate_up, xn, x, w.ffn_norm, float(c_.rms_norm_eps), w.w_gate_up, nullptr);
    b_.silu_mul_matmul_add(x, gate_up, w.w_down, ffn, xn);
  }
  if (want == Logits::kNone) return;
  // Only the rows whose logits are wanted go through the (large) output head.
  const int first = want == Logits::kAllToHost ? 0 : n - 1;
  Tensor xs = x.rows_view(first, n - first);
  Tensor xsn = xn.rows_view(0, n - first);
  Tensor out = logits_.rows_view(0, n - first);
  b_.rmsnorm_matmul(out, xsn, xs, w_.final_norm, float(c_.rms_norm_eps), w_.lm_head, nullptr);
}

}  // namespace jetchat
