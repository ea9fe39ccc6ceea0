// Samples machine and process memory for the gauges about twice a second (/proc reads of a few microseconds).
// Thread contract: a GUI-thread object; the static readers are pure functions, safe on any thread.
#pragma once

#include <QObject>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

class SystemMonitor : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("owned by the application")
  Q_PROPERTY(qint64 memTotal READ memTotal NOTIFY sampled)
  Q_PROPERTY(qint64 memAvailable READ memAvailable NOTIFY sampled)
  Q_PROPERTY(qint64 memUsed READ memUsed NOTIFY sampled)
  Q_PROPERTY(qint64 processRss READ processRss NOTIFY sampled)
  Q_PROPERTY(int gpuLoadPercent READ gpuLoadPercent NOTIFY sampled)  // -1 where the board exposes none
  // A discrete GPU's own memory (jetchat::read_gpu_memory); 0 on Jetson, where the GPU uses system memory.
  Q_PROPERTY(qint64 gpuMemTotal READ gpuMemTotal NOTIFY sampled)
  Q_PROPERTY(qint64 gpuMemUsed READ gpuMemUsed NOTIFY sampled)
  Q_PROPERTY(int intervalMs READ intervalMs WRITE setIntervalMs NOTIFY intervalMsChanged)

 public:
  struct MemInfo {
    qint64 total = 0;
    qint64 available = 0;
  };
  // MemTotal and MemAvailable from /proc/meminfo (bytes); zeros when unreadable.
  static MemInfo readMemInfo(const QString& path = QStringLiteral("/proc/meminfo"));
  // VmRSS from /proc/self/status (bytes).
  static qint64 readResidentBytes(const QString& path = QStringLiteral("/proc/self/status"));
  // GPU load in percent from the Jetson devfreq node (per mille in sysfs); -1 when there is none.
  static int readGpuLoadPercent();

  explicit SystemMonitor(QObject* parent = nullptr);

  qint64 memTotal() const { return m_mem.total; }
  qint64 memAvailable() const { return m_mem.available; }
  qint64 memUsed() const { return m_mem.total - m_mem.available; }
  qint64 processRss() const { return m_rss; }
  int gpuLoadPercent() const { return m_gpuLoad; }
  qint64 gpuMemTotal() const { return m_gpuMemTotal; }
  qint64 gpuMemUsed() const { return m_gpuMemUsed; }
  int intervalMs() const { return m_timer.interval(); }
  void setIntervalMs(int ms);

  Q_INVOKABLE void sample();

 signals:
  void sampled();
  void intervalMsChanged();

 private:
  QTimer m_timer;
  MemInfo m_mem;
  qint64 m_rss = 0;
  int m_gpuLoad = -1;
  qint64 m_gpuMemTotal = 0, m_gpuMemUsed = 0;
  QString m_gpuLoadPath;  // found once at start
};
