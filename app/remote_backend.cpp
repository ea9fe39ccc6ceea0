#include "remote_backend.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

#include "system_monitor.h"

using jetchat::Status;
using jetchat::StatusCode;

namespace {

QUrl endpointUrl(const RemoteEndpoint& e, const QString& path) {
  QUrl url = e.baseUrl;
  QString base = url.path();
  while (base.endsWith(QLatin1Char('/'))) base.chop(1);
  url.setPath(base + path);
  return url;
}

QNetworkRequest makeRequest(const RemoteEndpoint& e, const QString& path) {
  QNetworkRequest request(endpointUrl(e, path));
  request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
  request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
  if (!e.apiKey.isEmpty()) request.setRawHeader("Authorization", "Bearer " + e.apiKey.toUtf8());
  return request;
}

// Where the server is, for messages: scheme, host and port only (never credentials or the key).
QString where(const RemoteEndpoint& e) { return e.baseUrl.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery); }

// The OpenAI-style error message of a response body, or the HTTP reason.
QString serverError(QNetworkReply* reply, const QByteArray& body) {
  const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  // OpenAI and JetChat: {"error": {"message"}}; vLLM and LMDeploy: {"object": "error", "message"}; FastAPI: {"detail"}.
  const QJsonObject json = QJsonDocument::fromJson(body).object();
  QString message = json.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
  if (message.isEmpty()) message = json.value(QStringLiteral("message")).toString();
  if (message.isEmpty()) message = json.value(QStringLiteral("detail")).toString();
  const QString reason = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
  return QStringLiteral("the server answered %1: %2").arg(status).arg(message.isEmpty() ? reason : message);
}

QString networkError(const RemoteEndpoint& e, QNetworkReply* reply) {
  switch (reply->error()) {
    case QNetworkReply::ConnectionRefusedError:
    case QNetworkReply::HostNotFoundError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::TemporaryNetworkFailureError:
      return QStringLiteral("cannot reach the server at %1 (%2)").arg(where(e), reply->errorString());
    default:
      return QStringLiteral("the connection to %1 failed: %2").arg(where(e), reply->errorString());
  }
}

const char* roleName(jetchat::Role role) {
  switch (role) {
    case jetchat::Role::kSystem: return "system";
    case jetchat::Role::kAssistant: return "assistant";
    default: return "user";
  }
}

}  // namespace

RemoteBackend::RemoteBackend(RemoteEndpoint endpoint) : m_endpoint(std::move(endpoint)) {}
RemoteBackend::~RemoteBackend() = default;

jetchat::Result<jetchat::ModelInfo> RemoteBackend::probe(const std::string& dir) {
  jetchat::ModelInfo info;
  info.path = dir;
  info.name = m_endpoint.model.toStdString();
  info.architecture = "remote";
  info.family = "remote";
  info.chat_template = "server";
  return info;
}

int64_t RemoteBackend::availableMemory() { return SystemMonitor::readMemInfo().available; }
int64_t RemoteBackend::residentMemory() { return SystemMonitor::readResidentBytes(); }

std::string RemoteBackend::backendName() const {
  return QStringLiteral("remote %1").arg(where(m_endpoint)).toStdString();
}

Status RemoteBackend::load(const std::string& dir, const jetchat::LoadParams& params) {
  unload();
  QNetworkAccessManager manager;
  QNetworkRequest request = makeRequest(m_endpoint, QStringLiteral("/models"));
  request.setTransferTimeout(m_endpoint.connectTimeoutMs);
  QElapsedTimer clock;
  clock.start();
  QNetworkReply* reply = manager.get(request);
  QEventLoop loop;
  QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
  loop.exec();
  reply->deleteLater();
  m_latencyMs = double(clock.nsecsElapsed()) / 1e6;
  const QByteArray body = reply->readAll();
  if (reply->error() == QNetworkReply::OperationCanceledError || reply->error() == QNetworkReply::TimeoutError)
    return Status(StatusCode::kIoError, QStringLiteral("the server at %1 did not answer within %2 s")
                                            .arg(where(m_endpoint)).arg(m_endpoint.connectTimeoutMs / 1000.0)
                                            .toStdString());
  const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  if (status >= 400) return Status(StatusCode::kIoError, serverError(reply, body).toStdString());
  if (reply->error() != QNetworkReply::NoError)
    return Status(StatusCode::kIoError, networkError(m_endpoint, reply).toStdString());
  bool found = false;
  for (const QJsonValue& m : QJsonDocument::fromJson(body).object().value(QStringLiteral("data")).toArray())
    if (m.toObject().value(QStringLiteral("id")).toString() == m_endpoint.model) found = true;
  if (!found)
    return Status(StatusCode::kNotFound, QStringLiteral("the server at %1 does not serve '%2'")
                                             .arg(where(m_endpoint), m_endpoint.model).toStdString());
  m_info = *probe(dir);
  m_info.max_context = params.context_length > 0 ? params.context_length : 0;
  m_loaded = true;
  return Status::ok();
}

