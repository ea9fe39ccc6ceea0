// read_gpu_memory() through NVML (libnvidia-ml, part of the NVIDIA driver), opened with dlopen on first use so
// that builds and machines without the driver need nothing; the handful of NVML entry points used are declared here.
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "jetchat/engine.h"

namespace jetchat {
namespace {

using nvmlReturn = int;  // 0 = NVML_SUCCESS
using nvmlDevice = void*;
struct NvmlMemory {      // nvmlMemory_t
  unsigned long long total, free, used;
};

struct Nvml {
  nvmlReturn (*init)() = nullptr;
  nvmlReturn (*device_by_index)(unsigned, nvmlDevice*) = nullptr;
  nvmlReturn (*memory_info)(nvmlDevice, NvmlMemory*) = nullptr;
  const char* (*error_string)(nvmlReturn) = nullptr;
  std::string failure;  // why NVML is unusable; "" once initialised
};

// Opened and initialised once per process; a machine without the driver pays one failed dlopen.
const Nvml& nvml() {
  static Nvml n;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      n.failure = "no NVIDIA driver (libnvidia-ml.so.1 not found)";
      return;
    }
    n.init = reinterpret_cast<decltype(n.init)>(dlsym(lib, "nvmlInit_v2"));
    n.device_by_index = reinterpret_cast<decltype(n.device_by_index)>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
    n.memory_info = reinterpret_cast<decltype(n.memory_info)>(dlsym(lib, "nvmlDeviceGetMemoryInfo"));
    n.error_string = reinterpret_cast<decltype(n.error_string)>(dlsym(lib, "nvmlErrorString"));
    if (!n.init || !n.device_by_index || !n.memory_info || !n.error_string) {
      n.failure = "libnvidia-ml.so.1 lacks the NVML functions needed";
      return;
    }
    if (const nvmlReturn r = n.init(); r != 0) n.failure = std::string("NVML: ") + n.error_string(r);
  });
  return n;
}

}  // namespace

Result<GpuMemory> read_gpu_memory(int device) {
  const Nvml& n = nvml();
  if (!n.failure.empty()) return Status(StatusCode::kUnsupported, n.failure);
  nvmlDevice handle = nullptr;
  if (const nvmlReturn r = n.device_by_index(unsigned(device), &handle); r != 0)
    return Status(StatusCode::kUnsupported, "GPU " + std::to_string(device) + ": " + n.error_string(r));
  NvmlMemory m{};
  // Jetson's integrated GPU answers "Not Supported" here: its memory is the system's.
  if (const nvmlReturn r = n.memory_info(handle, &m); r != 0)
    return Status(StatusCode::kUnsupported, "GPU " + std::to_string(device) + " memory: " + n.error_string(r));
  return GpuMemory{int64_t(m.total), int64_t(m.used)};
}

}  // namespace jetchat
