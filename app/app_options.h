// Command-line options of `jetchat` and the environment they need before the QGuiApplication exists.
// Thread contract: main thread, at start-up.
#pragma once

#include <QString>
#include <QStringList>

struct AppOptions {
  bool kiosk = false;
  QString model;            // --model DIR: load this model instead of the last one
  QStringList modelDirs;    // --models-dir DIR (repeatable): searched besides the default folders
  QString language;         // --lang en|zh_CN
  double scale = 0;         // --scale: global UI scale factor; 0 = from the settings
  QString settingsFile;     // --settings FILE.ini: another settings file (tests, several kiosks on one box)
  bool selfCheck = false;   // --self-check: load the UI and a model, stream a short reply, exit (self_check.h)

  // Before QGuiApplication: in kiosk mode (from argv or the saved setting) asks for the virtual keyboard when it is
  // installed; --self-check runs offscreen with Qt Quick's software renderer unless a platform is chosen (no
  // display, no GPU needed). --platform and other Qt options are left to QGuiApplication.
  static void prepareEnvironment(int argc, char** argv);
  // --help or --version: answered without a display (no QGuiApplication needed).
  static bool wantsHelpOnly(int argc, char** argv);
  // After QGuiApplication has taken its own options; prints help or an error and exits on bad input.
  static AppOptions parse(const QStringList& arguments);
  // Qt Virtual Keyboard's input-context plugin and QML module are both installed.
  static bool virtualKeyboardInstalled();
};
