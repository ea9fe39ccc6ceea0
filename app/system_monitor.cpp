#include "system_monitor.h"

#include <QDir>
#include <QFile>

#include "jetchat/engine.h"

namespace {

// Value in bytes of a "Key:   123 kB" line of a /proc file, or -1.
qint64 procKiloBytes(const QByteArray& text, const QByteArray& key) {
  int at = text.indexOf(key);
  if (at < 0 || (at > 0 && text[at - 1] != '\n')) return -1;
  int end = text.indexOf('\n', at);
  QByteArray value = text.mid(at + key.size(), end < 0 ? -1 : end - at - key.size()).trimmed();
  if (value.endsWith("kB")) value.chop(2);
  bool ok = false;
  qint64 kb = value.trimmed().toLongLong(&ok);
  return ok ? kb * 1024 : -1;
}

QByteArray readSmallFile(const QString& path) {
  QFile f(path);
  // /proc files report size 0: read until EOF rather than by size.
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString findGpuLoadPath() {
  // Jetson: /sys/class/devfreq/<gpu>/device/load; older boards: /sys/devices/gpu.0/load.
  const QDir devfreq(QStringLiteral("/sys/class/devfreq"));
  for (const QString& entry : devfreq.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    if (!entry.contains(QLatin1String("gpu")) && !entry.contains(QLatin1String("gv11b")) &&
        !entry.contains(QLatin1String("ga10b")))
      continue;
    const QString path = devfreq.filePath(entry + QStringLiteral("/device/load"));
    if (QFile::exists(path)) return path;
  }
  const QString legacy = QStringLiteral("/sys/devices/gpu.0/load");
  return QFile::exists(legacy) ? legacy : QString();
}

}  // namespace

SystemMonitor::MemInfo SystemMonitor::readMemInfo(const QString& path) {
  const QByteArray text = readSmallFile(path);
  MemInfo info;
  info.total = qMax<qint64>(0, procKiloBytes(text, "MemTotal:"));
  info.available = qMax<qint64>(0, procKiloBytes(text, "MemAvailable:"));
  return info;
}

qint64 SystemMonitor::readResidentBytes(const QString& path) {
  return qMax<qint64>(0, procKiloBytes(readSmallFile(path), "VmRSS:"));
}

int SystemMonitor::readGpuLoadPercent() {
  static const QString path = findGpuLoadPath();
  if (path.isEmpty()) return -1;
  bool ok = false;
  const int perMille = readSmallFile(path).trimmed().toInt(&ok);
  return ok ? perMille / 10 : -1;
}

SystemMonitor::SystemMonitor(QObject* parent) : QObject(parent) {
  m_timer.setInterval(500);  // "about twice a second"
  connect(&m_timer, &QTimer::timeout, this, &SystemMonitor::sample);
  m_timer.start();
  sample();
}

void SystemMonitor::setIntervalMs(int ms) {
  if (ms == m_timer.interval()) return;
  m_timer.setInterval(ms);
  emit intervalMsChanged();
}

void SystemMonitor::sample() {
  m_mem = readMemInfo();
  m_rss = readResidentBytes();
  m_gpuLoad = readGpuLoadPercent();
  const auto gpu = jetchat::read_gpu_memory();
  m_gpuMemTotal = gpu ? gpu->total : 0;
  m_gpuMemUsed = gpu ? gpu->used : 0;
  emit sampled();
}
