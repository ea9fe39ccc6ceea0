// Copy to the system clipboard from QML (Qt Quick has no clipboard API of its own).
// Thread contract: GUI thread.
#pragma once

#include <QObject>
#include <QtQml/qqmlregistration.h>

class Clipboard : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_SINGLETON

 public:
  using QObject::QObject;
  Q_INVOKABLE void setText(const QString& text);
  Q_INVOKABLE QString text() const;
};
