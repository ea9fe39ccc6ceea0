#include "weights.h"

#include <cstring>

#include "q4_weights.h"

namespace jetchat {

void ModelWeights::free(Backend& b) {
  if (!tied) b.free(lm_head);
  b.free(embed);
  b.free(final_norm);
  for (auto& l : layers)
    for (Tensor* t : {&l.attn_norm, &l.wqkv, &l.bqkv, &l.wo, &l.bo, &l.ffn_norm, &l.w_gate_up, &l.w_down}) b.free(*t);
  layers.clear();
}

namespace {

class Uploader {
 public:
  Uploader(const Checkpoint& ck, Backend& b, const QuantConfig& q) : ck_(ck), b_(b), q4_(ck, q) {}

  Result<Tensor> dense(const std::string& name, int64_t rows, int64_t cols) {
    auto m = ck_.matrix(name, rows, cols);
    if (!m) return m.status();
    return b_.upload(*m, m->dtype);
  }

  // Norm weights and biases are tiny; they are kept in f32 whatever the checkpoint stores.
  Result<Tensor> small(const std::vector<std::string>& names, const std::vector<int64_t>& sizes) {
    std::vector<HostMatrix> parts;
    for (size_t i = 0; i < names.size(); ++i) {
      auto m = ck_.vector(names[i], sizes[i]);
      if (!m) return m.status();
      parts.push_back(*m);
    }
    return stack(parts, names, DType::kF32, true);
  }

  // Row-stacks several [rows_i, cols] weights into one [sum rows_i, cols] matrix.
  Result<Tensor> stacked(const std::vector<std::string>& names, const std::vector<int64_t>& rows, int64_t cols) {
    std::vector<HostMatrix> parts;
    for (size_t i = 0; i < names.size(); ++i) {
      auto m = ck_.matrix(names[i], rows[i], cols);
      if (!m) return m.status();
      parts.push_back(*m);
    }
    return stack(parts, names, parts[0].dtype, false);
  }

  // A linear layer's weight, 4-bit when the checkpoint has <prefix>.qweight (AWQ/GPTQ), else <prefix>.weight.
  Result<Tensor> linear(const std::string& prefix, int64_t rows, int64_t cols) {
    if (!q4_.has(prefix)) return dense(prefix + ".weight", rows, cols);
    return upload_q4(q4_.assemble({prefix}, {rows}, cols, {{0, 0, rows}}), prefix);
  }

  // Linears sharing one input, row-stacked into one matrix; all 4-bit or all 16-bit.
  Result<Tensor> stacked_linear(const std::vector<std::string>& prefixes, const std::vector<int64_t>& rows,
                                int64_t cols) {
    std::vector<std::string> names;
    std::vector<Q4Segment> segments;
    for (size_t i = 0; i < prefixes.size(); ++i) {
      if (q4_.has(prefixes[i]) != q4_.has(prefixes[0]))
        return Status(StatusCode::kUnsupported, ck_.dir() + ": '" + prefixes[i] + "' and '" + prefixes[0] +
                                                    "' feed one fused matrix but only one of them is quantized");
      names.push_back(prefixes[i] + ".weight");
      segments.push_back({int(i), 0, rows[i]});
    }
    if (!q4_.has(prefixes[0])) return stacked(names, rows, cols);
    return upload_q4(q4_.assemble(prefixes, rows, cols, segments), prefixes[0]);
  }

  // InternLM2's wqkv rows are grouped per KV head as [q_0..q_{g-1}, k, v]; reorder to [all q | all k | all v].
  // 4-bit: the same reorder in units of heads on the packed output columns, zeros and scales.
  Result<Tensor> internlm2_wqkv(const std::string& prefix, const ModelConfig& c) {
    const int64_t D = c.head_dim, H = c.num_heads, Hkv = c.num_kv_heads, g = H / Hkv;
    if (q4_.has(prefix)) {
      std::vector<Q4Segment> segments;
      for (int64_t slot_kind = 0; slot_kind < 3; ++slot_kind)  // all q heads, then all k, then all v
        for (int64_t h = 0; h < Hkv; ++h)
          for (int64_t slot = 0; slot < g + 2; ++slot)
            if ((slot_kind == 0 && slot < g) || (slot_kind == 1 && slot == g) || (slot_kind == 2 && slot == g + 1))
              segments.push_back({0, (h * (g + 2) + slot) * D, D});
      return upload_q4(q4_.assemble({prefix}, {(H + 2 * Hkv) * D}, c.hidden_size, segments), prefix);
    }
    const std::string name = prefix + ".weight";
    auto m = ck_.matrix(name, (H + 2 * Hkv) * D, c.hidden_size);
    if (!m) return m.status();
    const size_t row_bytes = size_t(m->cols) * dtype_size(m->dtype);
    std::vector<uint8_t> buf(size_t(m->rows) * row_bytes);
    const auto* src = static_cast<const uint8_t*>(m->data);
    for (int64_t h = 0; h < Hkv; ++h)
      for (int64_t slot = 0; slot < g + 2; ++slot) {
        const int64_t from = (h * (g + 2) + slot) * D;
        const int64_t to = slot < g ? (h * g + slot) * D : slot == g ? H * D + h * D : (H + Hkv) * D + h * D;
        std::memcpy(buf.data() + size_t(to) * row_bytes, src + size_t(from) * row_bytes, size_t(D) * row_bytes);
      }
    HostMatrix r = *m;
    r.data = buf.data();
    return b_.upload(r, r.dtype);
  }

