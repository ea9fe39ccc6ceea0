#include "gguf_model.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "cpu/q4.h"
#include "cpu/q8.h"
#include "gguf_dequant.h"
#include "half.h"

namespace jetchat {
namespace {

struct GgufArch {
  const char* name;  // general.architecture
  const Architecture& (*arch)();
  bool qk_permuted;
};
constexpr GgufArch kArchs[] = {
    {"llama", llama_architecture, true},
    {"qwen2", qwen2_architecture, false},
    {"internlm2", internlm2_architecture, true},
};

constexpr int kQ4_0Group = 32;  // weights per Q4_0 block = the W4 group it becomes

// One source tensor of a (possibly fused) matrix: `rows` output rows, un-permuted per head when heads > 0.
struct Part {
  const GgufTensor* t;
  int64_t rows;
  int heads;
};

// How a matrix reaches the backend (ARCHITECTURE.md, "Conventions"):
//   kDense   F32/F16/BF16 as they are; anything mixed with them expanded to f16
//   kQ4_0    every part Q4_0: AWQ tensors for upload_q4 (zero point 8), which the CUDA backend's W4 kernels run too
//   kQuant4  every part 4-bit (Q4_0, Q4_1, Q4_K): upload_quant, 4 bits with f32 minimums
//   kQuant8  every part quantised, some 5/6/8-bit (Q5_K, Q6_K, Q8_0): upload_quant, 8 bits
enum class Route { kDense, kQ4_0, kQuant4, kQuant8 };

// A matrix as uploaded: its parts stacked along the output rows, and how it is stored.
struct Matrix {
  std::vector<Part> parts;
  int64_t rows = 0, cols = 0;
  Route route = Route::kDense;
  DType storage = DType::kF16;  // kDense's type
  int group = 0;                // kQuant4/kQuant8: weights per scale (the parts' smallest)
};

struct LayerPlan {
  const GgufTensor *attn_norm, *ffn_norm;
  Matrix wqkv, wo, gate_up, down;
  std::vector<Part> bqkv;  // empty without biases
  const GgufTensor* bo = nullptr;
};

struct Plan {
  Matrix embed, lm_head;  // lm_head.parts empty when tied
  const GgufTensor* final_norm = nullptr;
  std::vector<LayerPlan> layers;
};

bool plain_dtype(GgmlType t, DType* out) {
  switch (t) {
    case GgmlType::kF32: *out = DType::kF32; return true;
    case GgmlType::kF16: *out = DType::kF16; return true;
    case GgmlType::kBF16: *out = DType::kBF16; return true;
    default: return false;
  }
}

// Row r of the engine's (rotate_half) layout comes from this row of a tensor whose rows are permuted per head
// for adjacent-pair RoPE: within a head of D rows, GGUF row 2i + h holds HF row h*D/2 + i.
int64_t source_row(int64_t r, int heads, int64_t rows) {
  if (heads <= 0) return r;
  const int64_t D = rows / heads, head = r / D, j = r % D;
  return head * D + 2 * (j % (D / 2)) + j / (D / 2);
}

class Planner {
 public:
  Planner(const GgufFile& f, const ModelConfig& c) : f_(f), c_(c) {}

  // A required tensor of shape [rows, cols] in HF order (rows == 0: a vector of cols).
  Result<const GgufTensor*> tensor(const std::string& name, int64_t rows, int64_t cols) const {
    const GgufTensor* t = f_.find_tensor(name);
    if (!t) return Status(StatusCode::kNotFound, f_.name() + ": tensor '" + name + "' is missing");
    const std::vector<uint64_t> want =
        rows ? std::vector<uint64_t>{uint64_t(cols), uint64_t(rows)} : std::vector<uint64_t>{uint64_t(cols)};
    if (t->dims != want) {
      auto str = [](const std::vector<uint64_t>& d) {
        std::string s = "[";
        for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
        return s + "]";
      };
      return Status(StatusCode::kInvalidFormat, f_.name() + ": tensor '" + name + "' has ggml dims " +
                                                    str(t->dims) + " but the metadata implies " + str(want));
    }
    if (!gguf_dequantizable(t->type))
      return Status(StatusCode::kUnsupported, f_.name() + ": tensor '" + name + "' is " + ggml_type_name(t->type) +
                                                  "; JetChat loads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K "
                                                  "and Q6_K tensors");
    return t;
  }

