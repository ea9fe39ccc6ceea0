#include "idle_watcher.h"

#include <QCoreApplication>
#include <QEvent>

IdleWatcher::IdleWatcher(QObject* parent) : QObject(parent) {
  m_timer.setSingleShot(true);
  connect(&m_timer, &QTimer::timeout, this, &IdleWatcher::idle);
  QCoreApplication::instance()->installEventFilter(this);
}

void IdleWatcher::setTimeoutMs(int ms) {
  if (ms == m_timeoutMs) return;
  m_timeoutMs = ms;
  emit timeoutMsChanged();
  restart();
}

void IdleWatcher::setEnabled(bool on) {
  if (on == m_enabled) return;
  m_enabled = on;
  emit enabledChanged();
  restart();
}

void IdleWatcher::poke() { restart(); }

void IdleWatcher::restart() {
  if (m_enabled && m_timeoutMs > 0)
    m_timer.start(m_timeoutMs);
  else
    m_timer.stop();
}

bool IdleWatcher::eventFilter(QObject* watched, QEvent* event) {
  switch (event->type()) {
    case QEvent::KeyPress:
    case QEvent::MouseButtonPress:
    case QEvent::TouchBegin:
    case QEvent::Wheel:
      if (m_timer.isActive()) restart();
      break;
    default:
      break;
  }
  return QObject::eventFilter(watched, event);
}
