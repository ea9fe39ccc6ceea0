// The few engine operations the worker needs, behind an interface so tests can drive the worker with a fake.
// Thread contract: every method runs on the engine worker thread, except cancel(), which any thread may call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jetchat/chat.h"
#include "jetchat/engine.h"
#include "jetchat/session.h"
#include "http_server.h"

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;

  // Describes a model directory without loading its weights.
  virtual jetchat::Result<jetchat::ModelInfo> probe(const std::string& dir) = 0;
  // Bytes that can be allocated now (MemAvailable; on Jetson shared with the GPU).
  virtual int64_t availableMemory() = 0;
  // Resident memory of this process, to confirm a freed model gave its memory back.
  virtual int64_t residentMemory() = 0;

  // Loads a model (after unload()); params.progress may cancel it.
  virtual jetchat::Status load(const std::string& dir, const jetchat::LoadParams& params) = 0;
  virtual void unload() = 0;
  virtual bool isLoaded() const = 0;
  virtual jetchat::ModelInfo info() const = 0;
  virtual std::string backendName() const = 0;
  virtual jetchat::MemoryUsage memory() const = 0;

  // The conversation the model's session remembers (for KV-cache reuse across turns).
  virtual const std::vector<jetchat::Message>& history() const = 0;
  virtual void setSystemPrompt(const std::string& text) = 0;
  virtual void reset() = 0;
  virtual jetchat::Result<jetchat::Generation> chat(const std::vector<jetchat::Message>& messages,
                                                    const jetchat::GenerateParams& params,
                                                    const jetchat::PieceCallback& onPiece) = 0;
  virtual void cancel() = 0;  // any thread
  virtual int contextUsed() const = 0;
  virtual int contextLength() const = 0;
  // The OpenAI-compatible server (#7) over the loaded local model, sharing its weights with the chat: running
  // while options are set and a local model is loaded (restarted by each load, stopped before an unload frees the
  // model). apiServerUrl() is what it serves at, "" when off; apiServerError() why it could not start.
  virtual void setApiServer(const std::optional<jetchat::server::ServerOptions>& /*options*/) {}
  virtual std::string apiServerUrl() const { return {}; }
  virtual std::string apiServerError() const { return {}; }
  // Round trip of the last request to a remote server, in ms; -1 for a model on this machine.
  virtual double networkLatencyMs() const { return -1; }
};
