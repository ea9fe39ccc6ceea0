// Notices when nobody has touched the screen or typed for a while (the kiosk's return to the welcome screen).
// Thread contract: GUI thread; it watches the application's input events through an event filter.
#pragma once

#include <QObject>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

class IdleWatcher : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("owned by the application")
  Q_PROPERTY(int timeoutMs READ timeoutMs WRITE setTimeoutMs NOTIFY timeoutMsChanged)  // 0 = never
  Q_PROPERTY(bool enabled READ enabled WRITE setEnabled NOTIFY enabledChanged)

 public:
  explicit IdleWatcher(QObject* parent = nullptr);

  int timeoutMs() const { return m_timeoutMs; }
  void setTimeoutMs(int ms);
  bool enabled() const { return m_enabled; }
  void setEnabled(bool on);
  // Counts as activity (also for things that are not input, such as a reply streaming in).
  Q_INVOKABLE void poke();

 signals:
  void timeoutMsChanged();
  void enabledChanged();
  void idle();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void restart();

  QTimer m_timer;
  int m_timeoutMs = 0;
  bool m_enabled = false;
};
