// Chat templates: the ids of whole conversations, built independently from libsentencepiece and the published
// formats (InternLM2 / InternLM / Llama 2 / ChatML), byte-exact Llama-3 and Qwen2.5 renderings through byte-level
// BPE tokenizers, plus detection and stop tokens.
#include "chat_template.h"

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "jetchat/engine.h"
#include "random_checkpoint.h"
#include "random_tokenizer.h"
#include "support/fixtures.h"

namespace fs = std::filesystem;

namespace jetchat {
namespace {

using Ids = std::vector<int32_t>;

constexpr const char* kLlama = "llama2c-tokenizer/tokenizer.model";
constexpr const char* kInternLM2 = "internlm-tokenizers/tokenizer_internlm2.model";
constexpr const char* kInternLM = "internlm-tokenizers/tokenizer_internlm.model";

const char* kInternLM2Jinja =
    "{{ bos_token }}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const char* kLlama2Jinja =
    "{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}{% set content = "
    "'<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% endif %}{% if message['role'] == "
    "'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% endif %}{% endfor %}";

// A model directory in scratch space: a copy of the fixture tokenizer plus JSON files.
std::unique_ptr<Tokenizer> load_dir(const std::string& name, const char* model,
                                    const std::vector<std::pair<std::string, std::string>>& json_files = {}) {
  const std::string dir = test::scratch_dir(name);
  fs::copy_file(test::fixture(model), dir + "/tokenizer.model");
  for (const auto& [file, text] : json_files) test::write_file(dir + "/" + file, text);
  auto t = Tokenizer::load(dir);
  EXPECT_TRUE(t) << t.status().message();
  return t ? std::move(t.value()) : nullptr;
}

// The reference: libsentencepiece's own encoding of a literal piece of the template.
class Sp {
 public:
  explicit Sp(const char* model) { EXPECT_TRUE(sp_.Load(test::fixture(model)).ok()); }
  Ids operator()(const std::string& text) const {
    std::vector<int> ids;
    EXPECT_TRUE(sp_.Encode(text, &ids).ok());
    return Ids(ids.begin(), ids.end());
  }

 private:
  sentencepiece::SentencePieceProcessor sp_;
};

Ids cat(std::initializer_list<Ids> parts) {
  Ids all;
  for (const Ids& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

const std::vector<Message> kConversation = {
    {Role::kSystem, "You are a poet."},
    {Role::kUser, "Write about 中文 and 🦙."},
    {Role::kAssistant, "Llamas graze."},
    {Role::kUser, "More!"},
};

Ids internlm2_expected(const std::string& system) {
  const Sp sp(kInternLM2);
  return cat({{1, 92543}, sp("system\n" + system), {92542}, sp("\n"),                       //
              {92543}, sp("user\nWrite about 中文 and 🦙."), {92542}, sp("\n"),             //
              {92543}, sp("assistant\nLlamas graze."), {92542}, sp("\n"),                  //
              {92543}, sp("user\nMore!"), {92542}, sp("\n"),                                //
              {92543}, sp("assistant\n")});
}

TEST(ChatTemplate, InternLM2WithoutJsonUsesTheFixedMarkerIds) {
  // The fixture's tokenizer.model calls 92543 [UNUSED_TOKEN_146]; no JSON file renames it.
  auto tok = load_dir("chat_internlm2_bare", kInternLM2);
  ASSERT_TRUE(tok);
  ASSERT_EQ(tok->find("<|im_start|>"), std::nullopt);
  const ChatTemplate t(ChatFormat::kInternLM2);
  const Ids ids = t.render(*tok, kConversation, true);
  EXPECT_EQ(ids, internlm2_expected("You are a poet."));
  // HF's ids for the opening and the generation prompt: <s><|im_start|>system\n ... <|im_start|>assistant\n.
  ASSERT_GT(ids.size(), 8u);
  EXPECT_EQ(Ids(ids.begin(), ids.begin() + 4), (Ids{1, 92543, 9081, 364}));
  EXPECT_EQ(Ids(ids.end() - 4, ids.end()), (Ids{92543, 525, 11353, 364}));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 92543), 5);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 92542), 4);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 1);

  EXPECT_EQ(t.stop_ids(*tok), (Ids{2, 92542, 92540}));
  // Without the generation prompt the conversation ends after the last <|im_end|>\n.
  const Ids closed = t.render(*tok, kConversation, false);
  EXPECT_EQ(closed, Ids(ids.begin(), ids.end() - 4));
}

