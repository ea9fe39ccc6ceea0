#include "app_test_support.h"

#include <QDir>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QtTest>

#include "gguf_convert.h"
#include "llama2c_import.h"
#include "random_checkpoint.h"

namespace apptest {

QString fixture(const QString& relative) {
  const QByteArray env = qgetenv("FIXTURES");
  const QString root = env.isEmpty() ? QStringLiteral(JETCHAT_APP_FIXTURES_DIR) : QString::fromLocal8Bit(env);
  return QDir(root).absoluteFilePath(relative);
}

QString outputDir() {
  QDir().mkpath(QStringLiteral(JETCHAT_APP_TEST_OUTPUT_DIR));
  return QStringLiteral(JETCHAT_APP_TEST_OUTPUT_DIR);
}

QString makeRandomModel(const QString& dir, int hidden, int layers) {
  jetchat::RandomModelSpec spec;
  spec.hidden_size = hidden;
  spec.intermediate_size = hidden * 11 / 4;
  spec.layers = layers;
  spec.heads = hidden / 16;
  spec.kv_heads = hidden / 32;
  spec.tokenizer_model = fixture(QStringLiteral("llama2c-stories260K/mousetrap-tok512.model")).toStdString();
  const jetchat::Status s = jetchat::write_random_checkpoint(spec, dir.toStdString());
  if (!s) qWarning("makeRandomModel: %s", s.message().c_str());
  return s ? dir : QString();
}

QString makeGgufModel(const QString& hfDir, const QString& file) {
  const jetchat::Status s = jetchat::convert_to_gguf(hfDir.toStdString(), file.toStdString(), jetchat::GgmlType::kQ4_0);
  if (!s) qWarning("makeGgufModel: %s", s.message().c_str());
  return s ? file : QString();
}

QString importStories260K(const QString& dir) {
  const jetchat::Status s = jetchat::import_llama2c(
      fixture(QStringLiteral("llama2c-stories260K/stories260K.bin")).toStdString(), dir.toStdString(),
      fixture(QStringLiteral("llama2c-stories260K/mousetrap-tok512.model")).toStdString());
  if (!s) qWarning("importStories260K: %s", s.message().c_str());
  return s ? dir : QString();
}

RunningApp::~RunningApp() {
  engine.reset();
  app.reset();
}

std::unique_ptr<RunningApp> startApp(const AppOptions& options, const std::function<void(JetChatApp&)>& configure) {
  auto running = std::make_unique<RunningApp>();
  running->app = std::make_unique<JetChatApp>(options);
  if (configure) configure(*running->app);
  running->engine = std::make_unique<QQmlApplicationEngine>();
  running->window = running->app->load(*running->engine);
  if (running->window) {
    running->app->loadInitialModel();
    if (!QTest::qWaitForWindowExposed(running->window)) qWarning("window not exposed");
  }
  return running;
}

QQuickItem* findItem(QQuickWindow* window, const QString& objectName) {
  return window->findChild<QQuickItem*>(objectName);
}

void saveScreenshot(QQuickWindow* window, const QString& name) {
  const QImage image = window->grabWindow();
  QVERIFY(!image.isNull());
  QVERIFY(image.width() > 100 && image.height() > 100);
  const QString path = outputDir() + QLatin1Char('/') + name;
  QVERIFY2(image.save(path), qPrintable(path));
  qInfo("screenshot: %s", qPrintable(path));
}

}  // namespace apptest
