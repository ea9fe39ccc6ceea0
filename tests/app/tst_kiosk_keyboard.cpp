// The kiosk's on-screen keyboard and the Chinese UI, in the real app offscreen on the built-in demo model:
// tapping the composer brings up Qt Virtual Keyboard, tapping its keys types into the composer; in Chinese the
// keyboard uses Pinyin where the Qt build has it and says so where it does not (Debian/Ubuntu packages); a
// Chinese conversation is rendered and saved as a screenshot (with fonts-noto-cjk installed, real glyphs).
#include <QGuiApplication>
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

class TestKioskKeyboard : public QObject {
  Q_OBJECT

  QTemporaryDir m_home;

  std::unique_ptr<apptest::RunningApp> start(bool kiosk, const QString& language) {
    AppOptions options;
    options.kiosk = kiosk;
    options.language = language;
    options.settingsFile = m_home.filePath(language + QStringLiteral(".ini"));
    return apptest::startApp(options, [](JetChatApp& app) {
      app.settings()->setMaxTokens(40);
      app.settings()->setTemperature(0);
    });
  }

  static QQuickItem* find(QQuickWindow* window, const char* name) {
    return apptest::findItem(window, QString::fromLatin1(name));
  }

  static void tap(QQuickWindow* window, QQuickItem* item) {
    QVERIFY(item);
    const QPoint at = item->mapToScene({item->width() / 2, item->height() / 2}).toPoint();
    QTest::mousePress(window, Qt::LeftButton, {}, at);
    QTest::qWait(30);
    QTest::mouseRelease(window, Qt::LeftButton, {}, at);
    QTest::qWait(30);
  }

  // The keyboard's key for `letter`: a visible item under the panel whose "text" is that letter and which has
  // the Key type's "key" property.
  static QQuickItem* keyFor(QQuickItem* panel, const QString& letter) {
    for (QQuickItem* item : panel->findChildren<QQuickItem*>())
      if (item->isVisible() && item->property("key").isValid() &&
          item->property("text").toString().compare(letter, Qt::CaseInsensitive) == 0 && item->width() > 0)
        return item;
    return nullptr;
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    if (!AppOptions::virtualKeyboardInstalled()) QSKIP("Qt Virtual Keyboard is not installed");
  }

  void tappingKeysTypesIntoTheComposer() {
    auto running = start(true, QStringLiteral("en"));
    QVERIFY(running->window);
    QVERIFY(running->app->virtualKeyboard());
    ChatController* controller = running->app->controller();
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == ChatController::Ready; }, 60000));
    // Leave the welcome screen the way a visitor does: tap the composer.
    QQuickItem* input = find(running->window, "composerInput");
    tap(running->window, input);
    QQuickItem* keyboard = find(running->window, "kioskKeyboard");
    QVERIFY(keyboard);
    QTRY_VERIFY(keyboard->property("active").toBool() && keyboard->isVisible());
    QCOMPARE(keyboard->property("layoutLocale").toString(), QStringLiteral("en_US"));
    for (const QChar c : QStringLiteral("hi")) {
      QQuickItem* key = nullptr;
      QTRY_VERIFY((key = keyFor(keyboard, QString(c))) != nullptr);
      tap(running->window, key);
    }
    QTRY_COMPARE(input->property("text").toString().toLower(), QStringLiteral("hi"));
    QTest::qWait(300);  // the panel's slide-in animation
    // The keyboard takes its room from the layout: it never covers the composer it types into.
    const qreal composerBottom = input->mapToScene({0, input->height()}).y();
    QCOMPARE(keyboard->height(), keyboard->implicitHeight());
    QVERIFY2(composerBottom <= keyboard->mapToScene({0, 0}).y(), qPrintable(QString::number(composerBottom)));
    apptest::saveScreenshot(running->window, QStringLiteral("kiosk-keyboard.png"));
  }

  void chineseUiAndKeyboard() {
    auto running = start(true, QStringLiteral("zh_CN"));
    QVERIFY(running->window);
    ChatController* controller = running->app->controller();
    QVERIFY(QTest::qWaitFor([&] { return controller->state() == ChatController::Ready; }, 60000));
    tap(running->window, find(running->window, "composerInput"));
    QQuickItem* keyboard = find(running->window, "kioskKeyboard");
    QVERIFY(keyboard);
    QTRY_VERIFY(keyboard->property("active").toBool());
    const bool pinyin = keyboard->property("pinyinAvailable").toBool();
    qInfo("Pinyin in this Qt build: %s", pinyin ? "yes" : "no");
    QCOMPARE(keyboard->property("layoutLocale").toString(), pinyin ? QStringLiteral("zh_CN") : QStringLiteral("en_US"));
    QCOMPARE(find(running->window, "pinyinMissingLabel")->isVisible(), !pinyin);

    // A conversation in Chinese, rendered with the Chinese UI.
    QSignalSpy finished(controller, &ChatController::replyFinished);
    QVERIFY(controller->send(QStringLiteral("给我一首诗。")));
    QVERIFY(finished.wait(60000));
    QVERIFY(!controller->conversation()->textAt(1).isEmpty());
    QTest::qWait(300);
    apptest::saveScreenshot(running->window, QStringLiteral("chat-zh_CN.png"));
  }
};

int main(int argc, char** argv) {
  // The input method is chosen when the application starts, as main.cpp does for --kiosk.
  qputenv("QT_IM_MODULE", "qtvirtualkeyboard");
  QGuiApplication app(argc, argv);
  TestKioskKeyboard test;
  return QTest::qExec(&test, argc, argv);
}

#include "tst_kiosk_keyboard.moc"
