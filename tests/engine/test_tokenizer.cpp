// Tokenizer against references: llama.cpp's test vectors, the ids HF gives for Llama 2 and InternLM2, and
// libsentencepiece's own decoder.
#include "tokenizer.h"

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <sstream>

#include "gguf.h"
#include "support/fixtures.h"

namespace fs = std::filesystem;

namespace jetchat {
namespace {

using Ids = std::vector<int32_t>;

std::string llama_model() { return test::fixture("llama2c-tokenizer/tokenizer.model"); }
std::string internlm2_model() { return test::fixture("internlm-tokenizers/tokenizer_internlm2.model"); }

std::unique_ptr<Tokenizer> open_model(const std::string& path) {
  auto t = Tokenizer::from_sentencepiece_file(path);
  EXPECT_TRUE(t) << t.status().message();
  return t ? std::move(t.value()) : nullptr;
}

// A model directory in scratch space: tokenizer.model copied from the fixtures plus the given JSON files.
std::string model_dir(const std::string& name, const std::string& model,
                      const std::vector<std::pair<std::string, std::string>>& json_files = {}) {
  const std::string dir = test::scratch_dir(name);
  fs::copy_file(model, dir + "/tokenizer.model");
  for (const auto& [file, text] : json_files) test::write_file(dir + "/" + file, text);
  return dir;
}

Ids sp_encode(const std::string& model, const std::string& text) {
  sentencepiece::SentencePieceProcessor sp;
  EXPECT_TRUE(sp.Load(model).ok());
  std::vector<int> ids;
  EXPECT_TRUE(sp.Encode(text, &ids).ok());
  return Ids(ids.begin(), ids.end());
}

Ids parse_ids(const std::string& line) {
  Ids ids;
  std::istringstream ss(line);
  for (int32_t id; ss >> id;) ids.push_back(id);
  return ids;
}

// llama.cpp's vocabulary test vectors for Llama 2: (text, ids) pairs.
std::vector<std::pair<std::string, Ids>> llamacpp_vectors() {
  // Each string is followed by "\n__ggml_vocab_test__\n", so a string may be empty or consist of newlines.
  const std::string inp = test::read_file(test::fixture("llamacpp-vocab/ggml-vocab-llama-spm.gguf.inp"));
  const std::string out = test::read_file(test::fixture("llamacpp-vocab/ggml-vocab-llama-spm.gguf.out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t at = 0;
  for (size_t next; (next = inp.find(sep, at)) != std::string::npos; at = next + sep.size())
    texts.push_back(inp.substr(at, next - at));
  EXPECT_EQ(at, inp.size()) << "text after the last separator";
  std::vector<std::string> lines;
  std::istringstream ss(out);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  EXPECT_EQ(texts.size(), 46u);
  EXPECT_EQ(lines.size(), texts.size());
  if (texts.size() > 7) {
    EXPECT_EQ(texts[2], "");
    EXPECT_EQ(texts[7], "\n");
  }
  std::vector<std::pair<std::string, Ids>> vectors;
  for (size_t i = 0; i < texts.size() && i < lines.size(); ++i) vectors.emplace_back(texts[i], parse_ids(lines[i]));
  return vectors;
}

void expect_llamacpp_vectors(const Tokenizer& tok) {
  const auto vectors = llamacpp_vectors();
  ASSERT_EQ(vectors.size(), 46u);
  for (size_t i = 0; i < vectors.size(); ++i) {
    const auto& [text, ids] = vectors[i];
    EXPECT_EQ(tok.encode(text, false), ids) << "string " << i << ": '" << text << "'";
    // parse_special changes nothing when the text holds no special token.
    EXPECT_EQ(tok.encode(text, false, true), ids) << "string " << i;
  }
}

TEST(Tokenizer, LlamaCppVocabVectors) {
  auto tok = open_model(llama_model());
  ASSERT_TRUE(tok);
  expect_llamacpp_vectors(*tok);
}

// The same vectors through the vocabulary llama.cpp stores in its GGUF file, rebuilt as a SentencePiece model.
TEST(Tokenizer, LlamaCppVocabVectorsFromGguf) {
  auto gguf = GgufFile::open(test::fixture("llamacpp-vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(gguf) << gguf.status().message();
  auto tok = Tokenizer::from_gguf(**gguf);
  ASSERT_TRUE(tok) << tok.status().message();
  EXPECT_EQ((*tok)->vocab_size(), 32000);
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_EQ((*tok)->eos_id(), 2);
  expect_llamacpp_vectors(**tok);
  // Encoding and decoding agree with the original tokenizer.model, piece for piece.
  auto reference = open_model(llama_model());
  ASSERT_TRUE(reference);
  for (const auto& [text, ids] : llamacpp_vectors()) {
    EXPECT_EQ((*tok)->decode(ids), reference->decode(ids)) << text;
    for (int32_t id : ids) EXPECT_EQ((*tok)->piece(id), reference->piece(id));
  }
}

TEST(Tokenizer, HelloWorldGoldenIds) {
  const std::string text = "Hello world! Once upon a time";
  auto llama = open_model(llama_model());
  ASSERT_TRUE(llama);
  EXPECT_EQ(llama->encode(text, false), (Ids{15043, 3186, 29991, 9038, 2501, 263, 931}));
  EXPECT_EQ(llama->encode(text, true), (Ids{1, 15043, 3186, 29991, 9038, 2501, 263, 931}));
  EXPECT_EQ(llama->vocab_size(), 32000);
  EXPECT_EQ(llama->bos_id(), 1);
  EXPECT_EQ(llama->eos_id(), 2);

  auto internlm2 = open_model(internlm2_model());
  ASSERT_TRUE(internlm2);
  EXPECT_EQ(internlm2->encode(text, false), (Ids{9843, 2028, 346, 9781, 5351, 395, 1018}));
  EXPECT_EQ(internlm2->vocab_size(), 92544);
}

TEST(Tokenizer, RoundTripsMatchSentencePiece) {
  sentencepiece::SentencePieceProcessor sp;
  const std::vector<std::string> texts = {
      "Hello world! Once upon a time",
      "The quick brown fox jumps over the lazy dog.",
      "中文",
      "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
      "emoji 👩‍💻 and flags 🇯🇵🇫🇷, a llama 🦙!",
      " leading space",
      "   three leading spaces",
      "trailing spaces   ",
      "multiple   inner    spaces",
      "\ttabs\tand\t\ttabs",
      "\nnew\nlines\n\n",
      "mixed \t\n \r\n whitespace",
      " ",
      "\n",
  };
  for (const std::string& model : {llama_model(), internlm2_model()}) {
    ASSERT_TRUE(sp.Load(model).ok());
    auto tok = open_model(model);
    ASSERT_TRUE(tok);
    for (const std::string& text : texts) {
      const Ids ids = tok->encode(text, false);
      EXPECT_EQ(ids, sp_encode(model, text)) << model << ": '" << text << "'";
      const std::vector<int> sp_ids(ids.begin(), ids.end());
      // Both models keep whitespace as it is (identity normalisation, no removal of extra spaces).
      EXPECT_EQ(sp.DecodeIds(sp_ids), text) << model;
      EXPECT_EQ(tok->decode(ids), text) << model;
      Ids with_bos = tok->encode(text, true);
      EXPECT_EQ(with_bos.front(), 1);
      EXPECT_EQ(tok->decode(with_bos), text) << model;
    }
  }
}

TEST(Tokenizer, DecodeAgreesWithSentencePieceOnArbitraryIds) {
  // Random id sequences probe what round trips never reach: lone "▁" pieces at the start, control ids before the
  // first word, byte pieces that do not form UTF-8, <unk>.
  const std::string model = llama_model();
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(model).ok());
  auto tok = open_model(model);
  ASSERT_TRUE(tok);
  std::mt19937 rng(1234);
  const std::vector<int32_t> interesting = {0, 1, 2, 29871, 259, 13, 15043, 3186, 29991, 30658, 232, 189, 141, 243};
  std::uniform_int_distribution<int> len(1, 8), pick(0, int(interesting.size()) - 1), any(0, 31999),
      byte(3, 258), kind(0, 2);
  for (int n = 0; n < 3000; ++n) {
    Ids ids(size_t(len(rng)));
    for (int32_t& id : ids) {
      const int k = kind(rng);
      id = k == 0 ? interesting[size_t(pick(rng))] : k == 1 ? byte(rng) : any(rng);
    }
    EXPECT_EQ(tok->decode(ids), sp.DecodeIds(std::vector<int>(ids.begin(), ids.end())))
        << "ids " << ::testing::PrintToString(ids);
  }
}

TEST(Tokenizer, InvalidUtf8InputDoesNotCrash) {
  const std::string text = "ok \xff\xfe bytes \x80\xc3 then \xe4\xb8 end\xf0";
  for (const std::string& model : {llama_model(), internlm2_model()}) {
    sentencepiece::SentencePieceProcessor sp;
    ASSERT_TRUE(sp.Load(model).ok());
    auto tok = open_model(model);
    ASSERT_TRUE(tok);
    const Ids ids = tok->encode(text, true, true);
    ASSERT_GT(ids.size(), 5u);
    EXPECT_EQ(Ids(ids.begin() + 1, ids.end()), sp_encode(model, text));
    // Each invalid byte comes back as U+FFFD; the valid text around them is kept.
    const std::string back = tok->decode(ids);
    EXPECT_EQ(back, sp.DecodeIds(std::vector<int>(ids.begin(), ids.end())));
    EXPECT_NE(back.find("ok "), std::string::npos);
    EXPECT_NE(back.find("\xef\xbf\xbd"), std::string::npos);
    EXPECT_NE(back.find(" end"), std::string::npos);
  }
}

TEST(Tokenizer, PiecesAndTokenBytes) {
  auto tok = open_model(llama_model());
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->piece(15043), "\xe2\x96\x81Hello");
  EXPECT_EQ(tok->find("\xe2\x96\x81Hello"), 15043);
  EXPECT_EQ(tok->find("<0x0A>"), 13);
  EXPECT_EQ(tok->find("<unk>"), 0);
  EXPECT_EQ(tok->find("<s>"), 1);
  EXPECT_EQ(tok->find("no such piece"), std::nullopt);
  EXPECT_TRUE(tok->is_special(1));
  EXPECT_TRUE(tok->is_special(2));
  EXPECT_FALSE(tok->is_special(15043));
  EXPECT_EQ(tok->token_bytes(15043, true), "Hello");  // the dummy prefix's space
  EXPECT_EQ(tok->token_bytes(15043, false), " Hello");
  EXPECT_EQ(tok->token_bytes(13, false), "\n");
  EXPECT_EQ(tok->token_bytes(3 + 0xE4, false), "\xe4");
  EXPECT_EQ(tok->token_bytes(1, false), "");
  EXPECT_EQ(tok->piece(-1), "");
  EXPECT_EQ(tok->piece(32000), "");
  EXPECT_EQ(tok->token_bytes(32000, false), "");

  // InternLM2 adds no dummy prefix: a first piece's space is the text's own.
  auto internlm2 = open_model(internlm2_model());
  ASSERT_TRUE(internlm2);
  EXPECT_EQ(internlm2->encode(" hi", false), (Ids{15720}));
  EXPECT_EQ(internlm2->token_bytes(15720, true), " hi");
  EXPECT_EQ(internlm2->decode({1, 15720}), " hi");
}

TEST(Tokenizer, InternLM2AddedSpecialTokensFromJson) {
  const std::string config = R"({
    "added_tokens_decoder": {
      "92538": {"content": "<|plugin|>", "special": true},
      "92542": {"content": "<|im_end|>", "special": true},
      "92543": {"content": "<|im_start|>", "special": true}
    },
    "bos_token": "<s>",
    "eos_token": {"content": "</s>", "special": true},
    "chat_template": "{{ bos_token }}{% for message in messages %}<|im_start|>..."
  })";
  const std::string map = R"({"additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<|action_start|>"]})";
  const std::string dir = model_dir("tok_internlm2_json", internlm2_model(),
                                    {{"tokenizer_config.json", config}, {"special_tokens_map.json", map}});
  auto loaded = Tokenizer::load(dir);
  ASSERT_TRUE(loaded) << loaded.status().message();
  const Tokenizer& tok = **loaded;
  EXPECT_EQ(tok.vocab_size(), 92544);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.find("<|im_start|>"), 92543);
  EXPECT_EQ(tok.find("<|im_end|>"), 92542);
  EXPECT_EQ(tok.find("<|action_start|>"), std::nullopt);  // named as special but declared nowhere
  EXPECT_EQ(tok.piece(92543), "<|im_start|>");
  EXPECT_TRUE(tok.is_special(92543));
  EXPECT_EQ(tok.token_bytes(92543, false), "");

