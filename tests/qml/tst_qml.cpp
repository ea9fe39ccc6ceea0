// Qt Quick Test runner: injects a JetChatApp whose engine is the scripted FakeBackend, as the singleton
// JetChat.Testing/TestApp, so the components run against the real controller, catalogue and settings.
#include <QQmlEngine>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuickTest>

#include "fake_backend.h"
#include "jetchat_app.h"

Q_IMPORT_QML_PLUGIN(JetChatPlugin)
Q_IMPORT_QML_PLUGIN(JetChatCorePlugin)
Q_IMPORT_QML_PLUGIN(JetChatThemePlugin)

class Setup : public QObject {
  Q_OBJECT

 public slots:
  void applicationAvailable() {
    QStandardPaths::setTestModeEnabled(true);
    auto script = std::make_shared<FakeScript>();
    script->models.insert(QStringLiteral("/fake/small"), {});
    // Replies long enough (~0.4 s) to see the Stop button and the live gauges.
    script->replyPieces = QStringList(80, QStringLiteral("word "));
    script->pieceDelayMs = 5;
    AppOptions options;
    options.settingsFile = m_dir.filePath(QStringLiteral("settings.ini"));
    options.modelDirs = {m_dir.path()};
    options.language = QStringLiteral("en");
    m_app = std::make_unique<JetChatApp>(options, std::make_unique<FakeBackend>(script));
    qmlRegisterSingletonInstance("JetChat.Testing", 1, 0, "TestApp", m_app.get());
  }

  void qmlEngineAvailable(QQmlEngine* engine) {
    // The app's modules live under qrc:/qt/qml, the default import path only from Qt 6.5.
    engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
    m_app->language()->setEngine(engine);  // a language switch retranslates this test file's bindings
  }

  void cleanupTestCase() { m_app.reset(); }

 private:
  QTemporaryDir m_dir;
  std::unique_ptr<JetChatApp> m_app;
};

QUICK_TEST_MAIN_WITH_SETUP(jetchat_qml, Setup)
#include "tst_qml.moc"
