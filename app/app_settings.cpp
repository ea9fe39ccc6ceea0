#include "app_settings.h"

#include "remote_endpoints.h"

AppSettings::AppSettings(const QString& iniPath, QObject* parent, const QString& systemDefaults)
    : QObject(parent),
      m_settings(iniPath.isEmpty() ? std::make_unique<QSettings>()
                                   : std::make_unique<QSettings>(iniPath, QSettings::IniFormat)),
      m_defaults(systemDefaults, QSettings::IniFormat) {}

void AppSettings::resetSampling() {
  setTemperature(0.7);
  setTopP(0.95);
  setMaxTokens(512);
}

QString AppSettings::saveRemoteEndpoint(const QString& previousName, const QString& name, const QString& baseUrl,
                                        const QString& model, const QString& apiKey) {
  QVariantList list = remoteEndpoints();
  const QString error = remote_endpoints::save(list, previousName, name, baseUrl, model, apiKey);
  if (error.isEmpty()) setRemoteEndpoints(list);
  return error;
}

bool AppSettings::removeRemoteEndpoint(const QString& name) {
  QVariantList list = remoteEndpoints();
  if (!remote_endpoints::remove(list, name)) return false;
  setRemoteEndpoints(list);
  return true;
}

QVariantMap AppSettings::remoteEndpoint(const QString& name) const {
  for (const QVariant& v : remoteEndpoints()) {
    QVariantMap m = v.toMap();
    if (m.value(QStringLiteral("name")).toString() != name) continue;
    m.insert(QStringLiteral("hasKey"), !m.take(QStringLiteral("apiKey")).toString().isEmpty());
    return m;
  }
  return {};
}
