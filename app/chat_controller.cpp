#include "chat_controller.h"

#include <QFileInfo>
#include <QLocale>
#include <limits>

#include "app_settings.h"
#include "conversation_store.h"
#include "engine_worker.h"
#include "model_catalog.h"

namespace {

QString mib(qint64 bytes) { return QString::number((bytes + (1 << 19)) >> 20) + QStringLiteral(" MiB"); }

}  // namespace

ChatController::ChatController(std::unique_ptr<InferenceBackend> backend, AppSettings* settings,
                               ConversationStore* store, QObject* parent)
    : QObject(parent), m_settings(settings), m_store(store), m_conversationId(ConversationStore::newId()) {
  registerChatTypes();
  m_worker = new EngineWorker(std::move(backend));
  m_worker->moveToThread(&m_thread);
  m_thread.setObjectName(QStringLiteral("jetchat-engine"));
  connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
  connect(m_worker, &EngineWorker::loadProgress, this, &ChatController::onLoadProgress);
  connect(m_worker, &EngineWorker::modelUnloaded, this, &ChatController::onModelUnloaded);
  connect(m_worker, &EngineWorker::modelLoaded, this, &ChatController::onModelLoaded);
  connect(m_worker, &EngineWorker::loadFailed, this, &ChatController::onLoadFailed);
  connect(m_worker, &EngineWorker::textChunk, this, &ChatController::onTextChunk);
  connect(m_worker, &EngineWorker::liveStats, this, &ChatController::onLiveStats);
  connect(m_worker, &EngineWorker::generationFinished, this, &ChatController::onGenerationFinished);
  connect(m_worker, &EngineWorker::generationFailed, this, &ChatController::onGenerationFailed);
  connect(&m_conversation, &ConversationModel::committed, this, &ChatController::saveConversation);
  connect(m_worker, &EngineWorker::apiStatusChanged, this, [this](const ApiStatus& status) {
    m_api = status;
    emit apiStatusChanged();
  });
  m_thread.start();
  if (m_settings) {
    for (auto changed : {&AppSettings::apiEnabledChanged, &AppSettings::apiPortChanged, &AppSettings::apiLanChanged,
                         &AppSettings::apiKeyChanged})
      connect(m_settings, changed, this, &ChatController::configureApi);
    configureApi();
  }
}

void ChatController::configureApi() {
  ApiSettings api;
  api.enabled = m_settings->apiEnabled();
  api.port = m_settings->apiPort();
  api.lan = m_settings->apiLan();
  api.apiKey = m_settings->apiKey();
  QMetaObject::invokeMethod(m_worker, [w = m_worker, api] { w->configureApi(api); }, Qt::QueuedConnection);
}

ChatController::~ChatController() {
  // Stop whatever runs so the join below is short, then join: the worker frees the model on its own thread.
  m_worker->stopGeneration(std::numeric_limits<qint64>::max());
  m_worker->cancelLoad(std::numeric_limits<qint64>::max());
  m_thread.quit();
  m_thread.wait();
}

void ChatController::setState(State s) {
  if (s == m_state) return;
  m_state = s;
  emit stateChanged();
}

void ChatController::setError(const QString& text) {
  if (text == m_error) return;
  m_error = text;
  emit errorMessageChanged();
}

void ChatController::setNotice(const QString& text) {
  if (text == m_notice) return;
  m_notice = text;
  emit noticeChanged();
}

void ChatController::dismissError() { setError({}); }

void ChatController::dismissNotice() { setNotice({}); }

GenerationSettings ChatController::generationSettings() const {
  GenerationSettings s;
  if (m_settings) {
    s.systemPrompt = m_settings->systemPrompt();
    s.temperature = m_settings->temperature();
    s.topP = m_settings->topP();
    s.maxTokens = m_settings->maxTokens();
  }
  return s;
}

bool ChatController::send(const QString& text) {
  const QString trimmed = text.trimmed();
  if (m_state != Ready || trimmed.isEmpty()) return false;
  m_conversation.appendUser(trimmed);
  startReply();
  return true;
}

void ChatController::startReply() {
  m_conversation.beginAssistant();
  const qint64 id = ++m_genId;
  const QList<ChatTurn> turns = m_conversation.turns();
  const GenerationSettings settings = generationSettings();
  m_live = ReplyStats{};
  emit statsChanged();
  setError({});
  setState(Generating);
  QMetaObject::invokeMethod(m_worker, [w = m_worker, id, turns, settings] { w->generate(id, turns, settings); },
                            Qt::QueuedConnection);
}

void ChatController::stop() {
  if (m_state != Generating) return;
  m_worker->stopGeneration(m_genId);
  setState(Stopping);
}

bool ChatController::regenerate() {
  if (m_state != Ready || m_conversation.count() == 0) return false;
  m_conversation.removeLastAssistant();
  if (m_conversation.authorAt(m_conversation.count() - 1) != QLatin1String("user")) return false;
  startReply();
  return true;
}

void ChatController::saveConversation() {
  if (!m_store || m_conversation.count() == 0) return;
  m_store->save(m_conversationId, m_conversation.title(), m_conversation.toJson());
}

void ChatController::newConversation() {
  if (m_state == Generating) stop();
  saveConversation();
  m_conversation.clear();
  m_conversationId = ConversationStore::newId();
  emit conversationIdChanged();
  QMetaObject::invokeMethod(m_worker, [w = m_worker] { w->resetConversation(); }, Qt::QueuedConnection);
}

