#include "random_checkpoint.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "half.h"
#include "models/architecture.h"
#include "random_tokenizer.h"
#include "safetensors.h"

namespace fs = std::filesystem;

namespace jetchat {

Result<RandomModelSpec> random_model_shape(const std::string& name) {
  RandomModelSpec s;
  if (name == "tiny") return s;
  if (name == "qwen2.5-tiny" || name == "qwen2.5-0.5b") {
    s.architecture = "Qwen2ForCausalLM";
    s.bpe_tokenizer = "qwen2";
    s.tie_word_embeddings = true;
    s.rope_theta = 1000000.0;
    if (name == "qwen2.5-0.5b")
      s.vocab_size = 151936, s.hidden_size = 896, s.intermediate_size = 4864, s.layers = 24, s.heads = 14,
      s.kv_heads = 2, s.max_position = 32768;
    return s;
  }
  if (name == "llama3-tiny" || name == "llama-3.2-1b") {
    s.bpe_tokenizer = "llama3";
    s.tie_word_embeddings = true;
    s.rope_theta = 500000.0;
    s.rope_scaling_json =
        R"({"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,)"
        R"( "original_max_position_embeddings": 8192})";
    if (name == "llama-3.2-1b")
      s.vocab_size = 128256, s.hidden_size = 2048, s.intermediate_size = 8192, s.layers = 16, s.heads = 32,
      s.kv_heads = 8, s.max_position = 131072;
    return s;
  }
  s.max_position = 4096;
  if (name == "llama-1b") {  // TinyLlama-1.1B
    s.vocab_size = 32000, s.hidden_size = 2048, s.intermediate_size = 5632, s.layers = 22, s.heads = 32,
    s.kv_heads = 4;
    return s;
  }
  if (name == "llama-2-7b") {  // the shape PEERS.md measured llama.cpp and PyTorch on
    s.vocab_size = 32000, s.hidden_size = 4096, s.intermediate_size = 11008, s.layers = 32, s.heads = 32,
    s.kv_heads = 32;
    return s;
  }
  s.architecture = "InternLM2ForCausalLM";
  s.vocab_size = 92544;
  s.rope_theta = 1000000.0;
  if (name == "internlm2-1.8b") {
    s.hidden_size = 2048, s.intermediate_size = 8192, s.layers = 24, s.heads = 16, s.kv_heads = 8;
    return s;
  }
  if (name == "internlm2-7b") {
    s.hidden_size = 4096, s.intermediate_size = 14336, s.layers = 32, s.heads = 32, s.kv_heads = 8;
    return s;
  }
  if (name == "internlm2-20b") {
    s.hidden_size = 6144, s.intermediate_size = 16384, s.layers = 48, s.heads = 48, s.kv_heads = 8;
    return s;
  }
  return Status(StatusCode::kInvalidArgument,
                "unknown shape '" + name + "' (tiny, llama-1b, llama-2-7b, internlm2-1.8b, internlm2-7b, internlm2-20b, "
                                           "qwen2.5-tiny, qwen2.5-0.5b, llama3-tiny, llama-3.2-1b)");
}

namespace {

class Filler {
 public:
  Filler(uint64_t seed, StDType dtype) : state_(seed * 0x9E3779B97F4A7C15ull + 1), dtype_(dtype) {}

  // Uniform in [center - spread, center + spread]; std = spread / sqrt(3).
  void add(SafetensorsWriter& w, const std::string& name, std::vector<int64_t> shape, float center, float spread) {
    size_t n = 1;
    for (auto d : shape) n *= size_t(d);
    const size_t esize = st_dtype_size(dtype_);
    std::vector<uint8_t> buf(n * esize);
    for (size_t i = 0; i < n; ++i) {
      const float v = center + spread * (2.0f * uniform() - 1.0f);
      if (dtype_ == StDType::kF32) {
        std::memcpy(buf.data() + i * 4, &v, 4);
      } else {
        const uint16_t h = dtype_ == StDType::kF16 ? f32_to_f16(v) : f32_to_bf16(v);
        std::memcpy(buf.data() + i * 2, &h, 2);
      }
    }
    w.add(name, dtype_, std::move(shape), buf.data(), buf.size());
  }

 private:
  float uniform() {  // xorshift64*: fast enough for a billion weights
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return float((state_ * 0x2545F4914F6CDD1Dull) >> 40) / float(1 << 24);
  }
  uint64_t state_;
  StDType dtype_;
};

}  // namespace

