// The real app, offscreen, on the real engine with real tiny models: type a prompt through the UI, wait for the
// streamed reply, check the gauges moved, keep the GUI thread responsive, and save screenshots of the chat, the
// model switcher and the kiosk welcome screen into <build>/screenshots.
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtQml/QQmlExtensionPlugin>
#include <QtTest>

#include "app_test_support.h"
#include "jetchat_app.h"

Q_IMPORT_QML_PLUGIN(JetChatPlugin)
Q_IMPORT_QML_PLUGIN(JetChatCorePlugin)
Q_IMPORT_QML_PLUGIN(JetChatThemePlugin)

using State = ChatController::State;

class TestEndToEnd : public QObject {
  Q_OBJECT

  QTemporaryDir m_models;
  QTemporaryDir m_home;
  QString m_stories, m_large;

  std::unique_ptr<apptest::RunningApp> start(const QString& model, bool kiosk, int maxTokens,
                                             bool withTestModels = true,
                                             const QString& settingsName = QStringLiteral("settings.ini")) {
    AppOptions options;
    options.model = model;
    options.kiosk = kiosk;
    if (withTestModels) options.modelDirs = {m_models.path()};
    options.settingsFile = m_home.filePath(settingsName);
    options.language = QStringLiteral("en");
    return apptest::startApp(options, [maxTokens](JetChatApp& app) {
      app.settings()->setContextLength(512);
      app.settings()->setMaxTokens(maxTokens);
      app.settings()->setTemperature(0.8);
    });
  }

  static QQuickItem* find(QQuickWindow* window, const char* name) {
    return apptest::findItem(window, QString::fromLatin1(name));
  }

