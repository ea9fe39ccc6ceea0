// The memory saver setting: how it loads a model, shared by the worker's check before loading and the catalogue's
// estimates so that both count what the load will allocate.
#pragma once

#include "jetchat/engine.h"
#include "jetchat/params.h"

struct MemorySaverChoices {
  jetchat::KvCacheType kvCache = jetchat::KvCacheType::kAuto;
  jetchat::HeadType head = jetchat::HeadType::kAuto;
};

// Off: the engine's defaults. On: the int8 KV cache, and the 8-bit head only where it makes the weights smaller
// (a 16/32-bit head of the model's own); a tied embedding table stays beside an 8-bit copy, so there it would cost
// memory, and a hidden size the 8-bit kernels cannot take has none.
inline MemorySaverChoices memorySaverChoices(const jetchat::ModelInfo& info, bool on) {
  MemorySaverChoices c;
  if (!on) return c;
  c.kvCache = jetchat::KvCacheType::kInt8;
  if (info.q8_head_weight_bytes > 0 && info.q8_head_weight_bytes < info.weight_bytes) c.head = jetchat::HeadType::kQ8;
  return c;
}

// Weights and one session's KV cache at `context` tokens, loaded with or without the memory saver.
inline int64_t bytesNeeded(const jetchat::ModelInfo& info, int context, bool memorySaver) {
  const MemorySaverChoices c = memorySaverChoices(info, memorySaver);
  return info.bytes_needed(context, c.kvCache, c.head);
}
