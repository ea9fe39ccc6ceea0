// Parsing of /proc/meminfo and /proc/self/status, and the live sampling the gauges rely on.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "jetchat/engine.h"
#include "system_monitor.h"

class TestSystemMonitor : public QObject {
  Q_OBJECT

  static QString write(QTemporaryDir& dir, const char* name, const QByteArray& text) {
    const QString path = dir.filePath(QString::fromLatin1(name));
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(text);
    return path;
  }

 private slots:
  void parsesMemInfo() {
    QTemporaryDir dir;
    // As on a Jetson Orin Nano 8GB (lines abridged).
    const QString path = write(dir, "meminfo",
                               "MemTotal:        7802212 kB\nMemFree:          321940 kB\n"
                               "MemAvailable:    5123456 kB\nBuffers:           12345 kB\n");
    const auto info = SystemMonitor::readMemInfo(path);
    QCOMPARE(info.total, qint64(7802212) * 1024);
    QCOMPARE(info.available, qint64(5123456) * 1024);
  }

  void missingFilesReadAsZero() {
    const auto info = SystemMonitor::readMemInfo(QStringLiteral("/nonexistent/meminfo"));
    QCOMPARE(info.total, 0);
    QCOMPARE(SystemMonitor::readResidentBytes(QStringLiteral("/nonexistent/status")), 0);
  }

  void parsesResidentSize() {
    QTemporaryDir dir;
    const QString path = write(dir, "status", "Name:\tjetchat\nVmPeak:\t  900000 kB\nVmHWM:\t  400000 kB\nVmRSS:\t  123456 kB\n");
    QCOMPARE(SystemMonitor::readResidentBytes(path), qint64(123456) * 1024);
  }

  void residentMemoryFollowsAllocation() {
    const qint64 before = SystemMonitor::readResidentBytes();
    QVERIFY(before > 0);
    std::vector<char> block(64 << 20, 1);  // touched, so resident
    const qint64 during = SystemMonitor::readResidentBytes();
    QVERIFY2(during - before > (48 << 20), qPrintable(QString::number(during - before)));
    QVERIFY(block[12345] == 1);
  }

  // The GPU memory gauge shows what the engine's NVML reader says, or nothing where there is no discrete GPU.
  void gpuMemoryComesFromTheDriver() {
    SystemMonitor monitor;
    const auto gpu = jetchat::read_gpu_memory();
    if (!gpu) {
      QCOMPARE(monitor.gpuMemTotal(), 0);
      QCOMPARE(monitor.gpuMemUsed(), 0);
      QSKIP(qPrintable(QString::fromStdString("no discrete GPU here: " + gpu.status().message())));
    }
    QCOMPARE(monitor.gpuMemTotal(), gpu->total);
    QVERIFY(monitor.gpuMemUsed() > 0 && monitor.gpuMemUsed() <= monitor.gpuMemTotal());
  }

  void samplesTwiceASecond() {
    SystemMonitor monitor;
    QCOMPARE(monitor.intervalMs(), 500);
    QVERIFY(monitor.memTotal() > 0);
    QVERIFY(monitor.memUsed() > 0 && monitor.memUsed() < monitor.memTotal());
    QSignalSpy sampled(&monitor, &SystemMonitor::sampled);
    QVERIFY(sampled.wait(1000));
  }
};

QTEST_GUILESS_MAIN(TestSystemMonitor)
#include "tst_system_monitor.moc"