  static void typeAndSend(QQuickWindow* window, const QString& text) {
    auto* input = find(window, "composerInput");
    QVERIFY(input);
    input->forceActiveFocus();
    QVERIFY(input->hasActiveFocus());
    for (const QChar ch : text) QTest::keyClick(window, ch.toLatin1());  // keyClicks() takes only widgets
    QCOMPARE(input->property("text").toString(), text);
    QTest::keyClick(window, Qt::Key_Return);
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QFile::remove(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/conversations.json"));
    m_stories = apptest::importStories260K(m_models.filePath(QStringLiteral("stories260K")));
    QVERIFY(!m_stories.isEmpty());
    // Big enough that a reply takes a while on a CPU, so the responsiveness test measures something.
    m_large = apptest::makeRandomModel(m_models.filePath(QStringLiteral("random-25M")), 512, 8);
    QVERIFY(!m_large.isEmpty());
  }

  void kioskWelcomeScreen() {
    auto running = start(m_stories, true, 32);
    QVERIFY(running->window);
    QQuickWindow* window = running->window;
    ChatController* controller = running->app->controller();
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == State::Ready; }, 30000));
    QCOMPARE(window->visibility(), QWindow::FullScreen);
    QVERIFY(window->flags() & Qt::FramelessWindowHint);
    auto* welcome = find(window, "welcomeScreen");
    QVERIFY(welcome && welcome->isVisible());
    QVERIFY(!find(window, "modelsButton")->isVisible());    // no way to the settings but the PIN
    QVERIFY(!find(window, "settingsButton")->isVisible());
    QTest::qWait(200);
    apptest::saveScreenshot(window, QStringLiteral("kiosk-welcome.png"));
    // No way out: a close request is refused.
    window->close();
    QTest::qWait(50);
    QVERIFY(window->isVisible());
    // The idle reset brings a conversation back to the welcome screen.
    QVERIFY(controller->send(QStringLiteral("Hello")));
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == State::Ready; }, 30000));
    QVERIFY(!welcome->isVisible());
    running->app->idle()->setTimeoutMs(100);
    QVERIFY(QTest::qWaitFor([&] { return welcome->isVisible(); }, 3000));
    QCOMPARE(controller->conversation()->count(), 0);
  }

  void chatThroughTheUi() {
    auto running = start(m_stories, false, 48);
    QVERIFY(running->window);
    QQuickWindow* window = running->window;
    ChatController* controller = running->app->controller();
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == State::Ready; }, 30000));
    // The conversation of the previous run (kiosk test) came back across the restart.
    QCOMPARE(controller->conversation()->count(), 2);
    QCOMPARE(controller->conversation()->textAt(0), QStringLiteral("Hello"));
    QTest::mouseClick(window, Qt::LeftButton, {}, find(window, "newConversationButton")->mapToScene({10, 10}).toPoint());
    QCOMPARE(controller->conversation()->count(), 0);
    auto* decode = find(window, "decodeGauge");
    auto* context = find(window, "contextGauge");
    auto* memory = find(window, "memoryGauge");
    QVERIFY(decode && context && memory);
    const QString decodeBefore = decode->property("valueText").toString();
    const QString contextBefore = context->property("valueText").toString();
    QCOMPARE(contextBefore, QStringLiteral("0 / 512"));
    QVERIFY(memory->property("valueText").toString().contains(QStringLiteral("GiB")));

    QSignalSpy finished(controller, &ChatController::replyFinished);
    typeAndSend(window, QStringLiteral("Once upon a time, a robot"));
    QCOMPARE(controller->state(), State::Generating);
    QCOMPARE(find(window, "composerInput")->property("text").toString(), QString());  // sent and cleared
    QVERIFY(finished.wait(60000));
    QCOMPARE(controller->conversation()->count(), 2);
    QCOMPARE(controller->conversation()->textAt(0), QStringLiteral("Once upon a time, a robot"));
    QVERIFY(!controller->conversation()->textAt(1).isEmpty());
    QVERIFY(controller->errorMessage().isEmpty());

    // The gauges moved.
    QTRY_VERIFY(decode->property("valueText").toString() != decodeBefore);
    QTRY_VERIFY(context->property("valueText").toString() != contextBefore);
    QVERIFY(controller->lastDecodeTokS() > 0);
    QVERIFY(controller->contextUsed() > 0);
    QVERIFY(!find(window, "welcomeScreen")->isVisible());
    QTest::qWait(200);
    apptest::saveScreenshot(window, QStringLiteral("chat.png"));

    // The model switcher lists both models, with their estimates.
    QObject* switcher = window->findChild<QObject*>(QStringLiteral("modelSwitcher"));
    QVERIFY(switcher);
    QMetaObject::invokeMethod(switcher, "open");
    QTRY_VERIFY(switcher->property("opened").toBool());
    auto* list = find(window, "modelList");
    QVERIFY(list);
    // stories260K, random-25M and the built-in demo.
    QTRY_COMPARE(list->property("count").toInt(), 3);
    const int demoRow = running->app->catalog()->indexOfPath(QStringLiteral(JETCHAT_RESOURCE_MODELS "/jetchat-demo"));
    QVERIFY(demoRow >= 0);
    QVERIFY(running->app->catalog()->get(demoRow).value(QStringLiteral("builtIn")).toBool());
    QVERIFY(!running->app->catalog()->get(running->app->catalog()->indexOfPath(m_stories)).value(QStringLiteral("builtIn")).toBool());
    QTest::qWait(300);
    apptest::saveScreenshot(window, QStringLiteral("model-switcher.png"));
  }

  // #9: with no --model, no saved model and no other folders, the app starts on the built-in demo and says so.
  void builtInDemoIsTheDefault() {
    auto running = start(QString(), false, 24, false, QStringLiteral("demo-settings.ini"));
    QVERIFY(running->window);
    ChatController* controller = running->app->controller();
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == State::Ready; }, 60000));
    QCOMPARE(QFileInfo(controller->modelPath()).fileName(), QStringLiteral("jetchat-demo"));
    QVERIFY(controller->modelBuiltIn());
    const QString label = QStringLiteral("built-in demo — load a real model for real answers");
    QTRY_VERIFY(find(running->window, "activeModelLabel")->property("text").toString().contains(label));
    QTRY_COMPARE(find(running->window, "modelGauge")->property("detail").toString(), label);
    running->app->language()->setLanguage(QStringLiteral("zh_CN"));
    const QString labelZh = QStringLiteral("内置演示模型 — 加载真实模型以获得真正的回答");
    QTRY_VERIFY(find(running->window, "activeModelLabel")->property("text").toString().contains(labelZh));
    QTRY_COMPARE(find(running->window, "modelGauge")->property("detail").toString(), labelZh);
    running->app->language()->setLanguage(QStringLiteral("en"));
    QTRY_VERIFY(find(running->window, "activeModelLabel")->property("text").toString().contains(label));
    // It answers (with a fortune), like any model.
    QSignalSpy finished(controller, &ChatController::replyFinished);
    QVERIFY(controller->send(QStringLiteral("Tell me a saying.")));
    QVERIFY(finished.wait(60000));
    QVERIFY(!controller->conversation()->textAt(1).isEmpty());
    QTest::qWait(200);
    apptest::saveScreenshot(running->window, QStringLiteral("demo-model.png"));
  }

  // A real model found besides the demo wins, even when the demo was the last one used.
  void realModelPreferredOverTheDemo() {
    auto running = start(QString(), false, 8, true, QStringLiteral("demo-settings.ini"));
    QVERIFY(running->window);
    ChatController* controller = running->app->controller();
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == State::Ready; }, 60000));
    QVERIFY2(!controller->modelBuiltIn(), qPrintable(controller->modelPath()));
    QVERIFY(controller->modelPath().startsWith(m_models.path()));
    QVERIFY(!find(running->window, "activeModelLabel")->property("text").toString().contains(QStringLiteral("built-in demo")));
  }

  void guiThreadStaysResponsiveDuringAReply() {
    auto running = start(m_large, false, 160);
    QVERIFY(running->window);
    ChatController* controller = running->app->controller();
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == State::Ready; }, 60000));

    // A 10 ms timer on the GUI thread: any gap between its ticks is time the GUI could not react.
    QElapsedTimer clock, sinceTick;
    qint64 maxGapMs = 0;
    int ticks = 0;
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(10);
    connect(&timer, &QTimer::timeout, this, [&] {
      if (ticks++ > 0) maxGapMs = qMax(maxGapMs, sinceTick.elapsed());
      sinceTick.restart();
    });
    QSignalSpy finished(controller, &ChatController::replyFinished);
    sinceTick.start();
    clock.start();
    timer.start();
    typeAndSend(running->window, QStringLiteral("Write a long story about a lighthouse keeper."));
    QVERIFY(finished.wait(120000));
    timer.stop();
    const qint64 replyMs = clock.elapsed();
    const int tokens = controller->generatedTokens();
    qInfo("reply: %lld ms, %d tokens streamed, %.1f tok/s; largest GUI-thread gap %lld ms over %d ticks", replyMs,
          tokens, controller->lastDecodeTokS(), maxGapMs, ticks);
    QVERIFY2(replyMs > 200, "the reply was too short to measure responsiveness");
    QVERIFY2(maxGapMs < 100, qPrintable(QStringLiteral("GUI thread blocked for %1 ms").arg(maxGapMs)));
  }

  // Settings -> "Memory saver", tapped: saved, the model list's estimate drops to the int8 cache's, and after the
  // next load of the same model a reply holds that much less KV cache (stories260K's head is tied: left as stored).
  void memorySaverSwitchAppliesAtTheNextLoad() {
    auto running = start(m_stories, false, 8, true, QStringLiteral("memory-saver.ini"));
    QQuickWindow* window = running->window;
    QVERIFY(window);
    JetChatApp& app = *running->app;
    ChatController* controller = app.controller();
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == State::Ready; }, 30000));
    // Weights, scratch and the session's KV cache (allocated by its first use); -1 if the reply did not finish
    // or failed (a failed reply leaves the figure of the load, without a KV cache: it says why).
    const auto bytesAfterAReply = [&] {
      QSignalSpy finished(controller, &ChatController::replyFinished);
      if (!controller->send(QStringLiteral("Once"))) return qint64(-1);
      if (!finished.wait(30000)) return qint64(-1);
      qInfo("reply: %d tokens, context %d of %d, %lld bytes, error \"%s\"", controller->generatedTokens(),
            controller->contextUsed(), controller->contextLength(), controller->modelBytes(),
            qPrintable(controller->errorMessage()));
      return controller->errorMessage().isEmpty() ? controller->modelBytes() : qint64(-1);
    };
    const qint64 bytesBefore = bytesAfterAReply();
    QVERIFY(bytesBefore > 0);
    QVERIFY(QTest::qWaitFor([&] { return !app.catalog()->scanning(); }, 10000));
    auto info = jetchat::ModelInfo::probe(m_stories.toStdString());
    QVERIFY(info.is_ok());
    ModelCatalog& catalog = *app.catalog();
    const auto estimate = [&] {
      return catalog.get(catalog.indexOfPath(m_stories)).value(QStringLiteral("bytesNeeded")).toLongLong();
    };
    QCOMPARE(estimate(), info->bytes_needed(512));

    QTest::mouseClick(window, Qt::LeftButton, {}, find(window, "settingsButton")->mapToScene({10, 10}).toPoint());
    QQuickItem* sw = find(window, "memorySaverSwitch");
    QVERIFY(sw);
    QTRY_VERIFY(sw->isVisible() && sw->mapToScene({0, 0}).x() >= 0 && sw->mapToScene({0, 0}).x() < window->width());
    QTest::qWait(300);  // the drawer's opening transition
    QCOMPARE(sw->property("checked").toBool(), false);
    QTest::mouseClick(window, Qt::LeftButton, {}, sw->mapToScene({sw->width() / 2, sw->height() / 2}).toPoint());
    QTRY_VERIFY(app.settings()->memorySaver());
    QVERIFY(sw->property("checked").toBool());
    QCOMPARE(estimate(), info->bytes_needed(512, jetchat::KvCacheType::kInt8));
    QCOMPARE(controller->modelBytes(), bytesBefore);  // the loaded model is not touched
    QCOMPARE(bytesAfterAReply(), bytesBefore);

    controller->switchModel(m_stories);
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == State::Ready; }, 30000));
    QVERIFY(controller->errorMessage().isEmpty());
    // Polled: on a loaded CI machine the figure once read 655,360 less (no KV cache at all) right after the reply.
    QVERIFY(bytesAfterAReply() > 0);
    const qint64 saved = (info->kv_bytes_per_token - info->kv_int8_bytes_per_token) * 512;
    QTRY_COMPARE(bytesBefore - controller->modelBytes(), saved);
  }
};

QTEST_MAIN(TestEndToEnd)
#include "tst_end_to_end.moc"
