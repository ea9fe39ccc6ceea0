#include "fake_backend.h"

#include <QFileInfo>
#include <QThread>

jetchat::Result<jetchat::ModelInfo> FakeBackend::probe(const std::string& dir) {
  const QString path = QString::fromStdString(dir);
  auto it = m_script->models.constFind(path);
  if (it == m_script->models.cend())
    return jetchat::Status(jetchat::StatusCode::kNotFound, dir + ": no config.json");
  if (!it->probeError.isEmpty())
    return jetchat::Status(jetchat::StatusCode::kInvalidFormat, it->probeError.toStdString());
  jetchat::ModelInfo info;
  info.path = dir;
  info.name = QFileInfo(path).fileName().toStdString();
  info.architecture = "FakeForCausalLM";
  info.family = "fake";
  info.dtype = "f16";
  info.parameters = it->weightBytes / 2;
  info.max_context = it->maxContext;
  info.weight_bytes = it->weightBytes;
  info.kv_bytes_per_token = it->kvBytesPerToken;
  info.kv_int8_bytes_per_token = it->kvInt8BytesPerToken;
  info.q8_head_weight_bytes = it->q8HeadWeightBytes;
  return info;
}

jetchat::Status FakeBackend::load(const std::string& dir, const jetchat::LoadParams& params) {
  unload();
  m_script->lastKvCache = params.kv_cache;
  m_script->lastHead = params.head;
  auto info = probe(dir);
  if (!info) return info.status();
  const FakeScript::Model model = m_script->models.value(QString::fromStdString(dir));
  for (int step = 1; step <= m_script->loadSteps; ++step) {
    QThread::msleep(m_script->loadStepMs);
    if (params.progress && !params.progress(float(step) / float(m_script->loadSteps)))
      return jetchat::Status(jetchat::StatusCode::kCancelled, "load cancelled");
  }
  if (!model.loadError.isEmpty()) return jetchat::Status(jetchat::StatusCode::kInvalidFormat, model.loadError.toStdString());
  m_info = *info;
  if (params.kv_cache == jetchat::KvCacheType::kInt8) m_info.kv_bytes_per_token = info->kv_int8_bytes_per_token;
  if (params.head == jetchat::HeadType::kQ8) m_info.weight_bytes = info->q8_head_weight_bytes;
  m_context = params.context_length;
  m_contextUsed = 0;
  m_history.clear();
  m_loaded = true;
  m_script->loaded = true;
  ++m_script->loads;
  return jetchat::Status::ok();
}

void FakeBackend::unload() {
  if (!m_loaded) return;
  m_loaded = false;
  m_script->loaded = false;
  m_info = {};
  m_history.clear();
  ++m_script->unloads;
}

jetchat::MemoryUsage FakeBackend::memory() const {
  jetchat::MemoryUsage m;
  if (!m_loaded) return m;
  m.weight_bytes = m_info.weight_bytes;
  m.kv_bytes = m_info.kv_bytes_per_token * m_context;
  return m;
}

void FakeBackend::reset() {
  m_history.clear();
  m_contextUsed = 0;
  ++m_script->resets;
}

jetchat::Result<jetchat::Generation> FakeBackend::chat(const std::vector<jetchat::Message>& messages,
                                                       const jetchat::GenerateParams& params,
                                                       const jetchat::PieceCallback& onPiece) {
  m_cancel = false;
  ++m_script->chats;
  m_script->lastSentMessages = int(messages.size());
  jetchat::Generation g;
  for (const auto& m : messages) {
    g.stats.prompt_tokens += int(m.content.size());
    m_history.push_back(m);
  }
  m_contextUsed += g.stats.prompt_tokens;  // like the engine's KV cache: the prompt, then one per token
  g.stats.stop_reason = "eos";
  int produced = 0;
  for (const QString& piece : m_script->replyPieces) {
    if (produced >= params.max_tokens) {
      g.stats.stop_reason = "max_tokens";
      break;
    }
    QThread::msleep(m_script->pieceDelayMs);
    if (m_cancel) {
      g.stats.stop_reason = "cancelled";
      break;
    }
    const std::string bytes = piece.toStdString();
    g.text += bytes;
    ++produced;
    ++m_contextUsed;
    if (onPiece && !onPiece(bytes)) {
      g.stats.stop_reason = "callback";
      break;
    }
  }
  g.stats.generated_tokens = produced;
  g.stats.ttft_ms = m_script->pieceDelayMs;
  g.stats.decode_tok_s = m_script->pieceDelayMs > 0 ? 1000.0 / m_script->pieceDelayMs : 1000.0;
  g.stats.prefill_tok_s = 5000;
  m_history.push_back({jetchat::Role::kAssistant, g.text});
  return g;
}
