#include "conversation_model.h"

#include <QJsonObject>

#include "markdown_blocks.h"

ConversationModel::ConversationModel(QObject* parent) : QAbstractListModel(parent) {}

int ConversationModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(m_messages.size());
}

QVariant ConversationModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= m_messages.size()) return {};
  const Message& m = m_messages.at(index.row());
  switch (role) {
    case AuthorRole: return m.fromUser ? QStringLiteral("user") : QStringLiteral("assistant");
    case Qt::DisplayRole:
    case TextRole: return m.text;
    case StreamingRole: return m.streaming;
    case StableTextRole: return m.stable;
    case TailTextRole: return m.tail;
    case BlocksRole: return m.blocks;
    case StatsRole: return m.stats;
    case FailedRole: return m.failed;
  }
  return {};
}

QHash<int, QByteArray> ConversationModel::roleNames() const {
  return {{AuthorRole, "author"},     {TextRole, "text"},     {StreamingRole, "streaming"},
          {StableTextRole, "stableText"}, {TailTextRole, "tailText"}, {BlocksRole, "blocks"},
          {StatsRole, "stats"},       {FailedRole, "failed"}};
}

void ConversationModel::refreshSplit(Message& m) {
  if (m.streaming) {
    auto s = MarkdownBlocks::splitStreaming(m.text);
    m.stable = s.stable;
    m.tail = s.tail;
    m.blocks.clear();
  } else {
    m.stable.clear();
    m.tail.clear();
    m.blocks = m.fromUser ? QVariantList{} : MarkdownBlocks::split(m.text);
  }
}

void ConversationModel::changedLast(const QList<int>& roles) {
  const QModelIndex last = index(int(m_messages.size()) - 1);
  emit dataChanged(last, last, roles);
}

void ConversationModel::appendUser(const QString& text) {
  beginInsertRows({}, int(m_messages.size()), int(m_messages.size()));
  Message m;
  m.fromUser = true;
  m.text = text;
  m_messages.append(m);
  endInsertRows();
  emit countChanged();
  emit committed();
}

void ConversationModel::beginAssistant() {
  beginInsertRows({}, int(m_messages.size()), int(m_messages.size()));
  Message m;
  m.streaming = true;
  m_messages.append(m);
  endInsertRows();
  emit countChanged();
  emit streamingChanged();
}

void ConversationModel::appendChunk(const QString& text) {
  if (m_messages.isEmpty() || !m_messages.last().streaming || text.isEmpty()) return;
  Message& m = m_messages.last();
  const QString oldStable = m.stable;
  m.text += text;
  refreshSplit(m);
  // The Markdown part is re-rendered only when a block completed; the plain tail changes with every chunk.
  if (m.stable != oldStable)
    changedLast({TextRole, StableTextRole, TailTextRole});
  else
    changedLast({TextRole, TailTextRole});
}

void ConversationModel::finishAssistant(const QString& stats) {
  if (m_messages.isEmpty() || !m_messages.last().streaming) return;
  Message& m = m_messages.last();
  m.streaming = false;
  m.stats = stats;
  refreshSplit(m);
  changedLast({StreamingRole, StableTextRole, TailTextRole, BlocksRole, StatsRole});
  emit streamingChanged();
  emit committed();
}

void ConversationModel::failAssistant(const QString& message) {
  if (m_messages.isEmpty() || !m_messages.last().streaming) return;
  Message& m = m_messages.last();
  m.streaming = false;
  m.failed = true;
  m.stats = message;
  refreshSplit(m);
  changedLast({StreamingRole, StableTextRole, TailTextRole, BlocksRole, StatsRole, FailedRole});
  emit streamingChanged();
  emit committed();
}

bool ConversationModel::removeLastAssistant() {
  if (m_messages.isEmpty() || m_messages.last().fromUser) return false;
  const bool wasStreaming = m_messages.last().streaming;
  const int row = int(m_messages.size()) - 1;
  beginRemoveRows({}, row, row);
  m_messages.removeLast();
  endRemoveRows();
  emit countChanged();
  if (wasStreaming) emit streamingChanged();
  return true;
}

void ConversationModel::clear() {
  const bool wasStreaming = streaming();
  beginResetModel();
  m_messages.clear();
  endResetModel();
  emit countChanged();
  if (wasStreaming) emit streamingChanged();
}

QString ConversationModel::textAt(int row) const {
  return row >= 0 && row < m_messages.size() ? m_messages.at(row).text : QString();
}

QString ConversationModel::authorAt(int row) const {
  return data(index(row), AuthorRole).toString();
}

QList<ChatTurn> ConversationModel::turns() const {
  QList<ChatTurn> out;
  for (const Message& m : m_messages) {
    if (m.streaming || m.failed) continue;
    out.append({m.fromUser ? 1 : 2, m.text});
  }
  return out;
}

QString ConversationModel::title() const {
  for (const Message& m : m_messages) {
    if (!m.fromUser) continue;
    const QString line = m.text.simplified();
    return line.size() > 60 ? line.left(57) + QStringLiteral("...") : line;
  }
  return {};
}

QJsonArray ConversationModel::toJson() const {
  QJsonArray out;
  for (const Message& m : m_messages) {
    QJsonObject o{{QStringLiteral("author"), m.fromUser ? QStringLiteral("user") : QStringLiteral("assistant")},
                  {QStringLiteral("text"), m.text}};
    if (!m.stats.isEmpty()) o.insert(QStringLiteral("stats"), m.stats);
    if (m.failed) o.insert(QStringLiteral("failed"), true);
    out.append(o);
  }
  return out;
}

void ConversationModel::fromJson(const QJsonArray& messages) {
  const bool wasStreaming = streaming();
  beginResetModel();
  m_messages.clear();
  for (const QJsonValue& v : messages) {
    const QJsonObject o = v.toObject();
    Message m;
    m.fromUser = o.value(QStringLiteral("author")).toString() == QLatin1String("user");
    m.text = o.value(QStringLiteral("text")).toString();
    m.stats = o.value(QStringLiteral("stats")).toString();
    m.failed = o.value(QStringLiteral("failed")).toBool();
    refreshSplit(m);
    m_messages.append(m);
  }
  endResetModel();
  emit countChanged();
  if (wasStreaming) emit streamingChanged();
}
