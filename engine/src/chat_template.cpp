#include "chat_template.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace jetchat {
namespace {

constexpr std::pair<ChatFormat, std::string_view> kNames[] = {
    {ChatFormat::kInternLM2, "internlm2"}, {ChatFormat::kInternLM, "internlm"}, {ChatFormat::kLlama2, "llama2"},
    {ChatFormat::kChatML, "chatml"},       {ChatFormat::kRaw, "raw"},
};

// InternLM2's chat markers by their fixed ids: older tokenizer.model files name them [UNUSED_TOKEN_n].
constexpr int kInternLM2VocabSize = 92544;
constexpr std::pair<std::string_view, int32_t> kInternLM2Markers[] = {
    {"<|im_start|>", 92543},   {"<|im_end|>", 92542},      {"<|action_start|>", 92541},
    {"<|action_end|>", 92540}, {"<|interpreter|>", 92539}, {"<|plugin|>", 92538},
};

constexpr std::string_view kInternLM2System =
    "You are an AI assistant whose name is InternLM (书生·浦语).\n"
    "- InternLM (书生·浦语) is a conversational language model that is developed by Shanghai AI Laboratory "
    "(上海人工智能实验室). It is designed to be helpful, honest, and harmless.\n"
    "- InternLM (书生·浦语) can understand and communicate fluently in the language chosen by the user such as "
    "English and 中文.";

std::optional<int32_t> marker_id(const Tokenizer& tok, ChatFormat f, std::string_view marker) {
  if (auto id = tok.find(marker)) return id;
  if (f == ChatFormat::kInternLM2 && tok.vocab_size() == kInternLM2VocabSize)
    for (const auto& [text, id] : kInternLM2Markers)
      if (text == marker) return id;
  return std::nullopt;
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kSystem: return "system";
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
  }
  return "user";
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

void append(std::vector<int32_t>& ids, const std::vector<int32_t>& more) {
  ids.insert(ids.end(), more.begin(), more.end());
}

// <|im_start|>{role}\n{content}<|im_end|>\n per message, markers as single ids; InternLM2 opens with BOS. The text
// between markers is encoded chunk by chunk, as HF tokenizes the rendered template, so it gets no dummy prefix.
std::vector<int32_t> render_chatml(const Tokenizer& tok, ChatFormat f, const std::vector<Message>& messages,
                                   bool add_generation_prompt) {
  std::vector<int32_t> ids;
  if (f == ChatFormat::kInternLM2 && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  const auto start = marker_id(tok, f, "<|im_start|>"), end = marker_id(tok, f, "<|im_end|>");
  auto text = [&](std::string_view s) { append(ids, ids.empty() ? tok.encode(s, false) : tok.encode_continuation(s)); };
  // A tokenizer without the marker (a plain SentencePiece model) gets its text: the best it can represent.
  auto marker = [&](const std::optional<int32_t>& id, std::string_view s) { id ? ids.push_back(*id) : text(s); };
  for (const Message& m : messages) {
    marker(start, "<|im_start|>");
    text(std::string(role_name(m.role)) + "\n" + m.content);
    marker(end, "<|im_end|>");
    text("\n");
  }
  if (add_generation_prompt) {
    marker(start, "<|im_start|>");
    text("assistant\n");
  }
  return ids;
}

// BOS <|System|>:{sys}\n<|User|>:{q}\n<|Bot|>:{a}<eoa>\n ... <|Bot|>: — the markers are ordinary text to this
// tokenizer (<eoa> is a SentencePiece piece of its own).
std::vector<int32_t> render_internlm(const Tokenizer& tok, const std::vector<Message>& messages,
                                     bool add_generation_prompt) {
  std::string text;
  for (const Message& m : messages) {
    switch (m.role) {
      case Role::kSystem: text += "<|System|>:" + m.content + "\n"; break;
      case Role::kUser: text += "<|User|>:" + m.content + "\n"; break;
      case Role::kAssistant: text += "<|Bot|>:" + m.content + "<eoa>\n"; break;
    }
  }
  if (add_generation_prompt) text += "<|Bot|>:";
  return tok.encode(text, true);
}

// Meta's reference (llama/generation.py): the system prompt goes inside the first user turn; each answered turn is
// BOS "[INST] {q} [/INST] {a} " EOS and the last question BOS "[INST] {q} [/INST]", every turn encoded on its own
// (so each gets the dummy prefix), contents stripped.
std::vector<int32_t> render_llama2(const Tokenizer& tok, const std::vector<Message>& messages) {
  std::vector<int32_t> ids;
  std::string system, question;
  bool first_question = true;
  for (const Message& m : messages) {
    if (m.role == Role::kSystem && first_question) {
      system = trim(m.content);
    } else if (m.role == Role::kAssistant) {
      append(ids, tok.encode((question.empty() ? "" : question + " ") + trim(m.content) + " ", true));
      if (tok.eos_id() >= 0) ids.push_back(tok.eos_id());
      question.clear();
    } else {  // a user message (or a later system one, which this format can only show as a question)
      if (!question.empty()) append(ids, tok.encode(question, true));  // two questions in a row
      std::string q = trim(m.content);
      if (first_question && !system.empty()) q = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + q;
      first_question = false;
      question = "[INST] " + q + " [/INST]";
    }
  }
  if (!question.empty()) append(ids, tok.encode(question, true));
  return ids;
}

}  // namespace

Result<ChatTemplate> ChatTemplate::from_name(std::string_view name) {
  for (const auto& [f, n] : kNames)
    if (n == name) return ChatTemplate(f);
  return Status(StatusCode::kInvalidArgument, "unknown chat template '" + std::string(name) +
                                                  "' (known: internlm2, internlm, llama2, chatml, raw)");
}

ChatTemplate ChatTemplate::detect(const std::string& hf_chat_template, const std::string& family) {
  const auto has = [&](std::string_view s) { return hf_chat_template.find(s) != std::string::npos; };
  if (has("<|im_start|>")) {
    const bool internlm2 = family == "internlm2" || has("[UNUSED_TOKEN") || has("InternLM") || has("internlm");
    return ChatTemplate(internlm2 ? ChatFormat::kInternLM2 : ChatFormat::kChatML);
  }
  if (has("[INST]")) return ChatTemplate(ChatFormat::kLlama2);
  if (has("<|User|>")) return ChatTemplate(ChatFormat::kInternLM);
  if (family == "internlm2") return ChatTemplate(ChatFormat::kInternLM2);
  if (family == "internlm") return ChatTemplate(ChatFormat::kInternLM);
  if (family == "qwen2") return ChatTemplate(ChatFormat::kChatML);
  if (family == "llama") return ChatTemplate(ChatFormat::kLlama2);
  return ChatTemplate(ChatFormat::kRaw);
}

std::string ChatTemplate::name() const {
  for (const auto& [f, n] : kNames)
    if (f == format_) return std::string(n);
  return "raw";
}

std::vector<int32_t> ChatTemplate::render(const Tokenizer& tok, const std::vector<Message>& messages,
                                          bool add_generation_prompt) const {
  switch (format_) {
    case ChatFormat::kInternLM2:
    case ChatFormat::kChatML: return render_chatml(tok, format_, messages, add_generation_prompt);
    case ChatFormat::kInternLM: return render_internlm(tok, messages, add_generation_prompt);
    case ChatFormat::kLlama2: return render_llama2(tok, messages);
    case ChatFormat::kRaw: break;
  }
  std::string text;
  for (const Message& m : messages) text += m.content;
  return tok.encode(text, true);
}

std::vector<int32_t> ChatTemplate::stop_ids(const Tokenizer& tok) const {
  std::vector<int32_t> ids;
  if (tok.eos_id() >= 0) ids.push_back(tok.eos_id());
  std::vector<std::string_view> markers;
  if (format_ == ChatFormat::kInternLM2) markers = {"<|im_end|>", "<|action_end|>"};
  if (format_ == ChatFormat::kChatML) markers = {"<|im_end|>"};
  if (format_ == ChatFormat::kInternLM) markers = {"<eoa>"};
  for (std::string_view m : markers)
    if (auto id = marker_id(tok, format_, m); id && std::find(ids.begin(), ids.end(), *id) == ids.end())
      ids.push_back(*id);
  return ids;
}

std::vector<std::string> ChatTemplate::stop_strings() const {
  if (format_ == ChatFormat::kInternLM) return {"<eoa>"};
  return {};
}

std::string ChatTemplate::default_system_prompt() const {
  if (format_ == ChatFormat::kInternLM2) return std::string(kInternLM2System);
  if (format_ == ChatFormat::kChatML) return "You are a helpful assistant.";
  return {};
}

}  // namespace jetchat
