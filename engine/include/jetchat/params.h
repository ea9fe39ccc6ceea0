// Parameters of loading and generation, with the defaults a user gets when they say nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace jetchat {

// Where a model runs. kAuto: the CUDA backend where this build has one and a GPU is usable, else the CPU (the
// app's choice: on a Jetson the GPU, on a machine without one the CPU, with no setting to get wrong).
enum class DeviceKind { kCpu, kCuda, kAuto };

// Element type of the KV cache. kAuto: the backend's full precision (f32 on the CPU, fp16 on CUDA). kInt8: one
// byte per value and one f32 scale per token and KV head, about half of fp16's memory, with a small loss of
// accuracy (docs/BENCHMARKS.md).
enum class KvCacheType { kAuto, kF16, kInt8 };

// Storage of the output head's weights. kAuto: as the checkpoint stores them. kQ8: a 16/32-bit head quantised at
// load to 8 bits per weight with an f32 scale and minimum per group (head_q8.h); an embedding table tied to the
// head stays as stored and the 8-bit copy is extra memory.
enum class HeadType { kAuto, kQ8 };

struct LoadParams {
  DeviceKind device = DeviceKind::kCpu;
  int context_length = 0;        // tokens of KV cache per session; 0: min(model's max, 4096)
  KvCacheType kv_cache = KvCacheType::kAuto;
  HeadType head = HeadType::kAuto;
  int threads = 0;               // CPU threads; 0: all cores
  std::string chat_template;     // "" = from the model; else "internlm2", "internlm", "llama2", "chatml", "raw"
  bool check_memory = true;      // refuse before allocating when the model would not fit free memory
  // Called while weights upload with the fraction done (0..1); return false to cancel the load.
  std::function<bool(float)> progress;
};

struct SamplingParams {
  float temperature = 0.7f;      // 0 = greedy
  int top_k = 40;                // 0 = off
  float top_p = 0.95f;           // 1 = off
  float min_p = 0.05f;           // 0 = off
  float repetition_penalty = 1.1f;  // 1 = off; applied to tokens of the last repeat_window tokens
  int repeat_window = 64;
  uint64_t seed = 0;             // 0 = seeded from the clock
  static SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    p.repetition_penalty = 1.0f;
    return p;
  }
};

struct GenerateParams {
  SamplingParams sampling;
  int max_tokens = 512;                  // new tokens at most
  std::vector<std::string> stop_strings; // besides the model's stop tokens
  bool add_bos = true;                   // raw prompts only; chat templates decide for themselves
};

}  // namespace jetchat
