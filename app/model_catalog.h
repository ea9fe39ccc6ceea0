// The models found in the configured folders, described by ModelInfo::probe (no weights loaded), for the switcher.
// Thread contract: GUI thread; scanning runs on a pool thread and delivers its results back by a future watcher.
#pragma once

#include <QAbstractListModel>
#include <QFutureWatcher>
#include <QStringList>
#include <QtQml/qqmlregistration.h>

#include "chat_types.h"
#include "jetchat/engine.h"

class ModelCatalog : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("owned by the application")
  Q_PROPERTY(QStringList folders READ folders WRITE setFolders NOTIFY foldersChanged)
  Q_PROPERTY(int contextLength READ contextLength WRITE setContextLength NOTIFY contextLengthChanged)
  // The memory saver: estimates count what the next load will allocate with it (memory_saver.h).
  Q_PROPERTY(bool memorySaver READ memorySaver WRITE setMemorySaver NOTIFY memorySaverChanged)
  Q_PROPERTY(bool scanning READ scanning NOTIFY scanningChanged)
  Q_PROPERTY(int count READ count NOTIFY countChanged)

 public:
  enum Roles {
    NameRole = Qt::UserRole + 1,
    PathRole,
    ArchitectureRole,
    FamilyRole,
    ParametersRole,
    DtypeRole,
    MaxContextRole,
    BytesNeededRole,  // weights + KV cache at the effective context (with the memory saver's choices when on)
    ContextRole,      // the effective context the estimate is for
    ErrorRole,        // why the probe failed ("" = usable)
    BuiltInRole,      // shipped with the app (the demo model), found in one of builtInFolders()
  };

  struct Entry {
    QString path, name, architecture, family, dtype, error;
    jetchat::ModelInfo info;  // as probed: parameters, context, memory figures (zeros for remote endpoints)
    bool builtIn = false;
  };

  explicit ModelCatalog(QObject* parent = nullptr);
  ~ModelCatalog() override;

  // The folders searched by default: the user's and the system's model folders, then the bundled resources.
  static QStringList defaultFolders();
  // The folders of the models shipped with the app: the installed share folder and the source tree's resources.
  static QStringList builtInFolders();
  // A model directory directly in (or equal to) one of builtInFolders(): the built-in demo, not a real model.
  static bool isBuiltInPath(const QString& modelDir);
  // Model directories in `folders` (a folder that is itself a model counts) described by the engine; blocking.
  static QList<Entry> scan(const QStringList& folders);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  QStringList folders() const { return m_folders; }
  void setFolders(const QStringList& folders);
  int contextLength() const { return m_contextLength; }
  void setContextLength(int tokens);
  bool memorySaver() const { return m_memorySaver; }
  void setMemorySaver(bool on);
  bool scanning() const { return m_scanning; }
  int count() const { return int(m_entries.size()); }

  // Remote endpoints (#7) listed after the scanned models, as "remote:NAME" paths: maps of name, baseUrl, model.
  void setRemoteEndpoints(const QVariantList& endpoints);

  Q_INVOKABLE void refresh();
  Q_INVOKABLE int indexOfPath(const QString& path) const;
  Q_INVOKABLE QVariantMap get(int row) const;
  // The row to load when nothing is asked for: the first usable model that fits `availableBytes`, preferring any
  // model that is not built in; -1 when none fits.
  int preferredRow(qint64 availableBytes) const;

 signals:
  void foldersChanged();
  void contextLengthChanged();
  void memorySaverChanged();
  void scanningChanged();
  void countChanged();
  void refreshed();

 private:
  // Weights + one session's KV cache at the effective context, as the worker's memory check counts them.
  qint64 memoryEstimate(const Entry& e) const;

  QStringList m_folders;
  int m_contextLength = 0;
  bool m_memorySaver = false;
  QList<Entry> m_entries;      // scanned, then remote
  QList<Entry> m_remote;
  QFutureWatcher<QList<Entry>> m_watcher;
  bool m_rescan = false;  // folders changed while scanning
  bool m_scanning = false;  // until the results are in m_entries (the future may finish before its signal)
};
