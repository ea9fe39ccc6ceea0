#include "chat_template.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace jetchat {
namespace {

constexpr std::pair<ChatFormat, std::string_view> kNames[] = {
    {ChatFormat::kInternLM2, "internlm2"}, {ChatFormat::kInternLM, "internlm"}, {ChatFormat::kLlama2, "llama2"},
    {ChatFormat::kLlama3, "llama3"},       {ChatFormat::kChatML, "chatml"},     {ChatFormat::kRaw, "raw"},
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

// Builds the ids of a template of markers and text: markers as their single ids, the text between them encoded chunk
// by chunk, as HF tokenizes a rendered template (split at special tokens), so it gets no dummy prefix and text
// that looks like a marker stays text.
class MarkedText {
 public:
  MarkedText(const Tokenizer& tok, ChatFormat f) : tok_(tok), format_(f) {}
  void text(std::string_view s) { append(ids_, ids_.empty() ? tok_.encode(s, false) : tok_.encode_continuation(s)); }
  // A tokenizer without the marker (a plain SentencePiece model) gets its text: the best it can represent.
  void marker(std::string_view m) {
    if (const auto id = marker_id(tok_, format_, m))
      ids_.push_back(*id);
    else
      text(m);
  }
  void id(int32_t id) { ids_.push_back(id); }
  std::vector<int32_t> take() { return std::move(ids_); }

 private:
  const Tokenizer& tok_;
  ChatFormat format_;
  std::vector<int32_t> ids_;
};

// <|im_start|>{role}\n{content}<|im_end|>\n per message; InternLM2 opens with BOS.
std::vector<int32_t> render_chatml(const Tokenizer& tok, ChatFormat f, const std::vector<Message>& messages,
                                   bool add_generation_prompt) {
  MarkedText out(tok, f);
  if (f == ChatFormat::kInternLM2 && tok.bos_id() >= 0) out.id(tok.bos_id());
  for (const Message& m : messages) {
    out.marker("<|im_start|>");
    out.text(std::string(role_name(m.role)) + "\n" + m.content);
    out.marker("<|im_end|>");
    out.text("\n");
  }
  if (add_generation_prompt) {
    out.marker("<|im_start|>");
    out.text("assistant\n");
  }
  return out.take();
}

// Meta's Llama-3 format: <|begin_of_text|>, then per message
// <|start_header_id|>{role}<|end_header_id|>\n\n{content, stripped}<|eot_id|>, and the assistant's header to
// generate.
std::vector<int32_t> render_llama3(const Tokenizer& tok, const std::vector<Message>& messages,
                                   bool add_generation_prompt) {
  MarkedText out(tok, ChatFormat::kLlama3);
  out.marker("<|begin_of_text|>");
  auto header = [&](std::string_view role) {
    out.marker("<|start_header_id|>");
    out.text(role);
    out.marker("<|end_header_id|>");
  };
  for (const Message& m : messages) {
    header(role_name(m.role));
    out.text("\n\n" + trim(m.content));
    out.marker("<|eot_id|>");
  }
  if (add_generation_prompt) {
    header("assistant");
    out.text("\n\n");
  }
  return out.take();
}

// The system prompt a ChatML template inserts when the conversation has none: the first
// '<|im_start|>system\n...<|im_end|>' whose text is a literal (Qwen2 and Qwen2.5 templates), if any.
std::optional<std::string> chatml_default_system(std::string_view jinja) {
  constexpr std::string_view kOpen = "<|im_start|>system", kClose = "<|im_end|>";
  for (size_t at = jinja.find(kOpen); at != std::string_view::npos; at = jinja.find(kOpen, at + 1)) {
    size_t begin = at + kOpen.size();
    // The newline is an escape inside a Jinja string literal ("\\n"), or a real one in a template written out.
    if (jinja.compare(begin, 2, "\\n") == 0)
      begin += 2;
    else if (jinja.compare(begin, 1, "\n") == 0)
      begin += 1;
    else
      continue;
    const size_t end = jinja.find(kClose, begin);
    if (end == std::string_view::npos) return std::nullopt;
    const std::string_view text = jinja.substr(begin, end - begin);
    if (!text.empty() && text.find_first_of("{}'\"\\+") == std::string_view::npos) return std::string(text);
  }
  return std::nullopt;
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
                                                  "' (known: internlm2, internlm, llama2, llama3, chatml, raw)");
}

ChatTemplate::ChatTemplate(ChatFormat f) : format_(f) {
  if (f == ChatFormat::kInternLM2) default_system_ = kInternLM2System;
  if (f == ChatFormat::kChatML) default_system_ = "You are a helpful assistant.";
}

Result<ChatTemplate> ChatTemplate::recognise(const std::string& jinja) {
  const auto has = [&](std::string_view s) { return jinja.find(s) != std::string::npos; };
  if (has("<|start_header_id|>")) return ChatTemplate(ChatFormat::kLlama3);
  if (has("<|im_start|>")) {
    if (has("[UNUSED_TOKEN") || has("InternLM") || has("internlm")) return ChatTemplate(ChatFormat::kInternLM2);
    ChatTemplate t(ChatFormat::kChatML);
    if (auto system = chatml_default_system(jinja)) t.default_system_ = *system;
    return t;
  }
  if (has("[INST]")) return ChatTemplate(ChatFormat::kLlama2);
  if (has("<|User|>")) return ChatTemplate(ChatFormat::kInternLM);
  return Status(StatusCode::kUnsupported,
                "the model's chat template is none of JetChat's (InternLM2, InternLM, Llama-2, Llama-3, ChatML); "
                "choose one by name (internlm2, internlm, llama2, llama3, chatml, raw)");
}

ChatTemplate ChatTemplate::detect(const std::string& hf_chat_template, const std::string& family) {
  if (auto t = recognise(hf_chat_template)) {
    // A ChatML template without a recognisable name, in an InternLM2 model, is InternLM2's.
    if (t->format() == ChatFormat::kChatML && family == "internlm2") return ChatTemplate(ChatFormat::kInternLM2);
    return *t;
  }
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
    case ChatFormat::kLlama3: return render_llama3(tok, messages, add_generation_prompt);
    case ChatFormat::kRaw: break;
  }
  std::string text;
  for (const Message& m : messages) text += m.content;
  return tok.encode(text, true);
}

std::vector<int32_t> ChatTemplate::stop_ids(const Tokenizer& tok) const {
  std::vector<int32_t> ids;
  auto add = [&](int32_t id) {
    if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  add(tok.eos_id());
  add(tok.eot_id());
  std::vector<std::string_view> markers;
  if (format_ == ChatFormat::kInternLM2) markers = {"<|im_end|>", "<|action_end|>"};
  if (format_ == ChatFormat::kChatML) markers = {"<|im_end|>", "<|endoftext|>"};
  if (format_ == ChatFormat::kLlama3) markers = {"<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"};
  if (format_ == ChatFormat::kInternLM) markers = {"<eoa>"};
  for (std::string_view m : markers)
    if (auto id = marker_id(tok, format_, m)) add(*id);
  return ids;
}

std::vector<std::string> ChatTemplate::stop_strings() const {
  if (format_ == ChatFormat::kInternLM) return {"<eoa>"};
  return {};
}


}  // namespace jetchat
