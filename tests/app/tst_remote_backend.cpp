// The remote backend (#7) against a real `jetchat-cli serve` on loopback, started by the test on the built-in demo
// model: streaming replies and history, unknown model, unreachable server, the server killed mid-reply, and the
// app's server form: adding an endpoint through the GUI and switching between it and a local model.
#include <QProcess>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QRegularExpression>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QtQml/QQmlExtensionPlugin>
#include <QtTest>

#include "app_test_support.h"
#include "jetchat_app.h"
#include "remote_backend.h"
#include "remote_endpoints.h"

Q_IMPORT_QML_PLUGIN(JetChatPlugin)
Q_IMPORT_QML_PLUGIN(JetChatCorePlugin)
Q_IMPORT_QML_PLUGIN(JetChatThemePlugin)

// An OpenAI-compatible server of another make, scripted byte for byte: what LMDeploy, vLLM, llama.cpp's server
// or Ollama send differs in framing (CRLF, "data:" without a space, comments, a role-only first chunk, no
// "[DONE]", UTF-8 characters split across writes) and in error bodies.
class ScriptedServer : public QObject {
 public:
  QList<QByteArray> chatWrites;  // the chat reply's body, written one piece every 10 ms, then the connection closes
  QByteArray chatStatus = "200 OK";
  QByteArray lastChatRequest;

