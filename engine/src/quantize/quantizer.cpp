#include "quantize/quantizer.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "checkpoint.h"
#include "half.h"
#include "json_util.h"
#include "model_config.h"
#include "models/architecture.h"
#include "quantize/awq_clip.h"
#include "quantize/awq_search.h"
#include "quantize/calibration_backend.h"
#include "quantize/rtn.h"
#include "safetensors.h"
#include "tokenizer.h"
#include "transformer.h"
#include "weights.h"

namespace fs = std::filesystem;

namespace jetchat::quant {
namespace {

std::vector<float> read_f32(const StTensor& t) {
  std::vector<float> v(size_t(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    uint16_t h;
    switch (t.dtype) {
      case StDType::kF32: std::memcpy(&v[i], t.data + 4 * i, 4); break;
      case StDType::kF16: std::memcpy(&h, t.data + 2 * i, 2), v[i] = f16_to_f32(h); break;
      default: std::memcpy(&h, t.data + 2 * i, 2), v[i] = bf16_to_f32(h); break;  // BF16 (checked by the caller)
    }
  }
  return v;
}

std::string to_bytes(const std::vector<float>& v, StDType dt) {
  std::string out(v.size() * st_dtype_size(dt), '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == StDType::kF32) {
      std::memcpy(&out[4 * i], &v[i], 4);
    } else {
      const uint16_t h = dt == StDType::kF16 ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
      std::memcpy(&out[2 * i], &h, 2);
    }
  }
  return out;
}

// One layer's tensor names, as the architecture spells them.
struct LayerNames {
  std::vector<std::string> qkv;  // q, k, v, or InternLM2's one wqkv
  std::string o, gate, up, down, attn_norm, ffn_norm, v_bias;
  std::vector<std::string> linears() const {
    auto v = qkv;
    for (const auto& s : {o, gate, up, down}) v.push_back(s);
    return v;
  }
};

LayerNames layer_names(const Architecture& a, int l) {
  LayerNames n;
  if (a.qkv_layout == QkvLayout::kInternLM2Grouped) {
    n.qkv = {layer_name(a.wqkv, l)};
  } else {
    n.qkv = {layer_name(a.q, l), layer_name(a.k, l), layer_name(a.v, l)};
    n.v_bias = n.qkv[2] + ".bias";
  }
  n.o = layer_name(a.o, l), n.gate = layer_name(a.gate, l), n.up = layer_name(a.up, l);
  n.down = layer_name(a.down, l);
  n.attn_norm = layer_name(a.attn_norm, l) + ".weight", n.ffn_norm = layer_name(a.ffn_norm, l) + ".weight";
  return n;
}

// "model.layers.{}.input_layernorm" -> "model.layers.7." : every tensor of layer 7 starts with it.
std::string layer_root(const Architecture& a, int l) {
  const std::string p = a.attn_norm;
  return p.substr(0, p.find("{}")) + std::to_string(l) + ".";
}

// The architecture with layer l's index written into every per-layer name, so that loading a one-layer config
// loads layer l.
struct PinnedArchitecture {
  Architecture a;
  std::array<std::string, 10> names;
  PinnedArchitecture(const Architecture& base, int l) : a(base) {
    const char** fields[] = {&a.attn_norm, &a.ffn_norm, &a.q, &a.k, &a.v, &a.wqkv, &a.o, &a.gate, &a.up, &a.down};
    for (size_t i = 0; i < names.size(); ++i) {
      names[i] = *fields[i] ? layer_name(*fields[i], l) : "";
      *fields[i] = names[i].c_str();
    }
  }
};

// AWQ calibration state: the hidden states entering the current layer for every calibration token.
struct Calibration {
  std::vector<int32_t> ids;   // [sequences * seq]
  int seq = 0;
  std::vector<float> hidden;  // [tokens, hidden] f32
  CalibrationBackend backend;
  explicit Calibration(int threads) : backend(make_cpu_backend(CpuBackendOptions{threads})) {}