  const std::string text = "<|im_start|>user\nHello<|im_end|>\n";
  Ids expected = {1, 92543};
  for (int32_t id : sp_encode(internlm2_model(), "user\nHello")) expected.push_back(id);
  expected.push_back(92542);
  for (int32_t id : sp_encode(internlm2_model(), "\n")) expected.push_back(id);
  EXPECT_EQ(tok.encode(text, true, true), expected);
  EXPECT_EQ(tok.decode(expected), "user\nHello\n");
  // Without parse_special the markers are text, as a user could type them.
  const Ids plain = tok.encode(text, false, false);
  EXPECT_EQ(plain, sp_encode(internlm2_model(), text));
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 92543), 0);
}

TEST(Tokenizer, TextAfterAnAddedTokenGetsNoDummyPrefix) {
  // added_tokens.json gives content -> id; special_tokens_map.json makes them special; eos from an object.
  const std::string dir = model_dir(
      "tok_llama_added", llama_model(),
      {{"added_tokens.json", R"({"<|im_start|>": 32000, "<|im_end|>": 32001, "<pad>": 32002})"},
       {"special_tokens_map.json",
        R"({"additional_special_tokens": [{"content": "<|im_start|>"}, "<|im_end|>"], "eos_token": "<|im_end|>"})"}});
  auto loaded = Tokenizer::load(dir);
  ASSERT_TRUE(loaded) << loaded.status().message();
  const Tokenizer& tok = **loaded;
  EXPECT_EQ(tok.vocab_size(), 32003);
  EXPECT_EQ(tok.eos_id(), 32001);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_TRUE(tok.is_special(32000));
  EXPECT_FALSE(tok.is_special(32002));  // added, but not named special: ordinary text
  EXPECT_EQ(tok.token_bytes(32002, false), "<pad>");

  // Only the chunk at the very start of the text gets "▁": "Hello" after a marker is the bare piece 10994.
  EXPECT_EQ(tok.piece(10994), "Hello");
  EXPECT_EQ(tok.encode("<|im_start|>Hello", false, true), (Ids{32000, 10994}));
  EXPECT_EQ(tok.encode("Hello<|im_start|>Hello", false, true), (Ids{15043, 32000, 10994}));
  EXPECT_EQ(tok.encode("Hello<|im_start|> Hello<|im_end|>", true, true), (Ids{1, 15043, 32000, 15043, 32001}));
  EXPECT_EQ(tok.encode_continuation("Hello world"), (Ids{10994, 3186}));
  // The unnamed added token is split off even without parse_special; the special ones are not.
  EXPECT_EQ(tok.encode("a<pad>", false), (Ids{263, 32002}));
  EXPECT_EQ(tok.encode("<|im_start|>", false), sp_encode(llama_model(), "<|im_start|>"));
  EXPECT_EQ(tok.decode({1, 32000, 10994, 29871, 32002, 32001}), "Hello <pad>");
}

