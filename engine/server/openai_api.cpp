#include "openai_api.h"

#include <optional>

namespace jetchat::server {
namespace {

using nlohmann::json;

// Limits that keep one request from costing more than its tokens: the stop strings are matched against every
// streamed piece.
constexpr size_t kMaxStopStrings = 16;
constexpr size_t kMaxStopBytes = 256;

// Seed 0 means "from the clock" to the engine, but a client that sends seed 0 wants a reproducible reply.
constexpr uint64_t kSeedForZero = 0x9E3779B97F4A7C15ull;

ApiError invalid(std::string message, std::string param, std::string code = {}) {
  return ApiError{400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

ApiError wrong_type(const std::string& param, const char* expected) {
  return invalid("'" + param + "' must be " + expected, param, "invalid_type");
}

// The field, or nullptr when absent or JSON null (OpenAI treats null as "use the default").
const json* field(const json& body, const char* name) {
  const auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

// The text of a message's content: a string, or an array of {"type": "text", "text": ...} parts.
std::optional<ApiError> content_text(const json& content, const std::string& param, std::string& out) {
  if (content.is_string()) {
    out = content.get<std::string>();
    return std::nullopt;
  }
  if (!content.is_array()) return wrong_type(param, "a string or an array of text parts");
  out.clear();
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string p = param + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return wrong_type(p, "an object");
    const json* type = field(part, "type");
    if (!type || !type->is_string() || *type != "text")
      return invalid("only text content parts are supported", p + ".type", "unsupported_content");
    const json* text = field(part, "text");
    if (!text || !text->is_string()) return wrong_type(p + ".text", "a string");
    out += text->get<std::string>();
  }
  return std::nullopt;
}

std::optional<ApiError> parse_messages(const json& body, GenerationRequest& r) {
  const json* messages = field(body, "messages");
  if (!messages) return invalid("'messages' is required", "messages", "missing_required_parameter");
  if (!messages->is_array()) return wrong_type("messages", "an array");
  bool leading = true;
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return wrong_type(p, "an object");
    const json* role = field(m, "role");
    if (!role || !role->is_string()) return wrong_type(p + ".role", "a string");
    const std::string& name = role->get_ref<const std::string&>();
    Role kind;
    if (name == "system" || name == "developer") kind = Role::kSystem;
    else if (name == "user") kind = Role::kUser;
    else if (name == "assistant") kind = Role::kAssistant;
    else return invalid("role '" + name + "' is not supported (system, developer, user, assistant)", p + ".role",
                        "unsupported_role");
    const json* content = field(m, "content");
    if (!content) return invalid("'content' is required", p + ".content", "missing_required_parameter");
    std::string text;
    if (auto e = content_text(*content, p + ".content", text)) return e;
    // Leading system messages become the session's system prompt, so the template does not add its default.
    if (kind == Role::kSystem && leading) {
      r.system_prompt += (r.system_prompt.empty() ? "" : "\n") + text;
      continue;
    }
    leading = false;
    r.messages.push_back({kind, std::move(text)});
  }
  if (r.messages.empty())
    return invalid("'messages' must hold at least one user or assistant message", "messages");
  return std::nullopt;
}

std::optional<ApiError> parse_prompt(const json& body, GenerationRequest& r) {
  const json* prompt = field(body, "prompt");
  if (!prompt) return invalid("'prompt' is required", "prompt", "missing_required_parameter");
  if (prompt->is_string()) {
    r.prompt = prompt->get<std::string>();
  } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    r.prompt = (*prompt)[0].get<std::string>();
  } else {
    return wrong_type("prompt", "a string (or an array of one string)");
  }
  return std::nullopt;
}

std::optional<ApiError> parse_number(const json& body, const char* name, double lo, double hi, bool lo_open,
                                     float& out) {
  const json* v = field(body, name);
  if (!v) return std::nullopt;
  if (!v->is_number()) return wrong_type(name, "a number");
  const double x = v->get<double>();
  if (x > hi || x < lo || (lo_open && x == lo)) {
    std::string message = std::string("'") + name + "' must be ";
    message += (lo_open ? "> " : ">= ") + json(lo).dump() + " and <= " + json(hi).dump();
    return invalid(std::move(message), name, "invalid_value");
  }
  out = float(x);
  return std::nullopt;
}

std::optional<ApiError> parse_sampling(const json& body, GenerationRequest& r) {
  GenerateParams& g = r.params;
  if (auto e = parse_number(body, "temperature", 0.0, 2.0, false, g.sampling.temperature)) return e;
  // Greedy decoding is what temperature 0 asks for; a repetition penalty would make it something else.
  if (g.sampling.temperature == 0.0f) g.sampling.repetition_penalty = 1.0f;
  if (auto e = parse_number(body, "top_p", 0.0, 1.0, true, g.sampling.top_p)) return e;

  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    const json* v = field(body, name);
    if (!v) continue;
    if (!v->is_number_integer()) return wrong_type(name, "an integer");
    if (v->is_number_unsigned() ? v->get<uint64_t>() > uint64_t(INT32_MAX) : v->get<int64_t>() > INT32_MAX)
      return invalid("'" + std::string(name) + "' is too large", name, "invalid_value");
    const int64_t n = v->get<int64_t>();
    if (n < 0) return invalid("'" + std::string(name) + "' must be >= 0", name, "invalid_value");
    g.max_tokens = int(n);
  }

