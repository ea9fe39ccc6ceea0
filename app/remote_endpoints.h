// The remote endpoints list kept in the settings (#7) — maps of name, baseUrl, model, apiKey — and the rules
// for editing it from the GUI: what makes an entry valid, adding, replacing (an edit) and removing one.
// Thread contract: pure functions on values; any thread.
#pragma once

#include <QString>
#include <QVariantList>

namespace remote_endpoints {

// "" when the fields make a usable endpoint, else what is wrong, for the form to show (translated).
QString validate(const QString& name, const QString& baseUrl, const QString& model);

// The list with the entry named `previousName` ("" for a new one) replaced by, or extended with, the given one.
// An empty apiKey on an edit keeps the old key, so the form never has to show it. Returns "" on success with
// `list` updated, else the reason (invalid fields, or a name another entry already has) with `list` untouched.
QString save(QVariantList& list, const QString& previousName, const QString& name, const QString& baseUrl,
             const QString& model, const QString& apiKey);

// The list without the entry called `name`; false when there was none.
bool remove(QVariantList& list, const QString& name);

}  // namespace remote_endpoints