  // Runs layer l of the 16-bit checkpoint on `hidden`, recording its products' inputs; hidden becomes its output.
  Status run_layer(const ModelConfig& c, const Architecture& a, const Checkpoint& ck, int l) {
    ModelConfig c1 = c;
    c1.num_layers = 1;
    PinnedArchitecture pinned(a, l);
    auto w = load_weights(c1, pinned.a, ck, backend, {});
    if (!w) return w.status();
    const LayerWeights& lw = w->layers[0];
    const Tensor* watched[kLinearCount] = {&lw.wqkv, &lw.wo, &lw.w_gate_up, &lw.w_down};
    backend.watch(watched);
    auto tr = Transformer::create(c1, std::move(w.value()), backend);
    if (!tr) return tr.status();
    auto kv = (*tr)->alloc_kv(seq);
    if (!kv) return kv.status();
    backend.feed(&hidden);
    for (size_t s = 0; s + size_t(seq) <= ids.size(); s += size_t(seq))
      (*tr)->forward(*kv, ids.data() + s, seq, 0, false, nullptr);
    backend.unwatch();
    (*tr)->free_kv(*kv);
    hidden.swap(backend.output);
    return Status::ok();
  }
};

Status bad_shape(const Checkpoint& ck, const std::string& name, const std::string& why) {
  return Status(StatusCode::kUnsupported, ck.file_of(name) + ": '" + name + "' cannot be quantized: " + why);
}

}  // namespace

Status quantize_model(const std::string& in_dir, const std::string& out_dir, const QuantizeOptions& o) {
  auto config = ModelConfig::load(in_dir);
  if (!config) return config.status();
  const ModelConfig& c = *config;
  if (!c.quant.method.empty())
    return Status(StatusCode::kInvalidArgument, in_dir + " is already quantized (" + c.quant.method + ")");
  if (o.group <= 0 || o.group % 32)
    return Status(StatusCode::kInvalidArgument, "group size must be a multiple of 32 (32, 64 or 128)");
  if (o.method != "rtn" && o.method != "awq")
    return Status(StatusCode::kInvalidArgument, "method must be rtn or awq, not '" + o.method + "'");
  if (o.method == "awq" && o.calib_path.empty())
    return Status(StatusCode::kInvalidArgument, "--method awq needs calibration text (--calib FILE)");
  const Architecture* a = find_architecture(c.architecture);
  if (!a) return Status(StatusCode::kUnsupported, in_dir + ": architecture '" + c.architecture + "' is not supported");
  auto ck_r = Checkpoint::open(in_dir);
  if (!ck_r) return ck_r.status();
  const Checkpoint& ck = **ck_r;
  std::error_code ec;
  if (fs::equivalent(in_dir, out_dir, ec)) return Status(StatusCode::kInvalidArgument, "OUT_DIR must differ from IN_DIR");
  fs::create_directories(out_dir, ec);
  if (ec) return Status(StatusCode::kIoError, out_dir + ": " + ec.message());

  // Which tensors are quantized linears, and which layer each tensor belongs to (-1: none).
  // Linears that AWQ's packing cannot hold (out % 8, in % group) stay 16-bit and are listed in
  // modules_to_not_convert; a fused group (q|k|v, gate|up) is quantized whole or not at all, as the loader wants.
  std::set<std::string> linear_weights;
  std::vector<std::string> not_converted;
  std::vector<LayerNames> layers;
  for (int l = 0; l < c.num_layers; ++l) {
    layers.push_back(layer_names(*a, l));
    const LayerNames& n = layers.back();
    for (const auto& fused : {n.qkv, {n.o}, {n.gate, n.up}, {n.down}}) {
      bool fits = true;
      for (const auto& p : fused) {
        const StTensor* t = ck.find(p + ".weight");
        if (!t) return Status(StatusCode::kNotFound, in_dir + ": tensor '" + p + ".weight' is missing");
        if (t->dtype != StDType::kF32 && t->dtype != StDType::kF16 && t->dtype != StDType::kBF16)
          return bad_shape(ck, p + ".weight", std::string("dtype ") + st_dtype_name(t->dtype));
        fits = fits && t->shape.size() == 2 && t->shape[0] % 8 == 0 && t->shape[1] % o.group == 0;
      }
      for (const auto& p : fused) {
        if (fits) linear_weights.insert(p + ".weight");
        else not_converted.push_back(p);
      }
    }
  }
  std::vector<std::vector<std::string>> by_layer(size_t(c.num_layers) + 1);  // last: whole-model tensors
  for (const auto& name : ck.tensor_names()) {
    size_t slot = by_layer.size() - 1;
    for (int l = 0; l < c.num_layers; ++l)
      if (name.rfind(layer_root(*a, l), 0) == 0) slot = size_t(l);
    by_layer[slot].push_back(name);
  }

  // Every output tensor is declared up front so the file streams: whole-model tensors, then layer by layer.
  SafetensorsWriter out;
  out.set_metadata("format", "pt");
  auto declare = [&](const std::string& name) {
    const StTensor* t = ck.find(name);
    if (!linear_weights.count(name)) return out.declare(name, t->dtype, t->shape);
    const std::string p = name.substr(0, name.size() - 7);  // strip ".weight"
    const int64_t rows = t->shape[0], cols = t->shape[1];
    out.declare(p + ".qweight", StDType::kI32, {cols, rows / 8});
    out.declare(p + ".qzeros", StDType::kI32, {cols / o.group, rows / 8});
    out.declare(p + ".scales", StDType::kF16, {cols / o.group, rows});
  };
  for (const auto& name : by_layer.back()) declare(name);
  for (int l = 0; l < c.num_layers; ++l)
    for (const auto& name : by_layer[size_t(l)]) declare(name);
  JETCHAT_TRY(out.begin(out_dir + "/model.safetensors"));
  for (const auto& name : by_layer.back()) {
    const StTensor* t = ck.find(name);
    JETCHAT_TRY(out.append(name, t->data, t->nbytes));
  }

  std::unique_ptr<Calibration> calib;
  if (o.method == "awq") {
    calib = std::make_unique<Calibration>(o.threads);
    auto tok = Tokenizer::load(in_dir);
    if (!tok) return tok.status();
    std::ifstream f(o.calib_path, std::ios::binary);
    if (!f) return Status(StatusCode::kNotFound, o.calib_path + ": cannot open the calibration text");
    std::stringstream text;
    text << f.rdbuf();
    calib->ids = (*tok)->encode(text.str(), false);
    calib->seq = std::min({o.calib_seq, c.max_position, int(calib->ids.size())});
    const size_t seqs = std::min(calib->ids.size(), size_t(std::max(o.calib_tokens, 1))) / size_t(std::max(calib->seq, 1));
    if (seqs == 0 || calib->seq < 16)
      return Status(StatusCode::kInvalidArgument, o.calib_path + ": too little calibration text");
    calib->ids.resize(seqs * size_t(calib->seq));
    const StTensor* emb = ck.find(a->embed);
    if (!emb) return Status(StatusCode::kNotFound, in_dir + ": tensor '" + std::string(a->embed) + "' is missing");
    const std::vector<float> table = read_f32(*emb);
    for (int32_t id : calib->ids)
      calib->hidden.insert(calib->hidden.end(), table.begin() + int64_t(id) * c.hidden_size,
                           table.begin() + int64_t(id + 1) * c.hidden_size);
  }

  for (int l = 0; l < c.num_layers; ++l) {
    const LayerNames& n = layers[size_t(l)];
    std::map<std::string, std::vector<float>> f32;  // this layer's linears and the tensors AWQ rescales
    for (const auto& p : n.linears())
      if (linear_weights.count(p + ".weight")) f32[p + ".weight"] = read_f32(*ck.find(p + ".weight"));
    std::set<std::string> changed;
    if (calib) {
      JETCHAT_TRY(calib->run_layer(c, *a, ck, l));
      // AutoAWQ's pairs: each group of linears reading one input, and the op producing that input, which
      // absorbs 1/s. o_proj's input comes from v_proj only when every query head has its own KV head.
      struct Fold {
        std::vector<std::string> consumers;
        Linear input;
        std::string producer;  // an RMSNorm weight, or a linear's ".weight" whose rows are scaled
        bool producer_is_linear;
      };
      std::vector<Fold> folds = {{n.qkv, kQkv, n.attn_norm, false},
                                 {{n.gate, n.up}, kGateUp, n.ffn_norm, false},
                                 {{n.down}, kDown, n.up + ".weight", true}};
      if (n.qkv.size() == 3 && c.num_heads == c.num_kv_heads) folds.push_back({{n.o}, kO, n.qkv[2] + ".weight", true});
      std::vector<AwqScales> found;
      for (auto& f : folds) {  // all searched on the original weights, then all applied
        // Consumers kept 16-bit lose nothing to quantization: there is nothing to protect.
        if (!linear_weights.count(f.consumers[0] + ".weight")) {
          found.emplace_back();
          continue;
        }
        std::vector<const std::vector<float>*> ws;
        for (const auto& p : f.consumers) ws.push_back(&f32[p + ".weight"]);
        const int64_t cols = ck.find(f.consumers[0] + ".weight")->shape[1];
        // gate|up are scored by the MLP's output, as AutoAWQ does (their errors meet in silu(gate) * up).
        const std::vector<float>* down = nullptr;
        if (f.input == kGateUp) {
          if (!f32.count(n.down + ".weight")) f32[n.down + ".weight"] = read_f32(*ck.find(n.down + ".weight"));
          down = &f32[n.down + ".weight"];
        }
        found.push_back(
            search_awq_scales(calib->backend.inputs[f.input], cols, ws, o.group, calib->backend.inner(), down));
      }
      std::vector<float> applied[kLinearCount];  // the scales each product's input was divided by; empty: none
      for (size_t i = 0; i < folds.size(); ++i) {
        const Fold& f = folds[i];
        const std::vector<float>& sc = found[i].scales;
        if (found[i].ratio < 0) continue;
        const size_t cols = sc.size();
        for (const auto& p : f.consumers) {
          auto& w = f32[p + ".weight"];
          for (size_t j = 0; j < w.size(); ++j) w[j] *= sc[j % cols];
        }
        if (!f32.count(f.producer)) f32[f.producer] = read_f32(*ck.find(f.producer));
        auto& w = f32[f.producer];
        const size_t per_row = f.producer_is_linear ? w.size() / cols : 1;  // producer row j feeds channel j
        for (size_t j = 0; j < w.size(); ++j) w[j] /= sc[f.producer_is_linear ? j / per_row : j];
        changed.insert(f.producer);
        if (f.producer_is_linear && f.producer == n.qkv.back() + ".weight" && ck.find(n.v_bias)) {
          if (!f32.count(n.v_bias)) f32[n.v_bias] = read_f32(*ck.find(n.v_bias));
          for (size_t j = 0; j < cols; ++j) f32[n.v_bias][j] /= sc[j];
          changed.insert(n.v_bias);
        }
        applied[f.input] = sc;
      }
      // Clipping, on the scaled weights and inputs. Not for q and k (nor InternLM2's wqkv that holds them): their
      // error passes through the attention's softmax, which the output error of the linear does not see.
      struct Clipped {
        std::string linear;
        Linear input;
      };
      std::vector<Clipped> clips = {{n.o, kO}, {n.gate, kGateUp}, {n.up, kGateUp}, {n.down, kDown}};
      if (n.qkv.size() == 3) clips.push_back({n.qkv[2], kQkv});
      std::map<Linear, GroupGram> grams;  // one per input, shared by the linears that read it (gate and up)
      for (const auto& [linear, input] : clips) {
        const std::string name = linear + ".weight";
        if (!o.clip || !linear_weights.count(name)) continue;
        const int64_t cols = ck.find(name)->shape[1];
        auto gram = grams.find(input);
        if (gram == grams.end())
          gram = grams.emplace(input, group_gram(calib->backend.inputs[input], cols, applied[input], o.group, o.threads))
                     .first;
        clip_search(f32[name].data(), int64_t(f32[name].size()) / cols, gram->second, o.threads);
      }
    }
    for (const auto& name : by_layer[size_t(l)]) {
      const StTensor* t = ck.find(name);
      if (linear_weights.count(name)) {
        const AwqLinear q = quantize_rtn(f32[name].data(), t->shape[0], t->shape[1], o.group);
        const std::string p = name.substr(0, name.size() - 7);
        JETCHAT_TRY(out.append(p + ".qweight", q.qweight.data(), q.qweight.size() * 4));
        JETCHAT_TRY(out.append(p + ".qzeros", q.qzeros.data(), q.qzeros.size() * 4));
        JETCHAT_TRY(out.append(p + ".scales", q.scales.data(), q.scales.size() * 2));
      } else if (changed.count(name)) {
        const std::string bytes = to_bytes(f32[name], t->dtype);
        JETCHAT_TRY(out.append(name, bytes.data(), bytes.size()));
      } else {
        JETCHAT_TRY(out.append(name, t->data, t->nbytes));
      }
    }
    if (o.progress) o.progress(l + 1, c.num_layers);
  }
  JETCHAT_TRY(out.finish());

  // config.json with AutoAWQ's quantization_config; tokenizer and template files copied as they are.
  auto j = read_json_file(in_dir + "/config.json");
  if (!j) return j.status();
  (*j)["quantization_config"] = {{"quant_method", "awq"}, {"bits", 4},          {"group_size", o.group},
                                 {"zero_point", true},    {"version", "gemm"}, {"modules_to_not_convert", nullptr}};
  if (!not_converted.empty()) (*j)["quantization_config"]["modules_to_not_convert"] = not_converted;
  std::ofstream(out_dir + "/config.json") << j->dump(2) << "\n";
  for (const auto& e : fs::directory_iterator(in_dir, ec)) {
    const std::string f = e.path().filename().string();
    if (!e.is_regular_file() || e.path().extension() == ".safetensors" || f == "config.json" ||
        f == "model.safetensors.index.json")
      continue;
    fs::copy_file(e.path(), out_dir + "/" + f, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status(StatusCode::kIoError, e.path().string() + ": cannot copy: " + ec.message());
  }
  return Status::ok();
}

}  // namespace jetchat::quant
