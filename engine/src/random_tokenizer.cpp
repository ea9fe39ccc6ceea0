#include "random_tokenizer.h"

#include <algorithm>
#include <fstream>

#include "bpe_trainer.h"
#include "tokenizer_json.h"

namespace jetchat {
namespace {

// What the merges are learned from: some prose, chat-like lines, code and numbers.
constexpr std::string_view kTrainingText =
    "You are a helpful assistant. The user asks a question and the assistant answers it in a few words.\n"
    "Hello! How are you today? I'm fine, thanks. What's the weather like in the mountains this week?\n"
    "Once upon a time there was a little robot that lived on a small board with a fan and a green light.\n"
    "It read the text, turned it into tokens, and wrote the answer back one token at a time.\n"
    "int main() { for (int i = 0; i < 10; ++i) printf(\"%d\\n\", i); return 0; }\n"
    "def add(a, b):\n    return a + b\n\n"
    "The numbers 2024, 1000000 and 3.14159 are written with digits; 42 is the answer.\n"
    "你好，世界。今天天气很好。\n";

constexpr std::string_view kLlama3Template =
    "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + "
    "m['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
constexpr std::string_view kQwen25Template =
    "{% for m in messages %}{% if loop.first and m['role'] != 'system' %}{{ '<|im_start|>system\\nYou are Qwen, "
    "created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{ '<|im_start|>' + "
    "m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

}  // namespace

Result<FamilyTokenizerIds> write_family_tokenizer(const std::string& family, int max_vocab,
                                                  const std::string& out_dir) {
  std::vector<std::string> specials;
  std::string_view pattern, chat_template;
  if (family == "llama3") {
    specials = {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
    pattern = llama3_pretokenizer_pattern();
    chat_template = kLlama3Template;
  } else if (family == "qwen2") {
    specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    pattern = qwen2_pretokenizer_pattern();
    chat_template = kQwen25Template;
  } else {
    return Status(StatusCode::kInvalidArgument, "no byte-level BPE tokenizer for family '" + family +
                                                    "' (qwen2, llama3)");
  }
  const int merges = std::min(1000, max_vocab - 256 - int(specials.size()));
  if (merges < 0)
    return Status(StatusCode::kInvalidArgument, "a byte-level BPE tokenizer needs a vocabulary of at least " +
                                                    std::to_string(256 + specials.size()) + " tokens, not " +
                                                    std::to_string(max_vocab));
  auto vocab = train_byte_level_bpe(kTrainingText, std::string(pattern), merges);
  if (!vocab) return vocab.status();
  auto id_of = [&](std::string_view name) {
    return int32_t(vocab->pieces.size() + size_t(std::find(specials.begin(), specials.end(), name) - specials.begin()));
  };
  for (const std::string& s : specials) vocab->added.push_back({s, id_of(s), true});
  vocab->ignore_merges = family == "llama3";
  if (family == "qwen2") vocab->normalizers = {UnicodeForm::kNFC};  // as Qwen2's own tokenizer.json
  FamilyTokenizerIds ids;
  ids.vocab_size = int(vocab->pieces.size() + specials.size());
  nlohmann::ordered_json config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                                   {"chat_template", chat_template}};
  if (family == "llama3") {
    vocab->bos_id = ids.bos = id_of("<|begin_of_text|>");
    vocab->add_bos = true;
    ids.eos = {id_of("<|end_of_text|>"), id_of("<|eot_id|>")};
    config["bos_token"] = "<|begin_of_text|>";
    config["eos_token"] = "<|eot_id|>";
  } else {
    ids.eos = {id_of("<|im_end|>"), id_of("<|endoftext|>")};
    config["bos_token"] = nullptr;
    config["eos_token"] = "<|im_end|>";
  }
  for (const auto& [file, text] : {std::pair{"/tokenizer.json", tokenizer_json(*vocab).dump(1)},
                                   std::pair{"/tokenizer_config.json", config.dump(2)}}) {
    std::ofstream out(out_dir + file);
    out << text << "\n";
    if (!out) return Status(StatusCode::kIoError, out_dir + file + ": cannot write");
  }
  return ids;
}

}  // namespace jetchat