  if (const json* v = field(body, "seed")) {
    if (!v->is_number_integer()) return wrong_type("seed", "an integer");
    const uint64_t s = v->is_number_unsigned() ? v->get<uint64_t>() : uint64_t(v->get<int64_t>());
    g.sampling.seed = s == 0 ? kSeedForZero : s;
  }

  if (const json* v = field(body, "stop")) {
    std::vector<std::string> stops;
    if (v->is_string()) {
      stops.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      for (size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string()) return wrong_type("stop[" + std::to_string(i) + "]", "a string");
        stops.push_back((*v)[i].get<std::string>());
      }
    } else {
      return wrong_type("stop", "a string or an array of strings");
    }
    if (stops.size() > kMaxStopStrings)
      return invalid("at most " + std::to_string(kMaxStopStrings) + " stop strings", "stop", "invalid_value");
    for (std::string& s : stops) {
      if (s.size() > kMaxStopBytes)
        return invalid("stop strings are at most " + std::to_string(kMaxStopBytes) + " bytes", "stop",
                       "invalid_value");
      if (!s.empty()) g.stop_strings.push_back(std::move(s));
    }
  }
  return std::nullopt;
}

std::optional<ApiError> parse_common(const json& body, const std::string& served_model, GenerationRequest& r) {
  const json* model = field(body, "model");
  if (!model) return invalid("'model' is required", "model", "missing_required_parameter");
  if (!model->is_string()) return wrong_type("model", "a string");
  r.model = model->get<std::string>();
  if (r.model != served_model)
    return invalid("the model '" + r.model + "' does not exist; this server serves '" + served_model + "'", "model",
                   "model_not_found");

  if (const json* v = field(body, "stream")) {
    if (!v->is_boolean()) return wrong_type("stream", "a boolean");
    r.stream = v->get<bool>();
  }
  if (const json* v = field(body, "stream_options")) {
    if (!v->is_object()) return wrong_type("stream_options", "an object");
    if (const json* u = field(*v, "include_usage")) {
      if (!u->is_boolean()) return wrong_type("stream_options.include_usage", "a boolean");
      r.include_usage = u->get<bool>();
    }
  }
  if (const json* v = field(body, "n")) {
    if (!v->is_number_integer()) return wrong_type("n", "an integer");
    if (v->get<int64_t>() != 1) return invalid("only n = 1 is supported", "n", "unsupported_value");
  }
  for (const char* name : {"tools", "functions"}) {
    const json* v = field(body, name);
    if (v && !(v->is_array() && v->empty()))
      return invalid("'" + std::string(name) + "' (tool calling) is not supported", name, "unsupported_parameter");
  }
  return parse_sampling(body, r);
}

