// The conversation list model, the Markdown block splitter behind the bubbles, and the JSON store (incl. corrupt).
#include <QAbstractItemModelTester>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "conversation_model.h"
#include "conversation_store.h"
#include "markdown_blocks.h"

class TestConversation : public QObject {
  Q_OBJECT

 private slots:
  void modelStreamsAndFinishes() {
    ConversationModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy committed(&model, &ConversationModel::committed);
    model.appendUser(QStringLiteral("What is 2+2?"));
    model.beginAssistant();
    QVERIFY(model.streaming());
    model.appendChunk(QStringLiteral("It is "));
    model.appendChunk(QStringLiteral("**4**.\n\nAnd more"));
    const QModelIndex reply = model.index(1);
    QCOMPARE(reply.data(ConversationModel::AuthorRole).toString(), QStringLiteral("assistant"));
    QCOMPARE(reply.data(ConversationModel::StableTextRole).toString(), QStringLiteral("It is **4**.\n\n"));
    QCOMPARE(reply.data(ConversationModel::TailTextRole).toString(), QStringLiteral("And more"));
    QCOMPARE(model.turns().size(), 1);  // the streaming reply is not a turn yet
    model.finishAssistant(QStringLiteral("5 tokens"));
    QVERIFY(!model.streaming());
    QCOMPARE(reply.data(ConversationModel::StatsRole).toString(), QStringLiteral("5 tokens"));
    QCOMPARE(reply.data(ConversationModel::BlocksRole).toList().size(), 1);
    QCOMPARE(model.turns(), (QList<ChatTurn>{{1, QStringLiteral("What is 2+2?")}, {2, QStringLiteral("It is **4**.\n\nAnd more")}}));
    QCOMPARE(committed.count(), 2);
    QCOMPARE(model.title(), QStringLiteral("What is 2+2?"));
  }

  void chunksAfterFinishAreIgnored() {
    ConversationModel model;
    model.appendUser(QStringLiteral("q"));
    model.appendChunk(QStringLiteral("stray"));  // no reply being written
    QCOMPARE(model.textAt(0), QStringLiteral("q"));
    model.beginAssistant();
    model.failAssistant(QStringLiteral("out of memory"));
    model.appendChunk(QStringLiteral("late"));
    QCOMPARE(model.textAt(1), QString());
    QVERIFY(model.index(1).data(ConversationModel::FailedRole).toBool());
    QCOMPARE(model.turns().size(), 1);  // failed replies are not sent back to the model
  }

  void regenerateRemovesOnlyAnAssistantTail() {
    ConversationModel model;
    model.appendUser(QStringLiteral("q"));
    QVERIFY(!model.removeLastAssistant());
    model.beginAssistant();
    model.finishAssistant({});
    QVERIFY(model.removeLastAssistant());
    QCOMPARE(model.count(), 1);
  }

  void jsonRoundTrip() {
    ConversationModel a;
    a.appendUser(QStringLiteral("你好"));
    a.beginAssistant();
    a.appendChunk(QStringLiteral("```cpp\nint x;\n```"));
    a.finishAssistant(QStringLiteral("3 tokens"));
    ConversationModel b;
    b.fromJson(a.toJson());
    QCOMPARE(b.count(), 2);
    QCOMPARE(b.turns(), a.turns());
    QCOMPARE(b.index(1).data(ConversationModel::StatsRole).toString(), QStringLiteral("3 tokens"));
    QCOMPARE(b.index(1).data(ConversationModel::BlocksRole).toList().first().toMap().value(QStringLiteral("kind")).toString(),
             QStringLiteral("code"));
  }

  void markdownSplitsCodeFences() {
    const QVariantList blocks =
        MarkdownBlocks::split(QStringLiteral("Intro **bold**\n\n```python\nprint(1)\n\nprint(2)\n```\nAfter\n```\nopen"));
    QCOMPARE(blocks.size(), 4);
    QCOMPARE(blocks[0].toMap().value(QStringLiteral("text")).toString(), QStringLiteral("Intro **bold**"));
    QCOMPARE(blocks[1].toMap().value(QStringLiteral("kind")).toString(), QStringLiteral("code"));
    QCOMPARE(blocks[1].toMap().value(QStringLiteral("language")).toString(), QStringLiteral("python"));
    QCOMPARE(blocks[1].toMap().value(QStringLiteral("text")).toString(), QStringLiteral("print(1)\n\nprint(2)"));
    QCOMPARE(blocks[2].toMap().value(QStringLiteral("text")).toString(), QStringLiteral("After"));
    QCOMPARE(blocks[3].toMap().value(QStringLiteral("text")).toString(), QStringLiteral("open"));  // unclosed fence
  }