void RemoteBackend::unload() {
  m_loaded = false;
  m_history.clear();
  m_contextUsed = 0;
  m_info = {};
}

jetchat::Result<jetchat::Generation> RemoteBackend::chat(const std::vector<jetchat::Message>& messages,
                                                         const jetchat::GenerateParams& params,
                                                         const jetchat::PieceCallback& onPiece) {
  if (!m_loaded) return Status(StatusCode::kInvalidArgument, "no model is loaded");
  m_cancel.store(false);

  QJsonArray all;
  auto add = [&all](const char* role, const std::string& content) {
    all.append(QJsonObject{{QStringLiteral("role"), QLatin1String(role)},
                           {QStringLiteral("content"), QString::fromStdString(content)}});
  };
  if (!m_systemPrompt.empty()) add("system", m_systemPrompt);
  for (const auto& m : m_history) add(roleName(m.role), m.content);
  for (const auto& m : messages) add(roleName(m.role), m.content);
  QJsonObject body{{QStringLiteral("model"), m_endpoint.model},
                   {QStringLiteral("messages"), all},
                   {QStringLiteral("stream"), true},
                   {QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}}},
                   {QStringLiteral("max_tokens"), params.max_tokens},
                   {QStringLiteral("temperature"), double(params.sampling.temperature)},
                   {QStringLiteral("top_p"), double(params.sampling.top_p)}};
  if (params.sampling.seed != 0) body.insert(QStringLiteral("seed"), qint64(params.sampling.seed & 0x7fffffffffffffffULL));
  if (!params.stop_strings.empty()) {
    QJsonArray stop;
    for (const auto& s : params.stop_strings) stop.append(QString::fromStdString(s));
    body.insert(QStringLiteral("stop"), stop);
  }

  QNetworkAccessManager manager;
  QNetworkRequest request = makeRequest(m_endpoint, QStringLiteral("/chat/completions"));
  request.setRawHeader("Accept", "text/event-stream");
  QElapsedTimer clock;
  clock.start();
  QNetworkReply* reply = manager.post(request, QJsonDocument(body).toJson(QJsonDocument::Compact));

  jetchat::Generation gen;
  QByteArray pending;
  QString failure;
  bool done = false, finished = false, headers = false, stoppedByCallback = false, timedOut = false;
  int chunks = 0;
  double firstMs = 0;
  qint64 lastDataMs = 0;
  QEventLoop loop;

  auto consume = [&] {
    pending += reply->readAll();
    for (;;) {
      const int nl = pending.indexOf('\n');
      if (nl < 0) break;
      QByteArray line = pending.left(nl).trimmed();
      pending.remove(0, nl + 1);
      if (!line.startsWith("data:")) continue;
      line = line.mid(5).trimmed();
      if (line == "[DONE]") { done = true; continue; }
      const QJsonObject event = QJsonDocument::fromJson(line).object();
      if (event.contains(QStringLiteral("error"))) {
        failure = QStringLiteral("the server reported an error: %1")
                      .arg(event.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString());
        continue;
      }
      const QJsonObject usage = event.value(QStringLiteral("usage")).toObject();
      if (!usage.isEmpty()) {
        gen.stats.prompt_tokens = usage.value(QStringLiteral("prompt_tokens")).toInt();
        gen.stats.generated_tokens = usage.value(QStringLiteral("completion_tokens")).toInt();
      }
      for (const QJsonValue& c : event.value(QStringLiteral("choices")).toArray()) {
        const QJsonObject choice = c.toObject();
        const QString finish = choice.value(QStringLiteral("finish_reason")).toString();
        finished = finished || !finish.isEmpty();
        if (finish == QLatin1String("stop")) gen.stats.stop_reason = "eos";
        else if (finish == QLatin1String("length")) gen.stats.stop_reason = "max_tokens";
        const QString content = choice.value(QStringLiteral("delta")).toObject().value(QStringLiteral("content")).toString();
        if (content.isEmpty() || stoppedByCallback) continue;
        const std::string piece = content.toStdString();
        if (chunks++ == 0) firstMs = double(clock.nsecsElapsed()) / 1e6;
        gen.text += piece;
        if (onPiece && !onPiece(piece)) {
          stoppedByCallback = true;
          reply->abort();
        }
      }
    }
  };
  QObject::connect(reply, &QNetworkReply::metaDataChanged, &loop, [&] {
    if (!headers) m_latencyMs = double(clock.nsecsElapsed()) / 1e6;
    headers = true;
  });
  QObject::connect(reply, &QNetworkReply::readyRead, &loop, [&] {
    lastDataMs = clock.elapsed();
    if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() < 400) consume();
  });
  QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
  QTimer poll;
  poll.setInterval(20);
  QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
    if (m_cancel.load()) {
      reply->abort();
      return;
    }
    const qint64 now = clock.elapsed();
    if ((!headers && now > m_endpoint.connectTimeoutMs) || (headers && now - lastDataMs > m_endpoint.stallTimeoutMs)) {
      timedOut = true;
      reply->abort();
    }
  });
  poll.start();
  loop.exec();
  poll.stop();
  reply->deleteLater();
  const double totalMs = double(clock.nsecsElapsed()) / 1e6;

  const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  // Servers that end the stream after the finish_reason chunk without "data: [DONE]" (older llama.cpp) are done.
  done = done || (finished && reply->error() == QNetworkReply::NoError);
  if (m_cancel.load() || stoppedByCallback) {
    gen.stats.stop_reason = m_cancel.load() ? "cancelled" : "callback";
  } else if (timedOut) {
    return Status(StatusCode::kIoError,
                  (headers ? QStringLiteral("the server at %1 stopped sending for %2 s mid-reply")
                                 .arg(where(m_endpoint)).arg(m_endpoint.stallTimeoutMs / 1000.0)
                           : QStringLiteral("the server at %1 did not answer within %2 s")
                                 .arg(where(m_endpoint)).arg(m_endpoint.connectTimeoutMs / 1000.0))
                      .toStdString());
  } else if (status >= 400) {
    return Status(StatusCode::kIoError, serverError(reply, reply->readAll()).toStdString());
  } else if (!failure.isEmpty()) {
    return Status(StatusCode::kIoError, failure.toStdString());
  } else if (reply->error() != QNetworkReply::NoError && !done) {
    if (headers)
      return Status(StatusCode::kIoError, QStringLiteral("the connection to %1 was cut mid-reply after %2 pieces (%3)")
                                              .arg(where(m_endpoint)).arg(chunks).arg(reply->errorString())
                                              .toStdString());
    return Status(StatusCode::kIoError, networkError(m_endpoint, reply).toStdString());
  } else if (!done) {
    return Status(StatusCode::kIoError, QStringLiteral("the server at %1 ended the reply without finishing it (after "
                                                       "%2 pieces)").arg(where(m_endpoint)).arg(chunks).toStdString());
  }

  if (gen.stats.generated_tokens == 0) gen.stats.generated_tokens = chunks;
  gen.stats.ttft_ms = firstMs;
  const double decodeMs = totalMs - firstMs;
  if (chunks > 1 && decodeMs > 0) gen.stats.decode_tok_s = (gen.stats.generated_tokens - 1) * 1000.0 / decodeMs;
  if (gen.stats.stop_reason.empty()) gen.stats.stop_reason = "eos";
  for (const auto& m : messages) m_history.push_back(m);
  m_history.push_back({jetchat::Role::kAssistant, gen.text});
  m_contextUsed = gen.stats.prompt_tokens + gen.stats.generated_tokens;
  return gen;
}
