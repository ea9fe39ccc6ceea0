#include "gguf_convert.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <filesystem>

#include "checkpoint.h"
#include "gguf_quantize.h"
#include "gguf_writer.h"
#include "half.h"
#include "json_util.h"
#include "model_config.h"
#include "models/architecture.h"
#include "rope.h"
#include "tokenizer.h"
#include "tokenizer_json.h"

namespace jetchat {
namespace {

// A checkpoint tensor [rows, cols] as f32.
Result<std::vector<float>> floats(const Checkpoint& ck, const std::string& name, int64_t rows, int64_t cols) {
  auto m = ck.matrix(name, rows, cols);
  if (!m) return m.status();
  const int64_t n = m->rows * m->cols;
  std::vector<float> v(static_cast<size_t>(n));
  const auto* p = static_cast<const uint8_t*>(m->data);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    switch (m->dtype) {
      case DType::kF32: std::memcpy(&v[size_t(i)], p + 4 * i, 4); break;
      case DType::kF16: std::memcpy(&h, p + 2 * i, 2); v[size_t(i)] = f16_to_f32(h); break;
      default: std::memcpy(&h, p + 2 * i, 2); v[size_t(i)] = bf16_to_f32(h); break;
    }
  }
  return v;
}

// llama.cpp's q/k permutation for adjacent-pair RoPE: within each head of D rows, GGUF row 2i + h holds HF row
// h*D/2 + i (h in {0, 1}, i < D/2). `w` is [heads * D, cols].
std::vector<float> permute_for_adjacent_pairs(const std::vector<float>& w, int heads, int64_t cols) {
  const int64_t rows = int64_t(w.size()) / cols, D = rows / heads;
  std::vector<float> out(w.size());
  for (int64_t head = 0; head < heads; ++head)
    for (int64_t i = 0; i < D / 2; ++i)
      for (int64_t h = 0; h < 2; ++h)
        std::memcpy(&out[size_t((head * D + 2 * i + h) * cols)], &w[size_t((head * D + h * D / 2 + i) * cols)],
                    size_t(cols) * sizeof(float));
  return out;
}

class Converter {
 public:
  Converter(GgufWriter& w, GgmlType linear) : w_(w), linear_(linear) {}

  // An HF [rows, cols] weight (or a [cols] vector when rows == 0) as GGUF tensor `name` of type `type`.
  void add(const std::string& name, const std::vector<float>& v, int64_t rows, int64_t cols, GgmlType type) {
    if (cols % int64_t(ggml_block_size(type))) type = GgmlType::kF16;
    std::vector<uint8_t> data;
    gguf_quantize(type, v.data(), int64_t(v.size()), data);
    w_.add_tensor(name, rows ? std::vector<uint64_t>{uint64_t(cols), uint64_t(rows)} : std::vector<uint64_t>{uint64_t(cols)},
                  type, std::move(data));
  }
  void linear(const std::string& name, const std::vector<float>& v, int64_t rows, int64_t cols) {
    add(name, v, rows, cols, linear_);
  }

