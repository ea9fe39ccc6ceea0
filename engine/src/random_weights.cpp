#include "random_weights.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "half.h"

namespace jetchat {
namespace {

uint64_t next(uint64_t& s) {  // xorshift64*
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1Dull;
}

// Fills v[0..n) with fn(state) using `threads` threads, each with its own generator.
template <typename T, typename Fn>
void parallel_fill(std::vector<T>& v, uint64_t seed, int threads, Fn fn) {
  const size_t n = v.size(), per = (n + size_t(threads) - 1) / size_t(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      uint64_t s = seed * 0x9E3779B97F4A7C15ull + uint64_t(t) * 0xD1B54A32D192ED03ull + 1;
      for (size_t i = size_t(t) * per; i < std::min(n, size_t(t + 1) * per); ++i) v[i] = fn(s);
    });
  for (auto& th : pool) th.join();
}

Result<Tensor> random_q4(Backend& b, int64_t rows, int64_t cols, int group, uint64_t seed, int threads) {
  std::vector<int32_t> qweight(size_t(cols) * size_t(rows / 8)), qzeros(size_t(cols / group) * size_t(rows / 8));
  std::vector<uint16_t> scales(size_t(cols / group) * size_t(rows));
  parallel_fill(qweight, seed, threads, [](uint64_t& s) { return int32_t(uint32_t(next(s) >> 32)); });
  parallel_fill(qzeros, seed + 1, threads, [](uint64_t& s) {
    uint32_t w = 0, r = uint32_t(next(s) >> 32);
    for (int i = 0; i < 8; ++i) w |= (4u + ((r >> (4 * i)) & 7u)) << (4 * i);  // zero points 4..11
    return int32_t(w);
  });
  // q - z spans about +-7.5 with std ~4.6; the scale gives the weight std 1/sqrt(cols), +-50% per group.
  const float base = 1.0f / (4.6f * std::sqrt(float(cols)));
  parallel_fill(scales, seed + 2, threads, [base](uint64_t& s) {
    return f32_to_f16(base * (0.5f + float(next(s) >> 40) / float(1 << 24)));
  });
  HostQ4Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.group_size = group;
  m.qweight = qweight.data();
  m.qzeros = qzeros.data();
  m.scales = scales.data();
  m.scales_dtype = DType::kF16;
  return b.upload_q4(m);
}

Result<Tensor> random_dense(Backend& b, int64_t rows, int64_t cols, float center, float spread, uint64_t seed,
                            int threads, DType storage) {
  std::vector<uint16_t> v(size_t(rows) * size_t(cols));
  parallel_fill(v, seed, threads, [=](uint64_t& s) {
    return f32_to_f16(center + spread * (2.0f * float(next(s) >> 40) / float(1 << 24) - 1.0f));
  });
  return b.upload(HostMatrix{DType::kF16, rows, cols, v.data()}, storage);
}

}  // namespace

ModelConfig random_w4_config(const RandomModelSpec& s, int group) {
  ModelConfig c;
  c.architecture = s.architecture;
  c.vocab_size = s.vocab_size;
  c.hidden_size = s.hidden_size;
  c.intermediate_size = s.intermediate_size;
  c.num_layers = s.layers;
  c.num_heads = s.heads;
  c.num_kv_heads = s.kv_heads;
  c.head_dim = s.hidden_size / s.heads;
  c.max_position = s.max_position;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = s.rope_theta;
  c.tie_word_embeddings = s.tie_word_embeddings;
  c.quant.method = "awq";
  c.quant.bits = 4;
  c.quant.group_size = group;
  c.quant.version = "gemm";
  return c;
}

Result<ModelWeights> random_w4_weights(const ModelConfig& c, Backend& b, uint64_t seed, int threads) {
  threads = std::max(1, threads);
  const int64_t h = c.hidden_size, q = c.q_dim(), kv = c.kv_dim(), f = c.intermediate_size;
  const int group = c.quant.group_size;
  ModelWeights w;
  auto fail = [&](const Status& s) {
    w.free(b);
    return s;
  };
#define TAKE(dst, expr)              \
  do {                               \
    auto r_ = (expr);                \
    if (!r_) return fail(r_.status()); \
    dst = *r_;                       \
  } while (0)
  TAKE(w.embed, random_dense(b, c.vocab_size, h, 0.0f, 1.0f, seed, threads, DType::kF16));
  TAKE(w.final_norm, random_dense(b, 1, h, 1.0f, 0.2f, seed + 1, threads, DType::kF32));
  w.tied = c.tie_word_embeddings;
  if (w.tied)
    w.lm_head = w.embed;
  else
    TAKE(w.lm_head, random_dense(b, c.vocab_size, h, 0.0f, std::sqrt(3.0f / float(h)), seed + 2, threads, DType::kF16));
  for (int l = 0; l < c.num_layers; ++l) {
    w.layers.emplace_back();
    LayerWeights& L = w.layers.back();
    const uint64_t ls = seed + 100 + uint64_t(l) * 10;
    TAKE(L.attn_norm, random_dense(b, 1, h, 1.0f, 0.2f, ls, threads, DType::kF32));
    TAKE(L.ffn_norm, random_dense(b, 1, h, 1.0f, 0.2f, ls + 1, threads, DType::kF32));
    TAKE(L.wqkv, random_q4(b, q + 2 * kv, h, group, ls + 2, threads));
    TAKE(L.wo, random_q4(b, h, q, group, ls + 3, threads));
    TAKE(L.w_gate_up, random_q4(b, 2 * f, h, group, ls + 4, threads));
    TAKE(L.w_down, random_q4(b, h, f, group, ls + 5, threads));
  }
#undef TAKE
  return w;
}

}  // namespace jetchat
