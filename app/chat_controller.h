// The chat's state machine (idle → loading → ready → generating → stopping) between the UI and the engine worker.
// Thread contract: GUI thread. Owns the worker's thread: starts it, talks to it by queued calls and signals only,
// never waits for it except when joining it in the destructor.
#pragma once

#include <QObject>
#include <QPointer>
#include <QThread>
#include <QtQml/qqmlregistration.h>
#include <memory>

#include "chat_types.h"
#include "conversation_model.h"

class AppSettings;
class ConversationStore;
class EngineWorker;
class InferenceBackend;

class ChatController : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("owned by the application")
  Q_PROPERTY(State state READ state NOTIFY stateChanged)
  Q_PROPERTY(ConversationModel* conversation READ conversation CONSTANT)
  Q_PROPERTY(QString conversationId READ conversationId NOTIFY conversationIdChanged)
  Q_PROPERTY(bool hasModel READ hasModel NOTIFY modelChanged)
  Q_PROPERTY(QString modelName READ modelName NOTIFY modelChanged)
  Q_PROPERTY(QString modelPath READ modelPath NOTIFY modelChanged)
  // The active model is the built-in demo (a toy): the UI says so and asks for a real model.
  Q_PROPERTY(bool modelBuiltIn READ modelBuiltIn NOTIFY modelChanged)
  Q_PROPERTY(QString modelArchitecture READ modelArchitecture NOTIFY modelChanged)
  Q_PROPERTY(QString backendName READ backendName NOTIFY modelChanged)
  Q_PROPERTY(qint64 modelBytes READ modelBytes NOTIFY modelChanged)
  Q_PROPERTY(QString loadingPath READ loadingPath NOTIFY loadingPathChanged)
  Q_PROPERTY(double loadProgress READ loadProgress NOTIFY loadProgressChanged)
  Q_PROPERTY(QString errorMessage READ errorMessage NOTIFY errorMessageChanged)
  Q_PROPERTY(QString notice READ notice NOTIFY noticeChanged)
  Q_PROPERTY(double decodeTokS READ decodeTokS NOTIFY statsChanged)          // live while generating
  Q_PROPERTY(double lastDecodeTokS READ lastDecodeTokS NOTIFY statsChanged)  // the last reply's average
  Q_PROPERTY(double prefillTokS READ prefillTokS NOTIFY statsChanged)
  Q_PROPERTY(double ttftMs READ ttftMs NOTIFY statsChanged)
  Q_PROPERTY(int generatedTokens READ generatedTokens NOTIFY statsChanged)
  Q_PROPERTY(int contextUsed READ contextUsed NOTIFY statsChanged)
  Q_PROPERTY(int contextLength READ contextLength NOTIFY statsChanged)
  Q_PROPERTY(double networkLatencyMs READ networkLatencyMs NOTIFY statsChanged)  // -1: a local model
  // The built-in API server (#7): the address it serves the loaded model at ("" = off), or why it could not start.
  Q_PROPERTY(QString apiUrl READ apiUrl NOTIFY apiStatusChanged)
  Q_PROPERTY(QString apiError READ apiError NOTIFY apiStatusChanged)

 public:
  enum State { Idle, Loading, Ready, Generating, Stopping };
  Q_ENUM(State)

  // settings and store may be null (tests): then defaults are used and nothing is persisted.
  ChatController(std::unique_ptr<InferenceBackend> backend, AppSettings* settings, ConversationStore* store,
                 QObject* parent = nullptr);
  ~ChatController() override;

  State state() const { return m_state; }
  ConversationModel* conversation() { return &m_conversation; }
  QString conversationId() const { return m_conversationId; }
  bool hasModel() const { return !m_model.path.isEmpty(); }
  QString modelName() const { return m_model.name; }
  QString modelPath() const { return m_model.path; }
  bool modelBuiltIn() const;
  QString modelArchitecture() const { return m_model.architecture; }
  QString backendName() const { return m_model.backend; }
  qint64 modelBytes() const { return m_model.memoryBytes; }
  QString loadingPath() const { return m_loadingPath; }
  double loadProgress() const { return m_loadProgress; }
  QString errorMessage() const { return m_error; }
  QString notice() const { return m_notice; }
  double decodeTokS() const { return m_live.decodeTokS; }
  double lastDecodeTokS() const { return m_last.decodeTokS; }
  double prefillTokS() const { return m_last.prefillTokS; }
  double ttftMs() const { return m_state == Generating && m_live.generatedTokens > 0 ? m_live.ttftMs : m_last.ttftMs; }
  int generatedTokens() const { return m_live.generatedTokens; }
  int contextUsed() const { return liveOrLast().contextUsed; }
  int contextLength() const { return liveOrLast().contextLength; }
  double networkLatencyMs() const { return liveOrLast().networkLatencyMs; }
  QString apiUrl() const { return m_api.url; }
  QString apiError() const { return m_api.error; }
  const UnloadReport& lastUnload() const { return m_lastUnload; }

  // Sends a user message and starts the reply; false when not ready (no model, busy) or text is blank.
  Q_INVOKABLE bool send(const QString& text);
  Q_INVOKABLE void stop();
  // Replaces the last reply with a new one.
  Q_INVOKABLE bool regenerate();
  // Saves the current conversation and starts an empty one (stops a reply first).
  Q_INVOKABLE void newConversation();
  Q_INVOKABLE bool openConversation(const QString& id);
  // Loads another model; safe in any state: a reply is stopped, a load in progress is superseded.
  Q_INVOKABLE void switchModel(const QString& path);
  Q_INVOKABLE void cancelLoad();
  Q_INVOKABLE void unloadModel();
  Q_INVOKABLE void dismissError();
  Q_INVOKABLE void dismissNotice();
  // Restores the last saved conversation (at start-up).
  void restoreLatestConversation();

 signals:
  void stateChanged();
  void conversationIdChanged();
  void modelChanged();
  void loadProgressChanged();
  void loadingPathChanged();
  void errorMessageChanged();
  void noticeChanged();
  void statsChanged();
  void replyFinished();
  void apiStatusChanged();

 private:
  void setState(State s);
  void setError(const QString& text);
  void setNotice(const QString& text);
  void startLoad(const QString& path);
  void startReply();
  void saveConversation();
  GenerationSettings generationSettings() const;
  void configureApi();
  // While a reply streams, the worker's live snapshot (once one arrived); otherwise the last finished reply's.
  const ReplyStats& liveOrLast() const { return m_state == Generating && m_live.contextLength > 0 ? m_live : m_last; }

  void onLoadProgress(qint64 id, double fraction);
  void onModelUnloaded(const UnloadReport& report);
  void onModelLoaded(qint64 id, const ModelSummary& summary);
  void onLoadFailed(qint64 id, const QString& message, bool cancelled, bool previousModelKept);
  void onTextChunk(qint64 id, const QString& text);
  void onLiveStats(qint64 id, const ReplyStats& stats);
  void onGenerationFinished(qint64 id, const ReplyStats& stats);
  void onGenerationFailed(qint64 id, const QString& message);

  QThread m_thread;
  EngineWorker* m_worker = nullptr;  // lives on m_thread, deleted there when the thread finishes
  QPointer<AppSettings> m_settings;
  QPointer<ConversationStore> m_store;
  ConversationModel m_conversation;
  QString m_conversationId;

  State m_state = Idle;
  qint64 m_loadId = 0;        // the load whose results count
  qint64 m_genId = 0;         // the reply whose text counts
  QString m_loadingPath;
  QString m_restorePath;      // model to reload when a switch fails after the old one was freed
  QString m_pendingSwitch;    // model to load once the reply being stopped has ended
  double m_loadProgress = 0;
  ModelSummary m_model;
  ReplyStats m_live, m_last;
  UnloadReport m_lastUnload;
  ApiStatus m_api;
  QString m_error, m_notice;
};
