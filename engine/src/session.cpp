// Session: prompt -> KV cache -> sampled tokens -> streamed text, with history, prefix reuse and cancel.
#include "jetchat/session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <unordered_set>

#include "model_impl.h"
#include "sampler.h"

namespace jetchat {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Streams text while holding back any tail that could still become a stop string.
class StopFilter {
 public:
  StopFilter(const std::vector<std::string>& stops, const PieceCallback& cb) : stops_(stops), cb_(cb) {}
  // Adds text; returns false if the callback asked to stop. Sets hit() when a stop string completed.
  bool push(const std::string& piece) {
    text_ += piece;
    for (const auto& s : stops_) {
      if (s.empty()) continue;
      const size_t from = emitted_ > s.size() ? emitted_ - s.size() : 0;
      const size_t at = text_.find(s, from);
      if (at != std::string::npos) {
        text_.resize(at);
        hit_ = true;
        return emit(text_.size());
      }
    }
    size_t hold = 0;
    for (const auto& s : stops_)
      for (size_t k = std::min(s.size() - 1, text_.size()); k > hold; --k)
        if (text_.compare(text_.size() - k, k, s, 0, k) == 0) {
          hold = k;
          break;
        }
    return emit(text_.size() - hold);
  }
  bool finish() { return emit(text_.size()); }
  bool hit() const { return hit_; }
  const std::string& text() const { return text_; }

 private:
  bool emit(size_t upto) {
    if (upto <= emitted_) return true;
    const std::string piece = text_.substr(emitted_, upto - emitted_);
    emitted_ = upto;
    return cb_ ? cb_(piece) : true;
  }
  const std::vector<std::string>& stops_;
  const PieceCallback& cb_;
  std::string text_;
  size_t emitted_ = 0;
  bool hit_ = false;
};

}  // namespace

class SessionImpl {
 public:
  explicit SessionImpl(std::shared_ptr<Model> model) : model_(std::move(model)), m_(model_->impl()) {}
  ~SessionImpl() { release_kv(); }

  Result<Generation> generate(const std::vector<int32_t>& prompt, const GenerateParams& params,
                              const std::vector<int32_t>& stop_ids, const std::vector<std::string>& stop_strings,
                              const PieceCallback& on_piece);
  Result<double> perplexity(const std::vector<int32_t>& ids, int window,
                            const std::function<void(int, int)>& progress);
  Status ensure_kv();
  void release_kv() {
    if (kv_.capacity) {
      m_.kv_bytes_in_use -= kv_.bytes;
      m_.transformer->free_kv(kv_);
    }
    cached_.clear();
  }

  std::shared_ptr<Model> model_;
  ModelImpl& m_;
  KvCache kv_;
  std::vector<int32_t> cached_;  // tokens whose K/V sit in kv_, positions 0..size-1
  std::vector<Message> history_;
  std::string system_prompt_;
  bool system_prompt_set_ = false;
  std::atomic<bool> cancel_{false};
  std::vector<float> logits_;
};

Status SessionImpl::ensure_kv() {
  if (kv_.capacity) return Status::ok();
  auto kv = m_.transformer->alloc_kv(m_.context_length, m_.kv_dtype);
  if (!kv) return kv.status();
  kv_ = std::move(kv.value());
  m_.kv_bytes_in_use += kv_.bytes;
  return Status::ok();
}

