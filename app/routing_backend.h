// The backend the app runs: model directories go to the local engine, "remote:NAME" paths to a RemoteBackend for
// the endpoint of that name (#7), so the switcher moves between local models and remote endpoints alike.
// Thread contract: like every backend (worker thread); cancel() and setEndpoints() from any thread.
#pragma once

#include <QList>
#include <atomic>
#include <memory>
#include <mutex>

#include "inference_backend.h"
#include "remote_backend.h"

class RoutingBackend final : public InferenceBackend {
 public:
  static constexpr const char* kRemotePrefix = "remote:";
  explicit RoutingBackend(std::unique_ptr<InferenceBackend> local);
  ~RoutingBackend() override;

  static bool isRemotePath(const std::string& path) { return path.rfind(kRemotePrefix, 0) == 0; }
  // The endpoints that "remote:NAME" paths name (endpoint.model is NAME unless told otherwise by `names`).
  struct Named {
    QString name;
    RemoteEndpoint endpoint;
  };
  void setEndpoints(const QList<Named>& endpoints);

  jetchat::Result<jetchat::ModelInfo> probe(const std::string& dir) override;
  int64_t availableMemory() override { return m_local->availableMemory(); }
  int64_t residentMemory() override { return m_local->residentMemory(); }
  jetchat::Status load(const std::string& dir, const jetchat::LoadParams& params) override;
  void unload() override;
  bool isLoaded() const override { return active()->isLoaded(); }
  jetchat::ModelInfo info() const override { return active()->info(); }
  std::string backendName() const override { return active()->backendName(); }
  jetchat::MemoryUsage memory() const override { return active()->memory(); }
  const std::vector<jetchat::Message>& history() const override { return active()->history(); }
  void setSystemPrompt(const std::string& text) override { active()->setSystemPrompt(text); }
  void reset() override { active()->reset(); }
  jetchat::Result<jetchat::Generation> chat(const std::vector<jetchat::Message>& messages,
                                            const jetchat::GenerateParams& params,
                                            const jetchat::PieceCallback& onPiece) override {
    return active()->chat(messages, params, onPiece);
  }
  void cancel() override;
  int contextUsed() const override { return active()->contextUsed(); }
  int contextLength() const override { return active()->contextLength(); }
  double networkLatencyMs() const override { return active()->networkLatencyMs(); }
  // The API serves local models only: while a remote endpoint is the model, the local one is unloaded.
  void setApiServer(const std::optional<jetchat::server::ServerOptions>& options) override {
    m_local->setApiServer(options);
  }
  std::string apiServerUrl() const override { return m_local->apiServerUrl(); }
  std::string apiServerError() const override { return m_local->apiServerError(); }

 private:
  InferenceBackend* active() const { return m_remote ? static_cast<InferenceBackend*>(m_remote.get()) : m_local.get(); }
  bool findEndpoint(const std::string& path, RemoteEndpoint* out) const;

  std::unique_ptr<InferenceBackend> m_local;
  std::unique_ptr<RemoteBackend> m_remote;  // while a remote endpoint is the model
  mutable std::mutex m_mutex;               // guards m_endpoints, and m_remote against cancel()
  QList<Named> m_endpoints;
};
