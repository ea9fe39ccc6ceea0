// The app's C++ side on the real engine with tiny real models: the catalogue's probe and estimates, loading,
// a streamed reply, a corrupt model folder and a truncated weights file, freeing on a switch, and the built-in
// OpenAI-compatible API server over the loaded model.
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTcpServer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "app_settings.h"
#include "app_test_support.h"
#include "chat_controller.h"
#include "jetchat_backend.h"
#include "model_catalog.h"

using State = ChatController::State;

class TestRealEngine : public QObject {
  Q_OBJECT

  QTemporaryDir m_models;
  QString m_good, m_stories, m_corrupt, m_truncated, m_gguf;

  struct HttpResult {
    int status = 0;  // 0: no HTTP answer (refused, unreachable)
    QByteArray body;
  };
  static HttpResult http(const QString& method, const QString& url, const QByteArray& body = {},
                         const QByteArray& key = {}) {
    QNetworkAccessManager manager;
    QNetworkRequest request{QUrl(url)};
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    if (!key.isEmpty()) request.setRawHeader("Authorization", "Bearer " + key);
    request.setTransferTimeout(30000);
    QNetworkReply* reply = manager.sendCustomRequest(request, method.toLatin1(), body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    return {reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll()};
  }

 private slots:
  void initTestCase() {
    QVERIFY(m_models.isValid());
    m_good = apptest::makeRandomModel(m_models.filePath(QStringLiteral("tiny-random")));
    QVERIFY(!m_good.isEmpty());
    m_stories = apptest::importStories260K(m_models.filePath(QStringLiteral("stories260K")));
    QVERIFY(!m_stories.isEmpty());
    // A folder with a config.json that is not JSON.
    m_corrupt = m_models.filePath(QStringLiteral("corrupt"));
    QDir().mkpath(m_corrupt);
    QFile config(m_corrupt + QStringLiteral("/config.json"));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": ");
    config.close();
    // A copy of the good model whose weights file lost its second half.
    m_truncated = m_models.filePath(QStringLiteral("truncated"));
    QDir().mkpath(m_truncated);
    for (const QString& name : QDir(m_good).entryList(QDir::Files))
      QVERIFY(QFile::copy(m_good + QLatin1Char('/') + name, m_truncated + QLatin1Char('/') + name));
    QFile weights(m_truncated + QStringLiteral("/model.safetensors"));
    QVERIFY(weights.resize(weights.size() / 2));
    QDir().mkpath(m_models.filePath(QStringLiteral("not-a-model")));
    // The random model again, as one GGUF file with Q4_0 linears (#6).
    m_gguf = apptest::makeGgufModel(m_good, m_models.filePath(QStringLiteral("tiny-random-q4_0.gguf")));
    QVERIFY(!m_gguf.isEmpty());
  }

  void catalogueDescribesAndEstimates() {
    ModelCatalog catalog;
    catalog.setContextLength(256);
    QSignalSpy refreshed(&catalog, &ModelCatalog::refreshed);
    catalog.setFolders({m_models.path(), m_models.filePath(QStringLiteral("missing"))});
    QVERIFY(catalog.scanning());
    QVERIFY(refreshed.wait(10000));
    QCOMPARE(catalog.count(), 5);  // not-a-model is skipped; the .gguf file is a model
    const QVariantMap gguf = catalog.get(catalog.indexOfPath(m_gguf));
    QVERIFY2(gguf.value(QStringLiteral("error")).toString().isEmpty(), qPrintable(gguf.value(QStringLiteral("error")).toString()));
    QVERIFY(gguf.value(QStringLiteral("bytesNeeded")).toLongLong() > 0);
    // 4-bit linears: less memory than the same model in 16 bits.
    QVERIFY(gguf.value(QStringLiteral("bytesNeeded")).toLongLong() <
            catalog.get(catalog.indexOfPath(m_good)).value(QStringLiteral("bytesNeeded")).toLongLong());
    const QVariantMap good = catalog.get(catalog.indexOfPath(m_good));
    QCOMPARE(good.value(QStringLiteral("architecture")).toString(), QStringLiteral("LlamaForCausalLM"));
    QVERIFY(good.value(QStringLiteral("error")).toString().isEmpty());
    QVERIFY(good.value(QStringLiteral("parameters")).toLongLong() > 0);
    auto info = jetchat::ModelInfo::probe(m_good.toStdString());
    QVERIFY(info.is_ok());
    QCOMPARE(good.value(QStringLiteral("bytesNeeded")).toLongLong(), info->bytes_needed(256));
    const QVariantMap corrupt = catalog.get(catalog.indexOfPath(m_corrupt));
    QVERIFY(!corrupt.value(QStringLiteral("error")).toString().isEmpty());
    // The estimate follows the chosen context.
    catalog.setContextLength(512);
    QCOMPARE(catalog.get(catalog.indexOfPath(m_good)).value(QStringLiteral("bytesNeeded")).toLongLong(),
             info->bytes_needed(512));
    // The memory saver: the int8 cache, and the 8-bit head where the head is the model's own (tiny-random); the
    // tied table of stories260K would stay beside an 8-bit copy, so its head is left as stored.
    catalog.setMemorySaver(true);
    const auto estimate = [&](const QString& path) {
      return catalog.get(catalog.indexOfPath(path)).value(QStringLiteral("bytesNeeded")).toLongLong();
    };
    QVERIFY(info->q8_head_weight_bytes > 0 && info->q8_head_weight_bytes < info->weight_bytes);
    QCOMPARE(estimate(m_good), info->bytes_needed(512, jetchat::KvCacheType::kInt8, jetchat::HeadType::kQ8));
    QVERIFY(info->bytes_needed(512, jetchat::KvCacheType::kInt8) < info->bytes_needed(512));
    auto stories = jetchat::ModelInfo::probe(m_stories.toStdString());
    QVERIFY(stories.is_ok());
    QVERIFY(stories->q8_head_weight_bytes > stories->weight_bytes);
    QCOMPARE(estimate(m_stories), stories->bytes_needed(512, jetchat::KvCacheType::kInt8));
  }

