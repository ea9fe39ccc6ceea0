// The controller's state machine driven through the real worker thread by a scripted backend: loading, replies,
// stop, regenerate, switching while generating, cancelled and failed loads, models that do not fit.
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "app_settings.h"
#include "chat_controller.h"
#include "conversation_store.h"
#include "fake_backend.h"

using State = ChatController::State;

class TestChatController : public QObject {
  Q_OBJECT

 private:
  std::shared_ptr<FakeScript> m_script;
  std::unique_ptr<QTemporaryDir> m_dir;
  std::unique_ptr<AppSettings> m_settings;
  std::unique_ptr<ConversationStore> m_store;
  std::unique_ptr<ChatController> m_controller;

  ChatController& c() { return *m_controller; }

  bool waitForState(State s, int timeoutMs = 5000) {
    return QTest::qWaitFor([&] { return c().state() == s; }, timeoutMs);
  }
  void loadA() {
    c().switchModel(QStringLiteral("/models/a"));
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(c().modelPath(), QStringLiteral("/models/a"));
  }

 private slots:
  void init() {
    m_script = std::make_shared<FakeScript>();
    m_script->models.insert(QStringLiteral("/models/a"), {});
    m_script->models.insert(QStringLiteral("/models/b"), {200 << 20, 2048, 4096, {}, {}});
    FakeScript::Model huge;
    huge.weightBytes = int64_t(64) << 30;
    m_script->models.insert(QStringLiteral("/models/huge"), huge);
    FakeScript::Model corrupt;
    corrupt.probeError = QStringLiteral("config.json: unexpected end of input");
    m_script->models.insert(QStringLiteral("/models/corrupt"), corrupt);
    FakeScript::Model broken;
    broken.loadError = QStringLiteral("model.safetensors: truncated tensor data");
    m_script->models.insert(QStringLiteral("/models/broken"), broken);
    m_dir = std::make_unique<QTemporaryDir>();
    m_settings = std::make_unique<AppSettings>(m_dir->filePath(QStringLiteral("settings.ini")));
    m_settings->setContextLength(1024);
    m_store = std::make_unique<ConversationStore>(m_dir->filePath(QStringLiteral("conversations.json")));
    m_controller = std::make_unique<ChatController>(std::make_unique<FakeBackend>(m_script), m_settings.get(),
                                                    m_store.get());
  }

  void cleanup() {
    m_controller.reset();  // joins the worker thread
    m_store.reset();
    m_settings.reset();
  }

  void startsIdleAndLoads() {
    QCOMPARE(c().state(), State::Idle);
    QSignalSpy progress(&c(), &ChatController::loadProgressChanged);
    c().switchModel(QStringLiteral("/models/a"));
    QCOMPARE(c().state(), State::Loading);  // at once: the GUI never waits for the worker
    QVERIFY(waitForState(State::Ready));
    QVERIFY(progress.count() >= 3);
    QCOMPARE(c().loadProgress(), 1.0);
    QCOMPARE(c().modelName(), QStringLiteral("a"));
    QCOMPARE(c().backendName(), QStringLiteral("fake"));
    QCOMPARE(c().contextLength(), 1024);
    QCOMPARE(c().modelBytes(), qint64(100 << 20) + 1024 * 1024);
    QCOMPARE(m_settings->lastModel(), QStringLiteral("/models/a"));
  }

  void sendStreamsAReply() {
    loadA();
    QVERIFY(!c().send(QStringLiteral("   ")));
    QVERIFY(c().send(QStringLiteral("Hi there")));
    QCOMPARE(c().state(), State::Generating);
    QCOMPARE(c().conversation()->count(), 2);
    QVERIFY(c().conversation()->streaming());
    QVERIFY(!c().send(QStringLiteral("again")));  // busy
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(c().conversation()->textAt(1), QStringLiteral("Hello, world!"));
    QVERIFY(!c().conversation()->streaming());
    QVERIFY(c().lastDecodeTokS() > 0);
    QVERIFY(c().contextUsed() > 0);
    QCOMPARE(c().networkLatencyMs(), -1.0);  // a model on this machine: no latency gauge
    // The conversation was saved when the reply finished.
    QCOMPARE(m_store->messages(c().conversationId()).size(), 2);
  }

