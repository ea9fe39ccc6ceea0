#include "markdown_blocks.h"

#include <QVariantMap>

namespace MarkdownBlocks {

namespace {

bool isFence(const QString& line) { return line.trimmed().startsWith(QLatin1String("```")); }

QVariantMap block(const QString& kind, const QString& text, const QString& language = {}) {
  return QVariantMap{{QStringLiteral("kind"), kind},
                     {QStringLiteral("text"), text},
                     {QStringLiteral("language"), language}};
}

}  // namespace

QVariantList split(const QString& markdown) {
  QVariantList out;
  QStringList text, code;
  QString language;
  bool inCode = false;
  const auto flushText = [&] {
    const QString joined = text.join(QLatin1Char('\n')).trimmed();
    if (!joined.isEmpty()) out.append(block(QStringLiteral("text"), joined));
    text.clear();
  };
  for (const QString& line : markdown.split(QLatin1Char('\n'))) {
    if (isFence(line)) {
      if (!inCode) {
        flushText();
        language = line.trimmed().mid(3).trimmed();
        inCode = true;
      } else {
        out.append(block(QStringLiteral("code"), code.join(QLatin1Char('\n')), language));
        code.clear();
        inCode = false;
      }
      continue;
    }
    (inCode ? code : text).append(line);
  }
  if (inCode) out.append(block(QStringLiteral("code"), code.join(QLatin1Char('\n')), language));
  flushText();
  return out;
}

StreamSplit splitStreaming(const QString& markdown) {
  qsizetype stableEnd = 0;  // one past the last character of the last complete block
  bool inCode = false;
  qsizetype lineStart = 0;
  while (lineStart < markdown.size()) {
    qsizetype lineEnd = markdown.indexOf(QLatin1Char('\n'), lineStart);
    if (lineEnd < 0) break;  // the last line is still being written
    const QString line = markdown.mid(lineStart, lineEnd - lineStart);
    if (isFence(line)) {
      inCode = !inCode;
      if (!inCode) stableEnd = lineEnd + 1;
    } else if (!inCode && line.trimmed().isEmpty()) {
      stableEnd = lineEnd + 1;
    }
    lineStart = lineEnd + 1;
  }
  return {markdown.left(stableEnd), markdown.mid(stableEnd)};
}

}  // namespace MarkdownBlocks
