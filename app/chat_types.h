// Small value types that cross between the GUI thread and the engine worker by queued signals (copied, never shared).
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>

// One message of a conversation. role follows jetchat::Role: 0 system, 1 user, 2 assistant.
struct ChatTurn {
  int role = 1;
  QString text;
  bool operator==(const ChatTurn&) const = default;
};

struct GenerationSettings {
  QString systemPrompt;   // "" = the chat template's default
  double temperature = 0.7;
  double topP = 0.95;
  int maxTokens = 512;
};

struct LoadRequest {
  QString path;
  int contextLength = 0;  // 0: the engine's default, min(model's max, 4096)
  int threads = 0;        // 0: all cores
  bool memorySaver = false;  // int8 KV cache, 8-bit head where smaller (memory_saver.h); the memory check counts them
};

// What the GUI shows about the loaded model.
struct ModelSummary {
  QString path;
  QString name;
  QString architecture;
  QString dtype;
  QString backend;
  qint64 parameters = 0;
  int contextLength = 0;
  qint64 memoryBytes = 0;  // jetchat::MemoryUsage::total() right after load
  double networkLatencyMs = -1;  // remote endpoints: the round trip of the load's check
};

// Progress of a reply while it streams (approximate: pieces counted as tokens) and its final numbers.
struct ReplyStats {
  int promptTokens = 0;
  int cachedTokens = 0;
  int generatedTokens = 0;
  double ttftMs = 0;
  double prefillTokS = 0;
  double decodeTokS = 0;
  int contextUsed = 0;
  int contextLength = 0;
  qint64 memoryBytes = 0;
  double networkLatencyMs = -1;  // remote endpoints only
  QString stopReason;
};

// The built-in API server's settings (#7), as the worker needs them.
struct ApiSettings {
  bool enabled = false;
  bool lan = false;  // listen on every interface instead of loopback
  int port = 8080;   // 0: any free port
  QString apiKey;
};

// What the built-in API server is doing: serving at url, or why it is not (error), or off (both empty).
struct ApiStatus {
  QString url;
  QString error;
};

// Why the previous model went away and whether its memory came back.
struct UnloadReport {
  QString name;
  qint64 engineBytes = 0;  // jetchat::MemoryUsage::total() before freeing
  qint64 rssBefore = 0;    // VmRSS of this process before and after
  qint64 rssAfter = 0;
};

Q_DECLARE_METATYPE(ChatTurn)
Q_DECLARE_METATYPE(GenerationSettings)
Q_DECLARE_METATYPE(LoadRequest)
Q_DECLARE_METATYPE(ModelSummary)
Q_DECLARE_METATYPE(ReplyStats)
Q_DECLARE_METATYPE(UnloadReport)
Q_DECLARE_METATYPE(ApiSettings)
Q_DECLARE_METATYPE(ApiStatus)

// The context the app loads a model with: the requested length capped at the model's maximum; 0 asks for the
// engine's default, min(model's max, 4096).
inline int effectiveContext(int maxContext, int requested) {
  const int max = maxContext > 0 ? maxContext : 4096;
  return requested > 0 ? (requested < max ? requested : max) : (max < 4096 ? max : 4096);
}

// Registers the types above for queued connections; idempotent.
void registerChatTypes();
