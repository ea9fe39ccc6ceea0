#include "routing_backend.h"

RoutingBackend::RoutingBackend(std::unique_ptr<InferenceBackend> local) : m_local(std::move(local)) {}
RoutingBackend::~RoutingBackend() = default;

void RoutingBackend::setEndpoints(const QList<Named>& endpoints) {
  std::lock_guard lock(m_mutex);
  m_endpoints = endpoints;
}

bool RoutingBackend::findEndpoint(const std::string& path, RemoteEndpoint* out) const {
  const QString name = QString::fromStdString(path.substr(std::char_traits<char>::length(kRemotePrefix)));
  std::lock_guard lock(m_mutex);
  for (const Named& n : m_endpoints)
    if (n.name == name) {
      *out = n.endpoint;
      return true;
    }
  return false;
}

jetchat::Result<jetchat::ModelInfo> RoutingBackend::probe(const std::string& dir) {
  if (!isRemotePath(dir)) return m_local->probe(dir);
  RemoteEndpoint e;
  if (!findEndpoint(dir, &e))
    return jetchat::Status(jetchat::StatusCode::kNotFound, "no remote endpoint of that name is configured");
  auto info = RemoteBackend(e).probe(dir);
  if (info.is_ok()) info->name = dir.substr(std::char_traits<char>::length(kRemotePrefix));
  return info;
}

jetchat::Status RoutingBackend::load(const std::string& dir, const jetchat::LoadParams& params) {
  unload();
  if (!isRemotePath(dir)) return m_local->load(dir, params);
  RemoteEndpoint e;
  if (!findEndpoint(dir, &e))
    return jetchat::Status(jetchat::StatusCode::kNotFound, "no remote endpoint of that name is configured");
  auto remote = std::make_unique<RemoteBackend>(e);
  jetchat::Status status = remote->load(dir, params);
  if (!status) return status;
  std::lock_guard lock(m_mutex);
  m_remote = std::move(remote);
  return status;
}

void RoutingBackend::unload() {
  std::unique_ptr<RemoteBackend> remote;
  {
    std::lock_guard lock(m_mutex);
    remote = std::move(m_remote);
  }
  if (!remote) m_local->unload();
}

void RoutingBackend::cancel() {
  std::lock_guard lock(m_mutex);
  if (m_remote)
    m_remote->cancel();
  else
    m_local->cancel();
}
