#include "app_settings.h"

AppSettings::AppSettings(const QString& iniPath, QObject* parent)
    : QObject(parent),
      m_settings(iniPath.isEmpty() ? std::make_unique<QSettings>()
                                   : std::make_unique<QSettings>(iniPath, QSettings::IniFormat)) {}

void AppSettings::resetSampling() {
  setTemperature(0.7);
  setTopP(0.95);
  setMaxTokens(512);
}
