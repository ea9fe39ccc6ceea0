// jetchat-cli bench: prefill and decode speed, time to first token, memory, and the fraction of the memory
// bandwidth roofline that decode reaches (bytes read per token / time per token / measured copy bandwidth).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "commands.h"
#include "cpu/thread_pool.h"
#include "head_q8.h"
#include "jetchat/session.h"
#include "memory_info.h"
#include "model_impl.h"
#include "random_weights.h"
#include "rope.h"

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

// A fixed pseudo-random prompt: benchmark numbers must not depend on a tokenizer or a text.
std::vector<int32_t> bench_prompt(int n, int vocab, uint32_t seed) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = int32_t(3 + (seed = seed * 1664525u + 1013904223u) % uint32_t(vocab - 3));
  return ids;
}

// Greedy decode of `n` tokens after `prompt` (positions from 0); returns seconds for the prefill, for the first
// token (prefill + choosing it) and for the decode. Where the backend samples on the device only ids cross.
struct Timings {
  double prefill_s = 0, ttft_s = 0, decode_s = 0;
  std::vector<double> token_s;  // each decode step alone (the CPU machines are shared: see best / median)
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}
double best(const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }

// Seconds of each of `reps` calls of fn after a warm-up (CPU: every call is synchronous).
std::vector<double> time_each_call(const std::function<void()>& fn, int reps) {
  fn();
  std::vector<double> s;
  for (int i = 0; i < reps; ++i) {
    const auto t = Clock::now();
    fn();
    s.push_back(seconds_since(t));
  }
  return s;
}
Result<Timings> run_greedy(Transformer& tr, KvCache& kv, const std::vector<int32_t>& prompt, int n) {
  Backend& b = tr.backend();
  const bool on_device = b.samples_on_device();
  const SamplingParams greedy = SamplingParams::greedy();
  std::vector<float> logits(size_t(tr.config().vocab_size));
  auto pick = [&]() -> Result<int32_t> {
    if (on_device) return tr.sample(greedy, {}, 0);
    return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  };
  auto step = [&](const int32_t* ids, int count, int pos) {
    if (on_device)
      tr.forward_on_device(kv, ids, count, pos);
    else
      tr.forward(kv, ids, count, pos, false, logits.data());
  };
  Timings t;
  const auto t0 = Clock::now();
  step(prompt.data(), int(prompt.size()), 0);
  b.sync();
  t.prefill_s = seconds_since(t0);
  // Sampling ahead, as a session does: each step is fed by the sampler and issued before the host reads the
  // token before it, so one sampled token is always pending.
  const bool ahead = on_device && b.samples_ahead();
  if (ahead) JETCHAT_TRY(tr.sample_ahead(greedy, {}, false, 0, int(prompt.size())));
  auto next = ahead ? tr.take_sampled() : pick();
  if (!next) return next.status();
  t.ttft_s = seconds_since(t0);
  const auto t1 = Clock::now();
  int32_t id = *next;
  for (int i = 0; i < n; ++i) {
    const auto ts = Clock::now();
    const int pos = int(prompt.size()) + i;
    if (ahead) {
      tr.forward_on_device(kv, nullptr, 1, pos);
      JETCHAT_TRY(tr.sample_ahead(greedy, {}, false, 0, pos + 1));
      if (i == 0) continue;
    } else {
      step(&id, 1, pos);
    }
    auto r = ahead ? tr.take_sampled() : pick();
    if (!r) return r.status();
    id = *r;
    if (!on_device) t.token_s.push_back(seconds_since(ts));
  }
  if (ahead && n > 0) {
    auto last = tr.take_sampled();
    if (!last) return last.status();
  }
  b.sync();
  t.decode_s = seconds_since(t1);
  JETCHAT_TRY(b.status());
  return t;
}

}  // namespace

