// The engine's front door: load a model directory, describe it, and open sessions on it.
//
//   auto model = jetchat::Model::load("path/to/model", jetchat::LoadParams{});
//   if (!model) { puts(model.status().message().c_str()); return; }
//   jetchat::Session session(*model);
//   session.chat({{jetchat::Role::kUser, "Hello"}}, jetchat::GenerateParams{},
//                [](std::string_view piece) { fputs(std::string(piece).c_str(), stdout); return true; });
//
// Thread-safety: a Model is immutable after load and may be shared by sessions, but only one session may run a
// forward pass at a time (the backend's scratch buffers are the model's). A Session is used from one thread,
// except Session::cancel(), which any thread may call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "jetchat/params.h"
#include "jetchat/status.h"

namespace jetchat {

// What a model is, read from its files; cheap to get without loading weights (ModelInfo::probe).
struct ModelInfo {
  std::string path;
  std::string name;              // directory name
  std::string architecture;      // config.json "architectures"[0]
  std::string family;            // llama, internlm2, internlm, qwen2
  std::string dtype;             // weights as stored: f32, f16, bf16, awq-w4g128 ...
  std::string chat_template;     // internlm2, internlm, llama2, llama3, chatml, raw
  std::string chat_template_note;  // why chat_template was chosen when the model's own template is not recognised
  int64_t parameters = 0;
  int vocab_size = 0, hidden_size = 0, intermediate_size = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0;
  int max_context = 0;
  int64_t weight_bytes = 0;      // in memory once loaded
  // weight_bytes with the 8-bit head (LoadParams::head = kQ8): less where it replaces a 16/32-bit head of its own,
  // more where the head is a tied embedding table (which stays beside the copy); 0 when the hidden size allows none.
  int64_t q8_head_weight_bytes = 0;
  int64_t kv_bytes_per_token = 0;       // the cache as loaded; from probe: the CPU's f32 cache (f16's upper bound)
  int64_t kv_int8_bytes_per_token = 0;  // an int8 cache (LoadParams::kv_cache = kInt8): values + f32 scale per KV head
  // Weights and one session's KV cache of `context` tokens as a load with these choices allocates them (kInt8: the
  // int8 cache, else kv_bytes_per_token; kQ8: q8_head_weight_bytes).
  int64_t bytes_needed(int context, KvCacheType kv_cache = KvCacheType::kAuto, HeadType head = HeadType::kAuto) const {
    return (head == HeadType::kQ8 ? q8_head_weight_bytes : weight_bytes) +
           (kv_cache == KvCacheType::kInt8 ? kv_int8_bytes_per_token : kv_bytes_per_token) * context;
  }

  static Result<ModelInfo> probe(const std::string& model_dir);
};

// Memory in use at this moment, by the model and its sessions.
struct MemoryUsage {
  int64_t weight_bytes = 0;
  int64_t kv_bytes = 0;
  int64_t scratch_bytes = 0;
  int64_t total() const { return weight_bytes + kv_bytes + scratch_bytes; }
};

// A discrete NVIDIA GPU's memory as its driver reports it, for the gauges. Read through NVML, which is loaded at
// run time: no CUDA context is created and nothing is linked. Unsupported where there is no NVIDIA driver and on
// Jetson, whose GPU allocates from system memory (MemAvailable is the figure there). Any thread.
struct GpuMemory {
  int64_t total = 0;
  int64_t used = 0;
};
Result<GpuMemory> read_gpu_memory(int device = 0);

class ModelImpl;

class Model {
 public:
  static Result<std::shared_ptr<Model>> load(const std::string& model_dir, const LoadParams& params);
  ~Model();

  const ModelInfo& info() const;
  const LoadParams& load_params() const;
  MemoryUsage memory() const;
  std::string backend_name() const;
  ModelImpl& impl() { return *impl_; }

 private:
  explicit Model(std::unique_ptr<ModelImpl> impl);
  std::unique_ptr<ModelImpl> impl_;
};

}  // namespace jetchat
