// The OpenAI request rules and response shapes, without a network: what each field becomes in the engine's
// parameters, which bodies are refused with which param and code, and the JSON the server writes.
#include <gtest/gtest.h>

#include "openai_api.h"

namespace jetchat::server {
namespace {

using nlohmann::json;

GenerationRequest parse_ok(Endpoint endpoint, const std::string& body) {
  auto r = parse_generation_request(endpoint, body, "tiny");
  if (const auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << body << " -> " << e->message;
    return {};
  }
  return std::get<GenerationRequest>(r);
}

TEST(OpenAiApi, ChatRequestBecomesEngineParameters) {
  const auto r = parse_ok(Endpoint::kChat, R"({
    "model": "tiny", "stream": true, "stream_options": {"include_usage": true},
    "temperature": 0.3, "top_p": 0.5, "max_tokens": 17, "seed": 99, "stop": ["END", "", "###"],
    "presence_penalty": 0, "user": "robot-7",
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "developer", "content": "Answer in English."},
      {"role": "user", "content": "Hi"},
      {"role": "assistant", "content": "Hello!"},
      {"role": "user", "content": [{"type": "text", "text": "How "}, {"type": "text", "text": "are you?"}]}
    ]})");
  EXPECT_EQ(r.endpoint, Endpoint::kChat);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_FLOAT_EQ(r.params.sampling.temperature, 0.3f);
  EXPECT_FLOAT_EQ(r.params.sampling.top_p, 0.5f);
  EXPECT_EQ(r.params.max_tokens, 17);
  EXPECT_EQ(r.params.sampling.seed, 99u);
  EXPECT_EQ(r.params.stop_strings, (std::vector<std::string>{"END", "###"}));  // empty stops mean nothing
  EXPECT_EQ(r.system_prompt, "Be brief.\nAnswer in English.");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, Role::kUser);
  EXPECT_EQ(r.messages[1].role, Role::kAssistant);
  EXPECT_EQ(r.messages[1].content, "Hello!");
  EXPECT_EQ(r.messages[2].content, "How are you?");
}

TEST(OpenAiApi, DefaultsAreTheEngines) {
  const auto r = parse_ok(Endpoint::kChat, R"({"model": "tiny", "messages": [{"role": "user", "content": "x"}]})");
  const GenerateParams defaults;
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.system_prompt, "");  // the template's default system prompt applies
  EXPECT_EQ(r.params.max_tokens, defaults.max_tokens);
  EXPECT_EQ(r.params.sampling.temperature, defaults.sampling.temperature);
  EXPECT_EQ(r.params.sampling.seed, 0u);  // from the clock
}

TEST(OpenAiApi, TemperatureZeroIsPlainGreedyAndSeedZeroIsReproducible) {
  const auto r = parse_ok(Endpoint::kChat,
                          R"({"model": "tiny", "temperature": 0, "seed": 0, "stop": "\n",
                              "messages": [{"role": "user", "content": "x"}]})");
  EXPECT_EQ(r.params.sampling.temperature, 0.0f);
  EXPECT_EQ(r.params.sampling.repetition_penalty, 1.0f);
  EXPECT_NE(r.params.sampling.seed, 0u);
  EXPECT_EQ(r.params.stop_strings, std::vector<std::string>{"\n"});
  const auto neg = parse_ok(Endpoint::kChat,
                            R"({"model": "tiny", "seed": -1, "messages": [{"role": "user", "content": "x"}]})");
  EXPECT_EQ(neg.params.sampling.seed, ~uint64_t(0));
}

TEST(OpenAiApi, CompletionPromptIsAStringOrOneStringInAnArray) {
  EXPECT_EQ(parse_ok(Endpoint::kCompletion, R"({"model": "tiny", "prompt": "Once"})").prompt, "Once");
  const auto r = parse_ok(Endpoint::kCompletion, R"({"model": "tiny", "prompt": ["Upon"], "max_tokens": 0})");
  EXPECT_EQ(r.prompt, "Upon");
  EXPECT_EQ(r.params.max_tokens, 0);
  EXPECT_EQ(r.endpoint, Endpoint::kCompletion);
}

struct BadBody {
  Endpoint endpoint;
  std::string body;
  const char* param;  // "" = null
  const char* code;
};