Status write_random_checkpoint(const RandomModelSpec& s, const std::string& out_dir) {
  const Architecture* a = find_architecture(s.architecture);
  if (!a) return Status(StatusCode::kUnsupported, "unknown architecture " + s.architecture);
  StDType dt;
  if (s.dtype == "float32") {
    dt = StDType::kF32;
  } else if (s.dtype == "float16") {
    dt = StDType::kF16;
  } else if (s.dtype == "bfloat16") {
    dt = StDType::kBF16;
  } else {
    return Status(StatusCode::kInvalidArgument, "dtype must be float32, float16 or bfloat16");
  }
  const int64_t h = s.hidden_size, D = h / s.heads, q = s.heads * D, kv = s.kv_heads * D, f = s.intermediate_size;
  Filler fill(s.seed, dt);
  SafetensorsWriter w;
  // Uniform spread sqrt(3/fan_in) gives unit-variance products, so activations stay in range over many layers.
  auto lin = [&](const std::string& name, int64_t rows, int64_t cols) {
    fill.add(w, name, {rows, cols}, 0.0f, std::sqrt(3.0f / float(cols)));
  };
  fill.add(w, a->embed, {s.vocab_size, h}, 0.0f, 1.0f);
  for (int l = 0; l < s.layers; ++l) {
    auto n = [l](const char* p, const char* suffix) { return layer_name(p, l) + suffix; };
    fill.add(w, n(a->attn_norm, ".weight"), {h}, 1.0f, 0.2f);
    if (a->qkv_layout == QkvLayout::kInternLM2Grouped) {
      lin(n(a->wqkv, ".weight"), q + 2 * kv, h);
    } else {
      lin(n(a->q, ".weight"), q, h);
      lin(n(a->k, ".weight"), kv, h);
      lin(n(a->v, ".weight"), kv, h);
    }
    const bool qkv_bias = a->qkv_bias_always || (a->bias_from_config && s.attention_bias);
    if (qkv_bias && a->qkv_layout == QkvLayout::kSeparate) {
      fill.add(w, n(a->q, ".bias"), {q}, 0.0f, 0.5f);
      fill.add(w, n(a->k, ".bias"), {kv}, 0.0f, 0.5f);
      fill.add(w, n(a->v, ".bias"), {kv}, 0.0f, 0.5f);
    }
    lin(n(a->o, ".weight"), h, q);
    if (a->bias_from_config && s.attention_bias) fill.add(w, n(a->o, ".bias"), {h}, 0.0f, 0.5f);
    fill.add(w, n(a->ffn_norm, ".weight"), {h}, 1.0f, 0.2f);
    lin(n(a->gate, ".weight"), f, h);
    lin(n(a->up, ".weight"), f, h);
    lin(n(a->down, ".weight"), h, f);
  }
  fill.add(w, a->final_norm, {h}, 1.0f, 0.2f);
  if (!s.tie_word_embeddings) lin(a->lm_head, s.vocab_size, h);

  if (!s.tokenizer_model.empty() && !s.bpe_tokenizer.empty())
    return Status(StatusCode::kInvalidArgument, "a random model gets either a SentencePiece tokenizer.model or a "
                                                "byte-level BPE tokenizer, not both");
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Status(StatusCode::kIoError, out_dir + ": " + ec.message());
  FamilyTokenizerIds special{0, 1, {2}};  // SentencePiece's <s> and </s>
  if (!s.bpe_tokenizer.empty()) {
    auto ids = write_family_tokenizer(s.bpe_tokenizer, s.vocab_size, out_dir);
    if (!ids) return ids.status();
    special = *ids;
  }
  JETCHAT_TRY(w.write(out_dir + "/model.safetensors"));
  nlohmann::ordered_json c = {{"architectures", {s.architecture}},
                              {"hidden_size", h},
                              {"intermediate_size", f},
                              {"num_hidden_layers", s.layers},
                              {"num_attention_heads", s.heads},
                              {"num_key_value_heads", s.kv_heads},
                              {"vocab_size", s.vocab_size},
                              {"max_position_embeddings", s.max_position},
                              {"rms_norm_eps", 1e-5},
                              {"rope_theta", s.rope_theta},
                              {"tie_word_embeddings", s.tie_word_embeddings},
                              {"torch_dtype", s.dtype},
                              {"bos_token_id", special.bos >= 0 ? nlohmann::json(special.bos) : nlohmann::json()},
                              {"eos_token_id", special.eos.size() == 1 ? nlohmann::json(special.eos[0])
                                                                       : nlohmann::json(special.eos)}};
  if (std::string(a->family) == "internlm") c["bias"] = s.attention_bias;
  if (std::string(a->family) == "llama") c["attention_bias"] = s.attention_bias;
  if (!s.rope_scaling_json.empty()) c["rope_scaling"] = nlohmann::json::parse(s.rope_scaling_json);
  std::ofstream(out_dir + "/config.json") << c.dump(2) << "\n";
  if (!s.tokenizer_model.empty()) {
    fs::copy_file(s.tokenizer_model, out_dir + "/tokenizer.model", fs::copy_options::overwrite_existing, ec);
    if (ec) return Status(StatusCode::kIoError, s.tokenizer_model + ": cannot copy: " + ec.message());
  }
  return Status::ok();
}

}  // namespace jetchat
