// jetchat-cli bench: prefill and decode speed, time to first token, memory, and the fraction of the memory
// bandwidth roofline that decode reaches (bytes read per token / time per token / measured copy bandwidth).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "commands.h"
#include "cpu/thread_pool.h"
#include "jetchat/session.h"
#include "memory_info.h"
#include "model_impl.h"

namespace jetchat::cli {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Host copy bandwidth with `threads` threads over buffers far larger than the caches, counting bytes read plus
// bytes written (the convention of the peers' figures). Best of several passes.
double host_copy_bandwidth(int threads) {
  const size_t bytes = size_t(512) << 20;
  std::vector<char> a(bytes, 1), b(bytes, 2);
  cpu::ThreadPool pool(threads);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t = Clock::now();
    pool.parallel_for(int64_t(bytes), [&](int64_t s, int64_t e) { std::memcpy(b.data() + s, a.data() + s, e - s); },
                      1 << 20);
    best = std::max(best, 2.0 * double(bytes) / seconds_since(t));
  }
  return best;
}

// Host read bandwidth: a streaming sum over a buffer far larger than the caches, the access pattern of decode.
double host_read_bandwidth(int threads) {
  const size_t n = size_t(256) << 20;  // 1 GiB of floats
  std::vector<float> a(n, 1.0f);
  cpu::ThreadPool pool(threads);
  double best = 0;
  std::vector<float> sums(size_t(pool.size()) * 16);
  for (int rep = 0; rep < 5; ++rep) {
    const auto t = Clock::now();
    pool.parallel_for(int64_t(n), [&](int64_t s, int64_t e) {
      float acc[8] = {};
      for (int64_t i = s; i + 8 <= e; i += 8)
        for (int j = 0; j < 8; ++j) acc[j] += a[size_t(i + j)];
      sums[size_t(s / ((n + 15) / 16)) % sums.size()] = acc[0] + acc[7];  // keeps the loop from being removed
    }, 1 << 16);
    best = std::max(best, double(n) * sizeof(float) / seconds_since(t));
  }
  return best;
}

}  // namespace