  void streamingSplitKeepsOpenCodeInTheTail() {
    // A blank line inside an unfinished code block does not end a block.
    auto s = MarkdownBlocks::splitStreaming(QStringLiteral("Para\n\n```\na\n\nb"));
    QCOMPARE(s.stable, QStringLiteral("Para\n\n"));
    QCOMPARE(s.tail, QStringLiteral("```\na\n\nb"));
    s = MarkdownBlocks::splitStreaming(QStringLiteral("```\ncode\n```\nnext"));
    QCOMPARE(s.stable, QStringLiteral("```\ncode\n```\n"));
    QCOMPARE(s.tail, QStringLiteral("next"));
    s = MarkdownBlocks::splitStreaming(QStringLiteral("no break yet"));
    QCOMPARE(s.stable, QString());
  }

  void storeRoundTripNewestFirst() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("sub/conversations.json"));
    {
      ConversationStore store(path);
      QVERIFY(store.load());
      QVERIFY(store.save(QStringLiteral("one"), QStringLiteral("First"), QJsonArray{QJsonObject{{QStringLiteral("author"), QStringLiteral("user")}, {QStringLiteral("text"), QStringLiteral("a")}}}));
      QTest::qWait(2);
      QVERIFY(store.save(QStringLiteral("two"), QStringLiteral("Second"), QJsonArray{}));
      QVERIFY(store.warning().isEmpty());
    }
    ConversationStore store(path);
    QVERIFY(store.load());
    QCOMPARE(store.conversations().size(), 2);
    QCOMPARE(store.latestId(), QStringLiteral("two"));
    QCOMPARE(store.title(QStringLiteral("one")), QStringLiteral("First"));
    QCOMPARE(store.messages(QStringLiteral("one")).size(), 1);
    QVERIFY(store.remove(QStringLiteral("two")));
    ConversationStore again(path);
    QVERIFY(again.load());
    QCOMPARE(again.latestId(), QStringLiteral("one"));
  }

  void corruptStoreIsSetAsideWithAMessage_data() {
    QTest::addColumn<QByteArray>("contents");
    QTest::newRow("truncated") << QByteArray("{\"version\":1,\"conversations\":[{\"id\":\"x\",\"mess");
    QTest::newRow("not json") << QByteArray("\x00\xff garbage", 10);
    QTest::newRow("wrong shape") << QByteArray("[1,2,3]");
    QTest::newRow("newer version") << QByteArray("{\"version\":99,\"conversations\":[]}");
  }

  void corruptStoreIsSetAsideWithAMessage() {
    QFETCH(QByteArray, contents);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("conversations.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(contents);
    f.close();
    ConversationStore store(path);
    QSignalSpy warned(&store, &ConversationStore::warningChanged);
    QVERIFY(!store.load());
    QCOMPARE(warned.count(), 1);
    QVERIFY(store.warning().contains(QStringLiteral(".corrupt-")));
    QVERIFY(store.conversations().isEmpty());
    // The bad file was kept beside, byte for byte, and the store works again.
    const QStringList aside = QDir(dir.path()).entryList({QStringLiteral("conversations.json.corrupt-*")});
    QCOMPARE(aside.size(), 1);
    QFile kept(dir.filePath(aside.first()));
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), contents);
    QVERIFY(store.save(QStringLiteral("new"), QStringLiteral("t"), QJsonArray{}));
    ConversationStore reread(path);
    QVERIFY(reread.load());
    QCOMPARE(reread.latestId(), QStringLiteral("new"));
  }
};

QTEST_GUILESS_MAIN(TestConversation)
#include "tst_conversation.moc"