  bool listen() {
    connect(&m_server, &QTcpServer::newConnection, this, [this] {
      while (QTcpSocket* s = m_server.nextPendingConnection()) {
        s->setParent(this);
        connect(s, &QTcpSocket::readyRead, this, [this, s] { onData(s); });
      }
    });
    return m_server.listen(QHostAddress::LocalHost, 0);
  }
  QUrl base() const { return QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(m_server.serverPort())); }

 private:
  void onData(QTcpSocket* s) {
    QByteArray& in = m_buffers[s];
    in += s->readAll();
    const int end = in.indexOf("\r\n\r\n");
    if (end < 0) return;
    const QByteArray head = in.left(end);
    const QRegularExpression lengthRe(QStringLiteral("content-length: *(\\d+)"), QRegularExpression::CaseInsensitiveOption);
    const auto length = lengthRe.match(QString::fromLatin1(head));
    const int bodyBytes = length.hasMatch() ? length.captured(1).toInt() : 0;
    if (in.size() < end + 4 + bodyBytes) return;
    if (head.startsWith("GET /v1/models")) {
      const QByteArray body = R"({"object":"list","data":[{"id":"qwen2.5-7b-instruct","object":"model","owned_by":"vllm"}]})";
      s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
               "\r\nConnection: close\r\n\r\n" + body);
      s->disconnectFromHost();
      return;
    }
    lastChatRequest = in.mid(end + 4, bodyBytes);
    s->write("HTTP/1.1 " + chatStatus + "\r\nContent-Type: " +
             (chatStatus.startsWith("200") ? "text/event-stream" : "application/json") + "\r\nConnection: close\r\n\r\n");
    auto* timer = new QTimer(s);
    timer->setInterval(10);
    connect(timer, &QTimer::timeout, s, [this, s, timer, next = 0]() mutable {
      if (next < chatWrites.size()) {
        s->write(chatWrites[next++]);
        return;
      }
      timer->stop();
      s->disconnectFromHost();
    });
    timer->start();
  }

  QTcpServer m_server;
  QHash<QTcpSocket*, QByteArray> m_buffers;
};

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

  static QQuickItem* find(QQuickWindow* window, const QString& name) { return apptest::findItem(window, name); }

  static void click(QQuickWindow* window, QQuickItem* item) {
    QVERIFY(item && item->isVisible());
    QTest::mouseClick(window, Qt::LeftButton, {}, item->mapToScene({item->width() / 2, item->height() / 2}).toPoint());
  }

  static jetchat::GenerateParams params(int maxTokens) {
    jetchat::GenerateParams p;
    p.max_tokens = maxTokens;
    p.sampling.temperature = 0.8f;
    p.sampling.seed = 7;
    return p;
  }



 private slots:
  void init() {
    const char* name = QTest::currentTestFunction();
    if (qstrcmp(name, "endpointListRules") != 0 && qstrcmp(name, "otherServersFraming") != 0 &&
        qstrcmp(name, "otherServersErrors") != 0)
      QVERIFY(startServer());
  }
  void cleanup() { stopServer(); }

  // The rules the server form relies on: validation, unique names, edits that keep the key, removal.
  void endpointListRules() {
    using namespace remote_endpoints;
    QVERIFY(validate(QStringLiteral("lab"), QStringLiteral("http://10.0.0.5:8080/v1"), QStringLiteral("m")).isEmpty());
    QVERIFY(validate(QStringLiteral("lab"), QStringLiteral("https://gpu.example/v1"), QStringLiteral("m")).isEmpty());
    QVERIFY(!validate(QStringLiteral(" "), QStringLiteral("http://10.0.0.5:8080/v1"), QStringLiteral("m")).isEmpty());
    QVERIFY(!validate(QStringLiteral("lab"), QStringLiteral("10.0.0.5:8080"), QStringLiteral("m")).isEmpty());
    QVERIFY(!validate(QStringLiteral("lab"), QStringLiteral("ftp://10.0.0.5/v1"), QStringLiteral("m")).isEmpty());
    QVERIFY(!validate(QStringLiteral("lab"), QStringLiteral("http:///v1"), QStringLiteral("m")).isEmpty());
    QVERIFY(!validate(QStringLiteral("lab"), QStringLiteral("http://10.0.0.5/v1"), QString()).isEmpty());

    QVariantList list;
    QVERIFY(save(list, {}, QStringLiteral(" lab "), QStringLiteral("http://a:1/v1"), QStringLiteral("m1"), QStringLiteral("k1")).isEmpty());
    QVERIFY(save(list, {}, QStringLiteral("cloud"), QStringLiteral("http://b:2/v1"), QStringLiteral("m2"), {}).isEmpty());
    QCOMPARE(list.size(), 2);
    QCOMPARE(list[0].toMap().value(QStringLiteral("name")).toString(), QStringLiteral("lab"));  // trimmed
    // A second "lab" is refused and changes nothing.
    const QVariantList before = list;
    QVERIFY(!save(list, {}, QStringLiteral("lab"), QStringLiteral("http://c:3/v1"), QStringLiteral("m3"), {}).isEmpty());
    QVERIFY(!save(list, QStringLiteral("cloud"), QStringLiteral("lab"), QStringLiteral("http://c:3/v1"), QStringLiteral("m3"), {}).isEmpty());
    QCOMPARE(list, before);
    // An edit with no key typed keeps the old key; renaming keeps the entry's place.
    QVERIFY(save(list, QStringLiteral("lab"), QStringLiteral("lab 2"), QStringLiteral("http://a:9/v1"), QStringLiteral("m9"), {}).isEmpty());
    QCOMPARE(list.size(), 2);
    const QVariantMap edited = list[0].toMap();
    QCOMPARE(edited.value(QStringLiteral("name")).toString(), QStringLiteral("lab 2"));
    QCOMPARE(edited.value(QStringLiteral("baseUrl")).toString(), QStringLiteral("http://a:9/v1"));
    QCOMPARE(edited.value(QStringLiteral("apiKey")).toString(), QStringLiteral("k1"));
    QVERIFY(save(list, QStringLiteral("lab 2"), QStringLiteral("lab 2"), QStringLiteral("http://a:9/v1"), QStringLiteral("m9"), QStringLiteral("k2")).isEmpty());
    QCOMPARE(list[0].toMap().value(QStringLiteral("apiKey")).toString(), QStringLiteral("k2"));
    QVERIFY(remove(list, QStringLiteral("cloud")));
    QVERIFY(!remove(list, QStringLiteral("cloud")));
    QCOMPARE(list.size(), 1);
  }

  void streamsARepliesAndKeepsHistory() {
    RemoteBackend backend(endpoint());
    QVERIFY(!backend.isLoaded());
    const auto loaded = backend.load("remote:jetchat-demo", {});
    QVERIFY2(loaded.is_ok(), loaded.message().c_str());
    QVERIFY(backend.isLoaded());
    QCOMPARE(backend.info().name, std::string("jetchat-demo"));
    QVERIFY(backend.networkLatencyMs() > 0);
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

  // A vLLM/llama.cpp-style stream: CRLF, "data:" without a space, a keep-alive comment, a role-only first chunk,
  // a Chinese character split across two writes, usage in the last chunk, and no "[DONE]" before the close.
  void otherServersFraming() {
    ScriptedServer server;
    QVERIFY(server.listen());
    server.chatWrites = {
        ": keep-alive\r\n\r\n",
        "data:{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null},\"finish_reason\":null}]}\r\n\r\n",
        "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello, \"},\"finish_reason\":null}]}\r\n\r\n",
        "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\xe4\xb8",
        "\x96\xe7\x95\x8c!\"},\"finish_reason\":null}]}\r\n\r\n",
        "data:{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\r\n\r\n",
    };
    RemoteEndpoint e;
    e.baseUrl = server.base();
    e.model = QStringLiteral("qwen2.5-7b-instruct");
    RemoteBackend backend(e);
    const auto loaded = backend.load("remote:qwen", {});
    QVERIFY2(loaded.is_ok(), loaded.message().c_str());
    QStringList pieces;
    auto reply = backend.chat({{jetchat::Role::kUser, "Hi"}}, params(16), [&](std::string_view piece) {
      pieces << QString::fromUtf8(piece.data(), qsizetype(piece.size()));
      return true;
    });
    QVERIFY2(reply.is_ok(), reply.is_ok() ? "" : reply.status().message().c_str());
    QCOMPARE(QString::fromStdString(reply->text), QStringLiteral("Hello, 世界!"));
    QCOMPARE(pieces, QStringList({QStringLiteral("Hello, "), QStringLiteral("世界!")}));
    QCOMPARE(reply->stats.stop_reason, std::string("eos"));
    QCOMPARE(reply->stats.prompt_tokens, 12);
    QCOMPARE(reply->stats.generated_tokens, 3);
    const QJsonObject sent = QJsonDocument::fromJson(server.lastChatRequest).object();
    QCOMPARE(sent.value(QStringLiteral("model")).toString(), QStringLiteral("qwen2.5-7b-instruct"));
    QCOMPARE(sent.value(QStringLiteral("stream")).toBool(), true);
    QCOMPARE(sent.value(QStringLiteral("messages")).toArray().last().toObject().value(QStringLiteral("content")).toString(),
             QStringLiteral("Hi"));

    // Cut before any finish_reason: not a complete reply.
    server.chatWrites = {"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"};
    auto cut = backend.chat({{jetchat::Role::kUser, "Again"}}, params(16), {});
    QVERIFY(!cut.is_ok());
    QVERIFY2(QString::fromStdString(cut.status().message()).contains(QStringLiteral("without finishing")),
             cut.status().message().c_str());
  }

  // Error bodies of other servers (vLLM/LMDeploy: {"object":"error","message"}; FastAPI: {"detail"}) are shown.
  void otherServersErrors() {
    ScriptedServer server;
    QVERIFY(server.listen());
    RemoteEndpoint e;
    e.baseUrl = server.base();
    e.model = QStringLiteral("qwen2.5-7b-instruct");
    RemoteBackend backend(e);
    QVERIFY(backend.load("remote:qwen", {}).is_ok());
    server.chatStatus = "400 Bad Request";
    server.chatWrites = {R"({"object":"error","message":"max_tokens must be at most 2048","type":"BadRequestError","code":400})"};
    auto vllm = backend.chat({{jetchat::Role::kUser, "Hi"}}, params(4096), {});
    QVERIFY(!vllm.is_ok());
    QCOMPARE(QString::fromStdString(vllm.status().message()),
             QStringLiteral("the server answered 400: max_tokens must be at most 2048"));
    server.chatStatus = "422 Unprocessable Entity";
    server.chatWrites = {R"({"detail":"messages: field required"})"};
    auto fastapi = backend.chat({{jetchat::Role::kUser, "Hi"}}, params(8), {});
    QVERIFY(!fastapi.is_ok());
    QCOMPARE(QString::fromStdString(fastapi.status().message()),
             QStringLiteral("the server answered 422: messages: field required"));
  }

  // The real app, offscreen: the server is added through the model switcher's form (a bad address is refused with
  // a message first), switched to by tapping its card, streams a reply with stats and the network latency; a
  // tap on a local model switches back; a server killed mid-reply is a clear error, not a hang.
  void appSwitchesToARemoteEndpoint() {
    QTemporaryDir home;
    AppOptions options;
    options.settingsFile = home.filePath(QStringLiteral("settings.ini"));
    options.language = QStringLiteral("en");
    QStandardPaths::setTestModeEnabled(true);
    JetChatApp app(options);
    app.controller()->newConversation();
    app.settings()->setMaxTokens(400);
    QQmlApplicationEngine engine;
    QQuickWindow* window = app.load(engine);
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window));

    QObject* switcher = window->findChild<QObject*>(QStringLiteral("modelSwitcher"));
    QVERIFY(switcher);
    QMetaObject::invokeMethod(switcher, "open");
    QTRY_VERIFY(switcher->property("opened").toBool());
    click(window, find(window, QStringLiteral("addServerButton")));
    QObject* dialog = window->findChild<QObject*>(QStringLiteral("remoteEndpointDialog"));
    QVERIFY(dialog);
    QTRY_VERIFY(dialog->property("opened").toBool());
    find(window, QStringLiteral("endpointName"))->setProperty("text", QStringLiteral("lab server"));
    find(window, QStringLiteral("endpointUrl"))->setProperty("text", m_base.host() + QLatin1Char(':') + QString::number(m_base.port()));
    find(window, QStringLiteral("endpointModel"))->setProperty("text", QStringLiteral("jetchat-demo"));
    find(window, QStringLiteral("endpointKey"))->setProperty("text", QStringLiteral("sk-secret"));
    click(window, find(window, QStringLiteral("endpointSave")));
    QVERIFY(find(window, QStringLiteral("endpointError"))->property("text").toString().contains(QStringLiteral("http://")));
    QVERIFY(dialog->property("opened").toBool());  // refused: still open, nothing saved
    QVERIFY(app.settings()->remoteEndpoints().isEmpty());
    find(window, QStringLiteral("endpointUrl"))->setProperty("text", m_base.toString());
    QTest::qWait(200);
    apptest::saveScreenshot(window, QStringLiteral("remote-server-form.png"));
    click(window, find(window, QStringLiteral("endpointSave")));
    QTRY_VERIFY(!dialog->property("opened").toBool());
    QCOMPARE(app.settings()->remoteEndpoints().size(), 1);
    QVERIFY(!app.settings()->remoteEndpoint(QStringLiteral("lab server")).contains(QStringLiteral("apiKey")));
    QVERIFY(app.settings()->remoteEndpoint(QStringLiteral("lab server")).value(QStringLiteral("hasKey")).toBool());

    const int row = app.catalog()->indexOfPath(QStringLiteral("remote:lab server"));
    QVERIFY(row >= 0);
    QCOMPARE(app.catalog()->get(row).value(QStringLiteral("architecture")).toString(), QStringLiteral("remote"));
    QCOMPARE(app.catalog()->get(row).value(QStringLiteral("error")).toString(), QString());
    QVERIFY(!app.catalog()->get(row).value(QStringLiteral("builtIn")).toBool());

    // Tap the server's card.
    ChatController* controller = app.controller();
    auto* list = find(window, QStringLiteral("modelList"));
    QVERIFY(list);
    // Cards come and go with the catalogue's rescans: look one up right before tapping it.
    const auto card = [&](auto matches) -> QQuickItem* {
      for (int i = 0; i < list->property("count").toInt(); ++i) {
        QQuickItem* item = nullptr;
        QMetaObject::invokeMethod(list, "itemAtIndex", Q_RETURN_ARG(QQuickItem*, item), Q_ARG(int, i));
        if (item && matches(item)) return item;
      }
      return nullptr;
    };
    const auto isServer = [](QQuickItem* c) { return c->property("path").toString() == QLatin1String("remote:lab server"); };
    const auto isLocal = [](QQuickItem* c) { return c->property("builtIn").toBool(); };
    QTRY_VERIFY(!app.catalog()->scanning() && card(isServer) && card(isLocal));
    click(window, card(isServer));
    QTRY_COMPARE_WITH_TIMEOUT(controller->state(), ChatController::Ready, 20000);
    QVERIFY2(controller->errorMessage().isEmpty(), qPrintable(controller->errorMessage()));
    QCOMPARE(controller->modelPath(), QStringLiteral("remote:lab server"));
    QVERIFY(controller->backendName().startsWith(QStringLiteral("remote ")));
    QVERIFY(!controller->backendName().contains(QStringLiteral("sk-secret")));
    QVERIFY(!controller->modelBuiltIn());
    QVERIFY(controller->networkLatencyMs() > 0);  // the load's check of GET /models, shown before any reply

    QSignalSpy finished(controller, &ChatController::replyFinished);
    app.settings()->setMaxTokens(16);
    QVERIFY(controller->send(QStringLiteral("Tell me a saying.")));
    QVERIFY(finished.wait(30000));
    QVERIFY2(controller->errorMessage().isEmpty(), qPrintable(controller->errorMessage()));
    QCOMPARE(controller->conversation()->count(), 2);
    QVERIFY(!controller->conversation()->textAt(1).isEmpty());
    QVERIFY(controller->lastDecodeTokS() > 0);
    QVERIFY(controller->contextUsed() > 0);
    QVERIFY(controller->networkLatencyMs() > 0);
    QTRY_VERIFY(find(window, QStringLiteral("latencyGauge"))->isVisible());

    // Back to a model on this machine, from the GUI: no network latency any more.
    QMetaObject::invokeMethod(switcher, "open");
    QTRY_VERIFY(switcher->property("opened").toBool());
    QTRY_VERIFY(!app.catalog()->scanning() && card(isLocal));
    click(window, card(isLocal));
    QTRY_COMPARE_WITH_TIMEOUT(controller->state(), ChatController::Ready, 30000);
    QVERIFY(controller->modelBuiltIn());
    QCOMPARE(controller->networkLatencyMs(), -1.0);
    QTRY_VERIFY(!find(window, QStringLiteral("latencyGauge"))->isVisible());
    // And to the server again for the kill test.
    controller->switchModel(QStringLiteral("remote:lab server"));
    QTRY_COMPARE_WITH_TIMEOUT(controller->state(), ChatController::Ready, 20000);
    QCOMPARE(controller->modelPath(), QStringLiteral("remote:lab server"));

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