void add_bench(CLI::App& app) {
  auto* c = app.add_subcommand("bench", "measure prefill and decode speed");
  struct Opts {
    std::string path, device = "cpu";
    int threads = 0, prompt_tokens = 128, gen_tokens = 64, context = 0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  c->add_option("MODEL", o->path, "model directory")->required();
  c->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  c->add_option("--threads", o->threads, "CPU threads (0: all cores)");
  c->add_option("--prompt-tokens", o->prompt_tokens, "tokens in the prompt")->check(CLI::PositiveNumber);
  c->add_option("--gen-tokens", o->gen_tokens, "tokens to decode")->check(CLI::PositiveNumber);
  c->add_option("--ctx", o->context, "context length (0: prompt + generated)");
  c->add_flag("--json", o->json, "print one JSON object");
  c->callback([o] {
    LoadParams p;
    p.device = o->device == "cuda" ? DeviceKind::kCuda : DeviceKind::kCpu;
    p.threads = o->threads;
    p.context_length = o->context > 0 ? o->context : o->prompt_tokens + o->gen_tokens + 1;
    const auto t_load = Clock::now();
    auto model = Model::load(o->path, p);
    if (!model) return void(fail(model.status()));
    const double load_s = seconds_since(t_load);
    ModelImpl& m = (*model)->impl();
    Transformer& tr = *m.transformer;
    const int vocab = m.config.vocab_size;
    auto kv = tr.alloc_kv(p.context_length);
    if (!kv) return void(fail(kv.status()));

    // A fixed pseudo-random prompt: benchmark numbers must not depend on a tokenizer or a text.
    std::vector<int32_t> prompt(size_t(o->prompt_tokens));
    uint32_t x = 12345;
    for (auto& id : prompt) id = int32_t(3 + (x = x * 1664525u + 1013904223u) % uint32_t(vocab - 3));
    std::vector<float> logits(static_cast<size_t>(vocab));

    const auto t0 = Clock::now();
    tr.forward(*kv, prompt.data(), int(prompt.size()), 0, false, logits.data());
    tr.backend().sync();
    const double prefill_s = seconds_since(t0);
    int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    const double ttft_s = seconds_since(t0);

    const auto t1 = Clock::now();
    for (int i = 0; i < o->gen_tokens; ++i) {
      tr.forward(*kv, &next, 1, o->prompt_tokens + i, false, logits.data());
      next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    tr.backend().sync();
    const double decode_s = seconds_since(t1);
    const double decode_tok_s = o->gen_tokens / decode_s;

    // Every weight once, plus on average half the KV cache written so far, per decoded token.
    const double avg_ctx = o->prompt_tokens + o->gen_tokens / 2.0;
    const double bytes_per_token = double(tr.weight_bytes()) + Transformer::kv_bytes_per_token(m.config) * avg_ctx;
    const int64_t peak_rss = process_peak_resident_bytes();  // before the copy test's buffers
    // Decode only reads weights, so its ceiling is the read bandwidth; the memcpy figure (bytes read + written) is
    // what the peers in PEERS.md report against, so both are given.
    double bandwidth = 0, copy_bandwidth = 0;
    std::string bw_kind;
    if (p.device == DeviceKind::kCpu) {
      bandwidth = host_read_bandwidth(o->threads);
      copy_bandwidth = host_copy_bandwidth(o->threads);
      bw_kind = "host streaming read, same threads";
    }
    const double roofline = bandwidth > 0 ? bytes_per_token * decode_tok_s / bandwidth : 0;
    tr.free_kv(*kv);

    nlohmann::ordered_json j = {
        {"model", (*model)->info().name},
        {"architecture", (*model)->info().architecture},
        {"dtype", (*model)->info().dtype},
        {"parameters", (*model)->info().parameters},
        {"backend", (*model)->backend_name()},
        {"prompt_tokens", o->prompt_tokens},
        {"gen_tokens", o->gen_tokens},
        {"load_s", load_s},
        {"prefill_tok_s", o->prompt_tokens / prefill_s},
        {"ttft_ms", ttft_s * 1e3},
        {"decode_tok_s", decode_tok_s},
        {"ms_per_token", 1e3 / decode_tok_s},
        {"bytes_per_token", bytes_per_token},
        {"read_bandwidth_gb_s", bandwidth / 1e9},
        {"bandwidth_measure", bw_kind},
        {"roofline_fraction", roofline},
        {"copy_bandwidth_gb_s", copy_bandwidth / 1e9},
        {"fraction_of_copy_bandwidth", copy_bandwidth > 0 ? bytes_per_token * decode_tok_s / copy_bandwidth : 0},
        {"weight_bytes", tr.weight_bytes()},
        {"peak_rss_bytes", peak_rss},
        {"threads", o->threads > 0 ? o->threads : int(std::thread::hardware_concurrency())}};
    if (o->json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::printf("%s on %s\n", (*model)->info().name.c_str(), (*model)->backend_name().c_str());
    std::printf("  prefill %d tokens: %.1f tok/s (first token after %.1f ms)\n", o->prompt_tokens,
                o->prompt_tokens / prefill_s, ttft_s * 1e3);
    std::printf("  decode %d tokens: %.2f tok/s (%.2f ms/token)\n", o->gen_tokens, decode_tok_s, 1e3 / decode_tok_s);
    if (bandwidth > 0)
      std::printf("  %.1f MB read per token; read bandwidth %.1f GB/s; roofline fraction %.2f (memcpy %.1f GB/s)\n",
                  bytes_per_token / 1e6, bandwidth / 1e9, roofline, copy_bandwidth / 1e9);
    std::printf("  peak resident memory %.1f MiB\n", double(peak_rss) / (1 << 20));
  });
}

}  // namespace jetchat::cli