  void secondTurnSendsOnlyTheNewMessage() {
    loadA();
    QVERIFY(c().send(QStringLiteral("one")));
    QVERIFY(waitForState(State::Ready));
    QVERIFY(c().send(QStringLiteral("two")));
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(m_script->lastSentMessages.load(), 1);  // the session's KV cache is reused
    QVERIFY(c().regenerate());
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(m_script->lastSentMessages.load(), 3);  // history diverged: the whole conversation again
    QCOMPARE(c().conversation()->count(), 4);
  }

  void textUpdatesAreThrottled() {
    m_script->replyPieces.clear();
    for (int i = 0; i < 60; ++i) m_script->replyPieces << QStringLiteral("x");
    m_script->pieceDelayMs = 5;  // 60 pieces over ~300 ms
    loadA();
    QSignalSpy changes(c().conversation(), &QAbstractItemModel::dataChanged);
    QVERIFY(c().send(QStringLiteral("count")));
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(c().conversation()->textAt(1), QString(60, QLatin1Char('x')));
    // ~300 ms at one update per 50 ms is about 6 text updates (plus the final one), not 60.
    QVERIFY2(changes.count() <= 15, qPrintable(QString::number(changes.count())));
  }

  // The machine's defaults (/etc/jetchat/jetchat.conf) apply where the user has set nothing; the user's settings
  // win; the packaged file, all commented out, changes nothing.
  void systemDefaultsUnderUserSettings() {
    QTemporaryDir dir;
    const QString system = dir.filePath(QStringLiteral("jetchat.conf"));
    QFile file(system);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("[kiosk]\nenabled=true\npin=9999\n[chat]\ntemperature=0.2\n[model]\nextraDirs=/data/a, /data/b\n");
    file.close();
    AppSettings settings(dir.filePath(QStringLiteral("user.ini")), nullptr, system);
    QCOMPARE(settings.kiosk(), true);
    QCOMPARE(settings.pin(), QStringLiteral("9999"));
    QCOMPARE(settings.temperature(), 0.2);
    QCOMPARE(settings.extraModelDirs(), QStringList({QStringLiteral("/data/a"), QStringLiteral("/data/b")}));
    QCOMPARE(settings.topP(), 0.95);  // in neither file: built in
    settings.setTemperature(0.9);
    QCOMPARE(settings.temperature(), 0.9);
    QCOMPARE(AppSettings(dir.filePath(QStringLiteral("user.ini")), nullptr, system).temperature(), 0.9);

    AppSettings packaged(dir.filePath(QStringLiteral("other.ini")), nullptr,
                         QStringLiteral(JETCHAT_RESOURCE_MODELS "/../../packaging/jetchat.conf"));
    QVERIFY(QFile::exists(QStringLiteral(JETCHAT_RESOURCE_MODELS "/../../packaging/jetchat.conf")));
    QCOMPARE(packaged.kiosk(), false);
    QCOMPARE(packaged.temperature(), 0.7);
    QCOMPARE(packaged.contextLength(), 2048);
    QCOMPARE(packaged.pin(), QStringLiteral("2580"));
  }

  // The context gauge follows the reply token by token, not only when it ends.
  void contextUsedGrowsWhileStreaming() {
    m_script->replyPieces = QStringList(40, QStringLiteral("y"));
    m_script->pieceDelayMs = 10;  // ~400 ms of reply: several live updates at one per 50 ms
    loadA();
    QVERIFY(c().send(QStringLiteral("abc")));
    QList<int> seen;
    QVERIFY(QTest::qWaitFor([&] {
      if (c().state() == State::Generating && (seen.isEmpty() || seen.last() != c().contextUsed())) seen << c().contextUsed();
      return c().state() == State::Ready;
    }, 5000));
    seen.removeAll(0);  // before the worker's first live snapshot
    QVERIFY2(seen.size() >= 3, qPrintable(QString::number(seen.size())));
    QVERIFY(std::is_sorted(seen.begin(), seen.end()));
    QVERIFY(seen.first() >= 3);             // the prompt is in the cache before the first token
    QVERIFY(std::any_of(seen.begin(), seen.end(), [](int n) { return n > 3 && n < 3 + 40; }));  // mid-reply
    QCOMPARE(c().contextUsed(), 3 + 40);    // the finished reply's count
    QCOMPARE(c().contextLength(), 1024);
  }