void add_bench(CLI::App& app) {
  auto* c = app.add_subcommand("bench", "measure prefill and decode speed");
  struct Opts {
    std::string path, device = "cpu", random_w4;
    int threads = 0, prompt_tokens = 128, gen_tokens = 64, context = 0, prefill_tokens = 512, long_context = 0;
    bool json = false, kernels = false, no_graphs = false;
    KvCacheType kv_cache = KvCacheType::kAuto;
    HeadType head = HeadType::kAuto;
  };
  auto o = std::make_shared<Opts>();
  c->add_option("MODEL", o->path, kModelHelp)->transform(model_lookup());
  c->add_option("--random-w4", o->random_w4,
                "instead of MODEL: random 4-bit AWQ weights of a named shape (internlm2-1.8b, internlm2-7b, ...)");
  c->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  c->add_option("--threads", o->threads, "CPU threads (0: all cores)");
  c->add_option("--prompt-tokens", o->prompt_tokens, "tokens in the prompt before decoding")->check(CLI::PositiveNumber);
  c->add_option("--gen-tokens", o->gen_tokens, "tokens to decode")->check(CLI::PositiveNumber);
  c->add_option("--prefill-tokens", o->prefill_tokens, "prompt length of the prefill measurement (0: skip)");
  c->add_option("--long-context", o->long_context, "also decode after filling this many tokens (0: skip)");
  c->add_option("--ctx", o->context, "context length (0: what the runs need)");
  add_kv_cache_option(c, o->kv_cache);
  add_head_option(c, o->head);
  c->add_flag("--kernels", o->kernels,
              "time each distinct matrix-vector product and decode attention (achieved GB/s); on a GPU also each "
              "layer matrix's product for one prefill chunk (TFLOP/s)");
  c->add_flag("--no-graphs", o->no_graphs, "with --random-w4 on cuda: run decode steps without CUDA graphs");
  c->add_flag("--json", o->json, "print one JSON object");
  c->callback([o] {
    if (o->path.empty() == o->random_w4.empty()) return void(fail(Status(StatusCode::kInvalidArgument,
                                                                         "give either MODEL or --random-w4 SHAPE")));
    const int need_ctx = std::max({o->prompt_tokens + o->gen_tokens, o->prefill_tokens,
                                   o->long_context > 0 ? o->long_context + o->gen_tokens : 0}) + 1;
    const int ctx = o->context > 0 ? o->context : need_ctx;
    const DeviceKind device = o->device == "cuda" ? DeviceKind::kCuda : DeviceKind::kCpu;
    const auto t_load = Clock::now();
    // Either a model directory through the engine's loader, or random W4 weights of a named shape.
    std::shared_ptr<Model> model;
    std::unique_ptr<Backend> own_backend;
    std::unique_ptr<Transformer> own_tr;
    Transformer* trp = nullptr;
    std::string name, dtype;
    int64_t parameters = 0;
    if (!o->path.empty()) {
      LoadParams p;
      p.device = device;
      p.threads = o->threads;
      p.context_length = ctx;
      p.kv_cache = o->kv_cache;
      p.head = o->head;
      auto m = Model::load(o->path, p);
      if (!m) return void(fail(m.status()));
      model = *m;
      trp = model->impl().transformer.get();
      name = model->info().name, dtype = model->info().dtype, parameters = model->info().parameters;
    } else {
      auto spec = random_model_shape(o->random_w4);
      if (!spec) return void(fail(spec.status()));
#ifdef JETCHAT_HAVE_CUDA
      auto backend = device == DeviceKind::kCuda ? make_cuda_backend(CudaBackendOptions{0, !o->no_graphs})
                                                 : make_backend(device, o->threads);
#else
      auto backend = make_backend(device, o->threads);
#endif
      if (!backend) return void(fail(backend.status()));
      own_backend = std::move(backend.value());
      const ModelConfig cfg = random_w4_config(*spec);
      const int fill_threads = int(std::max(1u, std::thread::hardware_concurrency()));
      auto w = random_w4_weights(cfg, *own_backend, 7, fill_threads);
      if (!w) return void(fail(w.status()));
      if (o->head == HeadType::kQ8) {
        if (Status s = quantize_head_q8(*w, *own_backend); !s.is_ok()) return void(fail(s));
      }
      auto tr = Transformer::create(cfg, std::move(w.value()), *own_backend);
      if (!tr) return void(fail(tr.status()));
      own_tr = std::move(tr.value());
      trp = own_tr.get();
      name = "random " + o->random_w4, dtype = "awq-w4g128 (random)";
    }
    const double load_s = seconds_since(t_load);
    Transformer& tr = *trp;
    Backend& b = tr.backend();
    const ModelConfig& cfg = tr.config();
    const int vocab = cfg.vocab_size;
    const DType kv_dtype = model ? model->impl().kv_dtype
                                 : o->kv_cache == KvCacheType::kInt8 ? DType::kI8
                                 : o->kv_cache == KvCacheType::kF16  ? DType::kF16
                                                                     : b.kv_dtype();
    auto kv = tr.alloc_kv(ctx, kv_dtype);
    if (!kv) return void(fail(kv.status()));

    // 1. Decode after a short prompt; time to first token.
    auto a = run_greedy(tr, *kv, bench_prompt(o->prompt_tokens, vocab, 12345), o->gen_tokens);
    if (!a) return void(fail(a.status()));
    const double decode_tok_s = o->gen_tokens / a->decode_s;
    // 2. Prefill speed on a longer prompt.
    double prefill_tok_s = 0;
    if (o->prefill_tokens > 0) {
      auto p = run_greedy(tr, *kv, bench_prompt(o->prefill_tokens, vocab, 777), 1);
      if (!p) return void(fail(p.status()));
      prefill_tok_s = o->prefill_tokens / p->prefill_s;
    }
    // 3. Decode with a long context already in the cache.
    double long_tok_s = 0;
    if (o->long_context > 0) {
      auto l = run_greedy(tr, *kv, bench_prompt(o->long_context, vocab, 999), o->gen_tokens);
      if (!l) return void(fail(l.status()));
      long_tok_s = o->gen_tokens / l->decode_s;
    }

    // Every weight once (the embedding table only one row), plus on average half the KV cache written so far.
    const int64_t kv_per_token = Transformer::kv_bytes_per_token(cfg, kv->dtype);
    const int64_t kv_bytes = kv->bytes;
    auto bytes_per_token = [&](double prompt) {
      return double(tr.weight_bytes_read_per_token()) + double(kv_per_token) * (prompt + o->gen_tokens / 2.0);
    };
    const double bpt = bytes_per_token(o->prompt_tokens), bpt_long = bytes_per_token(o->long_context);
    const int64_t peak_rss = process_peak_resident_bytes();  // before the bandwidth test's buffers
    // The roofline: for the CPU a streaming read (what decode does) and memcpy; for a GPU the device-to-device
    // copy (bytes read + written, the convention of the peers' figures in PEERS.md).
    double bandwidth = 0, copy_bandwidth = 0;
    std::string bw_kind;
    if (device == DeviceKind::kCpu) {
      bandwidth = host_read_bandwidth(o->threads);
      copy_bandwidth = host_copy_bandwidth(o->threads);
      bw_kind = "host streaming read, same threads";
    } else {
      auto bw = b.copy_bandwidth();
      if (!bw) return void(fail(bw.status()));
      bandwidth = copy_bandwidth = *bw;
      bw_kind = "device-to-device copy, bytes read + written";
    }
    const double roofline = bandwidth > 0 ? bpt * decode_tok_s / bandwidth : 0;
    const double roofline_long = bandwidth > 0 && long_tok_s > 0 ? bpt_long * long_tok_s / bandwidth : 0;

    // 4. Each distinct matrix-vector product alone, as decode issues it (the RMSNorm or the SiLU gate fused into
    // its input where the backend fuses them, the residual add into the output projections), over enough copies
    // of the matrix to defeat the caches.
    nlohmann::ordered_json kernels = nlohmann::json::array();
    double matmul_ms_best = 0;  // CPU: the best calls of every matrix of one decode step, summed
    if (o->kernels) {
      const ModelWeights& mw = tr.weights();
      const LayerWeights& L = mw.layers[0];
      enum class Input { kNormed, kPlain, kGated };
      struct Mat {
        const char* name;
        Tensor LayerWeights::*member;  // null: the output head
        Input input;
      } mats[] = {{"wqkv", &LayerWeights::wqkv, Input::kNormed},
                  {"wo", &LayerWeights::wo, Input::kPlain},
                  {"w_gate_up", &LayerWeights::w_gate_up, Input::kNormed},
                  {"w_down", &LayerWeights::w_down, Input::kGated},
                  {"lm_head", nullptr, Input::kNormed}};
      const float eps = float(cfg.rms_norm_eps);
      for (const Mat& m : mats) {
        const Tensor* w = m.member ? &(L.*m.member) : &mw.lm_head;
        const int64_t in_cols = m.input == Input::kGated ? 2 * w->cols : w->cols;
        // Inputs: the weights of every layer in turn (same shape), so each call streams a matrix from DRAM.
        std::vector<const Tensor*> copies;
        if (m.member)
          for (const auto& layer : mw.layers) copies.push_back(&(layer.*m.member));
        else
          copies.push_back(w);
        const Tensor& norm = m.member ? L.attn_norm : mw.final_norm;
        const int reps = int(std::max<size_t>(copies.size(), 32));
        // Seconds per product of `rows` tokens (an input the size of the matrix's, pseudo-random, never zero),
        // or per call of a CPU's best calls when `each` is given.
        auto time_product = [&](int64_t rows, std::vector<double>* each) -> Result<double> {
          std::vector<float> xs(static_cast<size_t>(rows * in_cols));
          uint32_t r = 42;
          for (auto& v : xs) v = float((r = r * 1664525u + 1013904223u) >> 8) / float(1 << 24) * 2.0f - 1.0f;
          auto x = b.upload(HostMatrix{DType::kF32, rows, in_cols, xs.data()}, DType::kF32);
          auto y = b.alloc(DType::kF32, rows, w->rows);
          auto scratch_in = b.alloc(DType::kF32, rows, w->cols);  // xn or ffn of the composed fallback
          auto scratch_out = b.alloc(DType::kF32, rows, w->rows);
          auto release = [&] {
            for (auto* t : {&x, &y, &scratch_in, &scratch_out})
              if (*t) b.free(**t);
          };
          for (auto* t : {&x, &y, &scratch_in, &scratch_out})
            if (!*t) {
              const Status st = t->status();
              release();
              return st;
            }
          size_t at = 0;
          auto call = [&] {
            const Tensor& wc = *copies[at++ % copies.size()];
            switch (m.input) {
              case Input::kNormed: b.rmsnorm_matmul(*y, *scratch_in, *x, norm, eps, wc, nullptr); break;
              case Input::kPlain: b.matmul_add(*y, *x, wc, nullptr, *scratch_out); break;
              case Input::kGated: b.silu_mul_matmul_add(*y, *x, wc, *scratch_in, *scratch_out); break;
            }
          };
          auto sec = b.time_per_call(call, reps);
          if (sec && each) *each = time_each_call(call, 4 * reps);
          release();
          return sec;
        };
        std::vector<double> each;
        auto sec = time_product(1, device == DeviceKind::kCpu ? &each : nullptr);
        if (!sec) return void(fail(sec.status()));
        const double bytes = double(w->bytes) + double(in_cols + w->rows) * 4;
        static const char* const kInputNames[] = {"rmsnorm", "plain", "silu_mul"};
        kernels.push_back({{"matrix", m.name}, {"input", kInputNames[int(m.input)]}, {"rows", w->rows},
                           {"cols", w->cols}, {"dtype", dtype_name(w->dtype)}, {"bytes", w->bytes},
                           {"us", *sec * 1e6}, {"gb_s", bytes / *sec / 1e9},
                           {"fraction_of_copy_bandwidth", copy_bandwidth > 0 ? bytes / *sec / copy_bandwidth : 0}});
        if (device == DeviceKind::kCpu) {
          // The mean above counts whatever else the shared machine runs; the best single call is the kernel's.
          const double us_best = best(each) * 1e6, us_median = median(each) * 1e6;
          kernels.back()["us_best"] = us_best;
          kernels.back()["us_median"] = us_median;
          kernels.back()["gb_s_best"] = bytes / us_best / 1e3;
          // Per token: every layer's copy of a layer matrix, the head once.
          matmul_ms_best += us_best / 1e3 * double(copies.size());
        } else if (m.member) {
          // The same product for one prefill chunk, as prefill issues it (prefill takes the head for one row).
          auto chunk = time_product(Transformer::kChunk, nullptr);
          if (!chunk) return void(fail(chunk.status()));
          kernels.back()["prefill_tokens"] = Transformer::kChunk;
          kernels.back()["prefill_us"] = *chunk * 1e6;
          const double flop = 2.0 * Transformer::kChunk * double(w->rows) * double(w->cols);
          kernels.back()["prefill_tflop_s"] = flop / *chunk / 1e12;
        }
      }
      // Decode attention of one layer (RoPE of the query and the new key, their append, the softmax over the
      // cache) over the prompt's and the long context's keys, the layers' caches in turn.
      const AttentionShape shape{cfg.num_heads, cfg.num_kv_heads, cfg.head_dim};
      const int64_t qkv_cols = cfg.q_dim() + 2 * cfg.kv_dim();
      std::vector<float> qv(static_cast<size_t>(qkv_cols));
      uint32_t r = 7;
      for (auto& v : qv) v = float((r = r * 1664525u + 1013904223u) >> 8) / float(1 << 24) * 2.0f - 1.0f;
      auto qkv = b.upload(HostMatrix{DType::kF32, 1, qkv_cols, qv.data()}, DType::kF32);
      auto out = b.alloc(DType::kF32, 1, cfg.q_dim());
      for (auto* t : {&qkv, &out})
        if (!*t) return void(fail(t->status()));
      for (const int keys : {o->prompt_tokens, o->long_context}) {
        if (keys <= 0 || keys > kv->capacity) continue;
        const std::vector<float> inv_freq = rope_inv_freq(cfg, keys);
        size_t at = 0;
        auto call = [&] {
          b.rope_attention(*out, *qkv, kv->layers[at++ % kv->layers.size()], shape, keys - 1, inv_freq);
        };
        auto sec = b.time_per_call(call, int(std::max<size_t>(kv->layers.size(), 32)));
        if (!sec) return void(fail(sec.status()));
        const double bytes = double(keys) * double(kv_per_token) / cfg.num_layers;
        kernels.push_back({{"matrix", "attention"}, {"input", "rope"}, {"rows", keys}, {"cols", cfg.kv_dim()},
                           {"dtype", dtype_name(kv->dtype)}, {"bytes", int64_t(bytes)}, {"us", *sec * 1e6},
                           {"gb_s", bytes / *sec / 1e9},
                           {"fraction_of_copy_bandwidth", copy_bandwidth > 0 ? bytes / *sec / copy_bandwidth : 0}});
      }
      b.free(*qkv), b.free(*out);
    }
    tr.free_kv(*kv);

    nlohmann::ordered_json j = {
        {"model", name},
        {"dtype", dtype},
        {"parameters", parameters},
        {"backend", b.name()},
        {"prompt_tokens", o->prompt_tokens},
        {"gen_tokens", o->gen_tokens},
        {"load_s", load_s},
        {"ttft_ms", a->ttft_s * 1e3},
        {"prefill_tokens", o->prefill_tokens},
        {"prefill_tok_s", prefill_tok_s},
        {"decode_tok_s", decode_tok_s},
        {"ms_per_token", 1e3 / decode_tok_s},
        {"ms_per_token_median", median(a->token_s) * 1e3},
        {"ms_per_token_best", best(a->token_s) * 1e3},
        {"matmul_ms_per_token_best", matmul_ms_best},
        {"bytes_per_token", bpt},
        {"long_context", o->long_context},
        {"long_decode_tok_s", long_tok_s},
        {"long_bytes_per_token", bpt_long},
        {"long_roofline_fraction", roofline_long},
        {"read_bandwidth_gb_s", bandwidth / 1e9},
        {"bandwidth_measure", bw_kind},
        {"roofline_fraction", roofline},
        {"copy_bandwidth_gb_s", copy_bandwidth / 1e9},
        {"fraction_of_copy_bandwidth", copy_bandwidth > 0 ? bpt * decode_tok_s / copy_bandwidth : 0},
        {"weight_bytes", tr.weight_bytes()},
        {"weight_bytes_read_per_token", tr.weight_bytes_read_per_token()},
        {"head", dtype_name(tr.weights().lm_head.dtype)},
        {"kv_cache", dtype_name(kv_dtype)},
        {"kv_cache_tokens", ctx},
        {"kv_cache_bytes", kv_bytes},
        {"peak_backend_bytes", b.peak_bytes_in_use()},
        {"peak_rss_bytes", peak_rss},
        {"kernels", kernels},
        {"threads", o->threads > 0 ? o->threads : int(std::thread::hardware_concurrency())}};
    if (o->json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::printf("%s on %s\n", name.c_str(), b.name().c_str());
    std::printf("  first token after a %d-token prompt: %.1f ms\n", o->prompt_tokens, a->ttft_s * 1e3);
    if (o->prefill_tokens > 0) std::printf("  prefill %d tokens: %.1f tok/s\n", o->prefill_tokens, prefill_tok_s);
    std::printf("  decode %d tokens: %.2f tok/s (%.3f ms/token; one token: median %.3f, best %.3f ms)\n",
                o->gen_tokens, decode_tok_s, 1e3 / decode_tok_s, median(a->token_s) * 1e3, best(a->token_s) * 1e3);
    if (long_tok_s > 0)
      std::printf("  decode at %d context: %.2f tok/s (roofline fraction %.2f)\n", o->long_context, long_tok_s,
                  roofline_long);
    if (bandwidth > 0)
      std::printf("  %.1f MB read per token; %s %.1f GB/s; roofline fraction %.3f (memcpy %.1f GB/s)\n", bpt / 1e6,
                  bw_kind.c_str(), bandwidth / 1e9, roofline, copy_bandwidth / 1e9);
    for (const auto& k : kernels)
      std::printf("  %-10s %6lld x %-6lld %-4s %8.1f us %7.1f GB/s%s\n", k["matrix"].get<std::string>().c_str(),
                  (long long)k["rows"].get<int64_t>(), (long long)k["cols"].get<int64_t>(),
                  k["dtype"].get<std::string>().c_str(), k["us"].get<double>(), k["gb_s"].get<double>(),
                  k.contains("us_best") ? (" (best " + std::to_string(k["us_best"].get<double>()) + " us)").c_str()
                  : k.contains("prefill_us")
                      ? (" (" + std::to_string(k["prefill_tokens"].get<int>()) + " tokens: " +
                         std::to_string(k["prefill_us"].get<double>()) + " us, " +
                         std::to_string(k["prefill_tflop_s"].get<double>()) + " TFLOP/s)").c_str()
                      : "");
    if (matmul_ms_best > 0) std::printf("  matrices of one decode step (best calls): %.3f ms\n", matmul_ms_best);
    std::printf("  %s KV cache of %d tokens: %.1f MiB\n", dtype_name(kv_dtype), ctx, double(kv_bytes) / (1 << 20));
    std::printf("  peak backend memory %.1f MiB, peak resident memory %.1f MiB\n",
                double(b.peak_bytes_in_use()) / (1 << 20), double(peak_rss) / (1 << 20));
  });
}

}  // namespace jetchat::cli