  // Row-stacks tensors [rows_i, cols]; heads[i] > 0 un-permutes part i's rows. Quantised only where allowed.
  Result<Matrix> matrix(const std::vector<std::string>& names, const std::vector<int64_t>& rows, int64_t cols,
                        const std::vector<int>& heads, bool allow_quant) const {
    Matrix m;
    m.cols = cols;
    for (size_t i = 0; i < names.size(); ++i) {
      auto t = tensor(names[i], rows[i], cols);
      if (!t) return t.status();
      m.parts.push_back({*t, rows[i], heads[i]});
      m.rows += rows[i];
    }
    bool all_q4_0 = m.rows % 8 == 0, all_4bit = true, all_quant = true;
    DType first = DType::kF16;
    bool same_plain = plain_dtype(m.parts[0].t->type, &first);
    m.group = 32;
    for (const Part& p : m.parts) {
      DType d;
      all_q4_0 = all_q4_0 && p.t->type == GgmlType::kQ4_0;
      all_4bit = all_4bit && gguf_unpack_bits(p.t->type) == 4;
      all_quant = all_quant && gguf_unpack_bits(p.t->type) != 0;
      same_plain = same_plain && plain_dtype(p.t->type, &d) && d == first;
      if (gguf_unpack_group(p.t->type)) m.group = std::min(m.group, gguf_unpack_group(p.t->type));
    }
    m.route = !allow_quant || !all_quant ? Route::kDense
              : all_q4_0                 ? Route::kQ4_0
              : all_4bit                 ? Route::kQuant4
                                         : Route::kQuant8;
    m.storage = m.route == Route::kDense ? (same_plain ? first : DType::kF16)
                : m.route == Route::kQuant8 ? DType::kQ8
                                            : DType::kQ4;
    return m;
  }

  Result<Plan> plan(bool qk_permuted) const {
    const int64_t h = c_.hidden_size, q = c_.q_dim(), kv = c_.kv_dim(), ffn = c_.intermediate_size;
    const int qh = qk_permuted ? c_.num_heads : 0, kh = qk_permuted ? c_.num_kv_heads : 0;
    Plan p;
    auto embed = matrix({"token_embd.weight"}, {c_.vocab_size}, h, {0}, false);
    if (!embed) return embed.status();
    p.embed = *embed;
    if (f_.find_tensor("output.weight")) {
      auto head = matrix({"output.weight"}, {c_.vocab_size}, h, {0}, false);
      if (!head) return head.status();
      p.lm_head = *head;
    }
    auto fn = tensor("output_norm.weight", 0, h);
    if (!fn) return fn.status();
    p.final_norm = *fn;
    for (int i = 0; i < c_.num_layers; ++i) {
      const std::string b = "blk." + std::to_string(i) + ".";
      LayerPlan l;
      auto an = tensor(b + "attn_norm.weight", 0, h);
      auto fnn = an ? tensor(b + "ffn_norm.weight", 0, h) : an;
      if (!fnn) return fnn.status();
      l.attn_norm = *an;
      l.ffn_norm = *fnn;
      auto wqkv = matrix({b + "attn_q.weight", b + "attn_k.weight", b + "attn_v.weight"}, {q, kv, kv}, h,
                         {qh, kh, 0}, true);
      if (!wqkv) return wqkv.status();
      auto wo = matrix({b + "attn_output.weight"}, {h}, q, {0}, true);
      if (!wo) return wo.status();
      auto gate_up = matrix({b + "ffn_gate.weight", b + "ffn_up.weight"}, {ffn, ffn}, h, {0, 0}, true);
      if (!gate_up) return gate_up.status();
      auto down = matrix({b + "ffn_down.weight"}, {h}, ffn, {0}, true);
      if (!down) return down.status();
      l.wqkv = *wqkv, l.wo = *wo, l.gate_up = *gate_up, l.down = *down;
      if (f_.find_tensor(b + "attn_q.bias")) {
        const char* names[] = {"attn_q.bias", "attn_k.bias", "attn_v.bias"};
        const int64_t sizes[] = {q, kv, kv};
        const int heads[] = {qh, kh, 0};
        for (int k = 0; k < 3; ++k) {
          auto t = tensor(b + names[k], 0, sizes[k]);
          if (!t) return t.status();
          l.bqkv.push_back({*t, sizes[k], heads[k]});
        }
      }
      if (f_.find_tensor(b + "attn_output.bias")) {
        auto t = tensor(b + "attn_output.bias", 0, h);
        if (!t) return t.status();
        l.bo = *t;
      }
      p.layers.push_back(std::move(l));
    }
    return p;
  }