Result<Generation> SessionImpl::generate(const std::vector<int32_t>& prompt, const GenerateParams& params,
                                         const std::vector<int32_t>& stop_ids,
                                         const std::vector<std::string>& stop_strings,
                                         const PieceCallback& on_piece) {
  const int ctx = m_.context_length, vocab = m_.config.vocab_size;
  if (prompt.empty()) return Status(StatusCode::kInvalidArgument, "the prompt is empty");
  if (int(prompt.size()) >= ctx)
    return Status(StatusCode::kInvalidArgument, "the prompt is " + std::to_string(prompt.size()) +
                                                    " tokens but the context holds " + std::to_string(ctx));
  if (params.max_tokens < 0) return Status(StatusCode::kInvalidArgument, "max_tokens must be >= 0");
  for (int32_t id : prompt)
    if (id < 0 || id >= vocab) return Status(StatusCode::kInvalidArgument, "token id out of range");
  JETCHAT_TRY(ensure_kv());
  std::lock_guard<std::mutex> lock(m_.forward_mutex);

  const auto t0 = Clock::now();
  Generation g;
  g.prompt_ids = prompt;
  // Reuse the cached prefix; at least the last prompt token is fed again to get its logits.
  size_t common = 0;
  while (common < cached_.size() && common + 1 < prompt.size() && cached_[common] == prompt[common]) ++common;
  cached_.resize(common);
  g.stats.cached_tokens = int(common);
  g.stats.prompt_tokens = int(prompt.size() - common);
  logits_.resize(size_t(vocab));
  // Where the backend samples on the device the logits stay there and only the chosen id crosses.
  Transformer& tr = *m_.transformer;
  const bool on_device = m_.backend->samples_on_device();
  auto run = [&](const int32_t* ids, int n, int pos) {
    if (on_device)
      tr.forward_on_device(kv_, ids, n, pos);
    else
      tr.forward(kv_, ids, n, pos, false, logits_.data());
  };
  for (size_t at = common; at < prompt.size(); at += Transformer::kChunk) {
    if (cancel_.load()) {
      g.stats.stop_reason = "cancelled";
      return g;
    }
    const int n = int(std::min<size_t>(Transformer::kChunk, prompt.size() - at));
    run(prompt.data() + at, n, int(at));
    cached_.insert(cached_.end(), prompt.begin() + at, prompt.begin() + at + n);
  }
  JETCHAT_TRY(m_.backend->status());
  const double prefill_ms = ms_since(t0);
  g.stats.prefill_tok_s = g.stats.prompt_tokens / std::max(prefill_ms / 1e3, 1e-9);

  Sampler sampler(params.sampling);
  // The device sampler draws from a seed per step, taken from one generator seeded like the host sampler's.
  const SamplingParams& sp = params.sampling;
  std::mt19937_64 step_seeds(sp.seed ? sp.seed : uint64_t(Clock::now().time_since_epoch().count()));
  const int window = sp.repetition_penalty != 1.0f ? sp.repeat_window : 0;
  auto penalized = [](const std::vector<int32_t>& recent, int last) {  // distinct ids of the last `last` tokens
    std::vector<int32_t> ids;
    std::unordered_set<int32_t> seen;
    for (size_t i = recent.size() - std::min(recent.size(), size_t(std::max(last, 0))); i < recent.size(); ++i)
      if (seen.insert(recent[i]).second) ids.push_back(recent[i]);
    return ids;
  };
  // Sampling ahead (where the backend can): the step that feeds a token is issued before the host has read that
  // token, so the device never waits for the host between tokens. The step is wasted when the token ends the
  // reply; its K/V lie past the cached tokens and are overwritten later.
  const bool ahead = on_device && m_.backend->samples_ahead();
  struct Pending {  // tokens sampled ahead and not taken yet: taken (and dropped) however the loop ends
    Transformer& tr;
    int count = 0;
    ~Pending() {
      for (; count > 0; --count) (void)tr.take_sampled();
    }
  } pending{tr};
  std::vector<int32_t> recent(prompt.end() - std::min<size_t>(prompt.size(), 256), prompt.end());
  if (ahead) {  // the prompt's last logits
    JETCHAT_TRY(tr.sample_ahead(sp, penalized(recent, window), false, step_seeds(), int(cached_.size())));
    ++pending.count;
  }
  auto next_token = [&]() -> Result<int32_t> {
    if (!on_device) return sampler.sample(logits_.data(), vocab, recent);
    if (!ahead) return tr.sample(sp, penalized(recent, window), step_seeds());
    --pending.count;
    return tr.take_sampled();
  };
  StreamDecoder decoder(*m_.tokenizer);
  StopFilter filter(stop_strings, on_piece);
  Clock::time_point t_first;
  for (;;) {
    if (cancel_.load()) {
      g.stats.stop_reason = "cancelled";
      break;
    }
    if (int(g.generated_ids.size()) >= params.max_tokens) {
      g.stats.stop_reason = "max_tokens";
      break;
    }
    // The step after the token being sampled, fed by the sampler, and its own sampling: issued now when that
    // token will need them (it is not the last one asked for and fits the context).
    bool issued = false;
    if (ahead && int(g.generated_ids.size()) + 1 < params.max_tokens && int(cached_.size()) < ctx) {
      const int pos = int(cached_.size());
      tr.forward_on_device(kv_, nullptr, 1, pos);
      // Its penalty window ends with the token not known yet, which the sampler adds itself.
      JETCHAT_TRY(tr.sample_ahead(sp, penalized(recent, window - 1), window > 0, step_seeds(), pos + 1));
      ++pending.count;
      issued = true;
    }
    auto next = next_token();
    if (!next) return next.status();
    const int32_t id = *next;
    if (g.generated_ids.empty()) {
      t_first = Clock::now();
      g.stats.ttft_ms = ms_since(t0);
    }
    if (std::find(stop_ids.begin(), stop_ids.end(), id) != stop_ids.end()) {
      g.stats.stop_reason = "eos";
      break;
    }
    g.generated_ids.push_back(id);
    recent.push_back(id);
    if (!filter.push(decoder.push(id))) {
      g.stats.stop_reason = "callback";
      break;
    }
    if (filter.hit()) {
      g.stats.stop_reason = "stop_string";
      break;
    }
    if (int(cached_.size()) >= ctx) {
      g.stats.stop_reason = "context_full";
      break;
    }
    if (!issued) run(&id, 1, int(cached_.size()));
    cached_.push_back(id);
  }
  if (!filter.hit() && g.stats.stop_reason != "callback") {
    filter.push(decoder.flush());
    if (!filter.hit()) filter.finish();
  }
  g.text = filter.text();
  g.stats.generated_tokens = int(g.generated_ids.size());
  if (g.generated_ids.size() > 1)
    g.stats.decode_tok_s = double(g.generated_ids.size() - 1) / std::max(ms_since(t_first) / 1e3, 1e-9);
  return g;
}

