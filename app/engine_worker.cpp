#include "engine_worker.h"

#include <QFileInfo>
#include <QLocale>

#include "memory_saver.h"

namespace {

QString gib(qint64 bytes) { return QLocale::c().toString(double(bytes) / double(1 << 30), 'f', 2) + QStringLiteral(" GiB"); }

std::vector<jetchat::Message> toMessages(const QList<ChatTurn>& turns) {
  std::vector<jetchat::Message> out;
  out.reserve(turns.size());
  for (const ChatTurn& t : turns) out.push_back({static_cast<jetchat::Role>(t.role), t.text.toStdString()});
  return out;
}

bool sameMessage(const jetchat::Message& a, const jetchat::Message& b) {
  return a.role == b.role && a.content == b.content;
}

}  // namespace

EngineWorker::EngineWorker(std::unique_ptr<InferenceBackend> backend, QObject* parent)
    : QObject(parent), m_backend(std::move(backend)) {
  registerChatTypes();
}

EngineWorker::~EngineWorker() = default;

void EngineWorker::stopGeneration(qint64 upToId) {
  qint64 prev = m_stopUpTo.load();
  while (prev < upToId && !m_stopUpTo.compare_exchange_weak(prev, upToId)) {
  }
  m_backend->cancel();
}

void EngineWorker::cancelLoad(qint64 upToId) {
  qint64 prev = m_cancelLoadUpTo.load();
  while (prev < upToId && !m_cancelLoadUpTo.compare_exchange_weak(prev, upToId)) {
  }
}

void EngineWorker::loadModel(qint64 id, const LoadRequest& request) {
  const bool hadModel = m_backend->isLoaded();
  if (id <= m_cancelLoadUpTo.load()) {
    emit loadFailed(id, tr("Loading was cancelled."), true, hadModel);
    return;
  }
  auto info = m_backend->probe(request.path.toStdString());
  if (!info) {
    emit loadFailed(id, tr("Cannot use %1: %2").arg(QFileInfo(request.path).fileName(),
                                                    QString::fromStdString(info.status().message())),
                    false, hadModel);
    return;
  }
  const int context = effectiveContext(info->max_context, request.contextLength);
  const MemorySaverChoices choices = memorySaverChoices(*info, request.memorySaver);
  const qint64 needed = info->bytes_needed(context, choices.kvCache, choices.head);
  const qint64 reclaimable = hadModel ? m_backend->memory().total() : 0;
  const qint64 available = m_backend->availableMemory() + reclaimable;
  if (needed > available) {
    emit loadFailed(id,
                    tr("%1 needs %2 at a context of %3 tokens, but only %4 is available.")
                        .arg(QString::fromStdString(info->name), gib(needed)).arg(context).arg(gib(available)),
                    false, hadModel);
    return;
  }

  if (hadModel) unloadModel();

  jetchat::LoadParams params;
  params.device = jetchat::DeviceKind::kAuto;  // the GPU where there is one (a Jetson), else the CPU
  params.context_length = context;
  params.kv_cache = choices.kvCache;
  params.head = choices.head;
  params.threads = request.threads;
  QElapsedTimer sinceReport;
  sinceReport.start();
  params.progress = [this, id, &sinceReport](float fraction) {
    if (sinceReport.elapsed() >= kTextIntervalMs || fraction >= 1.0f) {
      sinceReport.restart();
      emit loadProgress(id, fraction);
    }
    return id > m_cancelLoadUpTo.load();
  };
  emit loadProgress(id, 0.0);
  const jetchat::Status status = m_backend->load(request.path.toStdString(), params);
  if (!status) {
    const bool cancelled = status.code() == jetchat::StatusCode::kCancelled || id <= m_cancelLoadUpTo.load();
    m_backend->unload();
    emit loadFailed(id,
                    cancelled ? tr("Loading was cancelled.")
                              : tr("Cannot load %1: %2").arg(QString::fromStdString(info->name),
                                                             QString::fromStdString(status.message())),
                    cancelled, false);
    reportApiStatus();
    return;
  }
  m_systemPrompt.clear();
  const jetchat::ModelInfo loaded = m_backend->info();
  ModelSummary summary;
  summary.path = request.path;
  summary.name = QString::fromStdString(loaded.name);
  summary.architecture = QString::fromStdString(loaded.architecture);
  summary.dtype = QString::fromStdString(loaded.dtype);
  summary.backend = QString::fromStdString(m_backend->backendName());
  summary.parameters = loaded.parameters;
  summary.contextLength = m_backend->contextLength();
  summary.memoryBytes = m_backend->memory().total();
  summary.networkLatencyMs = m_backend->networkLatencyMs();
  emit loadProgress(id, 1.0);
  emit modelLoaded(id, summary);
  reportApiStatus();
}

