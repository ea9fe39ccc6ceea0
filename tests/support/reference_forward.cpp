#include "support/reference_forward.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "half.h"
#include "safetensors.h"

namespace jetchat::test {
namespace {

using Mat = std::vector<double>;  // row-major

struct Ref {
  nlohmann::json cfg;
  std::unique_ptr<SafetensorsFile> st;

  bool has(const std::string& n) const { return st->find(n) != nullptr; }
  Mat get(const std::string& n) const {
    const StTensor* t = st->find(n);
    if (!t) {
      ADD_FAILURE() << "reference: missing tensor " << n;
      return {};
    }
    Mat m(size_t(t->numel()));
    for (size_t i = 0; i < m.size(); ++i) {
      uint16_t h;
      switch (t->dtype) {
        case StDType::kF32: {
          float f;
          std::memcpy(&f, t->data + 4 * i, 4);
          m[i] = f;
          break;
        }
        case StDType::kF16: std::memcpy(&h, t->data + 2 * i, 2); m[i] = f16_to_f32(h); break;
        case StDType::kBF16: std::memcpy(&h, t->data + 2 * i, 2); m[i] = bf16_to_f32(h); break;
        default: ADD_FAILURE() << "reference: dtype of " << n;
      }
    }
    return m;
  }
};

// y[rows] = W[rows, cols] x[cols]
std::vector<double> matvec(const Mat& w, const std::vector<double>& x, size_t rows) {
  const size_t cols = x.size();
  std::vector<double> y(rows, 0.0);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) y[r] += w[r * cols + c] * x[c];
  return y;
}

std::vector<double> rmsnorm(const std::vector<double>& x, const Mat& w, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double inv = 1.0 / std::sqrt(ss / double(x.size()) + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * w[i];
  return y;
}

}  // namespace

std::vector<std::vector<double>> reference_logits(const std::string& dir, const std::vector<int32_t>& ids) {
  Ref m;
  std::ifstream cf(dir + "/config.json");
  m.cfg = nlohmann::json::parse(cf);
  auto st = SafetensorsFile::open(dir + "/model.safetensors");
  if (!st) {
    ADD_FAILURE() << st.status().message();
    return {};
  }
  m.st = std::move(st.value());
  const auto& c = m.cfg;
  const std::string arch = c["architectures"][0];
  const bool internlm2 = arch == "InternLM2ForCausalLM";
  const int H = c["num_attention_heads"], Hkv = c.value("num_key_value_heads", H);
  const int hidden = c["hidden_size"], ffn = c["intermediate_size"], L = c["num_hidden_layers"];
  const int vocab = c["vocab_size"], D = hidden / H, max_pos = c.value("max_position_embeddings", 2048);
  const double eps = c.value("rms_norm_eps", 1e-6), theta = c.value("rope_theta", 10000.0);
  const bool bias = c.value("bias", false) || c.value("attention_bias", false);
  const bool qwen = arch == "Qwen2ForCausalLM";
  const int T = int(ids.size());

  // RoPE inverse frequencies (HF: linear divides positions, dynamic NTK raises the base past max_pos).
  double base = theta, pos_scale = 1.0;
  if (c.contains("rope_scaling") && c["rope_scaling"].is_object()) {
    const auto& rs = c["rope_scaling"];
    const std::string type = rs.value("type", rs.value("rope_type", std::string("default")));
    const double f = rs["factor"];
    if (type == "linear") pos_scale = 1.0 / f;
    if (type == "dynamic" && T > max_pos) base = theta * std::pow(f * T / max_pos - (f - 1), double(D) / (D - 2));
  }
  auto rotate = [&](double* v, int pos) {  // rotate_half on pairs (j, j + D/2)
    for (int j = 0; j < D / 2; ++j) {
      const double a = pos * pos_scale * std::pow(base, -2.0 * j / D);
      const double x0 = v[j], x1 = v[j + D / 2];
      v[j] = x0 * std::cos(a) - x1 * std::sin(a);
      v[j + D / 2] = x1 * std::cos(a) + x0 * std::sin(a);
    }
  };

  const std::string emb_name = internlm2 ? "model.tok_embeddings.weight" : "model.embed_tokens.weight";
  const Mat emb = m.get(emb_name);
  std::vector<std::vector<double>> x(T, std::vector<double>(hidden));
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < hidden; ++i) x[t][i] = emb[size_t(ids[t]) * hidden + i];

