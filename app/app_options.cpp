#include "app_options.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QSettings>
#include <cstring>

bool AppOptions::virtualKeyboardInstalled() {
  const QString plugins = QLibraryInfo::path(QLibraryInfo::PluginsPath);
  const QString qml = QLibraryInfo::path(QLibraryInfo::QmlImportsPath);
  const QDir contexts(plugins + QStringLiteral("/platforminputcontexts"));
  const bool plugin = !contexts.entryList({QStringLiteral("*qtvirtualkeyboard*")}, QDir::Files).isEmpty();
  return plugin && QFileInfo::exists(qml + QStringLiteral("/QtQuick/VirtualKeyboard/qmldir"));
}

bool AppOptions::wantsHelpOnly(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    for (const char* flag : {"--help", "-h", "--help-all", "--version", "-v"})
      if (std::strcmp(argv[i], flag) == 0) return true;
  }
  return false;
}

void AppOptions::prepareEnvironment(int argc, char** argv) {
  bool kiosk = false, selfCheck = false, platform = false;
  QString settingsFile;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--kiosk") == 0) kiosk = true;
    if (std::strcmp(argv[i], "--self-check") == 0) selfCheck = true;
    if (std::strcmp(argv[i], "--platform") == 0 || std::strcmp(argv[i], "-platform") == 0) platform = true;
    if (std::strcmp(argv[i], "--settings") == 0 && i + 1 < argc) settingsFile = QString::fromLocal8Bit(argv[i + 1]);
  }
  if (selfCheck && !platform && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    // The offscreen platform has no OpenGL context to give the default renderer.
    if (qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND")) qputenv("QT_QUICK_BACKEND", "software");
  }
  if (!kiosk) {
    const QSettings settings = settingsFile.isEmpty() ? QSettings() : QSettings(settingsFile, QSettings::IniFormat);
    kiosk = settings.value(QStringLiteral("kiosk/enabled"), false).toBool();
  }
  // The input method must be chosen before the application starts; keep one the user set explicitly.
  if (kiosk && qEnvironmentVariableIsEmpty("QT_IM_MODULE") && virtualKeyboardInstalled())
    qputenv("QT_IM_MODULE", "qtvirtualkeyboard");
}

AppOptions AppOptions::parse(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QCoreApplication::translate(
      "AppOptions", "JetChat: an offline LLM assistant. Qt options such as --platform are accepted too."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption kiosk(QStringLiteral("kiosk"),
                                 QCoreApplication::translate("AppOptions", "Full screen, no way out from the UI."));
  const QCommandLineOption model(QStringLiteral("model"), QCoreApplication::translate("AppOptions", "Model folder to load."),
                                 QStringLiteral("DIR"));
  const QCommandLineOption modelsDir(QStringLiteral("models-dir"),
                                     QCoreApplication::translate("AppOptions", "Another folder of models (repeatable)."),
                                     QStringLiteral("DIR"));
  const QCommandLineOption lang(QStringLiteral("lang"), QCoreApplication::translate("AppOptions", "UI language: en or zh_CN."),
                                QStringLiteral("CODE"));
  const QCommandLineOption scale(QStringLiteral("scale"),
                                 QCoreApplication::translate("AppOptions", "Global UI scale factor, e.g. 1.5."),
                                 QStringLiteral("FACTOR"));
  const QCommandLineOption settings(QStringLiteral("settings"),
                                    QCoreApplication::translate("AppOptions", "Settings file to use instead of the default."),
                                    QStringLiteral("FILE"));
  const QCommandLineOption selfCheck(
      QStringLiteral("self-check"),
      QCoreApplication::translate("AppOptions",
                                  "Check the installation and exit: load the UI (offscreen unless --platform is "
                                  "given) and the model, stream a short reply, print one line per step; exit "
                                  "status 0 when every step passed. Settings and conversations are left untouched."));
  parser.addOptions({kiosk, model, modelsDir, lang, scale, settings, selfCheck});
  parser.process(arguments);

  AppOptions o;
  o.kiosk = parser.isSet(kiosk);
  o.model = parser.value(model);
  o.modelDirs = parser.values(modelsDir);
  o.language = parser.value(lang);
  o.scale = parser.value(scale).toDouble();
  o.settingsFile = parser.value(settings);
  o.selfCheck = parser.isSet(selfCheck);
  return o;
}
