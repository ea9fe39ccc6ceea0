#include "conversation_store.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>
#include <QUuid>

namespace {
constexpr int kFormatVersion = 1;
const QString kId = QStringLiteral("id");
const QString kTitle = QStringLiteral("title");
const QString kUpdated = QStringLiteral("updated");
const QString kMessages = QStringLiteral("messages");
}  // namespace

ConversationStore::ConversationStore(const QString& path, QObject* parent)
    : QObject(parent),
      m_path(path.isEmpty()
                 ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/conversations.json")
                 : path) {}

bool ConversationStore::load() {
  m_items.clear();
  QFile file(m_path);
  if (!file.exists()) {
    emit conversationsChanged();
    return true;
  }
  QString problem;
  QJsonParseError error{};
  QJsonDocument doc;
  if (!file.open(QIODevice::ReadOnly)) {
    problem = file.errorString();
  } else {
    doc = QJsonDocument::fromJson(file.readAll(), &error);
    file.close();
    if (error.error != QJsonParseError::NoError)
      problem = error.errorString();
    else if (!doc.isObject() || !doc.object().value(QStringLiteral("conversations")).isArray())
      problem = tr("not a conversation store");
    else if (doc.object().value(QStringLiteral("version")).toInt() > kFormatVersion)
      problem = tr("written by a newer version");
  }
  if (!problem.isEmpty()) {
    const QString aside = m_path + QStringLiteral(".corrupt-") +
                          QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    const bool moved = QFile::rename(m_path, aside);
    setWarning(moved ? tr("The saved conversations could not be read (%1) and were moved to %2.").arg(problem, aside)
                     : tr("The saved conversations could not be read (%1).").arg(problem));
    emit conversationsChanged();
    return false;
  }
  for (const QJsonValue& v : doc.object().value(QStringLiteral("conversations")).toArray()) {
    const QJsonObject o = v.toObject();
    if (o.value(kId).toString().isEmpty() || !o.value(kMessages).isArray()) continue;
    m_items.append(o);
  }
  std::stable_sort(m_items.begin(), m_items.end(), [](const QJsonObject& a, const QJsonObject& b) {
    return a.value(kUpdated).toString() > b.value(kUpdated).toString();
  });
  emit conversationsChanged();
  return true;
}

QVariantList ConversationStore::conversations() const {
  QVariantList out;
  for (const QJsonObject& o : m_items) {
    out.append(QVariantMap{{kId, o.value(kId).toString()},
                           {kTitle, o.value(kTitle).toString()},
                           {kUpdated, o.value(kUpdated).toString()},
                           {QStringLiteral("messageCount"), o.value(kMessages).toArray().size()}});
  }
  return out;
}

void ConversationStore::dismissWarning() { setWarning({}); }

void ConversationStore::setWarning(const QString& text) {
  if (text == m_warning) return;
  m_warning = text;
  emit warningChanged();
}

int ConversationStore::indexOf(const QString& id) const {
  for (int i = 0; i < m_items.size(); ++i)
    if (m_items[i].value(kId).toString() == id) return i;
  return -1;
}

QString ConversationStore::latestId() const { return m_items.isEmpty() ? QString() : m_items.first().value(kId).toString(); }

QJsonArray ConversationStore::messages(const QString& id) const {
  const int i = indexOf(id);
  return i < 0 ? QJsonArray() : m_items[i].value(kMessages).toArray();
}

QString ConversationStore::title(const QString& id) const {
  const int i = indexOf(id);
  return i < 0 ? QString() : m_items[i].value(kTitle).toString();
}

bool ConversationStore::save(const QString& id, const QString& title, const QJsonArray& messages) {
  const int i = indexOf(id);
  if (i >= 0) m_items.removeAt(i);
  m_items.prepend(QJsonObject{{kId, id},
                              {kTitle, title},
                              {kUpdated, QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
                              {kMessages, messages}});
  emit conversationsChanged();
  return write();
}

bool ConversationStore::remove(const QString& id) {
  const int i = indexOf(id);
  if (i < 0) return false;
  m_items.removeAt(i);
  emit conversationsChanged();
  return write();
}

QString ConversationStore::newId() { return QUuid::createUuid().toString(QUuid::WithoutBraces); }

bool ConversationStore::write() {
  QDir().mkpath(QFileInfo(m_path).absolutePath());
  QJsonArray items;
  for (const QJsonObject& o : m_items) items.append(o);
  QSaveFile file(m_path);
  if (!file.open(QIODevice::WriteOnly)) {
    setWarning(tr("Cannot save conversations to %1: %2").arg(m_path, file.errorString()));
    return false;
  }
  file.write(QJsonDocument(QJsonObject{{QStringLiteral("version"), kFormatVersion},
                                       {QStringLiteral("conversations"), items}})
                 .toJson(QJsonDocument::Compact));
  if (!file.commit()) {
    setWarning(tr("Cannot save conversations to %1: %2").arg(m_path, file.errorString()));
    return false;
  }
  return true;
}