  void loadsRepliesAndSwitchesSafely() {
    QTemporaryDir dir;
    AppSettings settings(dir.filePath(QStringLiteral("s.ini")));
    settings.setContextLength(256);
    settings.setMaxTokens(24);
    ChatController controller(std::make_unique<JetchatBackend>(), &settings, nullptr);
    controller.switchModel(m_stories);
    QVERIFY(QTest::qWaitFor([&] { return controller.state() != State::Loading; }, 20000));
    QCOMPARE(controller.state(), State::Ready);
    QVERIFY(controller.errorMessage().isEmpty());
    QCOMPARE(controller.contextLength(), 256);
    QVERIFY(controller.modelBytes() > 0);
    QVERIFY(!controller.backendName().isEmpty());

    QVERIFY(controller.send(QStringLiteral("Once upon a time")));
    QVERIFY(QTest::qWaitFor([&] { return controller.state() == State::Ready; }, 30000));
    QVERIFY(!controller.conversation()->textAt(1).isEmpty());
    QVERIFY(controller.contextUsed() > 0);
    QVERIFY(controller.lastDecodeTokS() > 0);

    // A corrupt folder is refused with the engine's reason before anything is freed.
    controller.switchModel(m_corrupt);
    QVERIFY(QTest::qWaitFor([&] { return controller.state() == State::Ready; }, 10000));
    QCOMPARE(controller.modelPath(), m_stories);
    QVERIFY(!controller.errorMessage().isEmpty());
    controller.dismissError();

    // Truncated weights fail during the load, after the old model was freed: it is loaded again.
    controller.switchModel(m_truncated);
    QVERIFY(QTest::qWaitFor([&] { return controller.state() == State::Ready && controller.modelPath() == m_stories; }, 20000));
    QVERIFY2(!controller.errorMessage().isEmpty(), "the truncated model's error is shown");

    // Switch to another model: the old one is freed and the report confirms it.
    controller.switchModel(m_good);
    QVERIFY(QTest::qWaitFor([&] { return controller.state() == State::Ready && controller.modelPath() == m_good; }, 20000));
    QCOMPARE(controller.lastUnload().name, QStringLiteral("stories260K"));
    QVERIFY(controller.lastUnload().engineBytes > 0);
    QVERIFY(controller.lastUnload().rssAfter > 0);
    QVERIFY(controller.lastUnload().rssAfter <= controller.lastUnload().rssBefore);
  }

  // A GGUF file is switched to and answers like a model directory (#6).
  void ggufFileLoadsAndReplies() {
    QTemporaryDir dir;
    AppSettings settings(dir.filePath(QStringLiteral("s.ini")));
    settings.setContextLength(256);
    settings.setMaxTokens(16);
    ChatController controller(std::make_unique<JetchatBackend>(), &settings, nullptr);
    controller.switchModel(m_gguf);
    QVERIFY(QTest::qWaitFor([&] { return controller.state() != State::Loading; }, 20000));
    QVERIFY2(controller.errorMessage().isEmpty(), qPrintable(controller.errorMessage()));
    QCOMPARE(controller.state(), State::Ready);
    QCOMPARE(controller.modelPath(), m_gguf);
    QVERIFY(controller.send(QStringLiteral("Once upon a time")));
    QVERIFY(QTest::qWaitFor([&] { return controller.state() == State::Ready; }, 30000));
    QVERIFY(!controller.conversation()->textAt(1).isEmpty());
    QCOMPARE(settings.lastModel(), m_gguf);  // and comes back at the next start
  }

