// Splits a reply's Markdown into blocks so finished text renders as Markdown and code gets its own monospace,
// copyable box, while a streaming tail is shown as plain text (only the tail is re-parsed per update).
// Thread contract: pure functions, any thread.
#pragma once

#include <QString>
#include <QVariantList>

namespace MarkdownBlocks {

// Finished text: alternating {kind: "text"|"code", text, language} maps; an unclosed fence still yields code.
QVariantList split(const QString& markdown);

// Streaming text: the prefix made of complete blocks (ending at a blank line outside code, or after a closing
// fence) and the tail still being written. stable + tail == markdown.
struct StreamSplit {
  QString stable;
  QString tail;
};
StreamSplit splitStreaming(const QString& markdown);

}  // namespace MarkdownBlocks