TEST(ChatTemplate, InternLM2WithJsonMarkersGivesTheSameIds) {
  const std::string config = std::string(R"({"added_tokens_decoder": {
      "92540": {"content": "<|action_end|>", "special": true},
      "92542": {"content": "<|im_end|>", "special": true},
      "92543": {"content": "<|im_start|>", "special": true}},
    "bos_token": "<s>", "eos_token": "</s>", "chat_template": )") +
                             nlohmann::json(kInternLM2Jinja).dump() + "}";
  auto tok = load_dir("chat_internlm2_json", kInternLM2, {{"tokenizer_config.json", config}});
  ASSERT_TRUE(tok);
  ASSERT_EQ(tok->find("<|im_start|>"), 92543);
  const ChatTemplate t = ChatTemplate::detect(kInternLM2Jinja, "internlm2");
  ASSERT_EQ(t.format(), ChatFormat::kInternLM2);
  const std::string system = t.default_system_prompt();
  std::vector<Message> conv = kConversation;
  conv[0].content = system;
  EXPECT_EQ(t.render(*tok, conv, true), internlm2_expected(system));
  EXPECT_EQ(t.stop_ids(*tok), (Ids{2, 92542, 92540}));
  // The markers are special: the rendered prompt decodes to its text alone.
  EXPECT_EQ(tok->decode(t.render(*tok, {{Role::kUser, "Hi"}}, true)), "user\nHi\nassistant\n");
}

TEST(ChatTemplate, Llama2MatchesMetasReferenceLayout) {
  auto tok = load_dir("chat_llama2", kLlama);
  ASSERT_TRUE(tok);
  const Sp sp(kLlama);
  const ChatTemplate t(ChatFormat::kLlama2);
  const Ids ids = t.render(*tok, kConversation, true);
  // Each turn is encoded on its own, so each starts with the dummy prefix: "▁[INST]" = 518 25580 29962.
  const Ids expected =
      cat({{1}, sp("[INST] <<SYS>>\nYou are a poet.\n<</SYS>>\n\nWrite about 中文 and 🦙. [/INST] Llamas graze. "),
           {2, 1}, sp("[INST] More! [/INST]")});
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(Ids(ids.begin(), ids.begin() + 4), (Ids{1, 518, 25580, 29962}));
  EXPECT_EQ(Ids(ids.end() - 4, ids.end()), (Ids{518, 29914, 25580, 29962}));  // "▁[/INST]"
  // Contents are stripped, as in Meta's reference; no system message means no <<SYS>> block.
  EXPECT_EQ(t.render(*tok, {{Role::kUser, "  Hi \n"}}, true), cat({{1}, sp("[INST] Hi [/INST]")}));
  EXPECT_EQ(t.stop_ids(*tok), (Ids{2}));
  EXPECT_EQ(t.default_system_prompt(), "");
  EXPECT_TRUE(t.stop_strings().empty());
}

