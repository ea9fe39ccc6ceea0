// User settings (sampling, context, kiosk, language, model folders), persisted with QSettings. A key the user has
// not set comes from the machine's defaults (/etc/jetchat/jetchat.conf, written by the administrator or the
// package), then from the built-in default.
// Thread contract: GUI thread. The controller copies what the worker needs into GenerationSettings/LoadRequest.
#pragma once

#include <QObject>
#include <QSettings>
#include <QStringList>
#include <QtQml/qqmlregistration.h>
#include <memory>

#define JETCHAT_SETTING(Type, name, Name, key, def)                              \
 public:                                                                        \
  Type name() const {                                                           \
    return m_settings->value(QStringLiteral(key), m_defaults.value(QStringLiteral(key), def)).value<Type>(); \
  }                                                                             \
  void set##Name(const Type& v) {                                               \
    if (v == name()) return;                                                    \
    m_settings->setValue(QStringLiteral(key), v);                               \
    emit name##Changed();                                                       \
  }                                                                             \
  Q_SIGNAL void name##Changed();                                                \
                                                                                \
 private:                                                                       \
  Q_PROPERTY(Type name READ name WRITE set##Name NOTIFY name##Changed)

class AppSettings : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("owned by the application")

  JETCHAT_SETTING(QString, systemPrompt, SystemPrompt, "chat/systemPrompt", QString())
  JETCHAT_SETTING(double, temperature, Temperature, "chat/temperature", 0.7)
  JETCHAT_SETTING(double, topP, TopP, "chat/topP", 0.95)
  JETCHAT_SETTING(int, maxTokens, MaxTokens, "chat/maxTokens", 512)
  JETCHAT_SETTING(int, contextLength, ContextLength, "model/contextLength", 2048)
  // Loads models with the int8 KV cache and, where it saves memory, the 8-bit head (memory_saver.h); from the next
  // load on.
  JETCHAT_SETTING(bool, memorySaver, MemorySaver, "model/memorySaver", false)
  JETCHAT_SETTING(QString, lastModel, LastModel, "model/last", QString())
  JETCHAT_SETTING(QStringList, extraModelDirs, ExtraModelDirs, "model/extraDirs", QStringList())
  // Remote OpenAI-compatible endpoints (#7): maps of name, baseUrl, model, apiKey. The key stays here, never logged.
  JETCHAT_SETTING(QVariantList, remoteEndpoints, RemoteEndpoints, "remote/endpoints", QVariantList())
  // The built-in API server (#7): the loaded model served to other programs on the robot, loopback unless apiLan.
  JETCHAT_SETTING(bool, apiEnabled, ApiEnabled, "api/enabled", false)
  JETCHAT_SETTING(int, apiPort, ApiPort, "api/port", 8080)
  JETCHAT_SETTING(bool, apiLan, ApiLan, "api/lan", false)
  JETCHAT_SETTING(QString, apiKey, ApiKey, "api/key", QString())
  JETCHAT_SETTING(bool, kiosk, Kiosk, "kiosk/enabled", false)
  JETCHAT_SETTING(int, idleMinutes, IdleMinutes, "kiosk/idleMinutes", 3)
  JETCHAT_SETTING(QString, pin, Pin, "kiosk/pin", QStringLiteral("2580"))
  JETCHAT_SETTING(double, scale, Scale, "ui/scale", 1.0)
  JETCHAT_SETTING(QString, language, Language, "ui/language", QString())  // "" = system locale

 public:
  // iniPath "" = the platform's default location for this application's settings; systemDefaults: the
  // machine-wide defaults file (read only).
  explicit AppSettings(const QString& iniPath = {}, QObject* parent = nullptr,
                       const QString& systemDefaults = QStringLiteral(JETCHAT_SYSTEM_CONFIG));

  Q_INVOKABLE void resetSampling();

  // The remote endpoint form (#7): "" on success, else the reason to show. See remote_endpoints.h.
  Q_INVOKABLE QString saveRemoteEndpoint(const QString& previousName, const QString& name, const QString& baseUrl,
                                         const QString& model, const QString& apiKey);
  Q_INVOKABLE bool removeRemoteEndpoint(const QString& name);
  // name, baseUrl, model and hasKey of one endpoint, for editing: the key itself never goes to the UI.
  Q_INVOKABLE QVariantMap remoteEndpoint(const QString& name) const;

 private:
  std::unique_ptr<QSettings> m_settings;
  QSettings m_defaults;
};

#undef JETCHAT_SETTING
