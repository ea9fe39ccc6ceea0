// Model::load and ModelInfo::probe: from a directory to weights resident in a backend.
#include <filesystem>

#include "checkpoint.h"
#include "cpu/q4.h"
#include "head_q8.h"
#include "json_util.h"
#include "memory_info.h"
#include "model_impl.h"
#include "weights.h"

namespace fs = std::filesystem;

namespace jetchat {
namespace {

std::string mib(int64_t bytes) { return std::to_string((bytes + (1 << 19)) >> 20) + " MiB"; }

int64_t count_parameters(const ModelConfig& c) {
  const int64_t h = c.hidden_size, q = c.q_dim(), kv = c.kv_dim(), f = c.intermediate_size;
  const int64_t per_layer = h * (q + 2 * kv) + q * h + 3 * h * f + 2 * h;
  return int64_t(c.vocab_size) * h * (c.tie_word_embeddings ? 1 : 2) + c.num_layers * per_layer + h;
}

// Bytes the weights take once loaded: tensors as stored, except that 4-bit linears are repacked (q4.h layout:
// half a byte per weight plus an f32 scale and a u8 zero per group, about 0.54 bytes per weight at group 128).
int64_t loaded_weight_bytes(const Checkpoint& ck, const QuantConfig& q) {
  int64_t n = ck.total_bytes();
  for (const auto& name : ck.tensor_names()) {
    constexpr std::string_view kSuffix = ".qweight";
    if (!name.ends_with(kSuffix)) continue;
    const std::string prefix(name, 0, name.size() - kSuffix.size());
    const StTensor* qw = ck.find(name);
    const StTensor* sc = ck.find(prefix + ".scales");
    if (!sc || sc->shape.size() != 2 || qw->shape.size() != 2) continue;  // the loader reports these
    const int64_t rows = sc->shape[1], cols = q.method == "gptq" ? qw->shape[0] * 8 : qw->shape[0];
    const int group = q.group_size > 0 ? q.group_size : int(cols);
    n += int64_t(cpu::Q4Layout{rows, cols, group}.bytes()) - int64_t(qw->nbytes + sc->nbytes);
    if (const StTensor* qz = ck.find(prefix + ".qzeros")) n -= int64_t(qz->nbytes);
  }
  return n;
}

// The template chat uses, and a note when the model's own Jinja template is none of ours (chat then follows the
// family's format, which may not be what the model was trained on).
void describe_chat_template(const std::string& jinja, ModelInfo& i) {
  i.chat_template = ChatTemplate::detect(jinja, i.family).name();
  if (jinja.empty()) return;
  if (auto r = ChatTemplate::recognise(jinja); !r)
    i.chat_template_note = r.status().message() + "; using " + i.chat_template + ", the " + i.family + " default";
}

std::string chat_template_text(const std::string& dir) {
  auto j = read_json_file(dir + "/tokenizer_config.json");
  if (j && j->contains("chat_template") && (*j)["chat_template"].is_string())
    return (*j)["chat_template"].get<std::string>();
  return {};
}

// The shape fields of ModelInfo, the same for every kind of source.
void describe_shape(const ModelConfig& config, ModelInfo& i) {
  i.architecture = config.architecture;
  i.parameters = count_parameters(config);
  i.vocab_size = config.vocab_size;
  i.hidden_size = config.hidden_size;
  i.intermediate_size = config.intermediate_size;
  i.layers = config.num_layers;
  i.heads = config.num_heads;
  i.kv_heads = config.num_kv_heads;
  i.head_dim = config.head_dim;
  i.max_context = config.max_position;
  i.kv_bytes_per_token = Transformer::kv_bytes_per_token(config);
  i.kv_int8_bytes_per_token = Transformer::kv_bytes_per_token(config, DType::kI8);
}

// weight_bytes with the 8-bit head in place of the stored one (head_bytes; 0 when tied: the table stays); 0 when the
// hidden size allows no 8-bit head.
int64_t q8_head_weight_bytes(const ModelConfig& c, int64_t weight_bytes, int64_t head_bytes) {
  if (!head_q8_problem(c.hidden_size).empty()) return 0;
  return weight_bytes + head_q8_bytes(c.vocab_size, c.hidden_size) - head_bytes;
}

Result<ProbedModel> probe_gguf(const std::string& path) {
  auto f = GgufFile::open(path);
  if (!f) return f.status();
  auto d = describe_gguf_model(**f);
  if (!d) return d.status();
  ProbedModel p;
  p.config = d->config;
  p.arch = d->arch;
  p.chat_template_text = d->chat_template;
  ModelInfo& i = p.info;
  i.path = path;
  i.name = fs::path(path).stem().string();
  i.family = d->arch->family;
  i.dtype = d->dtype;
  describe_chat_template(p.chat_template_text, i);
  describe_shape(p.config, i);
  i.weight_bytes = d->weight_bytes + Transformer::scratch_bytes(p.config);
  p.head_bytes = d->head_bytes;
  i.q8_head_weight_bytes = q8_head_weight_bytes(p.config, i.weight_bytes, p.head_bytes);
  p.gguf = std::move(f.value());
  p.gguf_desc = std::make_shared<GgufModelDesc>(std::move(d.value()));
  return p;
}

}  // namespace

Result<ProbedModel> probe_model(const std::string& model_dir) {
  std::error_code ec;
  if (fs::is_regular_file(model_dir, ec) && fs::path(model_dir).extension() == ".gguf") return probe_gguf(model_dir);
  if (!fs::is_directory(model_dir, ec)) {
    if (fs::exists(model_dir, ec))
      return Status(StatusCode::kInvalidArgument,
                    model_dir + " is a file; JetChat opens a model directory (config.json + *.safetensors + "
                                "tokenizer.model or tokenizer.json) or a .gguf file");
    return Status(StatusCode::kNotFound, model_dir + ": no such model directory");
  }
  auto config = ModelConfig::load(model_dir);
  if (!config) return config.status();
  const Architecture* arch = find_architecture(config->architecture);
  if (!arch) {
    std::string list;
    for (const auto& a : supported_architectures()) list += (list.empty() ? "" : ", ") + a;
    return Status(StatusCode::kUnsupported, model_dir + "/config.json: architecture '" + config->architecture +
                                                "' is not supported (supported: " + list + ")");
  }
  auto ck = Checkpoint::open(model_dir);
  if (!ck) return ck.status();

  ProbedModel p;
  p.config = *config;
  p.arch = arch;
  p.chat_template_text = chat_template_text(model_dir);
  ModelInfo& i = p.info;
  i.path = model_dir;
  i.name = fs::path(model_dir).filename().string();
  if (i.name.empty()) i.name = fs::path(model_dir).parent_path().filename().string();
  i.family = arch->family;
  i.dtype = config->quant.method.empty()
                ? config->dtype
                : config->quant.method + "-w" + std::to_string(config->quant.bits) + "g" +
                      std::to_string(config->quant.group_size);
  describe_chat_template(p.chat_template_text, i);
  describe_shape(*config, i);
  i.weight_bytes = loaded_weight_bytes(**ck, config->quant) + Transformer::scratch_bytes(*config);
  const StTensor* head = (**ck).find(arch->lm_head);  // the loader ties the head when it is missing
  if (head && !config->tie_word_embeddings) p.head_bytes = int64_t(head->nbytes);
  i.q8_head_weight_bytes = q8_head_weight_bytes(*config, i.weight_bytes, p.head_bytes);
  return p;
}

Result<ModelInfo> ModelInfo::probe(const std::string& model_dir) {
  auto p = probe_model(model_dir);
  if (!p) return p.status();
  return p->info;
}

Result<std::unique_ptr<Backend>> make_backend(DeviceKind device, int threads) {
  if (device == DeviceKind::kCpu) return make_cpu_backend(CpuBackendOptions{threads});
#ifdef JETCHAT_HAVE_CUDA
  return make_cuda_backend(CudaBackendOptions{});
#else
  return Status(StatusCode::kUnsupported, "this build of JetChat has no CUDA backend");
#endif
}

Model::Model(std::unique_ptr<ModelImpl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
const ModelInfo& Model::info() const { return impl_->info; }
const LoadParams& Model::load_params() const { return impl_->params; }
std::string Model::backend_name() const { return impl_->backend->name(); }

MemoryUsage Model::memory() const {
  MemoryUsage m;
  m.weight_bytes = impl_->transformer->weight_bytes();
  m.scratch_bytes = impl_->transformer->scratch_bytes();
  m.kv_bytes = impl_->kv_bytes_in_use;
  return m;
}

Result<std::shared_ptr<Model>> Model::load(const std::string& model_dir, const LoadParams& params) {
  if (params.device == DeviceKind::kAuto) {
    // The GPU where this build has one, it is usable and runs this model; otherwise the CPU. Every "cannot"
    // (no CUDA in the build, no device, a shape its kernels lack) is kUnsupported; anything else (too big, a
    // broken file, a cancel) is the answer.
    LoadParams on = params;
    on.device = DeviceKind::kCuda;
    auto gpu = load(model_dir, on);
    if (gpu || gpu.status().code() != StatusCode::kUnsupported) return gpu;
    on.device = DeviceKind::kCpu;
    return load(model_dir, on);
  }
  auto probed = probe_model(model_dir);
  if (!probed) return probed.status();
  auto impl = std::make_unique<ModelImpl>();
  impl->info = probed->info;
  impl->params = params;
  impl->config = probed->config;
  impl->arch = probed->arch;
  impl->context_length = params.context_length > 0 ? params.context_length : std::min(probed->config.max_position, 4096);
  if (params.threads < 0) return Status(StatusCode::kInvalidArgument, "threads must be >= 0");

  // Refuse before allocating anything: weights + one session's KV cache at the requested context + scratch,
  // against the memory the backend allocates from (a discrete GPU's free memory, else MemAvailable: on Jetson
  // the GPU shares the system's DRAM).
  auto backend = make_backend(params.device, params.threads);
  if (!backend) return backend.status();
  impl->backend = std::move(backend.value());
  const AttentionShape shape{impl->config.num_heads, impl->config.num_kv_heads, impl->config.head_dim};
  if (Status why = impl->backend->attention_shape_problem(shape); !why.is_ok())
    return Status(why.code(), model_dir + ": " + why.message());
  switch (params.kv_cache) {
    case KvCacheType::kAuto: impl->kv_dtype = impl->backend->kv_dtype(); break;
    case KvCacheType::kF16: impl->kv_dtype = DType::kF16; break;
    case KvCacheType::kInt8: impl->kv_dtype = DType::kI8; break;
  }
  if (!impl->backend->kv_dtype_supported(impl->kv_dtype))
    return Status(StatusCode::kUnsupported, impl->backend->name() + " has no " + dtype_name(impl->kv_dtype) +
                                                " KV cache");
  impl->info.kv_bytes_per_token = Transformer::kv_bytes_per_token(impl->config, impl->kv_dtype);
  if (params.head == HeadType::kQ8) {  // its own 8-bit storage instead of the stored head's, if it had any
    if (const std::string why = head_q8_problem(impl->config.hidden_size); !why.empty())
      return Status(StatusCode::kUnsupported, model_dir + ": no 8-bit head: " + why);
    impl->info.weight_bytes = impl->info.q8_head_weight_bytes;
  }
  const ModelInfo& info = impl->info;
  if (params.check_memory) {
    const SystemMemory mem = read_system_memory();
    auto device_free = impl->backend->device_memory_free();
    const int64_t available = device_free ? *device_free : mem.available;
    const std::string where = device_free ? " of GPU memory is free" : " of " + mib(mem.total) + " is available";
    const int64_t need = info.bytes_needed(impl->context_length);
    if (available > 0 && need > available)
      return Status(StatusCode::kOutOfMemory,
                    info.name + " needs " + mib(need) + " (weights and scratch " + mib(info.weight_bytes) +
                        " + " + dtype_name(impl->kv_dtype) + " KV cache " +
                        mib(info.kv_bytes_per_token * impl->context_length) + " for " +
                        std::to_string(impl->context_length) + " tokens) but only " + mib(available) + where +
                        "; choose a smaller model or context");
  }

  auto tok = probed->gguf ? Tokenizer::from_gguf(*probed->gguf) : Tokenizer::load(model_dir);
  if (!tok) return tok.status();
  impl->tokenizer = std::move(tok.value());
  if (impl->tokenizer->vocab_size() > impl->config.vocab_size)
    return Status(StatusCode::kInvalidFormat, model_dir + ": the tokenizer has " +
                                                  std::to_string(impl->tokenizer->vocab_size()) +
                                                  " tokens but the model's vocab_size is " +
                                                  std::to_string(impl->config.vocab_size));
  if (!params.chat_template.empty()) {
    auto t = ChatTemplate::from_name(params.chat_template);
    if (!t) return t.status();
    impl->chat_template = *t;
  } else {
    impl->chat_template = ChatTemplate::detect(probed->chat_template_text, impl->arch->family);
  }

  LoadProgress progress;
  if (params.progress) progress = [&](int done, int total) { return params.progress(float(done) / float(total)); };
  Result<ModelWeights> weights = Status(StatusCode::kInternal, "no weights");
  if (probed->gguf) {
    weights = load_gguf_weights(*probed->gguf_desc, *probed->gguf, *impl->backend, progress);
  } else {
    auto ck = Checkpoint::open(model_dir);
    if (!ck) return ck.status();
    weights = load_weights(impl->config, *impl->arch, **ck, *impl->backend, progress);
  }
  if (!weights) return weights.status();
  if (params.head == HeadType::kQ8) {
    if (Status s = quantize_head_q8(*weights, *impl->backend); !s.is_ok()) {
      weights->free(*impl->backend);
      return Status(s.code(), model_dir + ": " + s.message());
    }
  }
  auto tr = Transformer::create(impl->config, std::move(weights.value()), *impl->backend);
  if (!tr) return tr.status();
  impl->transformer = std::move(tr.value());
  return std::shared_ptr<Model>(new Model(std::move(impl)));
}

}  // namespace jetchat
