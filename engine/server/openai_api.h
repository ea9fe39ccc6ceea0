// The OpenAI-compatible API as data: request bodies checked and turned into engine parameters, and the JSON
// shapes of responses, stream chunks and errors. Pure functions, no I/O, so every rule here is unit-testable.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jetchat/chat.h"
#include "jetchat/params.h"
#include "jetchat/session.h"

namespace jetchat::server {

// An error as OpenAI reports it: the HTTP status, and {"error": {"message", "type", "param", "code"}}.
// An empty param or code is written as null.
struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;
  std::string code;
};

nlohmann::json error_body(const ApiError& e);

enum class Endpoint { kChat, kCompletion };

// One generation asked for by /v1/chat/completions or /v1/completions.
struct GenerationRequest {
  Endpoint endpoint = Endpoint::kChat;
  std::string model;
  std::string system_prompt;        // chat: the leading system message's text; "" = the template's default
  std::vector<Message> messages;    // chat: the conversation after the leading system message
  std::string prompt;               // completion
  GenerateParams params;
  bool stream = false;
  bool include_usage = false;       // stream_options.include_usage: a last chunk carrying usage
};

template <typename T>
using ApiResult = std::variant<T, ApiError>;

// Parses and validates a request body for `endpoint` against the one model this server serves. Fields the
// engine cannot honour (n > 1, tools, non-text content parts) are refused rather than silently ignored; other
// unknown fields are ignored, as OpenAI clients send many.
ApiResult<GenerationRequest> parse_generation_request(Endpoint endpoint, std::string_view body,
                                                      const std::string& served_model);

// "stop" when the model ended the reply (end of turn or a stop string), "length" when a limit cut it.
std::string finish_reason(const GenerationStats& stats);

nlohmann::json usage_json(const Generation& g);

// GET /v1/models.
nlohmann::json models_list(const std::string& model, int64_t created);

// Whole responses (stream: false).
nlohmann::json chat_completion(const std::string& id, int64_t created, const std::string& model,
                               const Generation& g);
nlohmann::json text_completion(const std::string& id, int64_t created, const std::string& model,
                               const Generation& g);

// Stream chunks. A chat stream opens with a delta {"role": "assistant", "content": ""}, carries content deltas,
// and closes with an empty delta and the finish reason; a completion stream carries text.
nlohmann::json chat_chunk_role(const std::string& id, int64_t created, const std::string& model);
nlohmann::json chat_chunk_content(const std::string& id, int64_t created, const std::string& model,
                                  std::string_view text);
nlohmann::json chat_chunk_finish(const std::string& id, int64_t created, const std::string& model,
                                 const std::string& reason);
nlohmann::json completion_chunk(const std::string& id, int64_t created, const std::string& model,
                                std::string_view text, const std::string& reason);
// The stream_options.include_usage chunk: no choices, only usage.
nlohmann::json usage_chunk(Endpoint endpoint, const std::string& id, int64_t created, const std::string& model,
                           const Generation& g);

// One server-sent event: "data: <json>\n\n"; the stream ends with "data: [DONE]\n\n".
std::string sse_event(const nlohmann::json& j);
std::string sse_done();

// Compact JSON text; invalid UTF-8 (never produced by the engine, but possible in echoed input) is replaced.
std::string dump(const nlohmann::json& j);

}  // namespace jetchat::server
