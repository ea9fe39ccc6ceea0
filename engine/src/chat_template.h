// Chat templates: how a conversation becomes token ids for each model family, and when a reply ends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jetchat/chat.h"
#include "jetchat/status.h"
#include "tokenizer.h"

namespace jetchat {

enum class ChatFormat { kInternLM2, kInternLM, kLlama2, kLlama3, kChatML, kRaw };

class ChatTemplate {
 public:
  explicit ChatTemplate(ChatFormat f);
  // "internlm2", "internlm", "llama2", "llama3", "chatml", "raw".
  static Result<ChatTemplate> from_name(std::string_view name);
  // One of our formats from a Jinja chat template (tokenizer_config.json's `chat_template`, GGUF's
  // tokenizer.chat_template) by its markers; kUnsupported naming the formats we know when it is none of them.
  // A ChatML template's own default system prompt (Qwen2.5's "You are Qwen, ...") is kept.
  static Result<ChatTemplate> recognise(const std::string& jinja);
  // recognise(), else from the model family ("llama", "internlm2", "internlm", "qwen2").
  static ChatTemplate detect(const std::string& hf_chat_template, const std::string& family);

  ChatFormat format() const { return format_; }
  std::string name() const;

  // Token ids of the whole conversation, special markers as single ids, ending with the assistant's opening
  // when add_generation_prompt. A system message, if any, comes first in `messages`.
  std::vector<int32_t> render(const Tokenizer& tok, const std::vector<Message>& messages,
                              bool add_generation_prompt) const;
  // Ids that end a reply (EOS, the tokenizer's end-of-turn id and the template's end-of-turn markers present in the
  // vocabulary).
  std::vector<int32_t> stop_ids(const Tokenizer& tok) const;
  // Text that ends a reply when the marker is not a single token (e.g. InternLM v1's "<eoa>").
  std::vector<std::string> stop_strings() const;
  // Used when the user sets none (as the models' own templates insert it).
  const std::string& default_system_prompt() const { return default_system_; }

 private:
  ChatFormat format_;
  std::string default_system_;
};

}  // namespace jetchat