 private:
  const GgufFile& f_;
  const ModelConfig& c_;
};

// Bytes in the CPU backend's layouts (the CUDA backend stores kQuant4/kQuant8 in the same bytes).
int64_t matrix_bytes(const Matrix& m) {
  switch (m.route) {
    case Route::kDense: return m.rows * m.cols * int64_t(dtype_size(m.storage));
    case Route::kQ4_0: return int64_t(cpu::Q4Layout{m.rows, m.cols, kQ4_0Group}.bytes());
    case Route::kQuant4: return int64_t(cpu::Q4Layout{m.rows, m.cols, m.group}.bytes());
    case Route::kQuant8: return int64_t(cpu::Q8Layout{m.rows, m.cols, m.group}.bytes());
  }
  return 0;
}

// A dense matrix in its storage type; straight from the mapping when nothing needs converting or reordering.
Result<Tensor> upload_dense(const Matrix& m, Backend& b) {
  DType stored;
  const Part& p0 = m.parts[0];
  if (m.parts.size() == 1 && p0.heads == 0 && plain_dtype(p0.t->type, &stored) && stored == m.storage)
    return b.upload(HostMatrix{m.storage, m.rows, m.cols, p0.t->data}, m.storage);
  const size_t esize = dtype_size(m.storage), out_row = size_t(m.cols) * esize;
  std::vector<uint8_t> buf(size_t(m.rows) * out_row);  // [rows, cols] storage
  std::vector<float> row(size_t(m.cols));
  int64_t at = 0;
  for (const Part& p : m.parts) {
    const size_t in_row = p.t->nbytes / size_t(p.rows);
    const bool copy = plain_dtype(p.t->type, &stored) && stored == m.storage;
    for (int64_t r = 0; r < p.rows; ++r) {
      const uint8_t* src = p.t->data + size_t(source_row(r, p.heads, p.rows)) * in_row;
      uint8_t* dst = buf.data() + size_t(at + r) * out_row;
      if (copy) {
        std::memcpy(dst, src, out_row);
        continue;
      }
      gguf_dequantize(p.t->type, src, m.cols, row.data());
      for (int64_t k = 0; k < m.cols; ++k) {
        if (m.storage == DType::kF32) {
          std::memcpy(dst + 4 * k, &row[size_t(k)], 4);
        } else {
          const uint16_t v = m.storage == DType::kF16 ? f32_to_f16(row[size_t(k)]) : f32_to_bf16(row[size_t(k)]);
          std::memcpy(dst + 2 * k, &v, 2);
        }
      }
    }
    at += p.rows;
  }
  return b.upload(HostMatrix{m.storage, m.rows, m.cols, buf.data()}, m.storage);
}

// Q4_0 blocks {f16 d; u8 qs[16]}, y = (q - 8) * d, as the AWQ GEMM tensors upload_q4 takes: group 32, every zero
// point 8, the block's d as the group's fp16 scale. The values are exactly the file's.
Result<Tensor> upload_q4_0(const Matrix& m, Backend& b) {
  constexpr int kNibbleOf[8] = {0, 4, 1, 5, 2, 6, 3, 7};  // AWQ word nibble holding output column 8c + j
  const int64_t words = m.rows / 8, groups = m.cols / kQ4_0Group;
  std::vector<uint32_t> qweight(size_t(m.cols * words), 0);       // [cols, rows/8]
  std::vector<uint32_t> qzeros(size_t(groups * words), 0x88888888u);  // [groups, rows/8]
  std::vector<uint16_t> scales(size_t(groups * m.rows));          // [groups, rows] f16
  int64_t at = 0;
  for (const Part& p : m.parts) {
    const size_t in_row = p.t->nbytes / size_t(p.rows);
    for (int64_t r = 0; r < p.rows; ++r) {
      const uint8_t* src = p.t->data + size_t(source_row(r, p.heads, p.rows)) * in_row;
      const int64_t out = at + r, word = out / 8;
      const int shift = 4 * kNibbleOf[out % 8];
      for (int64_t g = 0; g < groups; ++g) {
        const uint8_t* block = src + g * 18;
        std::memcpy(&scales[size_t(g * m.rows + out)], block, 2);
        for (int j = 0; j < 16; ++j) {
          const int64_t k = g * kQ4_0Group + j;
          qweight[size_t(k * words + word)] |= uint32_t(block[2 + j] & 0xF) << shift;
          qweight[size_t((k + 16) * words + word)] |= uint32_t(block[2 + j] >> 4) << shift;
        }
      }
    }
    at += p.rows;
  }
  HostQ4Matrix h{m.rows, m.cols, kQ4_0Group, reinterpret_cast<const int32_t*>(qweight.data()),
                 reinterpret_cast<const int32_t*>(qzeros.data()), scales.data(), DType::kF16};
  return b.upload_q4(h);
}

// Q4_1/Q4_K/Q5_K/Q6_K/Q8_0 (and Q4_0 mixed with them) as their exact integers, scales and minimums
// (gguf_unpack), for upload_quant: nothing is rounded, whatever layout the backend keeps.
Result<Tensor> upload_unpacked(const Matrix& m, Backend& b) {
  const int64_t groups = m.cols / m.group;
  std::vector<int8_t> q(size_t(m.rows * m.cols));           // [rows, cols]
  std::vector<float> scales(size_t(m.rows * groups)), mins(scales.size());  // [rows, groups]
  int64_t at = 0;
  for (const Part& p : m.parts) {
    const size_t in_row = p.t->nbytes / size_t(p.rows);
    for (int64_t r = 0; r < p.rows; ++r) {
      const int64_t out = at + r;
      gguf_unpack(p.t->type, p.t->data + size_t(source_row(r, p.heads, p.rows)) * in_row, m.cols, m.group,
                  q.data() + out * m.cols, scales.data() + out * groups, mins.data() + out * groups);
    }
    at += p.rows;
  }
  const int bits = m.route == Route::kQuant4 ? 4 : 8;
  return b.upload_quant(HostQuantMatrix{bits, m.rows, m.cols, m.group, q.data(), scales.data(), mins.data()});
}

// Norm weights and biases, f32 [1, sum of parts], un-permuted like their matrix's rows.
Result<Tensor> upload_vector(const std::vector<Part>& parts, Backend& b) {
  std::vector<float> all;
  for (const Part& p : parts) {
    std::vector<float> v(size_t(p.rows));
    gguf_dequantize(p.t->type, p.t->data, p.rows, v.data());
    for (int64_t r = 0; r < p.rows; ++r) all.push_back(v[size_t(source_row(r, p.heads, p.rows))]);
  }
  return b.upload(HostMatrix{DType::kF32, 1, int64_t(all.size()), all.data()}, DType::kF32);
}

Result<Tensor> upload_matrix(const Matrix& m, Backend& b, const GgufFile& f) {
  auto t = m.route == Route::kQ4_0 ? upload_q4_0(m, b) : m.route == Route::kDense ? upload_dense(m, b)
                                                                                  : upload_unpacked(m, b);
  if (!t) return Status(t.status().code(), f.name() + ": '" + m.parts[0].t->name + "': " + t.status().message());
  return t;
}

Status bad(const GgufFile& f, const std::string& what) {
  return Status(StatusCode::kInvalidFormat, f.name() + ": " + what);
}

Result<ModelConfig> read_config(const GgufFile& f, const std::string& a, const Architecture& arch) {
  ModelConfig c;
  c.architecture = arch.hf_name;
  auto need = [&](const std::string& key, int& out) -> Status {
    auto v = f.get_uint(a + "." + key);
    if (!v) return v.status();
    if (*v == 0 || *v > (1u << 30)) return bad(f, "'" + a + "." + key + "' is " + std::to_string(*v));
    out = int(*v);
    return Status::ok();
  };
  auto maybe = [&](const std::string& key, int& out) -> Status {
    return f.find(a + "." + key) ? need(key, out) : Status::ok();
  };
  JETCHAT_TRY(need("embedding_length", c.hidden_size));
  JETCHAT_TRY(need("block_count", c.num_layers));
  JETCHAT_TRY(need("feed_forward_length", c.intermediate_size));
  JETCHAT_TRY(need("attention.head_count", c.num_heads));
  c.num_kv_heads = c.num_heads;
  JETCHAT_TRY(maybe("attention.head_count_kv", c.num_kv_heads));
  JETCHAT_TRY(maybe("context_length", c.max_position));
  c.head_dim = c.hidden_size / c.num_heads;
  JETCHAT_TRY(maybe("attention.key_length", c.head_dim));
  if (c.head_dim % 2 || c.num_heads % c.num_kv_heads)
    return bad(f, "head_dim " + std::to_string(c.head_dim) + " must be even and head_count " +
                      std::to_string(c.num_heads) + " a multiple of head_count_kv " + std::to_string(c.num_kv_heads));
  int rope_dims = c.head_dim;
  JETCHAT_TRY(maybe("rope.dimension_count", rope_dims));
  if (rope_dims != c.head_dim)
    return Status(StatusCode::kUnsupported, f.name() + ": RoPE over " + std::to_string(rope_dims) + " of " +
                                                std::to_string(c.head_dim) + " head dimensions is not supported");
  const GgufTensor* embd = f.find_tensor("token_embd.weight");
  if (!embd || embd->dims.size() != 2) return bad(f, "tensor 'token_embd.weight' is missing or not 2-D");
  c.vocab_size = int(std::min<uint64_t>(embd->dims[1], 1u << 30));
  JETCHAT_TRY(maybe("vocab_size", c.vocab_size));
  if (auto eps = f.get_float(a + ".attention.layer_norm_rms_epsilon")) c.rms_norm_eps = *eps;
  else if (f.find(a + ".attention.layer_norm_rms_epsilon")) return eps.status();
  if (auto theta = f.get_float(a + ".rope.freq_base")) c.rope_theta = *theta;
  else if (f.find(a + ".rope.freq_base")) return theta.status();
  if (!(c.rope_theta > 0) || !(c.rms_norm_eps > 0)) return bad(f, "rope.freq_base and the RMS epsilon must be > 0");
  if (f.find(a + ".rope.scaling.type")) {
    auto type = f.get_string(a + ".rope.scaling.type");
    if (!type) return type.status();
    if (*type == "linear") {
      auto factor = f.get_float(a + ".rope.scaling.factor");
      if (!factor) return factor.status();
      if (!(*factor > 0)) return bad(f, "rope.scaling.factor must be > 0");
      c.rope_scaling.type = RopeScalingType::kLinear;
      c.rope_scaling.factor = *factor;
    } else if (*type != "none") {
      return Status(StatusCode::kUnsupported, f.name() + ": RoPE scaling '" + *type + "' is not supported");
    }
  }
  // Llama-3.1 files carry the llama3 frequency rescaling as divisors, one per rotated pair.
  if (const GgufTensor* rf = f.find_tensor("rope_freqs.weight")) {
    if (rf->dims != std::vector<uint64_t>{uint64_t(c.head_dim / 2)} || rf->type != GgmlType::kF32)
      return bad(f, "tensor 'rope_freqs.weight' must be F32 [" + std::to_string(c.head_dim / 2) + "]");
    c.rope_freq_factors.resize(size_t(c.head_dim / 2));
    std::memcpy(c.rope_freq_factors.data(), rf->data, rf->nbytes);
    for (float x : c.rope_freq_factors)
      if (!(x > 0)) return bad(f, "tensor 'rope_freqs.weight' holds a factor that is not > 0");
  }
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;
  if (auto bos = f.get_uint("tokenizer.ggml.bos_token_id")) c.bos_token_id = int(*bos);
  c.eos_token_ids.clear();
  for (const char* key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"})
    if (auto id = f.get_uint(key); id && *id < uint64_t(c.vocab_size)) c.eos_token_ids.push_back(int(*id));
  if (c.eos_token_ids.empty()) c.eos_token_ids.push_back(2);
  return c;
}

std::string describe_types(const Plan& p) {
  std::map<std::string, int> counts;
  for (const LayerPlan& l : p.layers)
    for (const Matrix* m : {&l.wqkv, &l.wo, &l.gate_up, &l.down})
      for (const Part& part : m->parts) ++counts[ggml_type_name(part.t->type)];
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [name, n] : counts) order.push_back({-n, name});
  std::sort(order.begin(), order.end());
  std::string s = "gguf ";
  for (size_t i = 0; i < order.size(); ++i) s += (i ? "+" : "") + order[i].second;
  return s;
}

const GgufArch* find_gguf_arch(const std::string& name) {
  for (const GgufArch& a : kArchs)
    if (name == a.name) return &a;
  return nullptr;
}

}  // namespace

Result<GgufModelDesc> describe_gguf_model(const GgufFile& f) {
  auto name = f.get_string("general.architecture");
  if (!name) return name.status();
  const GgufArch* ga = find_gguf_arch(*name);
  if (!ga) {
    std::string list;
    for (const GgufArch& a : kArchs) list += (list.empty() ? "" : ", ") + std::string(a.name);
    return Status(StatusCode::kUnsupported, f.name() + ": GGUF architecture '" + *name +
                                                "' is not supported (supported: " + list + ")");
  }
  GgufModelDesc d;
  d.arch = &ga->arch();
  d.qk_permuted = ga->qk_permuted;
  auto c = read_config(f, *name, *d.arch);
  if (!c) return c.status();
  d.config = *c;
  auto plan = Planner(f, d.config).plan(d.qk_permuted);
  if (!plan) return plan.status();
  d.dtype = describe_types(*plan);
  const int64_t h = d.config.hidden_size;
  d.head_bytes = plan->lm_head.parts.empty() ? 0 : matrix_bytes(plan->lm_head);
  d.weight_bytes = matrix_bytes(plan->embed) + d.head_bytes + 4 * h;
  for (const LayerPlan& l : plan->layers) {
    d.weight_bytes += matrix_bytes(l.wqkv) + matrix_bytes(l.wo) + matrix_bytes(l.gate_up) + matrix_bytes(l.down);
    d.weight_bytes += 4 * (2 * h + (l.bqkv.empty() ? 0 : l.wqkv.rows) + (l.bo ? h : 0));
  }
  if (f.find("tokenizer.chat_template")) {
    auto t = f.get_string("tokenizer.chat_template");
    if (!t) return t.status();
    d.chat_template = *t;
  }
  return d;
}

Result<ModelWeights> load_gguf_weights(const GgufModelDesc& d, const GgufFile& f, Backend& b,
                                       const LoadProgress& progress) {
  auto plan = Planner(f, d.config).plan(d.qk_permuted);
  if (!plan) return plan.status();
  ModelWeights w;
  // Frees what was uploaded so far when a step fails.
  auto put = [&](Tensor& dst, Result<Tensor> r) -> Status {
    if (!r) {
      w.free(b);
      return r.status();
    }
    dst = *r;
    return Status::ok();
  };
  auto vec = [](const GgufTensor* t) { return std::vector<Part>{{t, int64_t(t->numel()), 0}}; };
  JETCHAT_TRY(put(w.embed, upload_matrix(plan->embed, b, f)));
  JETCHAT_TRY(put(w.final_norm, upload_vector(vec(plan->final_norm), b)));
  w.tied = plan->lm_head.parts.empty();
  if (w.tied) {
    w.lm_head = w.embed;
  } else {
    JETCHAT_TRY(put(w.lm_head, upload_matrix(plan->lm_head, b, f)));
  }
  for (size_t i = 0; i < plan->layers.size(); ++i) {
    const LayerPlan& p = plan->layers[i];
    w.layers.emplace_back();
    LayerWeights& l = w.layers.back();
    JETCHAT_TRY(put(l.attn_norm, upload_vector(vec(p.attn_norm), b)));
    JETCHAT_TRY(put(l.ffn_norm, upload_vector(vec(p.ffn_norm), b)));
    JETCHAT_TRY(put(l.wqkv, upload_matrix(p.wqkv, b, f)));
    if (!p.bqkv.empty()) JETCHAT_TRY(put(l.bqkv, upload_vector(p.bqkv, b)));
    JETCHAT_TRY(put(l.wo, upload_matrix(p.wo, b, f)));
    if (p.bo) JETCHAT_TRY(put(l.bo, upload_vector(vec(p.bo), b)));
    JETCHAT_TRY(put(l.w_gate_up, upload_matrix(p.gate_up, b, f)));
    JETCHAT_TRY(put(l.w_down, upload_matrix(p.down, b, f)));
    if (progress && !progress(int(i) + 1, int(plan->layers.size()))) {
      w.free(b);
      return Status(StatusCode::kCancelled, "loading cancelled");
    }
  }
  return w;
}

}  // namespace jetchat
