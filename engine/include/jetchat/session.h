// A conversation with a model: owns the KV cache and the history, streams generated text through a callback.
// Used from one thread; cancel() may be called from any thread and takes effect before the next token.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jetchat/chat.h"
#include "jetchat/engine.h"

namespace jetchat {

// Called with each new piece of text (always whole UTF-8 characters). Return false to stop generating.
using PieceCallback = std::function<bool(std::string_view piece)>;

struct GenerationStats {
  int prompt_tokens = 0;        // tokens of the prompt that went through the model (after cache reuse)
  int cached_tokens = 0;        // tokens of the prompt reused from the KV cache
  int generated_tokens = 0;
  double ttft_ms = 0;           // start to first generated token
  double prefill_tok_s = 0;
  double decode_tok_s = 0;
  std::string stop_reason;      // "eos", "stop_string", "max_tokens", "context_full", "cancelled", "callback"
};

struct Generation {
  std::string text;
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> generated_ids;
  GenerationStats stats;
};

class SessionImpl;

class Session {
 public:
  explicit Session(std::shared_ptr<Model> model);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Chat: renders system prompt + history + messages with the model's chat template, generates the reply, and
  // appends both to the history. History that no longer fits the context is dropped from the oldest turns.
  Result<Generation> chat(const std::vector<Message>& messages, const GenerateParams& params,
                          const PieceCallback& on_piece = {});
  // Plain completion of a raw prompt (no template, no history).
  Result<Generation> complete(const std::string& prompt, const GenerateParams& params,
                              const PieceCallback& on_piece = {});

  void set_system_prompt(const std::string& text);  // "" = the template's default
  const std::vector<Message>& history() const;
  void reset();                                      // forget history and cached tokens
  void cancel();                                     // thread-safe
  int context_length() const;
  int context_used() const;                          // tokens currently in the KV cache

  // Log-likelihood evaluation: mean negative log-likelihood of ids[1..] given the preceding ids, in windows of
  // the context length. Returns perplexity = exp(mean NLL).
  Result<double> perplexity(const std::vector<int32_t>& ids, int window = 0,
                            const std::function<void(int done, int total)>& progress = {});

 private:
  std::unique_ptr<SessionImpl> impl_;
};

}  // namespace jetchat