TEST(Tokenizer, MissingModelIsNotFound) {
  const std::string dir = test::scratch_dir("tok_missing");
  auto t = Tokenizer::load(dir);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find(dir + "/tokenizer.model"), std::string::npos) << t.status().message();

  // Without tokenizer.model, tokenizer.json is read (byte-level BPE: test_bpe_tokenizer.cpp).
  test::write_file(dir + "/tokenizer.json", "{}");
  t = Tokenizer::load(dir);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidFormat);
  EXPECT_EQ(t.status().message(),
            dir + "/tokenizer.json: no 'model' object (is this a Hugging Face tokenizer.json?)");

  auto f = Tokenizer::from_sentencepiece_file(dir + "/nothing.model");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
}

TEST(Tokenizer, CorruptModelIsInvalidFormat) {
  const std::string real = test::read_file(llama_model());
  std::mt19937 rng(7);
  std::string random(4096, '\0');
  for (char& c : random) c = char(rng());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"random", random},
      {"text", "this is not a SentencePiece model\n"},
      {"empty", ""},
      {"truncated", real.substr(0, real.size() / 3)},
  };
  for (const auto& [name, bytes] : cases) {
    const std::string dir = test::scratch_dir("tok_corrupt_" + name);
    test::write_file(dir + "/tokenizer.model", bytes);
    auto t = Tokenizer::load(dir);
    ASSERT_FALSE(t) << name;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidFormat) << name;
    EXPECT_NE(t.status().message().find(dir + "/tokenizer.model"), std::string::npos) << t.status().message();
  }
}

TEST(Tokenizer, CorruptJsonNamesTheFile) {
  const std::string dir = model_dir("tok_bad_json", llama_model(), {{"tokenizer_config.json", "{\"bos_token\": "}});
  auto t = Tokenizer::load(dir);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidFormat);
  EXPECT_NE(t.status().message().find("tokenizer_config.json"), std::string::npos) << t.status().message();

  const std::string dir2 = model_dir("tok_bad_added", llama_model(), {{"added_tokens.json", R"({"<x>": "7"})"}});
  t = Tokenizer::load(dir2);
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find("added_tokens.json"), std::string::npos) << t.status().message();
}

}  // namespace
}  // namespace jetchat