Result<double> SessionImpl::perplexity(const std::vector<int32_t>& ids, int window,
                                       const std::function<void(int, int)>& progress) {
  const int ctx = m_.context_length, vocab = m_.config.vocab_size;
  window = window > 0 ? std::min(window, ctx) : ctx;
  if (ids.size() < 2) return Status(StatusCode::kInvalidArgument, "perplexity needs at least two tokens");
  for (int32_t id : ids)
    if (id < 0 || id >= vocab) return Status(StatusCode::kInvalidArgument, "token id out of range");
  JETCHAT_TRY(ensure_kv());
  std::lock_guard<std::mutex> lock(m_.forward_mutex);
  cached_.clear();  // the windows overwrite the cache
  std::vector<float> logits(size_t(Transformer::kChunk) * vocab);
  double nll = 0;
  int64_t count = 0;
  const int total = int(ids.size());
  for (int start = 0; start + 1 < total; start += window) {
    const int len = std::min(window, total - start);
    for (int at = 0; at < len; at += Transformer::kChunk) {
      if (cancel_.load()) return Status(StatusCode::kCancelled, "perplexity cancelled");
      const int n = std::min(Transformer::kChunk, len - at);
      m_.transformer->forward(kv_, ids.data() + start + at, n, at, true, logits.data());
      for (int i = 0; i < n; ++i) {
        const int next = start + at + i + 1;
        if (at + i + 1 >= len) break;  // the window's last token predicts outside it
        const float* l = logits.data() + size_t(i) * vocab;
        const float mx = *std::max_element(l, l + vocab);
        double sum = 0;
        for (int v = 0; v < vocab; ++v) sum += std::exp(double(l[v] - mx));
        nll += std::log(sum) + mx - l[ids[next]];
        ++count;
      }
      if (progress) progress(start + at + n, total);
    }
  }
  return std::exp(nll / double(count));
}

