#include "jetchat_app.h"

#include <QDir>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickWindow>

#include "jetchat_backend.h"
#include "routing_backend.h"

QUrl JetChatApp::mainQmlUrl() { return QUrl(QStringLiteral("qrc:/qt/qml/JetChat/Main.qml")); }

JetChatApp::JetChatApp(const AppOptions& options, std::unique_ptr<InferenceBackend> backend, QObject* parent)
    : QObject(parent),
      m_options(options),
      m_settings(options.settingsFile),
      m_virtualKeyboard(!qgetenv("QT_IM_MODULE").isEmpty() && AppOptions::virtualKeyboardInstalled()) {
  if (!backend) {
    auto routing = std::make_unique<RoutingBackend>(std::make_unique<JetchatBackend>());
    m_routing = routing.get();
    backend = std::move(routing);
  }
  m_controller = std::make_unique<ChatController>(std::move(backend), &m_settings, &m_store);
  const auto updateRemote = [this] {
    const QVariantList endpoints = m_settings.remoteEndpoints();
    m_catalog.setRemoteEndpoints(endpoints);
    if (!m_routing) return;
    QList<RoutingBackend::Named> named;
    for (const QVariant& v : endpoints) {
      const QVariantMap m = v.toMap();
      RoutingBackend::Named n;
      n.name = m.value(QStringLiteral("name")).toString();
      n.endpoint.baseUrl = QUrl(m.value(QStringLiteral("baseUrl")).toString());
      n.endpoint.model = m.value(QStringLiteral("model")).toString();
      n.endpoint.apiKey = m.value(QStringLiteral("apiKey")).toString();
      named.append(n);
    }
    m_routing->setEndpoints(named);
  };
  connect(&m_settings, &AppSettings::remoteEndpointsChanged, this, updateRemote);
  updateRemote();
  m_kiosk = options.kiosk || m_settings.kiosk();
  if (options.scale > 0) m_settings.setScale(options.scale);

  m_language.setLanguage(options.language.isEmpty() ? m_settings.language() : options.language);
  connect(&m_language, &UiLanguage::languageChanged, this, [this] { m_settings.setLanguage(m_language.language()); });

  m_store.load();
  // A kiosk starts on the welcome screen for the next visitor; a personal assistant picks up where it left off.
  if (!m_kiosk) m_controller->restoreLatestConversation();

  const auto updateFolders = [this] { m_catalog.setFolders(m_options.modelDirs + m_settings.extraModelDirs() + ModelCatalog::defaultFolders()); };
  connect(&m_settings, &AppSettings::extraModelDirsChanged, this, updateFolders);
  m_catalog.setContextLength(m_settings.contextLength());
  connect(&m_settings, &AppSettings::contextLengthChanged, this,
          [this] { m_catalog.setContextLength(m_settings.contextLength()); });
  m_catalog.setMemorySaver(m_settings.memorySaver());
  connect(&m_settings, &AppSettings::memorySaverChanged, this,
          [this] { m_catalog.setMemorySaver(m_settings.memorySaver()); });
  updateFolders();

  const auto updateIdle = [this] {
    m_idle.setTimeoutMs(m_settings.idleMinutes() * 60 * 1000);
    m_idle.setEnabled(m_kiosk);
  };
  connect(&m_settings, &AppSettings::idleMinutesChanged, this, updateIdle);
  connect(this, &JetChatApp::kioskChanged, this, updateIdle);
  updateIdle();
  // A reply streaming in is activity too: nobody wants the screen reset while reading.
  connect(m_controller.get(), &ChatController::statsChanged, &m_idle, &IdleWatcher::poke);
}

JetChatApp::~JetChatApp() = default;

void JetChatApp::setKiosk(bool on) {
  if (on == m_kiosk) return;
  m_kiosk = on;
  m_settings.setKiosk(on);
  emit kioskChanged();
}

void JetChatApp::loadInitialModel() {
  QString wanted = m_options.model;
  // The last model comes back, unless it was the built-in demo: a real model found since is better (#9).
  if (wanted.isEmpty() && m_settings.lastModel().startsWith(QStringLiteral("remote:")) &&
      m_catalog.indexOfPath(m_settings.lastModel()) >= 0) {
    m_controller->switchModel(m_settings.lastModel());
    return;
  }
  const QString last = m_settings.lastModel();
  const bool lastExists = QFileInfo::exists(last + QStringLiteral("/config.json")) ||
                          (last.endsWith(QStringLiteral(".gguf")) && QFileInfo(last).isFile());
  if (wanted.isEmpty() && lastExists && !ModelCatalog::isBuiltInPath(last))
    wanted = last;
  if (!wanted.isEmpty()) {
    m_controller->switchModel(QDir(wanted).absolutePath());
    return;
  }
  // Nothing asked for: the first model of the catalogue that fits, a real one before the built-in demo, once the
  // scan has finished.
  auto pick = [this] {
    const int row = m_catalog.preferredRow(m_monitor.memAvailable());
    if (row >= 0) m_controller->switchModel(m_catalog.get(row).value(QStringLiteral("path")).toString());
  };
  if (m_catalog.scanning())
    connect(&m_catalog, &ModelCatalog::refreshed, this, pick, Qt::SingleShotConnection);
  else
    pick();
}

QQuickWindow* JetChatApp::load(QQmlApplicationEngine& engine) {
  // The modules live under qrc:/qt/qml, the default import path only from Qt 6.5.
  engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
  m_language.setEngine(&engine);
  engine.setInitialProperties({{QStringLiteral("app"), QVariant::fromValue(this)}});
  engine.load(mainQmlUrl());
  if (engine.rootObjects().isEmpty()) return nullptr;
  auto* window = qobject_cast<QQuickWindow*>(engine.rootObjects().constFirst());
  if (window) {
    applyKioskChrome(window);
    connect(this, &JetChatApp::kioskChanged, window, [this, window] { applyKioskChrome(window); });
  }
  return window;
}

void JetChatApp::applyKioskChrome(QQuickWindow* window) {
  // Kiosk: no frame to drag or close, the whole screen, no cursor over a touch screen.
  window->setFlag(Qt::FramelessWindowHint, m_kiosk);
  if (m_kiosk) {
    window->showFullScreen();
    if (!QGuiApplication::overrideCursor()) QGuiApplication::setOverrideCursor(Qt::BlankCursor);
  } else {
    while (QGuiApplication::overrideCursor()) QGuiApplication::restoreOverrideCursor();
    if (window->visibility() == QWindow::FullScreen) window->showNormal();
  }
}
