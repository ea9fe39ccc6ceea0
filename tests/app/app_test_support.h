// What the app's tests share: the one way to find fixtures, and real (tiny) model folders made on the spot.
#pragma once

#include <QString>
#include <functional>
#include <memory>

#include "jetchat_app.h"

class QQmlApplicationEngine;
class QQuickItem;
class QQuickWindow;

namespace apptest {

// Absolute path of `relative` under the fixtures folder: $FIXTURES if set, else the folder CMake was given.
QString fixture(const QString& relative);
// Folder for this test's artefacts (screenshots) inside the build tree.
QString outputDir();
// Writes a random-weight Llama model with the fixture SentencePiece tokenizer; hidden/layers pick its size
// (64/2 decodes in microseconds, 512/8 at a few hundred tokens/s on a CPU core). Returns "" on failure.
QString makeRandomModel(const QString& dir, int hidden = 64, int layers = 2);
// Writes the 16-bit model directory `hfDir` as one GGUF file with 4-bit (Q4_0) linears. Returns "" on failure.
QString makeGgufModel(const QString& hfDir, const QString& file);
// Imports the llama2.c stories260K checkpoint (real trained weights) into `dir`. Returns "" on failure.
QString importStories260K(const QString& dir);

// One running app, built as main.cpp builds it: the JetChatApp, its QML engine and the window. The QML goes
// first on destruction: it binds to the app's objects.
struct RunningApp {
  std::unique_ptr<JetChatApp> app;
  std::unique_ptr<QQmlApplicationEngine> engine;
  QQuickWindow* window = nullptr;  // null when Main.qml failed to load
  ~RunningApp();
};
// Starts the app with `options`; `configure` adjusts its settings before the UI loads; then the initial model is
// asked for and the window shown (offscreen under ctest).
std::unique_ptr<RunningApp> startApp(const AppOptions& options, const std::function<void(JetChatApp&)>& configure = {});

// The item of the window's QML with this objectName, or null.
QQuickItem* findItem(QQuickWindow* window, const QString& objectName);
// Saves the window's current frame as outputDir()/name; a test failure when that does not work.
void saveScreenshot(QQuickWindow* window, const QString& name);

}  // namespace apptest
