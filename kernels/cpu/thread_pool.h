// A fixed pool of worker threads for data-parallel loops. One caller at a time (the forward pass); the caller
// thread works too, so a pool of N threads has N-1 workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace jetchat::cpu {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // <= 0: hardware concurrency
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // Calls fn(begin, end) on contiguous chunks covering [0, n), one chunk per thread (n < threads: fewer), and
  // returns when every chunk is done. `grain` rounds chunk boundaries to multiples of it.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

 private:
  void worker_loop(int index);
  void run_chunk(int index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;
  // The job of the current generation.
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0, job_grain_ = 1;
  int job_chunks_ = 0;
};

}  // namespace jetchat::cpu
