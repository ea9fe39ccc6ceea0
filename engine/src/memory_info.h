// What memory the machine has free, for refusing a model that would not fit before allocating it.
#pragma once

#include <cstdint>

namespace jetchat {

struct SystemMemory {
  int64_t total = 0;      // MemTotal
  int64_t available = 0;  // MemAvailable: what can be allocated without swapping (on Jetson, shared with the GPU)
};

SystemMemory read_system_memory();  // from /proc/meminfo; zeros when unreadable
int64_t process_resident_bytes();   // VmRSS of this process
int64_t process_peak_resident_bytes();  // VmHWM

}  // namespace jetchat