 private:
  Result<Tensor> upload_q4(Result<Q4Host> h, const std::string& prefix) {
    if (!h) return h.status();
    auto t = b_.upload_q4(h->m);
    if (!t) return Status(t.status().code(), ck_.file_of(prefix + ".qweight") + ": '" + prefix + "': " +
                                                 t.status().message());
    return t;
  }

  Result<Tensor> stack(const std::vector<HostMatrix>& parts, const std::vector<std::string>& names, DType storage,
                       bool as_row) {
    if (parts.size() == 1 && !as_row) return b_.upload(parts[0], storage);
    int64_t rows = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].dtype != parts[0].dtype)
        return Status(StatusCode::kInvalidFormat, ck_.file_of(names[i]) + ": tensor '" + names[i] + "' is " +
                                                      dtype_name(parts[i].dtype) + " but '" + names[0] + "' is " +
                                                      dtype_name(parts[0].dtype));
      rows += parts[i].rows * (as_row ? parts[i].cols : 1);
    }
    const int64_t cols = as_row ? 1 : parts[0].cols;
    const size_t esize = dtype_size(parts[0].dtype);
    std::vector<uint8_t> buf(size_t(rows * cols) * esize);
    size_t off = 0;
    for (const auto& p : parts) {
      const size_t n = size_t(p.rows * p.cols) * esize;
      std::memcpy(buf.data() + off, p.data, n);
      off += n;
    }
    HostMatrix all{parts[0].dtype, as_row ? 1 : rows, as_row ? rows : cols, buf.data()};
    return b_.upload(all, storage);
  }

  const Checkpoint& ck_;
  Backend& b_;
  Q4Reader q4_;
};

#define ASSIGN_OR_FAIL(dst, expr) \
  do {                            \
    auto _r = (expr);             \
    if (!_r) {                    \
      w.free(b);                  \
      return _r.status();         \
    }                             \
    dst = *_r;                    \
  } while (0)

}  // namespace

Result<ModelWeights> load_weights(const ModelConfig& c, const Architecture& a, const Checkpoint& ck, Backend& b,
                                  const LoadProgress& progress) {
  JETCHAT_TRY(Q4Reader::check_config(c.quant, ck.dir() + "/config.json"));
  Uploader up(ck, b, c.quant);
  ModelWeights w;
  const int64_t hid = c.hidden_size, q = c.q_dim(), kv = c.kv_dim(), ffn = c.intermediate_size;
  ASSIGN_OR_FAIL(w.embed, up.dense(a.embed, c.vocab_size, hid));
  ASSIGN_OR_FAIL(w.final_norm, up.small({a.final_norm}, {hid}));
  w.tied = c.tie_word_embeddings || !ck.find(a.lm_head);
  if (w.tied) {
    w.lm_head = w.embed;
  } else {
    ASSIGN_OR_FAIL(w.lm_head, up.dense(a.lm_head, c.vocab_size, hid));
  }
  const bool qkv_bias = a.has_qkv_bias(c), o_bias = a.has_o_bias(c);
  for (int i = 0; i < c.num_layers; ++i) {
    auto name = [i](const char* pattern, const char* suffix) { return layer_name(pattern, i) + suffix; };
    w.layers.emplace_back();
    LayerWeights& l = w.layers.back();
    ASSIGN_OR_FAIL(l.attn_norm, up.small({name(a.attn_norm, ".weight")}, {hid}));
    ASSIGN_OR_FAIL(l.ffn_norm, up.small({name(a.ffn_norm, ".weight")}, {hid}));
    if (a.qkv_layout == QkvLayout::kInternLM2Grouped) {
      ASSIGN_OR_FAIL(l.wqkv, up.internlm2_wqkv(name(a.wqkv, ""), c));
    } else {
      ASSIGN_OR_FAIL(l.wqkv, up.stacked_linear({name(a.q, ""), name(a.k, ""), name(a.v, "")}, {q, kv, kv}, hid));
      if (qkv_bias)
        ASSIGN_OR_FAIL(l.bqkv, up.small({name(a.q, ".bias"), name(a.k, ".bias"), name(a.v, ".bias")}, {q, kv, kv}));
    }
    ASSIGN_OR_FAIL(l.wo, up.linear(name(a.o, ""), hid, q));
    if (o_bias) ASSIGN_OR_FAIL(l.bo, up.small({name(a.o, ".bias")}, {hid}));
    ASSIGN_OR_FAIL(l.w_gate_up, up.stacked_linear({name(a.gate, ""), name(a.up, "")}, {ffn, ffn}, hid));
    ASSIGN_OR_FAIL(l.w_down, up.linear(name(a.down, ""), hid, ffn));
    if (progress && !progress(i + 1, c.num_layers)) {
      w.free(b);
      return Status(StatusCode::kCancelled, "loading cancelled");
    }
  }
  return w;
}

}  // namespace jetchat