 private:
  GgufWriter& w_;
  GgmlType linear_;
};

void add_chat_template(GgufWriter& w, const std::string& dir) {
  auto tc = read_json_file(dir + "/tokenizer_config.json");
  if (tc && tc->contains("chat_template") && (*tc)["chat_template"].is_string())
    w.add_string("tokenizer.chat_template", (*tc)["chat_template"].get<std::string>());
}

// A byte-level BPE tokenizer.json as tokenizer.ggml.model "gpt2": pieces as stored, added tokens as control (3) or
// user-defined (4) tokens, the pre-tokenizer by llama.cpp's name for its regex, BOS/EOS as the tokenizer resolves
// them (tokenizer_config.json included).
Status add_bpe_vocabulary(GgufWriter& w, const std::string& dir, const ModelConfig& c) {
  const std::string path = dir + "/tokenizer.json";
  auto v = read_tokenizer_json(path);
  if (!v) return v.status();
  auto tok = Tokenizer::load(dir);
  if (!tok) return tok.status();
  std::string pre;
  if (v->pattern == llama3_pretokenizer_pattern()) pre = "llama-bpe";
  if (v->pattern == qwen2_pretokenizer_pattern()) pre = "qwen2";
  if (v->pattern == gpt2_pretokenizer_pattern()) pre = "gpt-2";
  if (pre.empty())
    return Status(StatusCode::kUnsupported, path + ": the pre-tokenizer regex is none that GGUF names (Llama-3, "
                                                   "Qwen2, GPT-2)");
  std::vector<std::string> tokens = v->pieces;
  std::vector<int32_t> types(tokens.size(), 1);
  for (const AddedToken& a : v->added) {
    if (tokens.size() <= size_t(a.id)) tokens.resize(size_t(a.id) + 1), types.resize(size_t(a.id) + 1, 1);
    tokens[size_t(a.id)] = a.text;
    types[size_t(a.id)] = a.special ? 3 : 4;
  }
  for (size_t id = 0; id < tokens.size(); ++id)
    if (tokens[id].empty()) tokens[id] = "[PAD" + std::to_string(id) + "]", types[id] = 5;  // unused ids
  std::vector<std::string> merges;
  for (const auto& [a, b] : v->merges) merges.push_back(a + " " + b);
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", pre);
  w.add_strings("tokenizer.ggml.tokens", tokens);
  w.add_i32s("tokenizer.ggml.token_type", types);
  w.add_strings("tokenizer.ggml.merges", merges);
  if ((*tok)->bos_id() >= 0) w.add_u32("tokenizer.ggml.bos_token_id", uint32_t((*tok)->bos_id()));
  if ((*tok)->eos_id() >= 0) w.add_u32("tokenizer.ggml.eos_token_id", uint32_t((*tok)->eos_id()));
  // config.json may stop on another id too (Qwen2.5: <|endoftext|> and <|im_end|>; Llama-3: <|end_of_text|> and
  // <|eot_id|>); GGUF's second stop id is the end-of-turn one.
  for (int id : c.eos_token_ids)
    if (id != (*tok)->eos_id() && id >= 0 && size_t(id) < tokens.size()) {
      w.add_u32("tokenizer.ggml.eot_token_id", uint32_t(id));
      break;
    }
  w.add_bool("tokenizer.ggml.add_bos_token", (*tok)->adds_bos());
  add_chat_template(w, dir);
  return Status::ok();
}

Status add_vocabulary(GgufWriter& w, const std::string& dir, const ModelConfig& c) {
  const std::string path = dir + "/tokenizer.model";
  sentencepiece::SentencePieceProcessor sp;
  if (!std::filesystem::exists(path)) {
    if (std::filesystem::exists(dir + "/tokenizer.json")) return add_bpe_vocabulary(w, dir, c);
    return Status(StatusCode::kUnsupported, dir + ": no tokenizer.model or tokenizer.json to write as the GGUF "
                                                  "vocabulary");
  }
  const auto s = sp.Load(path);
  if (!s.ok()) return Status(StatusCode::kInvalidFormat, path + ": " + s.ToString());
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;  // tokenizer.ggml.token_type: 1 normal, 2 unknown, 3 control, 5 unused, 6 byte
  for (int id = 0; id < sp.GetPieceSize(); ++id) {
    tokens.push_back(sp.IdToPiece(id));
    scores.push_back(sp.GetScore(id));
    types.push_back(sp.IsUnknown(id) ? 2 : sp.IsControl(id) ? 3 : sp.IsUnused(id) ? 5 : sp.IsByte(id) ? 6 : 1);
  }
  // The dummy prefix shows as a leading U+2581 on the first piece of a lone word.
  const auto pieces = sp.EncodeAsPieces("a");
  const bool space_prefix = !pieces.empty() && pieces[0].rfind("\xE2\x96\x81", 0) == 0;
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_strings("tokenizer.ggml.tokens", tokens);
  w.add_f32s("tokenizer.ggml.scores", scores);
  w.add_i32s("tokenizer.ggml.token_type", types);
  w.add_u32("tokenizer.ggml.bos_token_id", uint32_t(c.bos_token_id));
  w.add_u32("tokenizer.ggml.eos_token_id", uint32_t(c.eos_token_ids.empty() ? 2 : c.eos_token_ids[0]));
  if (sp.unk_id() >= 0) w.add_u32("tokenizer.ggml.unknown_token_id", uint32_t(sp.unk_id()));
  w.add_bool("tokenizer.ggml.add_space_prefix", space_prefix);
  add_chat_template(w, dir);
  return Status::ok();
}

}  // namespace