TEST(ChatTemplate, ChatMLRendersTheTextWhenMarkersAreNotTokens) {
  auto tok = load_dir("chat_chatml_text", kLlama);
  ASSERT_TRUE(tok);
  const ChatTemplate t(ChatFormat::kChatML);
  const std::vector<Message> conv = {{Role::kSystem, t.default_system_prompt()}, {Role::kUser, "Hi there"}};
  const Ids ids = t.render(*tok, conv, true);
  EXPECT_NE(ids.front(), 1) << "ChatML has no BOS";
  EXPECT_EQ(tok->decode(ids),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(t.stop_ids(*tok), (Ids{2}));
}

TEST(ChatTemplate, ChatMLUsesDeclaredMarkerIds) {
  auto tok = load_dir("chat_chatml_ids", kLlama,
                      {{"added_tokens.json", R"({"<|im_start|>": 32000, "<|im_end|>": 32001})"},
                       {"special_tokens_map.json", R"({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
                                                       "eos_token": "<|im_end|>"})"}});
  ASSERT_TRUE(tok);
  const ChatTemplate t = ChatTemplate::detect(kInternLM2Jinja, "qwen2");
  ASSERT_EQ(t.format(), ChatFormat::kChatML);
  const Ids ids = t.render(*tok, {{Role::kUser, "Hi"}}, true);
  // Text after a marker gets no dummy prefix: "user", not "▁user" (HF's prepend_scheme "first").
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(tok->piece(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"<|im_start|>", "user", "<0x0A>", "Hi", "<|im_end|>", "<0x0A>",
                                              "<|im_start|>", "ass", "istant", "<0x0A>"}));
  EXPECT_EQ(tok->decode(ids), "user\nHi\nassistant\n");
  EXPECT_EQ(t.stop_ids(*tok), (Ids{32001}));  // eos is <|im_end|> here
}

TEST(ChatTemplate, InternLMv1) {
  auto tok = load_dir("chat_internlm", kInternLM);
  ASSERT_TRUE(tok);
  const Sp sp(kInternLM);
  const ChatTemplate t = ChatTemplate::detect("{{ bos_token }}<|User|>:{{ message['content'] }}<eoh>", "llama");
  ASSERT_EQ(t.format(), ChatFormat::kInternLM);
  const std::vector<Message> conv = {
      {Role::kUser, "Hi"}, {Role::kAssistant, "Hello!"}, {Role::kUser, "中文?"}};
  const std::string text = "<|User|>:Hi\n<|Bot|>:Hello!<eoa>\n<|User|>:中文?\n<|Bot|>:";
  const Ids ids = t.render(*tok, conv, true);
  EXPECT_EQ(ids, cat({{1}, sp(text)}));
  EXPECT_EQ(tok->decode(ids), text);
  const int32_t eoa = 103028;  // <eoa> is one SentencePiece piece in InternLM's vocabulary
  EXPECT_EQ(std::count(ids.begin(), ids.end(), eoa), 1);
  EXPECT_EQ(t.stop_ids(*tok), (Ids{2, eoa}));
  EXPECT_EQ(t.stop_strings(), (std::vector<std::string>{"<eoa>"}));
  EXPECT_EQ(t.default_system_prompt(), "");
}

TEST(ChatTemplate, RawConcatenatesContent) {
  auto tok = load_dir("chat_raw", kLlama);
  ASSERT_TRUE(tok);
  const ChatTemplate t(ChatFormat::kRaw);
  EXPECT_EQ(t.render(*tok, {{Role::kUser, "Once upon"}, {Role::kAssistant, " a time"}}, true),
            (Ids{1, 9038, 2501, 263, 931}));
  EXPECT_EQ(t.stop_ids(*tok), (Ids{2}));
}

TEST(ChatTemplate, DetectsFromJinjaThenFamily) {
  EXPECT_EQ(ChatTemplate::detect(kInternLM2Jinja, "internlm2").format(), ChatFormat::kInternLM2);
  EXPECT_EQ(ChatTemplate::detect(kInternLM2Jinja, "qwen2").format(), ChatFormat::kChatML);
  EXPECT_EQ(ChatTemplate::detect(kInternLM2Jinja, "llama").format(), ChatFormat::kChatML);
  EXPECT_EQ(ChatTemplate::detect("{{ '[UNUSED_TOKEN_146]' }}<|im_start|>", "llama").format(),
            ChatFormat::kInternLM2);
  EXPECT_EQ(ChatTemplate::detect(kLlama2Jinja, "llama").format(), ChatFormat::kLlama2);
  EXPECT_EQ(ChatTemplate::detect(kLlama2Jinja, "internlm2").format(), ChatFormat::kLlama2);
  EXPECT_EQ(ChatTemplate::detect("<|User|>:{{ q }}", "internlm2").format(), ChatFormat::kInternLM);
  EXPECT_EQ(ChatTemplate::detect("", "internlm2").format(), ChatFormat::kInternLM2);
  EXPECT_EQ(ChatTemplate::detect("", "internlm").format(), ChatFormat::kInternLM);
  EXPECT_EQ(ChatTemplate::detect("", "qwen2").format(), ChatFormat::kChatML);
  EXPECT_EQ(ChatTemplate::detect("", "llama").format(), ChatFormat::kLlama2);
  EXPECT_EQ(ChatTemplate::detect("", "mistery").format(), ChatFormat::kRaw);
  EXPECT_EQ(ChatTemplate::detect("{{ messages }}", "").format(), ChatFormat::kRaw);
}

TEST(ChatTemplate, NamesAndDefaults) {
  for (const char* name : {"internlm2", "internlm", "llama2", "llama3", "chatml", "raw"}) {
    auto t = ChatTemplate::from_name(name);
    ASSERT_TRUE(t) << name;
    EXPECT_EQ(t->name(), name);
  }
  auto bad = ChatTemplate::from_name("vicuna");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("vicuna"), std::string::npos);

  const std::string internlm2 = ChatTemplate(ChatFormat::kInternLM2).default_system_prompt();
  EXPECT_EQ(internlm2.rfind("You are an AI assistant whose name is InternLM (书生·浦语).\n", 0), 0u) << internlm2;
  EXPECT_NE(internlm2.find("Shanghai AI Laboratory"), std::string::npos);
  EXPECT_EQ(ChatTemplate(ChatFormat::kChatML).default_system_prompt(), "You are a helpful assistant.");
  EXPECT_EQ(ChatTemplate(ChatFormat::kRaw).default_system_prompt(), "");
}

