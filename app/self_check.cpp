#include "self_check.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QGuiApplication>
#include <QLibraryInfo>
#include <QMetaEnum>
#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <cmath>
#include <cstdio>
#include <functional>

#include "jetchat_app.h"

namespace {

// Enough tokens to see the reply stream in and measure a speed, few enough for a 7 B model on a Jetson's CPU.
constexpr int kMaxTokens = 16;
// Per step: mapping a 7 B model from an SD card can take minutes; the built-in demo takes milliseconds.
constexpr int kStepTimeoutMs = 300'000;

void report(bool ok, const char* step, const QString& detail) {
  std::printf("%-4s  %-6s %s\n", ok ? "ok" : "FAIL", step, qPrintable(detail));
  std::fflush(stdout);
}

QString mib(qint64 bytes) { return QString::number(double(bytes) / (1 << 20), 'f', 1) + QStringLiteral(" MiB"); }

// Runs the event loop until done() holds, re-checked whenever the controller or the catalogue signals; false on
// timeout.
bool waitUntil(JetChatApp& app, const std::function<bool()>& done) {
  if (done()) return true;
  QEventLoop loop;
  const auto check = [&] {
    if (done()) loop.quit();
  };
  ChatController* c = app.controller();
  QObject::connect(c, &ChatController::stateChanged, &loop, check);
  QObject::connect(c, &ChatController::errorMessageChanged, &loop, check);
  QObject::connect(c, &ChatController::replyFinished, &loop, check);
  QObject::connect(app.catalog(), &ModelCatalog::refreshed, &loop, check);
  QTimer::singleShot(kStepTimeoutMs, &loop, &QEventLoop::quit);
  loop.exec();
  return done();
}

// The user's settings copied into `iniPath`, so that the configured model is used and nothing is written back.
void copySettings(const QString& from, const QString& iniPath) {
  const QSettings user = from.isEmpty() ? QSettings() : QSettings(from, QSettings::IniFormat);
  QSettings copy(iniPath, QSettings::IniFormat);
  for (const QString& key : user.allKeys()) copy.setValue(key, user.value(key));
}

bool checkQml(JetChatApp& app, QQmlApplicationEngine& engine) {
  QStringList errors;
  QObject::connect(&engine, &QQmlEngine::warnings, &engine, [&errors](const QList<QQmlError>& list) {
    for (const QQmlError& e : list) errors.append(e.toString());
  });
  QQuickWindow* window = app.load(engine);
  if (!window) {
    const QString why = errors.isEmpty() ? QStringLiteral("no root window") : errors.join(QStringLiteral("; "));
    report(false, "qml", QStringLiteral("%1 did not load: %2").arg(JetChatApp::mainQmlUrl().toString(), why));
    return false;
  }
  // A frame rendered through the scene graph: every QML type on the first screen was created and drawn.
  const QImage frame = window->grabWindow();
  if (frame.isNull()) {
    report(false, "qml", QStringLiteral("the window rendered no frame"));
    return false;
  }
  report(true, "qml", QStringLiteral("%1 loaded, %2x%3 frame rendered (%4 QML warnings)")
                          .arg(JetChatApp::mainQmlUrl().toString())
                          .arg(frame.width())
                          .arg(frame.height())
                          .arg(errors.size()));
  return true;
}

bool checkModel(JetChatApp& app) {
  ChatController* c = app.controller();
  QElapsedTimer clock;
  clock.start();
  app.loadInitialModel();
  // Nothing to load: the catalogue has been scanned and no load was started.
  const auto nothingFound = [&] { return c->state() == ChatController::Idle && !app.catalog()->scanning(); };
  waitUntil(app, [&] {
    return c->state() == ChatController::Ready || !c->errorMessage().isEmpty() || nothingFound();
  });
  if (c->state() != ChatController::Ready) {
    QString why = c->errorMessage();
    const QString folders = app.catalog()->folders().join(QStringLiteral(", "));
    if (why.isEmpty() && nothingFound())
      why = app.catalog()->count() == 0
                ? QStringLiteral("no model found in %1").arg(folders)
                : QStringLiteral("none of the %1 models in %2 fits in the %3 available")
                      .arg(app.catalog()->count())
                      .arg(folders, mib(app.monitor()->memAvailable()));
    if (why.isEmpty()) why = QStringLiteral("not loaded after %1 s").arg(kStepTimeoutMs / 1000);
    report(false, "model", why);
    return false;
  }
  report(true, "model", QStringLiteral("%1 from %2 (%3, %4%5) in %6 ms")
                            .arg(c->modelName(), c->modelPath(), c->backendName(), mib(c->modelBytes()),
                                 c->modelBuiltIn() ? QStringLiteral(", built-in demo") : QString())
                            .arg(clock.elapsed()));
  return true;
}

bool checkReply(JetChatApp& app) {
  ChatController* c = app.controller();
  ConversationModel* conversation = c->conversation();
  QObject scope;  // the connections below end with this function
  int chunks = 0;
  QObject::connect(conversation, &QAbstractItemModel::dataChanged, &scope, [&] {
    if (conversation->streaming()) ++chunks;
  });
  bool finished = false;
  QObject::connect(c, &ChatController::replyFinished, &scope, [&finished] { finished = true; });
  app.settings()->setMaxTokens(kMaxTokens);
  app.settings()->setTemperature(0);  // greedy: the same reply every run
  if (!c->send(QStringLiteral("Hello! Who are you?"))) {
    const char* state = QMetaEnum::fromType<ChatController::State>().valueToKey(c->state());
    report(false, "reply", QStringLiteral("the controller refused the message in state %1").arg(QLatin1String(state)));
    return false;
  }
  waitUntil(app, [&] { return finished; });
  const QString text = conversation->textAt(conversation->count() - 1).trimmed();
  if (!finished || !c->errorMessage().isEmpty() || text.isEmpty()) {
    report(false, "reply", !c->errorMessage().isEmpty() ? c->errorMessage()
                           : finished ? QStringLiteral("finished with no text")
                                      : QStringLiteral("no end after %1 s").arg(kStepTimeoutMs / 1000));
    return false;
  }
  report(true, "reply", QStringLiteral("%1 characters streamed in %2 updates: \"%3\"")
                            .arg(text.size())
                            .arg(chunks)
                            .arg(text.simplified().left(60)));
  return true;
}

bool checkSpeed(JetChatApp& app) {
  const ChatController* c = app.controller();
  const double decode = c->lastDecodeTokS();
  const QString detail = QStringLiteral("decode %1 tok/s, prefill %2 tok/s, first token after %3 ms")
                             .arg(decode, 0, 'f', 1)
                             .arg(c->prefillTokS(), 0, 'f', 1)
                             .arg(c->ttftMs(), 0, 'f', 0);
  const bool ok = std::isfinite(decode) && decode > 0;
  report(ok, "speed", ok ? detail : QStringLiteral("no decode speed measured (%1)").arg(detail));
  return ok;
}

}  // namespace

