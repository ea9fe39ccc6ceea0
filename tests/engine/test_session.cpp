// Sessions: streamed pieces add up to the reply, cancel from another thread stops within a token, seeds
// reproduce, history is trimmed from the oldest turn, and the KV cache prefix is reused across turns.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "jetchat/session.h"
#include "random_checkpoint.h"
#include "model_impl.h"
#include "support/fixtures.h"
#include "support/reference_forward.h"

namespace jetchat {
namespace {

// One random tiny model for the whole suite, written on first use.
const std::string& tiny_model_dir() {
  static const std::string dir = [] {
    const std::string d = test::scratch_dir("session_model");
    RandomModelSpec s;
    s.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
    EXPECT_TRUE(write_random_checkpoint(s, d).is_ok());
    return d;
  }();
  return dir;
}

std::shared_ptr<Model> tiny_model(int ctx) {
  const std::string& dir = tiny_model_dir();
  LoadParams p;
  p.context_length = ctx;
  p.threads = 2;
  auto m = Model::load(dir, p);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? *m : nullptr;
}

GenerateParams sampled(uint64_t seed, int n) {
  GenerateParams g;
  g.sampling.seed = seed;
  g.sampling.temperature = 1.0f;
  g.max_tokens = n;
  return g;
}

TEST(Session, StreamedPiecesAddUpToTheText) {
  auto model = tiny_model(256);
  Session s(model);
  std::string streamed;
  int calls = 0;
  auto r = s.complete("Once upon a time", sampled(5, 40), [&](std::string_view p) {
    streamed += p;
    ++calls;
    return true;
  });
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(streamed, r->text);
  EXPECT_GT(calls, 1);
  EXPECT_EQ(r->stats.generated_tokens, int(r->generated_ids.size()));
  EXPECT_GT(r->stats.decode_tok_s, 0);
  EXPECT_EQ(r->prompt_ids.front(), 1);  // BOS
}

TEST(Session, SeedsReproduceAndDiffer) {
  auto model = tiny_model(256);
  Session a(model), b(model);
  auto r1 = a.complete("The cat", sampled(42, 30));
  auto r2 = b.complete("The cat", sampled(42, 30));
  auto r3 = b.complete("The cat", sampled(43, 30));
  ASSERT_TRUE(r1.is_ok() && r2.is_ok() && r3.is_ok());
  EXPECT_EQ(r1->generated_ids, r2->generated_ids);
  EXPECT_NE(r1->generated_ids, r3->generated_ids);
}

TEST(Session, CancelFromAnotherThreadStopsBeforeTheNextToken) {
  auto model = tiny_model(512);
  GenerateParams g = sampled(9, 200);
  // The same seeded reply without a cancel, replayed through a StreamDecoder, says after which token the 5th
  // piece of text appears: a cancel issued while that piece is delivered must leave exactly that many tokens.
  Session free_run(model);
  auto full = free_run.chat({{Role::kUser, "Tell me a story"}}, g);
  ASSERT_TRUE(full.is_ok()) << full.status().message();
  StreamDecoder dec(*model->impl().tokenizer);
  size_t tokens_for_five_pieces = 0;
  for (int pieces = 0; pieces < 5 && tokens_for_five_pieces < full->generated_ids.size();)
    if (!dec.push(full->generated_ids[tokens_for_five_pieces++]).empty()) ++pieces;
  ASSERT_GT(full->generated_ids.size(), tokens_for_five_pieces) << "the free run must outlast five pieces";

  Session s(model);
  int pieces = 0;
  auto r = s.chat({{Role::kUser, "Tell me a story"}}, g, [&](std::string_view) {
    if (++pieces == 5) {
      std::thread canceller([&] { s.cancel(); });
      canceller.join();  // cancel() has returned before the session samples another token
    }
    return true;
  });
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->stats.stop_reason, "cancelled");
  EXPECT_EQ(r->generated_ids.size(), tokens_for_five_pieces);
  EXPECT_EQ(r->generated_ids,
            std::vector<int32_t>(full->generated_ids.begin(), full->generated_ids.begin() + tokens_for_five_pieces));
  // The session stays usable after a cancel.
  auto again = s.chat({{Role::kUser, "Again"}}, sampled(1, 5));
  ASSERT_TRUE(again.is_ok());
  EXPECT_NE(again->stats.stop_reason, "cancelled");
}

TEST(Session, HistoryReusesTheCacheAndIsTrimmedFromTheOldestTurn) {
  auto model = tiny_model(128);
  Session s(model);
  GenerateParams g = sampled(3, 12);
  auto first = s.chat({{Role::kUser, "Hello there, how are you?"}}, g);
  ASSERT_TRUE(first.is_ok());
  auto second = s.chat({{Role::kUser, "And today?"}}, g);
  ASSERT_TRUE(second.is_ok());
  EXPECT_GT(second->stats.cached_tokens, 0);  // the first turn's prompt stays in the KV cache
  EXPECT_EQ(s.history().size(), 4u);
  // Fill the context: old turns are dropped, the newest message always survives.
  for (int i = 0; i < 12; ++i) {
    auto r = s.chat({{Role::kUser, "Message number " + std::to_string(i) + " with some words"}}, g);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
  }
  EXPECT_LT(s.history().size(), 28u);
  EXPECT_EQ(s.history()[s.history().size() - 2].content, "Message number 11 with some words");
  EXPECT_LE(s.context_used(), s.context_length());
  // A single message that cannot fit is an error, not silently cut.
  auto huge = s.chat({{Role::kUser, std::string(2000, 'x')}}, g);
  ASSERT_FALSE(huge.is_ok());
  EXPECT_NE(huge.status().message().find("too long"), std::string::npos);
}

TEST(Session, StopStringsEndTheReplyAndAreNotShown) {
  auto model = tiny_model(256);
  Session s(model);
  auto free_run = s.complete("Once", sampled(11, 40));
  ASSERT_TRUE(free_run.is_ok());
  ASSERT_GE(free_run->text.size(), 6u);
  // Use a piece of the unconstrained output as the stop string: the same seed must stop right before it.
  const std::string stop = free_run->text.substr(free_run->text.size() / 2, 3);
  GenerateParams g = sampled(11, 40);
  g.stop_strings = {stop};
  std::string streamed;
  auto r = s.complete("Once", g, [&](std::string_view p) { streamed += p; return true; });
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->stats.stop_reason, "stop_string");
  EXPECT_EQ(r->text.find(stop), std::string::npos);
  EXPECT_EQ(streamed, r->text);
  EXPECT_EQ(free_run->text.find(stop), r->text.size());
}

