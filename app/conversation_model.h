// The messages of the conversation on screen, as a list model for the chat view.
// Thread contract: GUI thread only. The engine worker never sees it; the controller applies the worker's text.
#pragma once

#include <QAbstractListModel>
#include <QDateTime>
#include <QJsonArray>
#include <QtQml/qqmlregistration.h>

#include "chat_types.h"

class ConversationModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(int count READ count NOTIFY countChanged)
  Q_PROPERTY(bool streaming READ streaming NOTIFY streamingChanged)

 public:
  enum Roles {
    AuthorRole = Qt::UserRole + 1,  // "user" or "assistant"
    TextRole,
    StreamingRole,
    StableTextRole,  // streaming only: complete blocks, rendered as Markdown
    TailTextRole,    // streaming only: the block being written, rendered as plain text
    BlocksRole,      // finished only: MarkdownBlocks::split(text)
    StatsRole,       // e.g. "128 tokens · 14.2 tok/s"
    FailedRole,
  };
  Q_ENUM(Roles)

  explicit ConversationModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  int count() const { return int(m_messages.size()); }
  bool streaming() const { return !m_messages.isEmpty() && m_messages.last().streaming; }

  Q_INVOKABLE void appendUser(const QString& text);
  Q_INVOKABLE void beginAssistant();
  // Appends streamed text to the assistant message being written.
  Q_INVOKABLE void appendChunk(const QString& text);
  Q_INVOKABLE void finishAssistant(const QString& stats);
  Q_INVOKABLE void failAssistant(const QString& message);
  // Drops a trailing assistant message (for regenerate); returns whether there was one.
  Q_INVOKABLE bool removeLastAssistant();
  Q_INVOKABLE void clear();
  Q_INVOKABLE QString textAt(int row) const;
  Q_INVOKABLE QString authorAt(int row) const;

  // Finished, non-failed turns in order, for the engine.
  QList<ChatTurn> turns() const;
  // A title for the history list: the first user message, shortened.
  QString title() const;

  QJsonArray toJson() const;
  // Replaces the contents; messages that were streaming when saved come back as finished.
  void fromJson(const QJsonArray& messages);

 signals:
  void countChanged();
  void streamingChanged();
  // A message was completed (user sent, reply finished or failed): a good moment to save.
  void committed();

 private:
  struct Message {
    bool fromUser = false;
    QString text;
    bool streaming = false;
    bool failed = false;
    QString stats;
    QVariantList blocks;  // cached split of a finished message
    QString stable, tail;  // cached split of a streaming message
  };
  void refreshSplit(Message& m);
  void changedLast(const QList<int>& roles);

  QList<Message> m_messages;
};
