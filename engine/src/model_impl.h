// What a loaded Model holds. Internal: sessions and the CLI reach the parts through Model::impl().
#pragma once

#include <memory>
#include <mutex>

#include "backend.h"
#include "chat_template.h"
#include "gguf.h"
#include "gguf_model.h"
#include "jetchat/engine.h"
#include "model_config.h"
#include "models/architecture.h"
#include "tokenizer.h"
#include "transformer.h"

namespace jetchat {

class ModelImpl {
 public:
  ModelInfo info;
  LoadParams params;
  ModelConfig config;
  const Architecture* arch = nullptr;
  int context_length = 0;
  DType kv_dtype = DType::kF32;              // of every session's KV cache, from params.kv_cache and the backend
  std::unique_ptr<Tokenizer> tokenizer;
  ChatTemplate chat_template{ChatFormat::kRaw};
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Transformer> transformer;  // destroyed before the backend (declared after it)
  std::mutex forward_mutex;                  // one forward pass at a time across sessions
  int64_t kv_bytes_in_use = 0;               // sum over live sessions

  ~ModelImpl() { transformer.reset(); }
};

// Validates a model directory or GGUF file far enough to describe it (config, architecture, tensor headers)
// without uploading weights.
struct ProbedModel {
  ModelInfo info;
  ModelConfig config;
  const Architecture* arch = nullptr;
  std::string chat_template_text;      // the model's own Jinja template, or ""
  std::shared_ptr<GgufFile> gguf;      // a GGUF file's reader, kept open for loading; null for directories
  std::shared_ptr<GgufModelDesc> gguf_desc;
  int64_t head_bytes = 0;              // the output head's own storage once loaded; 0 when tied to the embedding
};
Result<ProbedModel> probe_model(const std::string& model_dir);

// The backend for a device, or why there is none in this build / on this machine.
Result<std::unique_ptr<Backend>> make_backend(DeviceKind device, int threads);

}  // namespace jetchat
