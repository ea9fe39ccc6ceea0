// jetchat: an offline LLM chat for robots and kiosks. Options: --kiosk, --model DIR, --lang, --scale, --platform,
// --self-check (see jetchat --help).
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>

#include "jetchat_app.h"
#include "self_check.h"

Q_IMPORT_QML_PLUGIN(JetChatPlugin)
Q_IMPORT_QML_PLUGIN(JetChatCorePlugin)
Q_IMPORT_QML_PLUGIN(JetChatThemePlugin)

int main(int argc, char* argv[]) {
  QCoreApplication::setOrganizationName(QStringLiteral("jetchat"));
  QCoreApplication::setApplicationName(QStringLiteral("jetchat"));
  QCoreApplication::setApplicationVersion(QStringLiteral(JETCHAT_APP_VERSION));
  if (AppOptions::wantsHelpOnly(argc, argv)) {
    QCoreApplication app(argc, argv);
    AppOptions::parse(app.arguments());  // prints and exits
  }
  AppOptions::prepareEnvironment(argc, argv);
  QGuiApplication app(argc, argv);

  const AppOptions options = AppOptions::parse(app.arguments());
  if (options.selfCheck) return SelfCheck::run(options);
  JetChatApp jetchat(options);
  QQmlApplicationEngine engine;
  if (!jetchat.load(engine)) return 1;
  jetchat.loadInitialModel();
  return app.exec();
}
