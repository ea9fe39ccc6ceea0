// A CUDA injection library that records every kernel's start and end through CUPTI's activity API, including
// the kernels of a replayed CUDA graph, and writes "start_ns end_ns mangled_name" lines to $KTRACE_OUT (default
// /tmp/ktrace.txt) when the process exits. No change to the program traced. On the GPU machine:
//   g++ -O2 -shared -fPIC -I$CUDA/include ktrace.cpp -o /tmp/libktrace.so -L$CUDA/lib64 -lcupti
//   CUDA_INJECTION64_PATH=/tmp/libktrace.so KTRACE_OUT=/tmp/kt.txt jetchat-cli bench ...
//   python3 summarize.py /tmp/kt.txt
// With JETCHAT_PDL=0 the kernels run one after another, so each duration is the kernel's own.
#include <cupti.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace {

struct Record {
  unsigned long long start, end;
  std::string name;
};
std::vector<Record>* records;
std::mutex records_mutex;

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *size = size_t(16) << 20;
  *buffer = static_cast<uint8_t*>(aligned_alloc(8, *size));
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
  std::lock_guard<std::mutex> lock(records_mutex);
  CUpti_Activity* r = nullptr;
  while (cuptiActivityGetNextRecord(buffer, valid, &r) == CUPTI_SUCCESS) {
    if (r->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) continue;
    const auto* k = reinterpret_cast<const CUpti_ActivityKernel10*>(r);
    records->push_back({k->start, k->end, k->name ? k->name : "?"});
  }
  free(buffer);
}

void write_records() {
  cuptiActivityFlushAll(1);
  const char* path = std::getenv("KTRACE_OUT");
  FILE* f = std::fopen(path ? path : "/tmp/ktrace.txt", "w");
  if (!f) return;
  std::lock_guard<std::mutex> lock(records_mutex);
  for (const Record& r : *records) std::fprintf(f, "%llu %llu %s\n", r.start, r.end, r.name.c_str());
  std::fclose(f);
}

}  // namespace

extern "C" int InitializeInjection() {
  records = new std::vector<Record>();
  cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed);
  cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  std::atexit(write_records);
  return 1;
}
