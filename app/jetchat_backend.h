// InferenceBackend over the real engine (jetchat::Model + one jetchat::Session).
// Thread contract: used from the engine worker thread; cancel() from any thread (it locks only to read the pointer).
#pragma once

#include <memory>
#include <mutex>

#include "inference_backend.h"

class JetchatBackend final : public InferenceBackend {
 public:
  JetchatBackend() = default;
  ~JetchatBackend() override;

  jetchat::Result<jetchat::ModelInfo> probe(const std::string& dir) override;
  int64_t availableMemory() override;
  int64_t residentMemory() override;

  jetchat::Status load(const std::string& dir, const jetchat::LoadParams& params) override;
  void unload() override;
  bool isLoaded() const override { return m_model != nullptr; }
  jetchat::ModelInfo info() const override;
  std::string backendName() const override;
  jetchat::MemoryUsage memory() const override;

  const std::vector<jetchat::Message>& history() const override;
  void setSystemPrompt(const std::string& text) override;
  void reset() override;
  jetchat::Result<jetchat::Generation> chat(const std::vector<jetchat::Message>& messages,
                                            const jetchat::GenerateParams& params,
                                            const jetchat::PieceCallback& onPiece) override;
  void cancel() override;
  int contextUsed() const override;
  int contextLength() const override;
  void setApiServer(const std::optional<jetchat::server::ServerOptions>& options) override;
  std::string apiServerUrl() const override;
  std::string apiServerError() const override { return m_apiError; }

 private:
  void restartApiServer();

  std::shared_ptr<jetchat::Model> m_model;
  std::optional<jetchat::server::ServerOptions> m_apiOptions;
  std::unique_ptr<jetchat::server::HttpServer> m_apiServer;  // holds m_model too: stopped before it is freed
  std::string m_apiError;
  std::unique_ptr<jetchat::Session> m_session;
  std::mutex m_sessionMutex;  // guards m_session's pointer against cancel() from another thread
};