TEST(OpenAiApi, BadBodiesAreRefusedNamingTheParameter) {
  const std::string m = R"("messages": [{"role": "user", "content": "x"}])";
  const std::vector<BadBody> cases = {
      {Endpoint::kChat, "{\"model\": \"tiny\",", "", "invalid_json"},
      {Endpoint::kChat, "[1, 2]", "", "invalid_json"},
      {Endpoint::kChat, "", "", "invalid_json"},
      {Endpoint::kChat, R"({"messages": [{"role": "user", "content": "x"}]})", "model", "missing_required_parameter"},
      {Endpoint::kChat, R"({"model": 5, "messages": []})", "model", "invalid_type"},
      {Endpoint::kChat, R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})", "model",
       "model_not_found"},
      {Endpoint::kChat, R"({"model": "tiny"})", "messages", "missing_required_parameter"},
      {Endpoint::kChat, R"({"model": "tiny", "messages": "hi"})", "messages", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "messages": []})", "messages", ""},
      {Endpoint::kChat, R"({"model": "tiny", "messages": [{"role": "system", "content": "s"}]})", "messages", ""},
      {Endpoint::kChat, R"({"model": "tiny", "messages": [7]})", "messages[0]", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "messages": [{"role": "tool", "content": "x"}]})", "messages[0].role",
       "unsupported_role"},
      {Endpoint::kChat, R"({"model": "tiny", "messages": [{"content": "x"}]})", "messages[0].role", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "messages": [{"role": "user"}]})", "messages[0].content",
       "missing_required_parameter"},
      {Endpoint::kChat, R"({"model": "tiny", "messages": [{"role": "user", "content": 3}]})", "messages[0].content",
       "invalid_type"},
      {Endpoint::kChat,
       R"({"model": "tiny", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})",
       "messages[0].content[0].type", "unsupported_content"},
      {Endpoint::kChat, R"({"model": "tiny", "temperature": "hot", )" + m + "}", "temperature",
       "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "temperature": 2.5, "messages": []})", "temperature", "invalid_value"},
      {Endpoint::kChat, R"({"model": "tiny", "top_p": 0, "messages": []})", "top_p", "invalid_value"},
      {Endpoint::kChat, R"({"model": "tiny", "max_tokens": -1, "messages": []})", "max_tokens", "invalid_value"},
      {Endpoint::kChat, R"({"model": "tiny", "max_completion_tokens": -5, "messages": []})",
       "max_completion_tokens", "invalid_value"},
      {Endpoint::kChat, R"({"model": "tiny", "max_tokens": 1.5, "messages": []})", "max_tokens", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "max_tokens": "10", "messages": []})", "max_tokens", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "max_tokens": 1e12, "messages": []})", "max_tokens", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "max_tokens": 99999999999, "messages": []})", "max_tokens",
       "invalid_value"},
      {Endpoint::kChat, R"({"model": "tiny", "seed": "7", "messages": []})", "seed", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "stop": 5, "messages": []})", "stop", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "stop": ["a", 1], "messages": []})", "stop[1]", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "stream": "yes", "messages": []})", "stream", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "stream_options": {"include_usage": 1}, "messages": []})",
       "stream_options.include_usage", "invalid_type"},
      {Endpoint::kChat, R"({"model": "tiny", "n": 2, "messages": []})", "n", "unsupported_value"},
      {Endpoint::kChat, R"({"model": "tiny", "tools": [{"type": "function"}], "messages": []})", "tools",
       "unsupported_parameter"},
      {Endpoint::kCompletion, R"({"model": "tiny"})", "prompt", "missing_required_parameter"},
      {Endpoint::kCompletion, R"({"model": "tiny", "prompt": [1, 2, 3]})", "prompt", "invalid_type"},
      {Endpoint::kCompletion, R"({"model": "tiny", "prompt": ["a", "b"]})", "prompt", "invalid_type"},
  };
  for (const BadBody& c : cases) {
    auto r = parse_generation_request(c.endpoint, c.body, "tiny");
    const auto* e = std::get_if<ApiError>(&r);
    ASSERT_NE(e, nullptr) << c.body;
    EXPECT_EQ(e->http_status, 400) << c.body;
    EXPECT_EQ(e->type, "invalid_request_error") << c.body;
    EXPECT_EQ(e->param, c.param) << c.body;
    EXPECT_EQ(e->code, c.code) << c.body;
    EXPECT_FALSE(e->message.empty()) << c.body;
  }
}

TEST(OpenAiApi, StopStringsAreBounded) {
  json many = json::array();
  for (int i = 0; i < 17; ++i) many.push_back(std::string(1, char('a' + i)));
  json body = {{"model", "tiny"}, {"prompt", "x"}, {"stop", many}};
  EXPECT_TRUE(std::holds_alternative<ApiError>(parse_generation_request(Endpoint::kCompletion, body.dump(), "tiny")));
  body["stop"] = std::string(300, 'a');
  EXPECT_TRUE(std::holds_alternative<ApiError>(parse_generation_request(Endpoint::kCompletion, body.dump(), "tiny")));
}

TEST(OpenAiApi, ErrorBodyHasTheFourFieldsWithNulls) {
  const json j = error_body(ApiError{400, "bad", "invalid_request_error", "", ""});
  ASSERT_TRUE(j.contains("error"));
  EXPECT_EQ(j["error"]["message"], "bad");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(j["error"]["param"].is_null());
  EXPECT_TRUE(j["error"]["code"].is_null());
  EXPECT_EQ(error_body(ApiError{400, "m", "t", "stop", "c"})["error"]["param"], "stop");
}

TEST(OpenAiApi, FinishReasonAndUsage) {
  Generation g;
  g.prompt_ids = {1, 2, 3};
  g.generated_ids = {4, 5};
  for (const char* r : {"eos", "stop_string", "callback", "cancelled"}) {
    g.stats.stop_reason = r;
    EXPECT_EQ(finish_reason(g.stats), "stop") << r;
  }
  for (const char* r : {"max_tokens", "context_full"}) {
    g.stats.stop_reason = r;
    EXPECT_EQ(finish_reason(g.stats), "length") << r;
  }
  EXPECT_EQ(usage_json(g), (json{{"prompt_tokens", 3}, {"completion_tokens", 2}, {"total_tokens", 5}}));
}

TEST(OpenAiApi, ServerSentEventFraming) {
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  // Bytes that are not UTF-8 must not throw out of the server; they become U+FFFD.
  EXPECT_EQ(dump(json(std::string("a\xff"))), "\"a\xef\xbf\xbd\"");
}

}  // namespace
}  // namespace jetchat::server
