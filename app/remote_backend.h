// InferenceBackend over a remote OpenAI-compatible server (JetChat's own `jetchat-cli serve`, LMDeploy, vLLM,
// llama.cpp's server, Ollama): replies stream in as server-sent events over QNetworkAccessManager (#7).
// Thread contract: like every backend, used from the engine worker thread (chat() runs a local event loop there
// while the reply streams); cancel() from any thread (an atomic flag the loop polls). The API key is sent only in
// the Authorization header and never appears in a message or a log line.
#pragma once

#include <QString>
#include <QUrl>
#include <atomic>

#include "inference_backend.h"

struct RemoteEndpoint {
  QUrl baseUrl;        // e.g. http://10.0.0.5:8080/v1
  QString model;       // the model id the server knows
  QString apiKey;      // "" = none
  int connectTimeoutMs = 5000;   // no answer (headers) within this: "did not answer"
  int stallTimeoutMs = 30000;    // no data for this long mid-reply: "stopped sending"
};

class RemoteBackend final : public InferenceBackend {
 public:
  explicit RemoteBackend(RemoteEndpoint endpoint);
  ~RemoteBackend() override;

  // A directory cannot be probed remotely: describes the endpoint instead.
  jetchat::Result<jetchat::ModelInfo> probe(const std::string& dir) override;
  int64_t availableMemory() override;
  int64_t residentMemory() override;

  // Checks the server answers GET /models and serves the model; `dir` is only recorded as the path.
  jetchat::Status load(const std::string& dir, const jetchat::LoadParams& params) override;
  void unload() override;
  bool isLoaded() const override { return m_loaded; }
  jetchat::ModelInfo info() const override { return m_info; }
  std::string backendName() const override;
  jetchat::MemoryUsage memory() const override { return {}; }

  const std::vector<jetchat::Message>& history() const override { return m_history; }
  void setSystemPrompt(const std::string& text) override { m_systemPrompt = text; }
  void reset() override { m_history.clear(); }
  jetchat::Result<jetchat::Generation> chat(const std::vector<jetchat::Message>& messages,
                                            const jetchat::GenerateParams& params,
                                            const jetchat::PieceCallback& onPiece) override;
  void cancel() override { m_cancel.store(true); }
  int contextUsed() const override { return m_contextUsed; }
  int contextLength() const override { return m_info.max_context; }

  // From sending the last request to its response's headers.
  double networkLatencyMs() const override { return m_latencyMs; }

 private:
  RemoteEndpoint m_endpoint;
  bool m_loaded = false;
  jetchat::ModelInfo m_info;
  std::vector<jetchat::Message> m_history;
  std::string m_systemPrompt;
  std::atomic<bool> m_cancel{false};
  int m_contextUsed = 0;
  double m_latencyMs = 0;
};
