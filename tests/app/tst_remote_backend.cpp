// The remote backend (#7) against a real `jetchat-cli serve` on loopback, started by the test on the built-in demo
// model: streaming replies and history, unknown model, unreachable server, and the server killed mid-reply.
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QtTest>

#include "jetchat_app.h"
#include "remote_backend.h"

class TestRemoteBackend : public QObject {
  Q_OBJECT

  QProcess m_server;
  QUrl m_base;

  bool startServer() {
    m_server.setProgram(QStringLiteral(JETCHAT_CLI_PATH));
    m_server.setArguments({QStringLiteral("serve"), QStringLiteral(JETCHAT_RESOURCE_MODELS "/jetchat-demo"),
                           QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--threads"),
                           QStringLiteral("1")});
    m_server.setProcessChannelMode(QProcess::SeparateChannels);
    m_server.setReadChannel(QProcess::StandardError);
    m_server.start();
    if (!m_server.waitForStarted(10000)) return false;
    QByteArray err;
    const QRegularExpression re(QStringLiteral("at (http://[^ ]+/v1)"));
    QDeadlineTimer deadline(60000);
    while (!deadline.hasExpired()) {
      if (!m_server.waitForReadyRead(1000) && m_server.state() != QProcess::Running) break;
      err += m_server.readAllStandardError();
      const auto match = re.match(QString::fromUtf8(err));
      if (match.hasMatch()) {
        m_base = QUrl(match.captured(1));
        return true;
      }
    }
    qWarning("server did not start: %s", err.constData());
    return false;
  }

  void stopServer() {
    if (m_server.state() == QProcess::NotRunning) return;
    m_server.terminate();
    if (!m_server.waitForFinished(10000)) {
      m_server.kill();
      m_server.waitForFinished(5000);
    }
  }

  RemoteEndpoint endpoint() const {
    RemoteEndpoint e;
    e.baseUrl = m_base;
    e.model = QStringLiteral("jetchat-demo");
    return e;
  }

  static jetchat::GenerateParams params(int maxTokens) {
    jetchat::GenerateParams p;
    p.max_tokens = maxTokens;
    p.sampling.temperature = 0.8f;
    p.sampling.seed = 7;
    return p;
  }

 private slots:
  void init() { QVERIFY(startServer()); }
  void cleanup() { stopServer(); }

  void streamsARepliesAndKeepsHistory() {
    RemoteBackend backend(endpoint());
    QVERIFY(!backend.isLoaded());
    const auto loaded = backend.load("remote:jetchat-demo", {});
    QVERIFY2(loaded.is_ok(), loaded.message().c_str());
    QVERIFY(backend.isLoaded());
    QCOMPARE(backend.info().name, std::string("jetchat-demo"));
    QVERIFY(backend.lastLatencyMs() > 0);
    QVERIFY(QString::fromStdString(backend.backendName()).contains(m_base.host()));

    std::string streamed;
    int pieces = 0;
    auto reply = backend.chat({{jetchat::Role::kUser, "Tell me a saying."}}, params(24), [&](std::string_view piece) {
      streamed += piece;
      ++pieces;
      return true;
    });
    QVERIFY2(reply.is_ok(), reply.is_ok() ? "" : reply.status().message().c_str());
    QVERIFY(!reply->text.empty());
    QCOMPARE(streamed, reply->text);
    QVERIFY(pieces > 1);
    QVERIFY(reply->stats.generated_tokens > 0);
    QVERIFY(reply->stats.prompt_tokens > 0);
    QVERIFY(reply->stats.ttft_ms > 0);
    QVERIFY(reply->stats.decode_tok_s > 0);
    QCOMPARE(backend.history().size(), size_t(2));

    // The second turn sends the first one along: the prompt grows.
    const int firstPrompt = reply->stats.prompt_tokens;
    auto second = backend.chat({{jetchat::Role::kUser, "Another one."}}, params(8), {});
    QVERIFY2(second.is_ok(), second.is_ok() ? "" : second.status().message().c_str());
    QVERIFY(second->stats.prompt_tokens > firstPrompt);
    QCOMPARE(backend.history().size(), size_t(4));
    backend.reset();
    QCOMPARE(backend.history().size(), size_t(0));
  }

  void stopsWhenTheCallbackSaysSo() {
    RemoteBackend backend(endpoint());
    QVERIFY(backend.load("remote:jetchat-demo", {}).is_ok());
    int pieces = 0;
    auto reply = backend.chat({{jetchat::Role::kUser, "Tell me a saying."}}, params(200),
                              [&](std::string_view) { return ++pieces < 3; });
    QVERIFY(reply.is_ok());
    QCOMPARE(pieces, 3);
    QCOMPARE(reply->stats.stop_reason, std::string("callback"));
  }

  void unknownModelIsRefused() {
    RemoteEndpoint e = endpoint();
    e.model = QStringLiteral("gpt-17");
    RemoteBackend backend(e);
    const auto loaded = backend.load("remote:gpt-17", {});
    QVERIFY(!loaded.is_ok());
    QVERIFY2(QString::fromStdString(loaded.message()).contains(QStringLiteral("does not serve 'gpt-17'")),
             loaded.message().c_str());
  }

