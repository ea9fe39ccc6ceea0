// Runs the engine on its own long-lived thread: loads, frees and generates, reporting back by queued signals only.
// Thread contract: lives on the worker thread; its slots are invoked queued from the GUI thread. stopGeneration()
// and cancelLoad() are the only direct calls from other threads (atomics, no waiting). It never touches a
// QML-bound model: it sends text and numbers, the controller applies them on the GUI thread.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <atomic>
#include <memory>

#include "chat_types.h"
#include "inference_backend.h"

class EngineWorker : public QObject {
  Q_OBJECT

 public:
  // Streamed text reaches the GUI at most this often (about 20 updates per second).
  static constexpr int kTextIntervalMs = 50;

  explicit EngineWorker(std::unique_ptr<InferenceBackend> backend, QObject* parent = nullptr);
  ~EngineWorker() override;

  // Any thread: the generation with this id (and earlier ones) stops before its next token.
  void stopGeneration(qint64 upToId);
  // Any thread: the load with this id (and earlier ones) stops at its next progress report.
  void cancelLoad(qint64 upToId);

 public slots:
  // Probes the model, refuses it when it would not fit (counting the current model's memory as reclaimable),
  // else frees the current model, confirms what came back, and loads the new one.
  void loadModel(qint64 id, const LoadRequest& request);
  void unloadModel();
  void generate(qint64 id, const QList<ChatTurn>& turns, const GenerationSettings& settings);
  void resetConversation();
  // Starts, restarts or stops the built-in API server over the loaded model.
  void configureApi(const ApiSettings& settings);

 signals:
  void loadProgress(qint64 id, double fraction);
  // The old model was freed (the new one is about to load).
  void modelUnloaded(const UnloadReport& report);
  void modelLoaded(qint64 id, const ModelSummary& summary);
  // refused: nothing was freed, the previous model (if any) is still loaded.
  void loadFailed(qint64 id, const QString& message, bool cancelled, bool previousModelKept);
  void textChunk(qint64 id, const QString& text);
  void liveStats(qint64 id, const ReplyStats& stats);
  void generationFinished(qint64 id, const ReplyStats& stats);
  void generationFailed(qint64 id, const QString& message);
  void apiStatusChanged(const ApiStatus& status);

 private:
  ReplyStats statsSnapshot() const;
  void reportApiStatus();

  std::unique_ptr<InferenceBackend> m_backend;
  std::atomic<qint64> m_stopUpTo{0};
  std::atomic<qint64> m_cancelLoadUpTo{0};
  std::string m_systemPrompt;
};