bool ChatController::openConversation(const QString& id) {
  if (!m_store || m_store->messages(id).isEmpty()) return false;
  if (m_state == Generating) stop();
  saveConversation();
  m_conversation.fromJson(m_store->messages(id));
  m_conversationId = id;
  emit conversationIdChanged();
  return true;
}

void ChatController::restoreLatestConversation() {
  if (!m_store || m_store->latestId().isEmpty()) return;
  m_conversation.fromJson(m_store->messages(m_store->latestId()));
  m_conversationId = m_store->latestId();
  emit conversationIdChanged();
}

void ChatController::switchModel(const QString& path) {
  if (path.isEmpty()) return;
  setError({});
  switch (m_state) {
    case Generating:
      m_pendingSwitch = path;
      stop();
      return;
    case Stopping:
      m_pendingSwitch = path;
      return;
    case Loading:
      // Supersede the load in progress: it stops at its next progress report and its result is ignored.
      m_worker->cancelLoad(m_loadId);
      startLoad(path);
      return;
    case Idle:
    case Ready:
      m_restorePath = m_model.path;
      startLoad(path);
      return;
  }
}

void ChatController::startLoad(const QString& path) {
  const qint64 id = ++m_loadId;
  LoadRequest request;
  request.path = path;
  request.contextLength = m_settings ? m_settings->contextLength() : 0;
  request.memorySaver = m_settings && m_settings->memorySaver();
  m_loadingPath = path;
  emit loadingPathChanged();
  m_loadProgress = 0;
  emit loadProgressChanged();
  setState(Loading);
  QMetaObject::invokeMethod(m_worker, [w = m_worker, id, request] { w->loadModel(id, request); },
                            Qt::QueuedConnection);
}

void ChatController::cancelLoad() {
  if (m_state != Loading) return;
  m_worker->cancelLoad(m_loadId);
}

void ChatController::unloadModel() {
  if (m_state != Ready) return;
  QMetaObject::invokeMethod(m_worker, [w = m_worker] { w->unloadModel(); }, Qt::QueuedConnection);
  setState(Idle);
}

void ChatController::onLoadProgress(qint64 id, double fraction) {
  if (id != m_loadId) return;
  m_loadProgress = fraction;
  emit loadProgressChanged();
}

void ChatController::onModelUnloaded(const UnloadReport& report) {
  m_lastUnload = report;
  m_model = ModelSummary{};
  emit modelChanged();
  setNotice(tr("Freed %1 (%2 by the engine); process memory %3 → %4.")
                .arg(report.name, mib(report.engineBytes), mib(report.rssBefore), mib(report.rssAfter)));
}

void ChatController::onModelLoaded(qint64 id, const ModelSummary& summary) {
  m_model = summary;  // whatever finished is what the worker holds now, even if superseded
  emit modelChanged();
  if (id != m_loadId) return;
  m_restorePath.clear();
  m_last = ReplyStats{};
  m_last.contextLength = summary.contextLength;
  m_last.networkLatencyMs = summary.networkLatencyMs;
  m_live = ReplyStats{};
  emit statsChanged();
  if (m_settings) m_settings->setLastModel(summary.path);
  setState(Ready);
}

void ChatController::onLoadFailed(qint64 id, const QString& message, bool cancelled, bool previousModelKept) {
  if (!previousModelKept && hasModel()) {
    m_model = ModelSummary{};
    emit modelChanged();
  }
  if (id != m_loadId) return;
  if (cancelled)
    setNotice(message);
  else
    setError(message);
  const QString failedPath = m_loadingPath;
  if (previousModelKept) {
    setState(hasModel() ? Ready : Idle);
  } else if (!m_restorePath.isEmpty() && m_restorePath != failedPath) {
    const QString previous = m_restorePath;  // bring the previous model back so the chat stays usable
    m_restorePath.clear();
    startLoad(previous);
  } else {
    setState(Idle);
  }
}

void ChatController::onTextChunk(qint64 id, const QString& text) {
  if (id == m_genId) m_conversation.appendChunk(text);
}

void ChatController::onLiveStats(qint64 id, const ReplyStats& stats) {
  if (id != m_genId) return;
  m_live = stats;
  emit statsChanged();
}

void ChatController::onGenerationFinished(qint64 id, const ReplyStats& stats) {
  if (id != m_genId) return;
  m_last = stats;
  m_live.decodeTokS = 0;
  m_live.contextLength = 0;  // the finished numbers supersede the live ones from here on
  m_model.memoryBytes = stats.memoryBytes;
  emit modelChanged();
  emit statsChanged();
  QLocale locale;
  QString summary = tr("%n token(s)", nullptr, stats.generatedTokens) + QStringLiteral(" · ") +
                    tr("%1 tok/s").arg(locale.toString(stats.decodeTokS, 'f', 1));
  if (stats.stopReason == QLatin1String("cancelled")) summary += QStringLiteral(" · ") + tr("stopped");
  m_conversation.finishAssistant(summary);
  setState(Ready);
  emit replyFinished();
  if (!m_pendingSwitch.isEmpty()) {
    const QString path = m_pendingSwitch;
    m_pendingSwitch.clear();
    switchModel(path);
  }
}

void ChatController::onGenerationFailed(qint64 id, const QString& message) {
  if (id != m_genId) return;
  m_conversation.failAssistant(message);
  setError(message);
  setState(hasModel() ? Ready : Idle);
  emit replyFinished();
  if (!m_pendingSwitch.isEmpty()) {
    const QString path = m_pendingSwitch;
    m_pendingSwitch.clear();
    switchModel(path);
  }
}

bool ChatController::modelBuiltIn() const { return ModelCatalog::isBuiltInPath(m_model.path); }
