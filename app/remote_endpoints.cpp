#include "remote_endpoints.h"

#include <QCoreApplication>
#include <QUrl>
#include <QVariantMap>

namespace remote_endpoints {
namespace {

int indexOf(const QVariantList& list, const QString& name) {
  for (int i = 0; i < list.size(); ++i)
    if (list[i].toMap().value(QStringLiteral("name")).toString() == name) return i;
  return -1;
}

}  // namespace

QString validate(const QString& name, const QString& baseUrl, const QString& model) {
  if (name.trimmed().isEmpty()) return QCoreApplication::translate("RemoteEndpoints", "Give the server a name.");
  const QUrl url(baseUrl.trimmed(), QUrl::StrictMode);
  if (!url.isValid() || url.host().isEmpty() ||
      (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
    return QCoreApplication::translate("RemoteEndpoints", "The address must look like http://host:port/v1.");
  if (model.trimmed().isEmpty())
    return QCoreApplication::translate("RemoteEndpoints", "Name the model the server serves (its id in GET /v1/models).");
  return {};
}

QString save(QVariantList& list, const QString& previousName, const QString& name, const QString& baseUrl,
             const QString& model, const QString& apiKey) {
  if (QString error = validate(name, baseUrl, model); !error.isEmpty()) return error;
  const QString trimmedName = name.trimmed();
  const int previous = previousName.isEmpty() ? -1 : indexOf(list, previousName);
  const int clash = indexOf(list, trimmedName);
  if (clash >= 0 && clash != previous)
    return QCoreApplication::translate("RemoteEndpoints", "Another server is already called \"%1\".").arg(trimmedName);
  QVariantMap entry;
  entry.insert(QStringLiteral("name"), trimmedName);
  entry.insert(QStringLiteral("baseUrl"), baseUrl.trimmed());
  entry.insert(QStringLiteral("model"), model.trimmed());
  QString key = apiKey.trimmed();
  if (key.isEmpty() && previous >= 0) key = list[previous].toMap().value(QStringLiteral("apiKey")).toString();
  entry.insert(QStringLiteral("apiKey"), key);
  if (previous >= 0)
    list[previous] = entry;
  else
    list.append(entry);
  return {};
}

bool remove(QVariantList& list, const QString& name) {
  const int i = indexOf(list, name);
  if (i < 0) return false;
  list.removeAt(i);
  return true;
}

}  // namespace remote_endpoints
