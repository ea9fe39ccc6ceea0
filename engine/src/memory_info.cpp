#include "memory_info.h"

#include <fstream>
#include <string>

namespace jetchat {
namespace {

// Value in bytes of a "Key:   123 kB" line of a /proc file.
int64_t proc_kb(const char* path, const std::string& key) {
  std::ifstream f(path);
  std::string line;
  const std::string prefix = key + ":";
  while (std::getline(f, line))
    if (line.compare(0, prefix.size(), prefix) == 0) return std::stoll(line.substr(prefix.size())) * 1024;
  return 0;
}

}  // namespace

SystemMemory read_system_memory() {
  return {proc_kb("/proc/meminfo", "MemTotal"), proc_kb("/proc/meminfo", "MemAvailable")};
}
int64_t process_resident_bytes() { return proc_kb("/proc/self/status", "VmRSS"); }
int64_t process_peak_resident_bytes() { return proc_kb("/proc/self/status", "VmHWM"); }

}  // namespace jetchat
