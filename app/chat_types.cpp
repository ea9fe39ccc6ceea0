#include "chat_types.h"

void registerChatTypes() {
  // Queued connections copy arguments through QMetaType: the types must be known by name on both threads.
  qRegisterMetaType<ChatTurn>("ChatTurn");
  qRegisterMetaType<QList<ChatTurn>>("QList<ChatTurn>");
  qRegisterMetaType<GenerationSettings>("GenerationSettings");
  qRegisterMetaType<LoadRequest>("LoadRequest");
  qRegisterMetaType<ModelSummary>("ModelSummary");
  qRegisterMetaType<ReplyStats>("ReplyStats");
  qRegisterMetaType<UnloadReport>("UnloadReport");
  qRegisterMetaType<ApiSettings>("ApiSettings");
  qRegisterMetaType<ApiStatus>("ApiStatus");
}
