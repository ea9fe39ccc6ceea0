// The application's object graph (settings, store, controller, catalogue, gauges, idle watch, language) and the
// loading of the main QML file. One root object is handed to Main.qml as its `app` property: no context
// properties, no singletons registered by hand.
// Thread contract: GUI thread; the controller owns the only other long-lived thread.
#pragma once

#include <QObject>
#include <QtQml/qqmlregistration.h>
#include <memory>

#include "app_options.h"
#include "app_settings.h"
#include "chat_controller.h"
#include "conversation_store.h"
#include "idle_watcher.h"
#include "inference_backend.h"
#include "model_catalog.h"
#include "system_monitor.h"
#include "ui_language.h"

class QQmlApplicationEngine;
class QQuickWindow;
class RoutingBackend;

class JetChatApp : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("owned by main()")
  Q_PROPERTY(AppSettings* settings READ settings CONSTANT)
  Q_PROPERTY(ChatController* controller READ controller CONSTANT)
  Q_PROPERTY(ModelCatalog* catalog READ catalog CONSTANT)
  Q_PROPERTY(SystemMonitor* monitor READ monitor CONSTANT)
  Q_PROPERTY(ConversationStore* store READ store CONSTANT)
  Q_PROPERTY(IdleWatcher* idle READ idle CONSTANT)
  Q_PROPERTY(UiLanguage* language READ language CONSTANT)
  Q_PROPERTY(bool kiosk READ kiosk WRITE setKiosk NOTIFY kioskChanged)
  Q_PROPERTY(bool virtualKeyboard READ virtualKeyboard CONSTANT)
  Q_PROPERTY(QString version READ version CONSTANT)

 public:
  // The main QML file, by URL (Qt 6.2–6.4 have no loadFromModule).
  static QUrl mainQmlUrl();

  // backend null = the real engine.
  explicit JetChatApp(const AppOptions& options, std::unique_ptr<InferenceBackend> backend = {},
                      QObject* parent = nullptr);
  ~JetChatApp() override;

  // Loads Main.qml into the engine with this object as its `app`; returns the window or null on QML errors.
  QQuickWindow* load(QQmlApplicationEngine& engine);
  // Loads the model asked for (--model), the last one used, or the first that fits; call once at start-up.
  void loadInitialModel();

  AppSettings* settings() { return &m_settings; }
  ChatController* controller() { return m_controller.get(); }
  ModelCatalog* catalog() { return &m_catalog; }
  SystemMonitor* monitor() { return &m_monitor; }
  ConversationStore* store() { return &m_store; }
  IdleWatcher* idle() { return &m_idle; }
  UiLanguage* language() { return &m_language; }
  bool kiosk() const { return m_kiosk; }
  void setKiosk(bool on);
  bool virtualKeyboard() const { return m_virtualKeyboard; }
  QString version() const { return QStringLiteral(JETCHAT_APP_VERSION); }

 signals:
  void kioskChanged();

 private:
  void applyKioskChrome(QQuickWindow* window);

  AppOptions m_options;
  AppSettings m_settings;
  ConversationStore m_store;
  SystemMonitor m_monitor;
  ModelCatalog m_catalog;
  IdleWatcher m_idle;
  UiLanguage m_language;
  RoutingBackend* m_routing = nullptr;  // owned by the controller's worker; null with a test backend
  std::unique_ptr<ChatController> m_controller;
  bool m_kiosk = false;
  bool m_virtualKeyboard = false;
};
