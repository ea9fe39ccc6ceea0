#include "model_config.h"

#include <nlohmann/json.hpp>

#include "json_util.h"

namespace jetchat {
namespace {

Status bad(const std::string& where, const std::string& what) {
  return Status(StatusCode::kInvalidFormat, where + ": " + what);
}

// Reads an optional number; a present key of the wrong type is an error, not a default.
template <typename T>
Status get_number(const nlohmann::json& j, const char* key, T& out, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::ok();
  if (!it->is_number()) return bad(where, std::string("'") + key + "' must be a number, got " + it->dump());
  out = it->get<T>();
  return Status::ok();
}

Status parse_rope(const nlohmann::json& r, RopeScaling& s, const std::string& where) {
  if (r.is_null()) return Status::ok();
  if (!r.is_object()) return bad(where, "rope scaling must be an object");
  std::string type = r.value("rope_type", r.value("type", std::string("default")));
  if (type == "default") {
    s.type = RopeScalingType::kNone;
  } else if (type == "linear") {
    s.type = RopeScalingType::kLinear;
  } else if (type == "dynamic") {
    s.type = RopeScalingType::kDynamic;
  } else if (type == "llama3") {
    s.type = RopeScalingType::kLlama3;
  } else {
    return Status(StatusCode::kUnsupported, where + ": rope scaling type '" + type + "' is not supported");
  }
  JETCHAT_TRY(get_number(r, "factor", s.factor, where));
  JETCHAT_TRY(get_number(r, "low_freq_factor", s.low_freq_factor, where));
  JETCHAT_TRY(get_number(r, "high_freq_factor", s.high_freq_factor, where));
  JETCHAT_TRY(get_number(r, "original_max_position_embeddings", s.original_max_position, where));
  if (s.type != RopeScalingType::kNone && !(s.factor > 0)) return bad(where, "rope scaling factor must be > 0");
  return Status::ok();
}

Status parse_quant(const nlohmann::json& q, QuantConfig& c, const std::string& where) {
  if (!q.is_object()) return bad(where, "quantization_config must be an object");
  c.method = q.value("quant_method", std::string());
  JETCHAT_TRY(get_number(q, "bits", c.bits, where));
  JETCHAT_TRY(get_number(q, "w_bit", c.bits, where));
  JETCHAT_TRY(get_number(q, "group_size", c.group_size, where));
  JETCHAT_TRY(get_number(q, "q_group_size", c.group_size, where));
  c.zero_point = q.value("zero_point", true);
  c.version = q.value("version", std::string());
  c.desc_act = q.value("desc_act", false);
  c.sym = q.value("sym", false);
  return Status::ok();
}

}  // namespace

Result<ModelConfig> ModelConfig::parse(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || j.empty()) return bad(where, "config is empty or not a JSON object");
  ModelConfig c;
  auto arch = j.find("architectures");
  if (arch == j.end() || !arch->is_array() || arch->empty() || !(*arch)[0].is_string())
    return bad(where, "'architectures' is missing (is this a Hugging Face config.json?)");
  c.architecture = (*arch)[0].get<std::string>();

  JETCHAT_TRY(get_number(j, "vocab_size", c.vocab_size, where));
  JETCHAT_TRY(get_number(j, "hidden_size", c.hidden_size, where));
  JETCHAT_TRY(get_number(j, "intermediate_size", c.intermediate_size, where));
  JETCHAT_TRY(get_number(j, "num_hidden_layers", c.num_layers, where));
  JETCHAT_TRY(get_number(j, "num_attention_heads", c.num_heads, where));
  c.num_kv_heads = c.num_heads;
  JETCHAT_TRY(get_number(j, "num_key_value_heads", c.num_kv_heads, where));
  JETCHAT_TRY(get_number(j, "max_position_embeddings", c.max_position, where));
  JETCHAT_TRY(get_number(j, "rms_norm_eps", c.rms_norm_eps, where));
  for (const char* k : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"})
    if (!j.contains(k)) return bad(where, std::string("'") + k + "' is missing");
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.intermediate_size <= 0 || c.num_layers <= 0 ||
      c.num_heads <= 0 || c.num_kv_heads <= 0 || c.max_position <= 0)
    return bad(where, "sizes must be positive");
  c.head_dim = c.hidden_size / c.num_heads;
  JETCHAT_TRY(get_number(j, "head_dim", c.head_dim, where));
  if (c.head_dim <= 0 || c.head_dim % 2) return bad(where, "head_dim must be positive and even");
  if (c.num_heads % c.num_kv_heads)
    return bad(where, "num_attention_heads (" + std::to_string(c.num_heads) +
                          ") is not a multiple of num_key_value_heads (" + std::to_string(c.num_kv_heads) + ")");

  // transformers 5 keeps theta and scaling in rope_parameters; 4.x has them at the top level.
  if (auto rp = j.find("rope_parameters"); rp != j.end() && rp->is_object()) {
    JETCHAT_TRY(get_number(*rp, "rope_theta", c.rope_theta, where));
    JETCHAT_TRY(parse_rope(*rp, c.rope_scaling, where));
  } else {
    JETCHAT_TRY(get_number(j, "rope_theta", c.rope_theta, where));
    if (auto rs = j.find("rope_scaling"); rs != j.end()) JETCHAT_TRY(parse_rope(*rs, c.rope_scaling, where));
  }
  if (!(c.rope_theta > 0)) return bad(where, "rope_theta must be > 0");

  c.tie_word_embeddings = j.value("tie_word_embeddings", false);
  c.attention_bias = j.value("attention_bias", j.value("bias", false));
  if (auto d = j.find("torch_dtype"); d != j.end() && d->is_string()) c.dtype = d->get<std::string>();
  if (auto d = j.find("dtype"); d != j.end() && d->is_string()) c.dtype = d->get<std::string>();
  if (auto b = j.find("bos_token_id"); b != j.end() && b->is_number_integer()) c.bos_token_id = b->get<int>();
  if (auto e = j.find("eos_token_id"); e != j.end()) {
    if (e->is_number_integer()) {
      c.eos_token_ids = {e->get<int>()};
    } else if (e->is_array()) {
      c.eos_token_ids.clear();
      for (const auto& x : *e)
        if (x.is_number_integer()) c.eos_token_ids.push_back(x.get<int>());
    }
  }
  if (auto q = j.find("quantization_config"); q != j.end()) JETCHAT_TRY(parse_quant(*q, c.quant, where));
  return c;
}

Result<ModelConfig> ModelConfig::load(const std::string& model_dir) {
  const std::string path = model_dir + "/config.json";
  auto j = read_json_file(path);
  if (!j) return j.status();
  auto c = parse(*j, path);
  if (!c) return c;
  // AutoAWQ's older files keep the quantization settings beside config.json.
  if (c->quant.method.empty()) {
    auto q = read_json_file(model_dir + "/quant_config.json");
    if (q) {
      JETCHAT_TRY(parse_quant(*q, c->quant, model_dir + "/quant_config.json"));
      if (c->quant.method.empty()) c->quant.method = "awq";
    }
  }
  return c;
}

}  // namespace jetchat
