#include "ui_language.h"

#include <QCoreApplication>
#include <QLocale>
#include <QQmlEngine>
#include <QVariantMap>

UiLanguage::UiLanguage(QObject* parent) : QObject(parent) {}

UiLanguage::~UiLanguage() {
  if (m_translator) QCoreApplication::removeTranslator(m_translator.get());
}

QVariantList UiLanguage::available() const {
  // Names in their own language, so anyone can find theirs.
  return {QVariantMap{{QStringLiteral("code"), QString()}, {QStringLiteral("name"), tr("System")}},
          QVariantMap{{QStringLiteral("code"), QStringLiteral("en")}, {QStringLiteral("name"), QStringLiteral("English")}},
          QVariantMap{{QStringLiteral("code"), QStringLiteral("zh_CN")}, {QStringLiteral("name"), QStringLiteral("简体中文")}}};
}

void UiLanguage::setLanguage(const QString& language) {
  const QString wanted = language.isEmpty()
                             ? (QLocale().language() == QLocale::Chinese ? QStringLiteral("zh_CN") : QStringLiteral("en"))
                             : language;
  if (m_applied && language == m_language) return;
  m_applied = true;
  m_language = language;
  if (m_translator) {
    QCoreApplication::removeTranslator(m_translator.get());
    m_translator.reset();
  }
  m_effective = QStringLiteral("en");
  if (wanted != QLatin1String("en")) {
    auto translator = std::make_unique<QTranslator>();
    if (translator->load(QStringLiteral(":/i18n/jetchat_") + wanted + QStringLiteral(".qm"))) {
      QCoreApplication::installTranslator(translator.get());
      m_translator = std::move(translator);
      m_effective = wanted;
    }
  }
  if (m_engine) m_engine->retranslate();
  emit languageChanged();
}