  void stopEndsTheReply() {
    m_script->replyPieces = QStringList(500, QStringLiteral("word "));
    m_script->pieceDelayMs = 5;
    loadA();
    QVERIFY(c().send(QStringLiteral("talk")));
    QVERIFY(QTest::qWaitFor([&] { return !c().conversation()->textAt(1).isEmpty(); }, 5000));
    c().stop();
    QCOMPARE(c().state(), State::Stopping);
    QVERIFY(waitForState(State::Ready, 2000));
    const QString text = c().conversation()->textAt(1);
    QVERIFY(text.size() < 500 * 5);
    QVERIFY(c().conversation()->data(c().conversation()->index(1), ConversationModel::StatsRole)
                .toString()
                .contains(QStringLiteral("stopped")));
  }

  void switchingWhileGeneratingStopsThenLoads() {
    m_script->replyPieces = QStringList(500, QStringLiteral("word "));
    m_script->pieceDelayMs = 5;
    loadA();
    QVERIFY(c().send(QStringLiteral("talk")));
    QVERIFY(QTest::qWaitFor([&] { return !c().conversation()->textAt(1).isEmpty(); }, 5000));
    QList<int> states;
    connect(&c(), &ChatController::stateChanged, this, [&] { states << c().state(); });
    c().switchModel(QStringLiteral("/models/b"));
    QVERIFY(waitForState(State::Ready, 5000));
    QCOMPARE(c().modelPath(), QStringLiteral("/models/b"));
    QCOMPARE(states, (QList<int>{State::Stopping, State::Ready, State::Loading, State::Ready}));
    QVERIFY(!c().conversation()->streaming());
    // The old model was freed before the new one loaded, and the report says how much came back.
    QCOMPARE(m_script->unloads.load(), 1);
    QCOMPARE(c().lastUnload().engineBytes, qint64(100 << 20) + 1024 * 1024);
    QCOMPARE(c().lastUnload().rssBefore - c().lastUnload().rssAfter, qint64(100 << 20));
    QVERIFY(c().notice().contains(QStringLiteral("Freed")));
  }

  void cancelledLoadBringsThePreviousModelBack() {
    loadA();
    m_script->loadSteps = 200;  // ~1 s
    c().switchModel(QStringLiteral("/models/b"));
    QVERIFY(QTest::qWaitFor([&] { return c().loadProgress() > 0.05; }, 5000));
    c().cancelLoad();
    QVERIFY(QTest::qWaitFor([&] { return c().state() == State::Ready && c().modelPath() == QLatin1String("/models/a"); }, 10000));
    QVERIFY(c().errorMessage().isEmpty());
    QCOMPARE(m_script->loads.load(), 2);  // a, then a again; b never finished
  }

  void modelThatDoesNotFitIsRefusedAndThePreviousKept() {
    loadA();
    c().switchModel(QStringLiteral("/models/huge"));
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(c().modelPath(), QStringLiteral("/models/a"));
    QCOMPARE(m_script->unloads.load(), 0);  // refused before anything was freed
    QVERIFY2(c().errorMessage().contains(QStringLiteral("GiB")), qPrintable(c().errorMessage()));
    QVERIFY(c().errorMessage().contains(QStringLiteral("huge")));
    // Still usable.
    QVERIFY(c().send(QStringLiteral("still there?")));
    QVERIFY(waitForState(State::Ready));
  }

