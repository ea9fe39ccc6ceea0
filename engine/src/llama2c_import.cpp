#include "llama2c_import.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "mapped_file.h"
#include "safetensors.h"

namespace fs = std::filesystem;

namespace jetchat {
namespace {

// Within each head of size D, llama2.c row 2i+h holds HF row h*D/2+i (h in {0,1}).
std::vector<float> unpermute_heads(const float* w, int heads, int head_dim, int cols) {
  std::vector<float> out(size_t(heads) * head_dim * cols);
  for (int hd = 0; hd < heads; ++hd)
    for (int i = 0; i < head_dim / 2; ++i)
      for (int h = 0; h < 2; ++h) {
        const float* src = w + (size_t(hd) * head_dim + 2 * i + h) * cols;
        float* dst = out.data() + (size_t(hd) * head_dim + h * head_dim / 2 + i) * cols;
        std::memcpy(dst, src, sizeof(float) * cols);
      }
  return out;
}

}  // namespace

Status import_llama2c(const std::string& bin_path, const std::string& out_dir, const std::string& tokenizer_model) {
  auto file = MappedFile::open(bin_path);
  if (!file) return file.status();
  const uint8_t* p = (*file)->data();
  const size_t size = (*file)->size();
  if (size < 28) return Status(StatusCode::kInvalidFormat, bin_path + ": too small for a llama2.c header");
  int32_t h[7];
  std::memcpy(h, p, sizeof h);
  const int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kv_heads = h[4], seq_len = h[6];
  const bool shared = h[5] > 0;
  const int vocab = shared ? h[5] : -h[5];
  if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kv_heads <= 0 || vocab <= 0 || seq_len <= 0 ||
      dim % heads || heads % kv_heads || (dim / heads) % 2)
    return Status(StatusCode::kInvalidFormat, bin_path + ": header is not a llama2.c version-0 checkpoint");
  const int head_dim = dim / heads, kv_dim = kv_heads * head_dim;
  const size_t L = size_t(layers);
  // Element counts in file order.
  const size_t counts[] = {size_t(vocab) * dim, L * dim,           L * dim * dim,    L * kv_dim * dim,
                           L * kv_dim * dim,    L * dim * dim,     L * dim,          L * hidden * dim,
                           L * dim * hidden,    L * hidden * dim,  size_t(dim)};
  size_t need = 28;
  for (size_t c : counts) need += c * 4;
  if (size < need)
    return Status(StatusCode::kInvalidFormat, bin_path + ": truncated: " + std::to_string(size) +
                                                  " bytes, the header implies at least " + std::to_string(need));
  const float* at = reinterpret_cast<const float*>(p + 28);
  const float* part[11];
  for (int i = 0; i < 11; ++i) {
    part[i] = at;
    at += counts[i];
  }
  const float *emb = part[0], *rms_att = part[1], *wq = part[2], *wk = part[3], *wv = part[4], *wo = part[5],
              *rms_ffn = part[6], *w1 = part[7], *w2 = part[8], *w3 = part[9], *rms_final = part[10];

  SafetensorsWriter w;
  auto add = [&w](const std::string& name, std::vector<int64_t> shape, const float* data) {
    size_t n = 1;
    for (auto d : shape) n *= size_t(d);
    w.add(name, StDType::kF32, std::move(shape), data, n * 4);
  };
  add("model.embed_tokens.weight", {vocab, dim}, emb);
  for (int l = 0; l < layers; ++l) {
    const std::string pre = "model.layers." + std::to_string(l) + ".";
    add(pre + "input_layernorm.weight", {dim}, rms_att + size_t(l) * dim);
    const auto q = unpermute_heads(wq + size_t(l) * dim * dim, heads, head_dim, dim);
    const auto k = unpermute_heads(wk + size_t(l) * kv_dim * dim, kv_heads, head_dim, dim);
    add(pre + "self_attn.q_proj.weight", {dim, dim}, q.data());
    add(pre + "self_attn.k_proj.weight", {kv_dim, dim}, k.data());
    add(pre + "self_attn.v_proj.weight", {kv_dim, dim}, wv + size_t(l) * kv_dim * dim);
    add(pre + "self_attn.o_proj.weight", {dim, dim}, wo + size_t(l) * dim * dim);
    add(pre + "post_attention_layernorm.weight", {dim}, rms_ffn + size_t(l) * dim);
    add(pre + "mlp.gate_proj.weight", {hidden, dim}, w1 + size_t(l) * hidden * dim);
    add(pre + "mlp.down_proj.weight", {dim, hidden}, w2 + size_t(l) * dim * hidden);
    add(pre + "mlp.up_proj.weight", {hidden, dim}, w3 + size_t(l) * hidden * dim);
  }
  add("model.norm.weight", {dim}, rms_final);
  if (!shared) {
    // The classifier follows the old RoPE tables (seq_len * head_dim / 2 floats each, real and imaginary).
    const float* cls = at + size_t(seq_len) * head_dim;
    if (size < need + (size_t(seq_len) * head_dim + size_t(vocab) * dim) * 4)
      return Status(StatusCode::kInvalidFormat, bin_path + ": truncated before the classifier weights");
    add("lm_head.weight", {vocab, dim}, cls);
  }

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Status(StatusCode::kIoError, out_dir + ": " + ec.message());
  JETCHAT_TRY(w.write(out_dir + "/model.safetensors"));
  nlohmann::ordered_json config = {
      {"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
      {"hidden_size", dim}, {"intermediate_size", hidden}, {"num_hidden_layers", layers},
      {"num_attention_heads", heads}, {"num_key_value_heads", kv_heads}, {"vocab_size", vocab},
      {"max_position_embeddings", seq_len}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
      {"tie_word_embeddings", shared}, {"torch_dtype", "float32"}, {"bos_token_id", 1}, {"eos_token_id", 2}};
  std::ofstream(out_dir + "/config.json") << config.dump(2) << "\n";
  if (!tokenizer_model.empty()) {
    fs::copy_file(tokenizer_model, out_dir + "/tokenizer.model", fs::copy_options::overwrite_existing, ec);
    if (ec) return Status(StatusCode::kIoError, tokenizer_model + ": cannot copy: " + ec.message());
  }
  return Status::ok();
}

}  // namespace jetchat