  void unreachableServerSaysSo() {
    // A port nobody listens on: take one, then free it.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    RemoteEndpoint e = endpoint();
    e.baseUrl.setPort(probe.serverPort());
    probe.close();
    RemoteBackend backend(e);
    const auto loaded = backend.load("remote:jetchat-demo", {});
    QVERIFY(!loaded.is_ok());
    QVERIFY2(QString::fromStdString(loaded.message()).contains(QStringLiteral("cannot reach the server")),
             loaded.message().c_str());
  }

  // The app's own backend and controller: a remote endpoint from the settings is in the catalogue, is switched to
  // like a model, streams a reply with stats, and a server killed mid-reply is a clear error, not a hang.
  void appSwitchesToARemoteEndpoint() {
    QTemporaryDir home;
    AppOptions options;
    options.settingsFile = home.filePath(QStringLiteral("settings.ini"));
    QStandardPaths::setTestModeEnabled(true);
    JetChatApp app(options);
    app.controller()->newConversation();
    app.settings()->setMaxTokens(400);
    app.settings()->setRemoteEndpoints({QVariantMap{{QStringLiteral("name"), QStringLiteral("lab server")},
                                                    {QStringLiteral("baseUrl"), m_base.toString()},
                                                    {QStringLiteral("model"), QStringLiteral("jetchat-demo")},
                                                    {QStringLiteral("apiKey"), QStringLiteral("sk-secret")}}});
    const int row = app.catalog()->indexOfPath(QStringLiteral("remote:lab server"));
    QVERIFY(row >= 0);
    QCOMPARE(app.catalog()->get(row).value(QStringLiteral("architecture")).toString(), QStringLiteral("remote"));
    QVERIFY(!app.catalog()->get(row).value(QStringLiteral("builtIn")).toBool());

    ChatController* controller = app.controller();
    controller->switchModel(QStringLiteral("remote:lab server"));
    QTRY_COMPARE_WITH_TIMEOUT(controller->state(), ChatController::Ready, 20000);
    QVERIFY2(controller->errorMessage().isEmpty(), qPrintable(controller->errorMessage()));
    QCOMPARE(controller->modelPath(), QStringLiteral("remote:lab server"));
    QVERIFY(controller->backendName().startsWith(QStringLiteral("remote ")));
    QVERIFY(!controller->backendName().contains(QStringLiteral("sk-secret")));
    QVERIFY(!controller->modelBuiltIn());

    QSignalSpy finished(controller, &ChatController::replyFinished);
    app.settings()->setMaxTokens(16);
    QVERIFY(controller->send(QStringLiteral("Tell me a saying.")));
    QVERIFY(finished.wait(30000));
    QVERIFY2(controller->errorMessage().isEmpty(), qPrintable(controller->errorMessage()));
    QCOMPARE(controller->conversation()->count(), 2);
    QVERIFY(!controller->conversation()->textAt(1).isEmpty());
    QVERIFY(controller->lastDecodeTokS() > 0);
    QVERIFY(controller->contextUsed() > 0);

    // Killed mid-reply: the reply ends with a message that says what happened.
    app.settings()->setMaxTokens(400);
    QVERIFY(controller->send(QStringLiteral("Tell me another.")));
    QTRY_VERIFY_WITH_TIMEOUT(controller->conversation()->count() == 4 && !controller->conversation()->textAt(3).isEmpty(),
                             20000);
    m_server.kill();
    if (m_server.state() != QProcess::NotRunning) QVERIFY(m_server.waitForFinished(5000));
    QTRY_COMPARE_WITH_TIMEOUT(controller->state(), ChatController::Ready, 20000);
    if (controller->errorMessage().isEmpty()) {  // the toy's reply was complete before the kill landed: ask again
      QVERIFY(controller->send(QStringLiteral("Are you there?")));
      QTRY_VERIFY_WITH_TIMEOUT(!controller->errorMessage().isEmpty(), 20000);
      QTRY_COMPARE_WITH_TIMEOUT(controller->state(), ChatController::Ready, 20000);
    }
    qInfo("after the kill: %s", qPrintable(controller->errorMessage()));
    QVERIFY(!controller->errorMessage().contains(QStringLiteral("sk-secret")));
  }

  void serverKilledMidReply() {
    RemoteBackend backend(endpoint());
    QVERIFY(backend.load("remote:jetchat-demo", {}).is_ok());
    int pieces = 0;
    auto reply = backend.chat({{jetchat::Role::kUser, "Tell me a saying."}}, params(400), [&](std::string_view) {
      if (++pieces == 1) m_server.kill();  // SIGKILL: no goodbye
      return true;
    });
    QVERIFY(!reply.is_ok());
    const QString message = QString::fromStdString(reply.status().message());
    QVERIFY2(message.contains(QStringLiteral("mid-reply")) || message.contains(QStringLiteral("without finishing")),
             qPrintable(message));
    QVERIFY(!message.contains(QStringLiteral("Bearer")));
    QCOMPARE(backend.history().size(), size_t(0));  // a cut reply is not remembered
    // And the next request says the server is gone.
    if (m_server.state() != QProcess::NotRunning) QVERIFY(m_server.waitForFinished(5000));
    auto next = backend.chat({{jetchat::Role::kUser, "Hello?"}}, params(8), {});
    QVERIFY(!next.is_ok());
    QVERIFY2(QString::fromStdString(next.status().message()).contains(m_base.host()),
             next.status().message().c_str());
  }
};

QTEST_MAIN(TestRemoteBackend)
#include "tst_remote_backend.moc"
