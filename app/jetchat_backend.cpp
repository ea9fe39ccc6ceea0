#include "jetchat_backend.h"

#include "system_monitor.h"

JetchatBackend::~JetchatBackend() { unload(); }

jetchat::Result<jetchat::ModelInfo> JetchatBackend::probe(const std::string& dir) {
  return jetchat::ModelInfo::probe(dir);
}

int64_t JetchatBackend::availableMemory() { return SystemMonitor::readMemInfo().available; }

int64_t JetchatBackend::residentMemory() { return SystemMonitor::readResidentBytes(); }

jetchat::Status JetchatBackend::load(const std::string& dir, const jetchat::LoadParams& params) {
  unload();
  auto model = jetchat::Model::load(dir, params);
  if (!model) return model.status();
  auto session = std::make_unique<jetchat::Session>(*model);
  m_model = std::move(*model);
  {
    std::lock_guard lock(m_sessionMutex);
    m_session = std::move(session);
  }
  restartApiServer();
  return jetchat::Status::ok();
}

void JetchatBackend::unload() {
  m_apiServer.reset();  // cancels its generation and joins its threads: it lets go of the model
  std::unique_ptr<jetchat::Session> session;
  {
    std::lock_guard lock(m_sessionMutex);
    session = std::move(m_session);
  }
  session.reset();  // the session holds a reference to the model: free it first
  m_model.reset();
}

jetchat::ModelInfo JetchatBackend::info() const { return m_model ? m_model->info() : jetchat::ModelInfo{}; }

std::string JetchatBackend::backendName() const { return m_model ? m_model->backend_name() : std::string(); }

jetchat::MemoryUsage JetchatBackend::memory() const { return m_model ? m_model->memory() : jetchat::MemoryUsage{}; }

const std::vector<jetchat::Message>& JetchatBackend::history() const {
  static const std::vector<jetchat::Message> kNone;
  return m_session ? m_session->history() : kNone;
}

void JetchatBackend::setSystemPrompt(const std::string& text) {
  if (m_session) m_session->set_system_prompt(text);
}

void JetchatBackend::reset() {
  if (m_session) m_session->reset();
}

jetchat::Result<jetchat::Generation> JetchatBackend::chat(const std::vector<jetchat::Message>& messages,
                                                          const jetchat::GenerateParams& params,
                                                          const jetchat::PieceCallback& onPiece) {
  if (!m_session) return jetchat::Status(jetchat::StatusCode::kInvalidArgument, "no model is loaded");
  return m_session->chat(messages, params, onPiece);
}

void JetchatBackend::cancel() {
  std::lock_guard lock(m_sessionMutex);
  if (m_session) m_session->cancel();
}

int JetchatBackend::contextUsed() const { return m_session ? m_session->context_used() : 0; }

int JetchatBackend::contextLength() const { return m_session ? m_session->context_length() : 0; }

void JetchatBackend::setApiServer(const std::optional<jetchat::server::ServerOptions>& options) {
  m_apiOptions = options;
  restartApiServer();
}

void JetchatBackend::restartApiServer() {
  m_apiServer.reset();
  m_apiError.clear();
  if (!m_apiOptions || !m_model) return;
  auto server = std::make_unique<jetchat::server::HttpServer>(m_model, *m_apiOptions);
  if (const jetchat::Status s = server->start(); !s) {
    m_apiError = s.message();
    return;
  }
  m_apiServer = std::move(server);
}

std::string JetchatBackend::apiServerUrl() const {
  if (!m_apiServer) return {};
  const std::string& host = m_apiOptions->host;
  return "http://" + (host == "0.0.0.0" ? std::string("<this machine>") : host) + ":" +
         std::to_string(m_apiServer->port()) + "/v1";
}