  // The built-in API server (#7) serves the model the app has loaded, beside the chat, and follows the settings.
  void apiServerSharesTheLoadedModel() {
    QTemporaryDir dir;
    AppSettings settings(dir.filePath(QStringLiteral("s.ini")));
    settings.setContextLength(256);
    settings.setMaxTokens(24);
    settings.setApiPort(0);  // any free port
    settings.setApiEnabled(true);
    ChatController controller(std::make_unique<JetchatBackend>(), &settings, nullptr);
    QVERIFY(controller.apiUrl().isEmpty());  // no model, nothing to serve
    controller.switchModel(m_stories);
    QVERIFY(QTest::qWaitFor([&] { return controller.state() == State::Ready; }, 20000));
    QTRY_VERIFY(controller.apiUrl().startsWith(QStringLiteral("http://127.0.0.1:")));
    const QString url = controller.apiUrl();

    const auto models = http(QStringLiteral("GET"), url + QStringLiteral("/models"));
    QCOMPARE(models.status, 200);
    QCOMPARE(QJsonDocument::fromJson(models.body).object().value(QStringLiteral("data")).toArray().first().toObject()
                 .value(QStringLiteral("id")).toString(), QStringLiteral("stories260K"));
    // A request from another program while the app answers too: both complete on the one model.
    QVERIFY(controller.send(QStringLiteral("Once upon a time")));
    const auto chat = http(QStringLiteral("POST"), url + QStringLiteral("/chat/completions"),
                           R"({"model":"stories260K","max_tokens":8,"messages":[{"role":"user","content":"Hi"}]})");
    QCOMPARE(chat.status, 200);
    QVERIFY(QJsonDocument::fromJson(chat.body).object().value(QStringLiteral("usage")).toObject()
                .value(QStringLiteral("completion_tokens")).toInt() > 0);
    QVERIFY(QTest::qWaitFor([&] { return controller.state() == State::Ready; }, 30000));
    QVERIFY(!controller.conversation()->textAt(1).isEmpty());

    // A key set in the settings restarts the server with it.
    settings.setApiKey(QStringLiteral("sk-robot"));
    QTRY_VERIFY(!controller.apiUrl().isEmpty() && controller.apiUrl() != url);
    QCOMPARE(http(QStringLiteral("GET"), controller.apiUrl() + QStringLiteral("/models")).status, 401);
    QCOMPARE(http(QStringLiteral("GET"), controller.apiUrl() + QStringLiteral("/models"), {}, "sk-robot").status, 200);

    // A port that is taken: the reason is shown, the chat goes on.
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    settings.setApiPort(squatter.serverPort());
    QTRY_VERIFY(!controller.apiError().isEmpty());
    QVERIFY(controller.apiUrl().isEmpty());
    qInfo("port taken: %s", qPrintable(controller.apiError()));
    QVERIFY(controller.send(QStringLiteral("The end")));
    QVERIFY(QTest::qWaitFor([&] { return controller.state() == State::Ready; }, 30000));
    QVERIFY(controller.errorMessage().isEmpty());

    // Another model: the server follows it. Switched off: it is gone.
    settings.setApiPort(0);
    controller.switchModel(m_good);
    QVERIFY(QTest::qWaitFor([&] { return controller.state() == State::Ready && controller.modelPath() == m_good; }, 20000));
    QTRY_VERIFY(!controller.apiUrl().isEmpty());
    const QString second = controller.apiUrl();
    QCOMPARE(QJsonDocument::fromJson(http(QStringLiteral("GET"), second + QStringLiteral("/models"), {}, "sk-robot").body)
                 .object().value(QStringLiteral("data")).toArray().first().toObject().value(QStringLiteral("id")).toString(),
             QStringLiteral("tiny-random"));
    settings.setApiEnabled(false);
    QTRY_VERIFY(controller.apiUrl().isEmpty());
    QCOMPARE(http(QStringLiteral("GET"), second + QStringLiteral("/models")).status, 0);  // connection refused
  }
};

QTEST_GUILESS_MAIN(TestRealEngine)
#include "tst_real_engine.moc"