int SelfCheck::run(const AppOptions& options) {
  std::printf("jetchat %s self-check: Qt %s, platform %s, Qt Quick modules from %s\n", JETCHAT_APP_VERSION,
              qVersion(), qPrintable(QGuiApplication::platformName()),
              qPrintable(QLibraryInfo::path(QLibraryInfo::QmlImportsPath)));
  QTemporaryDir sandbox;
  if (!sandbox.isValid()) {
    report(false, "setup", QStringLiteral("no temporary folder: %1").arg(sandbox.errorString()));
    return 1;
  }
  AppOptions sandboxed = options;
  sandboxed.settingsFile = sandbox.filePath(QStringLiteral("settings.ini"));
  copySettings(options.settingsFile, sandboxed.settingsFile);
  // The app's API server stays off: the running kiosk may hold its port, and a check serves nobody.
  AppSettings(sandboxed.settingsFile).setApiEnabled(false);
  // Conversations are written under the data folder: point it into the sandbox, but keep searching the user's
  // model folder, which lives there too.
  sandboxed.modelDirs.prepend(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
                              QStringLiteral("/jetchat/models"));
  qputenv("XDG_DATA_HOME", QFile::encodeName(sandbox.filePath(QStringLiteral("data"))));

  JetChatApp app(sandboxed);
  QQmlApplicationEngine engine;
  const bool ok = checkQml(app, engine) && checkModel(app) && checkReply(app) && checkSpeed(app);
  std::printf("self-check %s\n", ok ? "passed" : "FAILED");
  return ok ? 0 : 1;
}