void EngineWorker::unloadModel() {
  if (!m_backend->isLoaded()) return;
  UnloadReport report;
  report.name = QString::fromStdString(m_backend->info().name);
  report.engineBytes = m_backend->memory().total();
  report.rssBefore = m_backend->residentMemory();
  m_backend->unload();
  report.rssAfter = m_backend->residentMemory();
  emit modelUnloaded(report);
  reportApiStatus();
}

void EngineWorker::resetConversation() {
  if (m_backend->isLoaded()) m_backend->reset();
}

ReplyStats EngineWorker::statsSnapshot() const {
  ReplyStats s;
  s.contextUsed = m_backend->contextUsed();
  s.contextLength = m_backend->contextLength();
  s.memoryBytes = m_backend->memory().total();
  s.networkLatencyMs = m_backend->networkLatencyMs();
  return s;
}

void EngineWorker::generate(qint64 id, const QList<ChatTurn>& turns, const GenerationSettings& settings) {
  if (id <= m_stopUpTo.load()) {
    ReplyStats stats = statsSnapshot();
    stats.stopReason = QStringLiteral("cancelled");
    emit generationFinished(id, stats);
    return;
  }
  if (!m_backend->isLoaded()) {
    emit generationFailed(id, tr("No model is loaded."));
    return;
  }

  const std::string systemPrompt = settings.systemPrompt.toStdString();
  if (systemPrompt != m_systemPrompt) {
    m_backend->setSystemPrompt(systemPrompt);
    m_backend->reset();
    m_systemPrompt = systemPrompt;
  }
  // The session keeps its own history and KV cache: send only the new turns when the conversation merely grew,
  // else (regenerate, another conversation, truncated history) start the session over with all of it.
  const std::vector<jetchat::Message> all = toMessages(turns);
  const auto& history = m_backend->history();
  const bool extendsHistory = history.size() < all.size() &&
                              std::equal(history.begin(), history.end(), all.begin(), sameMessage);
  std::vector<jetchat::Message> toSend;
  if (extendsHistory) {
    toSend.assign(all.begin() + history.size(), all.end());
  } else {
    m_backend->reset();
    toSend = all;
  }

  jetchat::GenerateParams params;
  params.sampling.temperature = float(settings.temperature);
  params.sampling.top_p = float(settings.topP);
  params.max_tokens = settings.maxTokens;

  QString pending;
  int pieces = 0;
  QElapsedTimer clock, sinceEmit;
  clock.start();
  sinceEmit.start();
  double ttftMs = 0;
  const auto flush = [&] {
    if (!pending.isEmpty()) emit textChunk(id, pending);
    pending.clear();
    ReplyStats live = statsSnapshot();  // the context grows token by token: the gauge follows it live
    live.generatedTokens = pieces;
    live.ttftMs = ttftMs;
    const double decodeSeconds = (clock.nsecsElapsed() / 1e6 - ttftMs) / 1e3;
    live.decodeTokS = pieces > 1 && decodeSeconds > 0 ? (pieces - 1) / decodeSeconds : 0;
    emit liveStats(id, live);
    sinceEmit.restart();
  };
  auto result = m_backend->chat(toSend, params, [&](std::string_view piece) {
    if (pieces++ == 0) ttftMs = clock.nsecsElapsed() / 1e6;
    pending += QString::fromUtf8(piece.data(), qsizetype(piece.size()));
    if (sinceEmit.elapsed() >= kTextIntervalMs) flush();
    return id > m_stopUpTo.load();
  });
  if (!pending.isEmpty()) emit textChunk(id, pending);

  if (!result) {
    if (result.status().code() == jetchat::StatusCode::kCancelled) {
      ReplyStats stats = statsSnapshot();
      stats.generatedTokens = pieces;
      stats.stopReason = QStringLiteral("cancelled");
      emit generationFinished(id, stats);
    } else {
      emit generationFailed(id, QString::fromStdString(result.status().message()));
    }
    return;
  }
  const jetchat::GenerationStats& g = result->stats;
  ReplyStats stats = statsSnapshot();
  stats.promptTokens = g.prompt_tokens;
  stats.cachedTokens = g.cached_tokens;
  stats.generatedTokens = g.generated_tokens;
  stats.ttftMs = g.ttft_ms;
  stats.prefillTokS = g.prefill_tok_s;
  stats.decodeTokS = g.decode_tok_s;
  stats.stopReason = QString::fromStdString(g.stop_reason);
  emit generationFinished(id, stats);
}

void EngineWorker::configureApi(const ApiSettings& settings) {
  std::optional<jetchat::server::ServerOptions> options;
  if (settings.enabled) {
    options.emplace();
    options->host = settings.lan ? "0.0.0.0" : "127.0.0.1";
    options->port = settings.port;
    options->api_key = settings.apiKey.toStdString();
  }
  m_backend->setApiServer(options);
  reportApiStatus();
}

void EngineWorker::reportApiStatus() {
  emit apiStatusChanged({QString::fromStdString(m_backend->apiServerUrl()),
                         QString::fromStdString(m_backend->apiServerError())});
}