Session::Session(std::shared_ptr<Model> model) : impl_(std::make_unique<SessionImpl>(std::move(model))) {}
Session::~Session() = default;

void Session::cancel() { impl_->cancel_.store(true); }
void Session::reset() {
  impl_->history_.clear();
  impl_->cached_.clear();
}
void Session::set_system_prompt(const std::string& text) {
  impl_->system_prompt_ = text;
  impl_->system_prompt_set_ = !text.empty();
}
const std::vector<Message>& Session::history() const { return impl_->history_; }
int Session::context_length() const { return impl_->m_.context_length; }
int Session::context_used() const { return int(impl_->cached_.size()); }

Result<Generation> Session::complete(const std::string& prompt, const GenerateParams& params,
                                     const PieceCallback& on_piece) {
  impl_->cancel_.store(false);
  const Tokenizer& tok = *impl_->m_.tokenizer;
  std::vector<int32_t> stops;
  for (int e : impl_->m_.config.eos_token_ids) stops.push_back(e);
  stops.push_back(tok.eos_id());
  return impl_->generate(tok.encode(prompt, params.add_bos), params, stops, params.stop_strings, on_piece);
}

Result<Generation> Session::chat(const std::vector<Message>& messages, const GenerateParams& params,
                                 const PieceCallback& on_piece) {
  SessionImpl& s = *impl_;
  s.cancel_.store(false);
  if (messages.empty()) return Status(StatusCode::kInvalidArgument, "no message to answer");
  const Tokenizer& tok = *s.m_.tokenizer;
  const ChatTemplate& tmpl = s.m_.chat_template;
  const std::string system = s.system_prompt_set_ ? s.system_prompt_ : tmpl.default_system_prompt();
  // The reply needs room too: keep a quarter of the context (or max_tokens, if smaller) free for it.
  const int ctx = s.m_.context_length;
  const int budget = ctx - std::max(1, std::min(params.max_tokens, ctx / 4));
  std::vector<Message> history = s.history_;
  std::vector<int32_t> ids;
  for (;;) {
    std::vector<Message> conv;
    if (!system.empty()) conv.push_back({Role::kSystem, system});
    conv.insert(conv.end(), history.begin(), history.end());
    conv.insert(conv.end(), messages.begin(), messages.end());
    ids = tmpl.render(tok, conv, true);
    if (int(ids.size()) <= budget) break;
    if (history.empty())
      return Status(StatusCode::kInvalidArgument,
                    "the message is too long: " + std::to_string(ids.size()) + " tokens, but the context of " +
                        std::to_string(ctx) + " tokens keeps " + std::to_string(ctx - budget) +
                        " for the reply; shorten it or load the model with a longer context");
    // Drop the oldest turn (a user message and its reply), never the newest message.
    history.erase(history.begin(), history.begin() + std::min<size_t>(2, history.size()));
  }
  std::vector<int32_t> stops = tmpl.stop_ids(tok);
  for (int e : s.m_.config.eos_token_ids)
    if (std::find(stops.begin(), stops.end(), e) == stops.end()) stops.push_back(e);
  std::vector<std::string> stop_strings = tmpl.stop_strings();
  stop_strings.insert(stop_strings.end(), params.stop_strings.begin(), params.stop_strings.end());
  auto g = s.generate(ids, params, stops, stop_strings, on_piece);
  if (!g) return g;
  history.insert(history.end(), messages.begin(), messages.end());
  history.push_back({Role::kAssistant, g->text});
  s.history_ = std::move(history);
  return g;
}

Result<double> Session::perplexity(const std::vector<int32_t>& ids, int window,
                                   const std::function<void(int done, int total)>& progress) {
  impl_->cancel_.store(false);
  return impl_->perplexity(ids, window, progress);
}

}  // namespace jetchat