Status convert_to_gguf(const std::string& dir, const std::string& out_path, GgmlType linear_type) {
  if (!gguf_quantizable(linear_type))
    return Status(StatusCode::kUnsupported, std::string("the GGUF converter cannot write ") +
                                                ggml_type_name(linear_type) +
                                                " (F32, F16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K)");
  auto cfg = ModelConfig::load(dir);
  if (!cfg) return cfg.status();
  const ModelConfig& c = *cfg;
  const Architecture* a = find_architecture(c.architecture);
  const std::string family = a ? a->family : "";
  if (family != "llama" && family != "qwen2" && family != "internlm2")
    return Status(StatusCode::kUnsupported, dir + ": the GGUF converter writes llama, qwen2 and internlm2 models, not " +
                                                c.architecture);
  if (!c.quant.method.empty())
    return Status(StatusCode::kUnsupported, dir + ": convert a 16-bit model, not a " + c.quant.method + " one");
  if (c.rope_scaling.type == RopeScalingType::kDynamic)
    return Status(StatusCode::kUnsupported, dir + ": GGUF has no dynamic NTK RoPE scaling to write");
  auto ck = Checkpoint::open(dir);
  if (!ck) return ck.status();

  GgufWriter w;
  const std::string& g = family;  // GGUF architecture names match our family names for these three
  w.add_string("general.architecture", g);
  w.add_string("general.name", std::filesystem::path(dir).filename().string());
  w.add_u32(g + ".context_length", uint32_t(c.max_position));
  w.add_u32(g + ".embedding_length", uint32_t(c.hidden_size));
  w.add_u32(g + ".block_count", uint32_t(c.num_layers));
  w.add_u32(g + ".feed_forward_length", uint32_t(c.intermediate_size));
  w.add_u32(g + ".attention.head_count", uint32_t(c.num_heads));
  w.add_u32(g + ".attention.head_count_kv", uint32_t(c.num_kv_heads));
  w.add_u32(g + ".attention.key_length", uint32_t(c.head_dim));
  w.add_u32(g + ".rope.dimension_count", uint32_t(c.head_dim));
  w.add_f32(g + ".rope.freq_base", float(c.rope_theta));
  w.add_f32(g + ".attention.layer_norm_rms_epsilon", float(c.rms_norm_eps));
  if (c.rope_scaling.type == RopeScalingType::kLinear) {
    w.add_string(g + ".rope.scaling.type", "linear");
    w.add_f32(g + ".rope.scaling.factor", float(c.rope_scaling.factor));
  }
  JETCHAT_TRY(add_vocabulary(w, dir, c));
  if (c.rope_scaling.type == RopeScalingType::kLlama3) {
    // As llama.cpp writes Llama-3.1: the rescaling as one divisor of each pair's frequency.
    ModelConfig plain = c;
    plain.rope_scaling = {};
    const std::vector<float> scaled = rope_inv_freq(c, 0), unscaled = rope_inv_freq(plain, 0);
    std::vector<uint8_t> factors;
    for (size_t j = 0; j < scaled.size(); ++j) {
      const float f = unscaled[j] / scaled[j];
      factors.insert(factors.end(), reinterpret_cast<const uint8_t*>(&f), reinterpret_cast<const uint8_t*>(&f) + 4);
    }
    w.add_tensor("rope_freqs.weight", {uint64_t(scaled.size())}, GgmlType::kF32, std::move(factors));
  }

  const bool permute = family != "qwen2";
  const int64_t h = c.hidden_size, q = c.q_dim(), kv = c.kv_dim(), f = c.intermediate_size, D = c.head_dim;
  const GgmlType dense = linear_type == GgmlType::kF32 ? GgmlType::kF32 : GgmlType::kF16;
  Converter conv(w, linear_type);
  auto embed = floats(**ck, a->embed, c.vocab_size, h);
  if (!embed) return embed.status();
  conv.add("token_embd.weight", *embed, c.vocab_size, h, dense);
  auto norm = floats(**ck, a->final_norm, 0, h);
  if (!norm) return norm.status();
  conv.add("output_norm.weight", *norm, 0, h, GgmlType::kF32);
  if (!c.tie_word_embeddings && (*ck)->find(a->lm_head)) {
    auto head = floats(**ck, a->lm_head, c.vocab_size, h);
    if (!head) return head.status();
    conv.add("output.weight", *head, c.vocab_size, h, dense);
  }
  for (int i = 0; i < c.num_layers; ++i) {
    auto hf = [&](const char* pattern, const char* suffix) { return layer_name(pattern, i) + suffix; };
    const std::string b = "blk." + std::to_string(i) + ".";
    std::vector<float> wq, wk, wv;
    if (a->qkv_layout == QkvLayout::kInternLM2Grouped) {
      // Rows [Hkv][g q heads, k, v][D] -> separate q, k, v (HF order).
      auto wqkv = floats(**ck, hf(a->wqkv, ".weight"), q + 2 * kv, h);
      if (!wqkv) return wqkv.status();
      const int64_t groups = c.num_kv_heads, per = c.num_heads / groups;
      for (int64_t kvh = 0; kvh < groups; ++kvh)
        for (int64_t slot = 0; slot < per + 2; ++slot) {
          auto from = wqkv->begin() + (kvh * (per + 2) + slot) * D * h;
          auto& dst = slot < per ? wq : slot == per ? wk : wv;
          dst.insert(dst.end(), from, from + D * h);
        }
    } else {
      for (auto [pattern, rows, dst] : {std::tuple{a->q, q, &wq}, std::tuple{a->k, kv, &wk}, std::tuple{a->v, kv, &wv}}) {
        auto m = floats(**ck, hf(pattern, ".weight"), rows, h);
        if (!m) return m.status();
        *dst = std::move(m.value());
      }
    }
    if (permute) {
      wq = permute_for_adjacent_pairs(wq, c.num_heads, h);
      wk = permute_for_adjacent_pairs(wk, c.num_kv_heads, h);
    }
    conv.linear(b + "attn_q.weight", wq, q, h);
    conv.linear(b + "attn_k.weight", wk, kv, h);
    conv.linear(b + "attn_v.weight", wv, kv, h);
    if (a->has_qkv_bias(c)) {
      for (auto [pattern, rows, name, heads] :
           {std::tuple{a->q, q, "attn_q.bias", c.num_heads}, std::tuple{a->k, kv, "attn_k.bias", c.num_kv_heads},
            std::tuple{a->v, kv, "attn_v.bias", 0}}) {
        auto v = floats(**ck, hf(pattern, ".bias"), 0, rows);
        if (!v) return v.status();
        conv.add(b + name, permute && heads ? permute_for_adjacent_pairs(*v, heads, 1) : *v, 0, rows, GgmlType::kF32);
      }
    }
    struct Linear {
      const char* pattern;
      const char* name;
      int64_t rows, cols;
    };
    for (const Linear& l : {Linear{a->o, "attn_output.weight", h, q}, Linear{a->gate, "ffn_gate.weight", f, h},
                            Linear{a->up, "ffn_up.weight", f, h}, Linear{a->down, "ffn_down.weight", h, f}}) {
      auto m = floats(**ck, hf(l.pattern, ".weight"), l.rows, l.cols);
      if (!m) return m.status();
      conv.linear(b + l.name, *m, l.rows, l.cols);
    }
    if (a->has_o_bias(c)) {
      auto v = floats(**ck, hf(a->o, ".bias"), 0, h);
      if (!v) return v.status();
      conv.add(b + "attn_output.bias", *v, 0, h, GgmlType::kF32);
    }
    for (auto [pattern, name] : {std::pair{a->attn_norm, "attn_norm.weight"}, std::pair{a->ffn_norm, "ffn_norm.weight"}}) {
      auto v = floats(**ck, hf(pattern, ".weight"), 0, h);
      if (!v) return v.status();
      conv.add(b + name, *v, 0, h, GgmlType::kF32);
    }
  }
  return w.write(out_path);
}

}  // namespace jetchat