  // The memory saver: persisted, carried by the next load request, and the check before loading counts the int8
  // cache, so a model that fits only with it is loaded. The 8-bit head only where it makes the weights smaller.
  void memorySaverLoadsWithTheInt8Cache() {
    FakeScript::Model tight;  // at 1024 tokens: 3.5 GiB + 1 GiB of f32 cache, or + 0.25 GiB of int8 cache
    tight.weightBytes = int64_t(7) << 29;
    tight.kvBytesPerToken = 1 << 20;
    tight.kvInt8BytesPerToken = 1 << 18;
    tight.q8HeadWeightBytes = tight.weightBytes + (1 << 26);  // a tied table: the 8-bit copy would add 64 MiB
    m_script->models.insert(QStringLiteral("/models/tight"), tight);
    FakeScript::Model untied = tight;  // 4 GiB of weights; its 8-bit head replaces a larger stored one: 3.25 GiB
    untied.weightBytes = int64_t(1) << 32;
    untied.q8HeadWeightBytes = int64_t(13) << 28;
    m_script->models.insert(QStringLiteral("/models/untied"), untied);
    QCOMPARE(m_settings->memorySaver(), false);
    c().switchModel(QStringLiteral("/models/tight"));
    QVERIFY(waitForState(State::Idle));
    QVERIFY2(c().errorMessage().contains(QStringLiteral("4.50 GiB")), qPrintable(c().errorMessage()));
    QCOMPARE(m_script->loads.load(), 0);

    m_settings->setMemorySaver(true);
    QCOMPARE(AppSettings(m_dir->filePath(QStringLiteral("settings.ini"))).memorySaver(), true);
    c().switchModel(QStringLiteral("/models/tight"));
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(c().modelPath(), QStringLiteral("/models/tight"));
    QCOMPARE(m_script->lastKvCache.load(), jetchat::KvCacheType::kInt8);
    QCOMPARE(m_script->lastHead.load(), jetchat::HeadType::kAuto);
    QCOMPARE(c().modelBytes(), (int64_t(7) << 29) + (int64_t(1) << 18) * 1024);
    // Untied: 3.25 + 0.25 GiB fit in 4 GiB (the loaded 3.75 GiB are reclaimable), 4 + 0.25 GiB would not.
    m_script->availableMemory = int64_t(1) << 28;
    c().switchModel(QStringLiteral("/models/untied"));
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(c().modelPath(), QStringLiteral("/models/untied"));
    QCOMPARE(m_script->lastHead.load(), jetchat::HeadType::kQ8);
    QCOMPARE(c().modelBytes(), (int64_t(13) << 28) + (int64_t(1) << 18) * 1024);

    m_settings->setMemorySaver(false);  // from the next load on
    QCOMPARE(c().modelPath(), QStringLiteral("/models/untied"));
    c().switchModel(QStringLiteral("/models/a"));
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(m_script->lastKvCache.load(), jetchat::KvCacheType::kAuto);
    QCOMPARE(m_script->lastHead.load(), jetchat::HeadType::kAuto);
  }

  void corruptModelIsRefusedWithItsReason() {
    c().switchModel(QStringLiteral("/models/corrupt"));
    QVERIFY(waitForState(State::Idle));
    QVERIFY(c().errorMessage().contains(QStringLiteral("unexpected end of input")));
    QVERIFY(!c().hasModel());
    loadA();
    c().switchModel(QStringLiteral("/models/corrupt"));
    QVERIFY(waitForState(State::Ready));
    QCOMPARE(c().modelPath(), QStringLiteral("/models/a"));
  }

  void failedLoadAfterFreeingReloadsThePrevious() {
    loadA();
    c().switchModel(QStringLiteral("/models/broken"));
    QVERIFY(QTest::qWaitFor([&] { return c().state() == State::Ready && c().modelPath() == QLatin1String("/models/a"); }, 5000));
    QVERIFY(c().errorMessage().contains(QStringLiteral("truncated tensor data")));
  }

  void supersededLoadEndsOnTheLastChoice() {
    m_script->loadSteps = 50;
    c().switchModel(QStringLiteral("/models/a"));
    c().switchModel(QStringLiteral("/models/b"));
    QVERIFY(QTest::qWaitFor([&] { return c().state() == State::Ready; }, 10000));
    QCOMPARE(c().modelPath(), QStringLiteral("/models/b"));
  }

  void newConversationSavesAndClears() {
    loadA();
    QVERIFY(c().send(QStringLiteral("first conversation")));
    QVERIFY(waitForState(State::Ready));
    const QString firstId = c().conversationId();
    c().newConversation();
    QCOMPARE(c().conversation()->count(), 0);
    QVERIFY(c().conversationId() != firstId);
    QVERIFY(QTest::qWaitFor([&] { return m_script->resets.load() >= 1; }, 2000));
    QVERIFY(c().openConversation(firstId));
    QCOMPARE(c().conversation()->textAt(0), QStringLiteral("first conversation"));
  }

  void unloadGoesIdle() {
    loadA();
    c().unloadModel();
    QCOMPARE(c().state(), State::Idle);
    QVERIFY(QTest::qWaitFor([&] { return !c().hasModel(); }, 2000));
    QVERIFY(!m_script->loaded.load());
    QVERIFY(!c().send(QStringLiteral("anyone?")));
  }

  void destructionWhileGeneratingJoinsCleanly() {
    m_script->replyPieces = QStringList(5000, QStringLiteral("w"));
    m_script->pieceDelayMs = 2;
    loadA();
    QVERIFY(c().send(QStringLiteral("long")));
    QTest::qWait(30);
    QElapsedTimer timer;
    timer.start();
    m_controller.reset();
    QVERIFY(timer.elapsed() < 1000);  // the stop flag ends the reply instead of waiting it out
  }
};

QTEST_GUILESS_MAIN(TestChatController)
#include "tst_chat_controller.moc"