  for (int l = 0; l < L; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    std::vector<std::vector<double>> q(T), k(T), v(T);
    const Mat attn_norm = m.get(p + (internlm2 ? "attention_norm.weight" : "input_layernorm.weight"));
    for (int t = 0; t < T; ++t) {
      const auto xn = rmsnorm(x[t], attn_norm, eps);
      if (internlm2) {
        // Rows grouped per KV head: [q_0 .. q_{g-1}, k, v], each D rows.
        const int g = H / Hkv;
        const auto all = matvec(m.get(p + "attention.wqkv.weight"), xn, size_t((H + 2 * Hkv) * D));
        q[t].resize(size_t(H) * D);
        k[t].resize(size_t(Hkv) * D);
        v[t].resize(size_t(Hkv) * D);
        for (int h = 0; h < Hkv; ++h)
          for (int d = 0; d < D; ++d) {
            for (int s = 0; s < g; ++s) q[t][(h * g + s) * D + d] = all[(h * (g + 2) + s) * D + d];
            k[t][h * D + d] = all[(h * (g + 2) + g) * D + d];
            v[t][h * D + d] = all[(h * (g + 2) + g + 1) * D + d];
          }
      } else {
        q[t] = matvec(m.get(p + "self_attn.q_proj.weight"), xn, size_t(H) * D);
        k[t] = matvec(m.get(p + "self_attn.k_proj.weight"), xn, size_t(Hkv) * D);
        v[t] = matvec(m.get(p + "self_attn.v_proj.weight"), xn, size_t(Hkv) * D);
        if (bias || qwen) {
          const Mat bq = m.get(p + "self_attn.q_proj.bias"), bk = m.get(p + "self_attn.k_proj.bias"),
                    bv = m.get(p + "self_attn.v_proj.bias");
          for (size_t i = 0; i < q[t].size(); ++i) q[t][i] += bq[i];
          for (size_t i = 0; i < k[t].size(); ++i) k[t][i] += bk[i], v[t][i] += bv[i];
        }
      }
      for (int h = 0; h < H; ++h) rotate(&q[t][size_t(h) * D], t);
      for (int h = 0; h < Hkv; ++h) rotate(&k[t][size_t(h) * D], t);
    }
    const Mat wo = m.get(p + (internlm2 ? "attention.wo.weight" : "self_attn.o_proj.weight"));
    const Mat ffn_norm = m.get(p + (internlm2 ? "ffn_norm.weight" : "post_attention_layernorm.weight"));
    const Mat w1 = m.get(p + (internlm2 ? "feed_forward.w1.weight" : "mlp.gate_proj.weight"));
    const Mat w3 = m.get(p + (internlm2 ? "feed_forward.w3.weight" : "mlp.up_proj.weight"));
    const Mat w2 = m.get(p + (internlm2 ? "feed_forward.w2.weight" : "mlp.down_proj.weight"));
    for (int t = 0; t < T; ++t) {
      std::vector<double> o(size_t(H) * D, 0.0);
      for (int h = 0; h < H; ++h) {
        const int kvh = h / (H / Hkv);
        std::vector<double> s(t + 1);
        double mx = -1e300;
        for (int u = 0; u <= t; ++u) {
          double d = 0;
          for (int i = 0; i < D; ++i) d += q[t][h * D + i] * k[u][kvh * D + i];
          s[u] = d / std::sqrt(double(D));
          mx = std::max(mx, s[u]);
        }
        double sum = 0;
        for (auto& e : s) sum += (e = std::exp(e - mx));
        for (int u = 0; u <= t; ++u)
          for (int i = 0; i < D; ++i) o[h * D + i] += s[u] / sum * v[u][kvh * D + i];
      }
      auto a = matvec(wo, o, size_t(hidden));
      if (bias && !internlm2) {
        const Mat bo = m.get(p + "self_attn.o_proj.bias");
        for (int i = 0; i < hidden; ++i) a[i] += bo[i];
      }
      for (int i = 0; i < hidden; ++i) x[t][i] += a[i];
      const auto xn = rmsnorm(x[t], ffn_norm, eps);
      const auto gate = matvec(w1, xn, size_t(ffn)), up = matvec(w3, xn, size_t(ffn));
      std::vector<double> hmid(ffn);
      for (int i = 0; i < ffn; ++i) hmid[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
      const auto down = matvec(w2, hmid, size_t(hidden));
      for (int i = 0; i < hidden; ++i) x[t][i] += down[i];
    }
  }
  const Mat norm = m.get("model.norm.weight");
  const std::string head_name = internlm2 ? "output.weight" : "lm_head.weight";
  const Mat head = m.has(head_name) && !c.value("tie_word_embeddings", false) ? m.get(head_name) : emb;
  std::vector<std::vector<double>> logits(T);
  for (int t = 0; t < T; ++t) logits[t] = matvec(head, rmsnorm(x[t], norm, eps), size_t(vocab));
  return logits;
}

double max_relative_error(const std::vector<std::vector<float>>& a, const std::vector<std::vector<double>>& b) {
  double num = 0, den = 0;
  for (size_t t = 0; t < b.size(); ++t)
    for (size_t i = 0; i < b[t].size(); ++i) {
      num = std::max(num, std::abs(double(a[t][i]) - b[t][i]));
      den = std::max(den, std::abs(b[t][i]));
    }
  return num / den;
}

}  // namespace jetchat::test
