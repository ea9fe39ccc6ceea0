#include "model_catalog.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QUrl>
#include <algorithm>
#include <QtConcurrent/QtConcurrentRun>

#include "jetchat/engine.h"
#include "memory_saver.h"
#include "remote_endpoints.h"

ModelCatalog::ModelCatalog(QObject* parent) : QAbstractListModel(parent) {
  connect(&m_watcher, &QFutureWatcher<QList<Entry>>::finished, this, [this] {
    beginResetModel();
    m_entries = m_watcher.result() + m_remote;
    endResetModel();
    m_scanning = false;
    emit countChanged();
    emit scanningChanged();
    emit refreshed();
    if (m_rescan) refresh();
  });
}

ModelCatalog::~ModelCatalog() { m_watcher.waitForFinished(); }

QStringList ModelCatalog::defaultFolders() {
  QStringList out{
      QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/jetchat/models"),
      QStringLiteral("/var/lib/jetchat/models"),
  };
  out += builtInFolders();
  out.removeDuplicates();
  return out;
}

QStringList ModelCatalog::builtInFolders() {
  QStringList out{
      QDir::cleanPath(QDir(QCoreApplication::applicationDirPath()).absoluteFilePath(QStringLiteral("../share/jetchat/models"))),
      QDir::cleanPath(QStringLiteral(JETCHAT_RESOURCE_MODELS)),
  };
  out.removeDuplicates();
  return out;
}

namespace {
QString canonicalOrClean(const QString& path) {
  const QFileInfo fi(path);
  const QString canonical = fi.canonicalFilePath();
  return canonical.isEmpty() ? QDir::cleanPath(fi.absoluteFilePath()) : canonical;
}
}  // namespace

bool ModelCatalog::isBuiltInPath(const QString& modelDir) {
  if (modelDir.isEmpty()) return false;
  const QString dir = canonicalOrClean(modelDir);
  const QString parent = canonicalOrClean(QFileInfo(dir).absolutePath());
  for (const QString& folder : builtInFolders()) {
    const QString f = canonicalOrClean(folder);
    if (dir == f || parent == f) return true;
  }
  return false;
}

QList<ModelCatalog::Entry> ModelCatalog::scan(const QStringList& folders) {
  // A model is a directory with a config.json (Hugging Face layout) or a single .gguf file, found in a folder or
  // one level below it.
  QStringList candidates;
  const auto addModelsIn = [&candidates](const QDir& dir) {
    if (dir.exists(QStringLiteral("config.json"))) candidates.append(dir.absolutePath());
    for (const QString& file : dir.entryList({QStringLiteral("*.gguf")}, QDir::Files, QDir::Name))
      candidates.append(dir.absoluteFilePath(file));
  };
  for (const QString& folder : folders) {
    const QDir dir(folder);
    if (!dir.exists()) continue;
    addModelsIn(dir);
    for (const QString& sub : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) addModelsIn(dir.filePath(sub));
  }
  candidates.removeDuplicates();
  QList<Entry> out;
  for (const QString& path : candidates) {
    Entry e;
    e.path = path;
    e.name = QFileInfo(path).fileName();
    e.builtIn = isBuiltInPath(path);
    auto info = jetchat::ModelInfo::probe(path.toStdString());
    if (!info) {
      e.error = QString::fromStdString(info.status().message());
    } else {
      e.name = QString::fromStdString(info->name);
      e.architecture = QString::fromStdString(info->architecture);
      e.family = QString::fromStdString(info->family);
      e.dtype = QString::fromStdString(info->dtype);
      e.info = *info;
    }
    out.append(e);
  }
  return out;
}

int ModelCatalog::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_entries.size()); }

QVariant ModelCatalog::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= m_entries.size()) return {};
  const Entry& e = m_entries.at(index.row());
  const int context = effectiveContext(e.info.max_context, m_contextLength);
  switch (role) {
    case Qt::DisplayRole:
    case NameRole: return e.name;
    case PathRole: return e.path;
    case ArchitectureRole: return e.architecture;
    case FamilyRole: return e.family;
    case ParametersRole: return qint64(e.info.parameters);
    case DtypeRole: return e.dtype;
    case MaxContextRole: return e.info.max_context;
    case BytesNeededRole: return e.error.isEmpty() ? memoryEstimate(e) : qint64(0);
    case ContextRole: return context;
    case ErrorRole: return e.error;
    case BuiltInRole: return e.builtIn;
  }
  return {};
}

