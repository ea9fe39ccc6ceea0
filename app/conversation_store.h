// Keeps conversations across restarts in one JSON file in the user's data folder. A store that cannot be read is
// renamed aside (never deleted, never a crash) and a warning says where it went.
// Thread contract: GUI thread; files are small and written atomically (QSaveFile).
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

class ConversationStore : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("owned by the application")
  Q_PROPERTY(QVariantList conversations READ conversations NOTIFY conversationsChanged)  // newest first
  Q_PROPERTY(QString warning READ warning NOTIFY warningChanged)

 public:
  // path "" = <AppDataLocation>/conversations.json
  explicit ConversationStore(const QString& path = {}, QObject* parent = nullptr);

  QString path() const { return m_path; }
  // Reads the file; false when it was corrupt (then it is set aside and the store starts empty).
  bool load();

  QVariantList conversations() const;
  QString warning() const { return m_warning; }
  Q_INVOKABLE void dismissWarning();

  QString latestId() const;
  QJsonArray messages(const QString& id) const;
  QString title(const QString& id) const;
  // Inserts or replaces a conversation and writes the file; returns false (and sets the warning) on I/O errors.
  bool save(const QString& id, const QString& title, const QJsonArray& messages);
  Q_INVOKABLE bool remove(const QString& id);

  static QString newId();

 signals:
  void conversationsChanged();
  void warningChanged();

 private:
  int indexOf(const QString& id) const;
  bool write();
  void setWarning(const QString& text);

  QString m_path;
  QList<QJsonObject> m_items;  // newest first
  QString m_warning;
};
