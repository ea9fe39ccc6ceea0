// A scripted InferenceBackend for driving the real worker and controller in tests: models are described in a
// FakeScript (sizes, probe errors, load failures), loads report progress in steps, replies stream fixed pieces.
// Thread contract: configure the script before the worker uses it; the backend then runs on the worker thread,
// cancel() from any thread. Counters are atomics so tests may read them from the GUI thread.
#pragma once

#include <QHash>
#include <QStringList>
#include <atomic>
#include <memory>

#include "inference_backend.h"

struct FakeScript {
  struct Model {
    int64_t weightBytes = 100 << 20;
    int64_t kvBytesPerToken = 1024;
    int maxContext = 4096;
    QString probeError;  // non-empty: probe fails (a corrupt model directory)
    QString loadError;   // non-empty: probe passes, the load fails after the old model was freed
    int64_t kvInt8BytesPerToken = 288;  // with an int8 cache (the memory saver)
    int64_t q8HeadWeightBytes = 0;      // weights with an 8-bit head; 0: none possible
  };
  QHash<QString, Model> models;  // by path
  int64_t availableMemory = int64_t(4) << 30;
  int loadSteps = 10;
  int loadStepMs = 5;
  QStringList replyPieces = {QStringLiteral("Hello"), QStringLiteral(", "), QStringLiteral("world"), QStringLiteral("!")};
  int pieceDelayMs = 1;

  std::atomic<int> loads{0};         // loads that completed
  std::atomic<int> unloads{0};
  std::atomic<int> chats{0};
  std::atomic<int> resets{0};
  std::atomic<int> lastSentMessages{0};  // messages passed to the last chat() (1 = only the new turn)
  std::atomic<bool> loaded{false};
  std::atomic<jetchat::KvCacheType> lastKvCache{jetchat::KvCacheType::kAuto};  // of the last load() call
  std::atomic<jetchat::HeadType> lastHead{jetchat::HeadType::kAuto};
};

class FakeBackend final : public InferenceBackend {
 public:
  explicit FakeBackend(std::shared_ptr<FakeScript> script) : m_script(std::move(script)) {}

  jetchat::Result<jetchat::ModelInfo> probe(const std::string& dir) override;
  int64_t availableMemory() override { return m_script->availableMemory; }
  int64_t residentMemory() override { return (50 << 20) + (m_loaded ? m_info.weight_bytes : 0); }
  jetchat::Status load(const std::string& dir, const jetchat::LoadParams& params) override;
  void unload() override;
  bool isLoaded() const override { return m_loaded; }
  jetchat::ModelInfo info() const override { return m_info; }
  std::string backendName() const override { return "fake"; }
  jetchat::MemoryUsage memory() const override;
  const std::vector<jetchat::Message>& history() const override { return m_history; }
  void setSystemPrompt(const std::string& text) override { m_systemPrompt = text; }
  void reset() override;
  jetchat::Result<jetchat::Generation> chat(const std::vector<jetchat::Message>& messages,
                                            const jetchat::GenerateParams& params,
                                            const jetchat::PieceCallback& onPiece) override;
  void cancel() override { m_cancel = true; }
  int contextUsed() const override { return m_contextUsed; }
  int contextLength() const override { return m_context; }

 private:
  std::shared_ptr<FakeScript> m_script;
  bool m_loaded = false;
  jetchat::ModelInfo m_info;
  int m_context = 0;
  int m_contextUsed = 0;
  std::string m_systemPrompt;
  std::vector<jetchat::Message> m_history;
  std::atomic<bool> m_cancel{false};
};