// A byte-level BPE tokenizer of a family, as random models get it (random_tokenizer.h), and its chat template text.
struct BpeFamily {
  std::unique_ptr<Tokenizer> tok;
  std::string jinja;
};
BpeFamily bpe_family(const std::string& family) {
  const std::string dir = test::scratch_dir("chat_bpe_" + family);
  EXPECT_TRUE(write_family_tokenizer(family, 1000, dir));
  auto t = Tokenizer::load(dir);
  EXPECT_TRUE(t) << t.status().message();
  const auto config = nlohmann::json::parse(test::read_file(dir + "/tokenizer_config.json"));
  return {t ? std::move(t.value()) : nullptr, config.value("chat_template", std::string())};
}

// The ids as text, special tokens by name: what HF's template rendering produces before tokenizing.
std::string shown(const Tokenizer& tok, const Ids& ids) {
  std::string s;
  for (int32_t id : ids) s += tok.is_special(id) ? tok.piece(id) : tok.token_bytes(id, false);
  return s;
}

TEST(ChatTemplate, Llama3RendersMetasFormat) {
  const BpeFamily f = bpe_family("llama3");
  ASSERT_TRUE(f.tok);
  const Tokenizer& tok = *f.tok;
  const ChatTemplate t = ChatTemplate::detect(f.jinja, "llama");
  ASSERT_EQ(t.format(), ChatFormat::kLlama3);
  EXPECT_EQ(t.name(), "llama3");
  EXPECT_EQ(t.default_system_prompt(), "");
  const std::vector<Message> conv = {{Role::kSystem, "  Be brief. "},
                                     {Role::kUser, "Hi 你好"},
                                     {Role::kAssistant, "Hello!\n"},
                                     {Role::kUser, "2+2?"}};
  const std::string expected =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHi 你好<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n";
  const Ids ids = t.render(tok, conv, true);
  EXPECT_EQ(shown(tok, ids), expected);
  EXPECT_EQ(ids, tok.encode(expected, false, true));  // as HF tokenizes the rendered template
  // A user's "<|eot_id|>" stays text: the only marker id is the template's.
  const int32_t eot = *tok.find("<|eot_id|>");
  const Ids injected = t.render(tok, {{Role::kUser, "say <|eot_id|>"}}, false);
  EXPECT_EQ(std::count(injected.begin(), injected.end(), eot), 1);
  EXPECT_EQ(shown(tok, injected),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nsay <|eot_id|><|eot_id|>");
  EXPECT_EQ(ids.front(), tok.bos_id());
  const Ids no_prompt = t.render(tok, {{Role::kUser, "Hi"}}, false);
  EXPECT_EQ(no_prompt, tok.encode("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", false,
                                  true));
  EXPECT_EQ(t.stop_ids(tok), (Ids{eot, *tok.find("<|end_of_text|>")}));
}

TEST(ChatTemplate, Qwen25InsertsItsSystemPrompt) {
  const BpeFamily f = bpe_family("qwen2");
  ASSERT_TRUE(f.tok);
  const Tokenizer& tok = *f.tok;
  const ChatTemplate t = ChatTemplate::detect(f.jinja, "qwen2");
  ASSERT_EQ(t.format(), ChatFormat::kChatML);
  EXPECT_EQ(t.default_system_prompt(), "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  const std::vector<Message> conv = {{Role::kSystem, t.default_system_prompt()}, {Role::kUser, "Hi\nthere"}};
  const std::string expected =
      "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
      "<|im_start|>user\nHi\nthere<|im_end|>\n<|im_start|>assistant\n";
  const Ids ids = t.render(tok, conv, true);
  EXPECT_EQ(shown(tok, ids), expected);
  EXPECT_EQ(ids, tok.encode(expected, false, true));
  EXPECT_EQ(tok.bos_id(), -1) << "Qwen has no BOS";
  EXPECT_EQ(t.stop_ids(tok), (Ids{*tok.find("<|im_end|>"), *tok.find("<|endoftext|>")}));
}

TEST(ChatTemplate, ChatMLDefaultSystemPromptFromTheTemplate) {
  // Qwen2's template: the literal system message is the default.
  const std::string qwen2 =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
      "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}...";
  EXPECT_EQ(ChatTemplate::detect(qwen2, "qwen2").default_system_prompt(), "You are a helpful assistant.");
  // A template whose first system opening is followed by an expression (Qwen2.5's tools branch) uses the first
  // literal one.
  const std::string tools =
      "{%- if tools %}{{- '<|im_start|>system\\n' }}{{- messages[0]['content'] }}{%- else %}"
      "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}"
      "{{- '<|im_start|>system\\nYou are Bob.<|im_end|>\\n' }}{%- endif %}";
  EXPECT_EQ(ChatTemplate::detect(tools, "qwen2").default_system_prompt(), "You are Bob.");
  EXPECT_EQ(ChatTemplate::detect(kInternLM2Jinja, "qwen2").default_system_prompt(), "You are a helpful assistant.");
}

TEST(ChatTemplate, RecogniseNamesWhatItKnows) {
  EXPECT_EQ(ChatTemplate::recognise("{{ '<|start_header_id|>' + role }}")->format(), ChatFormat::kLlama3);
  EXPECT_EQ(ChatTemplate::recognise(kLlama2Jinja)->format(), ChatFormat::kLlama2);
  EXPECT_EQ(ChatTemplate::recognise(kInternLM2Jinja)->format(), ChatFormat::kChatML);
  auto unknown = ChatTemplate::recognise("{{ '<start_of_turn>' + role }}");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(unknown.status().message().find("InternLM2, InternLM, Llama-2, Llama-3, ChatML"), std::string::npos);
  EXPECT_EQ(ChatTemplate::detect("{{ '<start_of_turn>' }}", "qwen2").format(), ChatFormat::kChatML) << "family";
}

TEST(ChatTemplate, ModelInfoNotesAnUnrecognisedTemplate) {
  const std::string dir = test::scratch_dir("chat_note_model");
  auto spec = random_model_shape("llama3-tiny");
  ASSERT_TRUE(spec);
  ASSERT_TRUE(write_random_checkpoint(*spec, dir).is_ok());
  auto info = ModelInfo::probe(dir);
  ASSERT_TRUE(info) << info.status().message();
  EXPECT_EQ(info->chat_template, "llama3");
  EXPECT_EQ(info->chat_template_note, "");
  test::write_file(dir + "/tokenizer_config.json", R"({"chat_template": "{{ '<start_of_turn>' + role }}"})");
  info = ModelInfo::probe(dir);
  ASSERT_TRUE(info) << info.status().message();
  EXPECT_EQ(info->chat_template, "llama2");
  EXPECT_NE(info->chat_template_note.find("none of JetChat's"), std::string::npos) << info->chat_template_note;
  EXPECT_NE(info->chat_template_note.find("using llama2, the llama default"), std::string::npos)
      << info->chat_template_note;
}

}  // namespace
}  // namespace jetchat