json base(const char* object, const std::string& id, int64_t created, const std::string& model) {
  return {{"id", id}, {"object", object}, {"created", created}, {"model", model}};
}

json reason_or_null(const std::string& reason) { return reason.empty() ? json(nullptr) : json(reason); }

}  // namespace

json error_body(const ApiError& e) {
  return {{"error",
           {{"message", e.message},
            {"type", e.type},
            {"param", e.param.empty() ? json(nullptr) : json(e.param)},
            {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

ApiResult<GenerationRequest> parse_generation_request(Endpoint endpoint, std::string_view body,
                                                      const std::string& served_model) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid("the body is not valid JSON", "", "invalid_json");
  if (!j.is_object()) return invalid("the body must be a JSON object", "", "invalid_json");
  GenerationRequest r;
  r.endpoint = endpoint;
  if (auto e = parse_common(j, served_model, r)) return *e;
  if (auto e = endpoint == Endpoint::kChat ? parse_messages(j, r) : parse_prompt(j, r)) return *e;
  return r;
}

std::string finish_reason(const GenerationStats& stats) {
  return stats.stop_reason == "max_tokens" || stats.stop_reason == "context_full" ? "length" : "stop";
}

json usage_json(const Generation& g) {
  const int prompt = int(g.prompt_ids.size()), completion = int(g.generated_ids.size());
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

json models_list(const std::string& model, int64_t created) {
  return {{"object", "list"},
          {"data", json::array({{{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "jetchat"}}})}};
}

json chat_completion(const std::string& id, int64_t created, const std::string& model, const Generation& g) {
  json j = base("chat.completion", id, created, model);
  j["choices"] = json::array({{{"index", 0},
                               {"message", {{"role", "assistant"}, {"content", g.text}}},
                               {"logprobs", nullptr},
                               {"finish_reason", finish_reason(g.stats)}}});
  j["usage"] = usage_json(g);
  return j;
}

json text_completion(const std::string& id, int64_t created, const std::string& model, const Generation& g) {
  json j = base("text_completion", id, created, model);
  j["choices"] = json::array(
      {{{"index", 0}, {"text", g.text}, {"logprobs", nullptr}, {"finish_reason", finish_reason(g.stats)}}});
  j["usage"] = usage_json(g);
  return j;
}

json chat_chunk_role(const std::string& id, int64_t created, const std::string& model) {
  json j = base("chat.completion.chunk", id, created, model);
  j["choices"] = json::array({{{"index", 0},
                               {"delta", {{"role", "assistant"}, {"content", ""}}},
                               {"logprobs", nullptr},
                               {"finish_reason", nullptr}}});
  return j;
}

json chat_chunk_content(const std::string& id, int64_t created, const std::string& model, std::string_view text) {
  json j = base("chat.completion.chunk", id, created, model);
  j["choices"] = json::array(
      {{{"index", 0}, {"delta", {{"content", text}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}});
  return j;
}

json chat_chunk_finish(const std::string& id, int64_t created, const std::string& model, const std::string& reason) {
  json j = base("chat.completion.chunk", id, created, model);
  j["choices"] = json::array(
      {{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", reason}}});
  return j;
}

json completion_chunk(const std::string& id, int64_t created, const std::string& model, std::string_view text,
                      const std::string& reason) {
  json j = base("text_completion", id, created, model);
  j["choices"] = json::array(
      {{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", reason_or_null(reason)}}});
  return j;
}

json usage_chunk(Endpoint endpoint, const std::string& id, int64_t created, const std::string& model,
                 const Generation& g) {
  json j = base(endpoint == Endpoint::kChat ? "chat.completion.chunk" : "text_completion", id, created, model);
  j["choices"] = json::array();
  j["usage"] = usage_json(g);
  return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse_event(const json& j) { return "data: " + dump(j) + "\n\n"; }
std::string sse_done() { return "data: [DONE]\n\n"; }

}  // namespace jetchat::server