TEST(Session, PerplexityMatchesTheReferenceForwardPass) {
  // Two windows of 20 tokens, each evaluated from position 0: exp(mean NLL of tokens 1..19 of each window).
  auto model = tiny_model(64);
  Session s(model);
  std::vector<int32_t> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(1 + (i * 37) % 500);
  auto ppl = s.perplexity(ids, 20);
  ASSERT_TRUE(ppl.is_ok()) << ppl.status().message();
  double nll = 0;
  int count = 0;
  for (int w = 0; w < 2; ++w) {
    std::vector<int32_t> win(ids.begin() + 20 * w, ids.begin() + 20 * (w + 1));
    auto ref = test::reference_logits(tiny_model_dir(), win);
    for (int t = 0; t + 1 < 20; ++t) {
      double mx = -1e300, z = 0;
      for (double l : ref[t]) mx = std::max(mx, l);
      for (double l : ref[t]) z += std::exp(l - mx);
      nll += std::log(z) + mx - ref[t][win[t + 1]];
      ++count;
    }
  }
  EXPECT_NEAR(*ppl, std::exp(nll / count), 2e-3 * *ppl);
}

// Random models of Qwen2.5 and Llama-3 shape with their byte-level BPE tokenizer.json: chat renders the family's
// template (Qwen2.5 with its default system prompt), generate prepends BOS only where the tokenizer says so.
TEST(Session, ByteLevelBpeModelsChatInTheirTemplate) {
  struct Case {
    const char* shape;
    const char* template_name;
    std::string expected_prompt;
    bool bos;
  };
  const Case cases[] = {
      {"llama3-tiny", "llama3",
       "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
       "<|start_header_id|>assistant<|end_header_id|>\n\n",
       true},
      {"qwen2.5-tiny", "chatml",
       "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
       "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
       false},
  };
  for (const Case& c : cases) {
    const std::string dir = test::scratch_dir(std::string("bpe_model_") + c.shape);
    auto spec = random_model_shape(c.shape);
    ASSERT_TRUE(spec) << spec.status().message();
    ASSERT_TRUE(write_random_checkpoint(*spec, dir).is_ok());
    LoadParams p;
    p.context_length = 256;
    p.threads = 2;
    auto model = Model::load(dir, p);
    ASSERT_TRUE(model) << model.status().message();
    EXPECT_EQ((*model)->info().chat_template, c.template_name);
    const Tokenizer& tok = *(*model)->impl().tokenizer;
    ASSERT_TRUE(tok.byte_level());
    Session s(*model);
    GenerateParams greedy;
    greedy.max_tokens = 4;
    auto r = s.chat({{Role::kUser, "Hi there"}}, greedy);
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ(r->prompt_ids, tok.encode(c.expected_prompt, false, true)) << c.shape;
    auto g = s.complete("Hello", greedy);
    ASSERT_TRUE(g) << g.status().message();
    EXPECT_EQ(g->prompt_ids.front() == tok.bos_id(), c.bos) << c.shape;
  }
}

}  // namespace
}  // namespace jetchat