QHash<int, QByteArray> ModelCatalog::roleNames() const {
  return {{NameRole, "name"},         {PathRole, "path"},   {ArchitectureRole, "architecture"},
          {FamilyRole, "family"},     {ParametersRole, "parameters"}, {DtypeRole, "dtype"},
          {MaxContextRole, "maxContext"}, {BytesNeededRole, "bytesNeeded"}, {ContextRole, "context"},
          {ErrorRole, "error"},       {BuiltInRole, "builtIn"}};
}

void ModelCatalog::setFolders(const QStringList& folders) {
  if (folders == m_folders) return;
  m_folders = folders;
  emit foldersChanged();
  refresh();
}

void ModelCatalog::setContextLength(int tokens) {
  if (tokens == m_contextLength) return;
  m_contextLength = tokens;
  emit contextLengthChanged();
  if (!m_entries.isEmpty()) emit dataChanged(index(0), index(int(m_entries.size()) - 1), {BytesNeededRole, ContextRole});
}

void ModelCatalog::setMemorySaver(bool on) {
  if (on == m_memorySaver) return;
  m_memorySaver = on;
  emit memorySaverChanged();
  if (!m_entries.isEmpty()) emit dataChanged(index(0), index(int(m_entries.size()) - 1), {BytesNeededRole});
}

qint64 ModelCatalog::memoryEstimate(const Entry& e) const {
  return bytesNeeded(e.info, effectiveContext(e.info.max_context, m_contextLength), m_memorySaver);
}

void ModelCatalog::refresh() {
  if (m_scanning) {
    m_rescan = true;
    return;
  }
  m_rescan = false;
  m_scanning = true;
  m_watcher.setFuture(QtConcurrent::run(&ModelCatalog::scan, m_folders));
  emit scanningChanged();
}

int ModelCatalog::indexOfPath(const QString& path) const {
  const QString wanted = path.startsWith(QStringLiteral("remote:")) ? path : QDir(path).absolutePath();
  for (int i = 0; i < m_entries.size(); ++i)
    if (m_entries[i].path == wanted) return i;
  return -1;
}

QVariantMap ModelCatalog::get(int row) const {
  QVariantMap out;
  const QHash<int, QByteArray> names = roleNames();
  for (auto it = names.begin(); it != names.end(); ++it)
    out.insert(QString::fromLatin1(it.value()), data(index(row), it.key()));
  return out;
}

int ModelCatalog::preferredRow(qint64 availableBytes) const {
  int builtInRow = -1;
  for (int row = 0; row < m_entries.size(); ++row) {
    const Entry& e = m_entries.at(row);
    if (!e.error.isEmpty()) continue;
    if (memoryEstimate(e) > availableBytes) continue;
    if (!e.builtIn) return row;
    if (builtInRow < 0) builtInRow = row;
  }
  return builtInRow;
}

void ModelCatalog::setRemoteEndpoints(const QVariantList& endpoints) {
  QList<Entry> remote;
  for (const QVariant& v : endpoints) {
    const QVariantMap m = v.toMap();
    Entry e;
    e.name = m.value(QStringLiteral("name")).toString();
    if (e.name.isEmpty()) continue;
    e.path = QStringLiteral("remote:") + e.name;
    e.architecture = QStringLiteral("remote");
    e.family = QStringLiteral("remote");
    const QUrl url(m.value(QStringLiteral("baseUrl")).toString());
    e.dtype = m.value(QStringLiteral("model")).toString() + QStringLiteral(" @ ") + url.host() +
              (url.port() > 0 ? QStringLiteral(":") + QString::number(url.port()) : QString());
    e.error = remote_endpoints::validate(e.name, m.value(QStringLiteral("baseUrl")).toString(),
                                         m.value(QStringLiteral("model")).toString());
    remote.append(e);
  }
  beginResetModel();
  m_entries.erase(std::remove_if(m_entries.begin(), m_entries.end(),
                                 [](const Entry& e) { return e.path.startsWith(QStringLiteral("remote:")); }),
                  m_entries.end());
  m_remote = remote;
  m_entries += m_remote;
  endResetModel();
  emit countChanged();
}
