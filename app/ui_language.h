// The UI language: installs the translator for English or Simplified Chinese and retranslates the QML on change.
// Thread contract: GUI thread.
#pragma once

#include <QObject>
#include <QPointer>
#include <QQmlEngine>
#include <QTranslator>
#include <QtQml/qqmlregistration.h>
#include <memory>

class QQmlEngine;

class UiLanguage : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("owned by the application")
  Q_PROPERTY(QString language READ language WRITE setLanguage NOTIFY languageChanged)  // "" = system locale
  Q_PROPERTY(QString effective READ effective NOTIFY languageChanged)                // "en" or "zh_CN"
  Q_PROPERTY(QVariantList available READ available CONSTANT)

 public:
  explicit UiLanguage(QObject* parent = nullptr);
  ~UiLanguage() override;

  // Retranslates this engine's bindings when the language changes.
  void setEngine(QQmlEngine* engine) { m_engine = engine; }

  QString language() const { return m_language; }
  void setLanguage(const QString& language);
  QString effective() const { return m_effective; }
  QVariantList available() const;

 signals:
  void languageChanged();

 private:
  QString m_language;
  bool m_applied = false;  // the first setLanguage("") must still pick the system locale
  QString m_effective = QStringLiteral("en");
  std::unique_ptr<QTranslator> m_translator;
  QPointer<QQmlEngine> m_engine;
};
