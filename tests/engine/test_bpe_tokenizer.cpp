// Byte-level BPE: the pre-tokenizer regexes against hand-written splits, merges applied by rank, round trips,
// tokenizer.json and GGUF of one vocabulary giving the same ids, added tokens matched whole, streaming decode, and
// errors. The vocabularies are built here: hand-written merges, or merges learned from botchan.txt.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "bpe_trainer.h"
#include "byte_level_bpe.h"
#include "chat_template.h"
#include "gguf.h"
#include "gguf_convert.h"
#include "random_checkpoint.h"
#include "support/fixtures.h"
#include "support/gguf_builder.h"
#include "tokenizer.h"
#include "tokenizer_json.h"

namespace jetchat {
namespace {

using Ids = std::vector<int32_t>;
using Pieces = std::vector<std::string>;

Pieces split(std::string_view pattern, std::string_view text) {
  auto s = RegexSplitter::compile(std::string(pattern), "test");
  EXPECT_TRUE(s) << s.status().message();
  Pieces out;
  if (s)
    for (auto p : (*s)->split(text)) out.emplace_back(p);
  return out;
}

TEST(PreTokenizer, Llama3Splits) {
  const auto p = llama3_pretokenizer_pattern();
  EXPECT_EQ(split(p, "I'm don't WE'LL 've"), (Pieces{"I", "'m", " don", "'t", " WE", "'LL", " '", "ve"}));
  EXPECT_EQ(split(p, "a 1234567 b"), (Pieces{"a", " ", "123", "456", "7", " b"})) << "digits in runs of 1-3";
  EXPECT_EQ(split(p, "x   y\n\n  z"), (Pieces{"x", "  ", " y", "\n\n", " ", " z"})) << "whitespace runs";
  EXPECT_EQ(split(p, "你好世界 ok"), (Pieces{"你好世界", " ok"}));
  EXPECT_EQ(split(p, "hi 👋🏽!!"), (Pieces{"hi", " 👋🏽!!"}));
  EXPECT_EQ(split(p, "end.\n\nNext"), (Pieces{"end", ".\n\n", "Next"}));
  EXPECT_EQ(split(p, "  int x = 42;\r\n\tif(x){return;}"),
            (Pieces{" ", " int", " x", " =", " ", "42", ";\r\n", "\tif", "(x", "){", "return", ";}"}));
  EXPECT_EQ(split(p, "Ünïcödé naïve café"), (Pieces{"Ünïcödé", " naïve", " café"}));
  EXPECT_EQ(split(p, "tab\tsep  \n"), (Pieces{"tab", "\tsep", "  \n"}));
}

TEST(PreTokenizer, Qwen2Splits) {
  const auto p = qwen2_pretokenizer_pattern();
  EXPECT_EQ(split(p, "I'm don't WE'LL 've"), (Pieces{"I", "'m", " don", "'t", " WE", "'LL", " '", "ve"}));
  EXPECT_EQ(split(p, "a 1234567 b"), (Pieces{"a", " ", "1", "2", "3", "4", "5", "6", "7", " b"})) << "single digits";
  EXPECT_EQ(split(p, "x   y\n\n  z"), (Pieces{"x", "  ", " y", "\n\n", " ", " z"}));
  EXPECT_EQ(split(p, "你好世界 ok"), (Pieces{"你好世界", " ok"}));
  EXPECT_EQ(split(p, "hi 👋🏽!!"), (Pieces{"hi", " 👋🏽!!"}));
  EXPECT_EQ(split(p, "x = 42;"), (Pieces{"x", " =", " ", "4", "2", ";"}));
}

TEST(PreTokenizer, Gpt2Splits) {
  const auto p = gpt2_pretokenizer_pattern();
  EXPECT_EQ(split(p, "I'm WE'LL"), (Pieces{"I", "'m", " WE", "'", "LL"})) << "case-sensitive contractions";
  EXPECT_EQ(split(p, "a 1234567 b"), (Pieces{"a", " 1234567", " b"}));
  EXPECT_EQ(split(p, "end.\n\nNext"), (Pieces{"end", ".", "\n", "\n", "Next"}));
}

TEST(PreTokenizer, InvalidUtf8BytesAreKeptBetweenMatches) {
  const std::string text = "ab\xff\xfe cd\xe4\xbd";  // stray bytes, and a character cut short at the end
  const Pieces pieces = split(llama3_pretokenizer_pattern(), text);
  std::string joined;
  for (const auto& s : pieces) joined += s;
  EXPECT_EQ(joined, text);
  EXPECT_EQ(pieces.front(), "ab");
  EXPECT_NE(std::find(pieces.begin(), pieces.end(), " cd"), pieces.end());
}

TEST(PreTokenizer, BadRegexIsAnError) {
  auto s = RegexSplitter::compile("(unclosed", "x/tokenizer.json");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidFormat);
  EXPECT_NE(s.status().message().find("x/tokenizer.json: the pre-tokenizer regex does not compile"), std::string::npos)
      << s.status().message();
}

TEST(ByteTable, Gpt2Mapping) {
  EXPECT_EQ(byte_to_piece_char(' '), "Ġ");   // U+0120
  EXPECT_EQ(byte_to_piece_char('\n'), "Ċ");  // U+010A
  EXPECT_EQ(byte_to_piece_char('A'), "A");
  EXPECT_EQ(byte_to_piece_char(0xe4), "ä");
  EXPECT_EQ(byte_to_piece_char(0xad), "Ń");  // the soft hyphen is the last byte moved: U+0143
  EXPECT_EQ(bytes_to_piece(" hello\n"), "ĠhelloĊ");
  for (int b = 0; b < 256; ++b) EXPECT_EQ(piece_to_bytes(byte_to_piece_char(uint8_t(b))), std::string(1, char(b)));
  EXPECT_FALSE(piece_to_bytes("你"));
}

// 256 byte tokens (id = byte), then the merges given, each adding its result unless already there.
BpeVocabulary hand_vocab(const std::vector<std::pair<std::string, std::string>>& merges) {
  BpeVocabulary v;
  v.pattern = llama3_pretokenizer_pattern();
  for (int b = 0; b < 256; ++b) v.pieces.push_back(byte_to_piece_char(uint8_t(b)));
  for (const auto& [a, b] : merges) {
    v.merges.emplace_back(a, b);
    if (std::find(v.pieces.begin(), v.pieces.end(), a + b) == v.pieces.end()) v.pieces.push_back(a + b);
  }
  return v;
}

std::unique_ptr<Tokenizer> make(const BpeVocabulary& v) {
  auto t = Tokenizer::from_bpe(v, "test vocab");
  EXPECT_TRUE(t) << t.status().message();
  return t ? std::move(t.value()) : nullptr;
}

TEST(ByteLevelBpe, MergesApplyByRankNotLeftToRight) {
  // "abc": left to right would merge "a b" first and stop at [ab, c]; by rank "b c" (0) comes first, then "a bc".
  auto tok = make(hand_vocab({{"b", "c"}, {"a", "b"}, {"a", "bc"}}));
  ASSERT_TRUE(tok);
  const int32_t bc = 256, ab = 257, abc = 258;
  EXPECT_EQ(tok->encode("abc", false), (Ids{abc}));
  EXPECT_EQ(tok->encode("abd", false), (Ids{ab, 'd'}));
  EXPECT_EQ(tok->encode("xbc", false), (Ids{'x', bc}));
  EXPECT_EQ(tok->piece(abc), "abc");
  // Equal ranks: the leftmost pair first.
  auto aa = make(hand_vocab({{"a", "a"}}));
  ASSERT_TRUE(aa);
  EXPECT_EQ(aa->encode("aaa", false), (Ids{256, 'a'}));
  EXPECT_EQ(aa->encode("aaaa", false), (Ids{256, 256}));
}

TEST(ByteLevelBpe, IgnoreMergesTakesWholeWords) {
  BpeVocabulary v = hand_vocab({{"a", "b"}});
  v.pieces.push_back("abd");  // reachable by no merge
  auto plain = make(v);
  v.ignore_merges = true;
  auto ignoring = make(v);
  ASSERT_TRUE(plain && ignoring);
  EXPECT_EQ(plain->encode("abd", false), (Ids{256, 'd'}));
  EXPECT_EQ(ignoring->encode("abd", false), (Ids{257}));
  EXPECT_EQ(ignoring->encode("abdab", false), (Ids{256, 'd', 256})) << "only whole pre-tokenizer words";
}

TEST(ByteLevelBpe, SpacesAndNonAsciiAreBytes) {
  auto tok = make(hand_vocab({{"Ġ", "h"}, {"Ġh", "i"}, {"ä", "½"}}));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode(" hi", false), (Ids{257}));
  // 你 is E4 BD A0: the first two bytes merge, the third stays a byte token.
  EXPECT_EQ(tok->encode("你", false), (Ids{258, 0xa0}));
  EXPECT_EQ(tok->token_bytes(258, true), "\xe4\xbd");
  EXPECT_EQ(tok->decode({258, 0xa0}), "你");
}

const std::string& botchan() {
  static const std::string text = test::read_file(test::fixture("sentencepiece-testdata/botchan.txt")).substr(0, 60000);
  return text;
}

// Merges learned from botchan.txt, plus Qwen-style added tokens after them.
BpeVocabulary trained_vocab(std::string_view pattern) {
  auto v = train_byte_level_bpe(botchan(), std::string(pattern), 300);
  EXPECT_TRUE(v) << v.status().message();
  if (!v) return {};
  const auto n = int32_t(v->pieces.size());
  v->added = {{"<|endoftext|>", n, true}, {"<|im_start|>", n + 1, true}, {"<|im_end|>", n + 2, true},
              {"<tool_call>", n + 3, false}};
  v->eos_id = n + 2;
  return *v;
}

const std::vector<std::string>& round_trip_texts() {
  static const std::vector<std::string> texts = {
      "",
      "Hello world! It's a nice day, isn't it?",
      "The boy said, \"I'll have 12345 apples and 3.14159 pies.\"",
      "中文测试：你好，世界！日本語のテキストも。",
      "int main() {\n    return printf(\"%d\\n\", 42);\n}\n",
      "emoji 👋🏽🎉 and flags 🇯🇵, ZWJ 👩‍👩‍👧",
      "   leading spaces, trailing   \n\n\n\t\ttabs  \r\n",
      std::string(300, ' ') + "x" + std::string(50, '\n'),
      botchan().substr(1000, 2000),
  };
  return texts;
}

TEST(ByteLevelBpe, RoundTrips) {
  for (auto pattern : {llama3_pretokenizer_pattern(), qwen2_pretokenizer_pattern()}) {
    auto tok = make(trained_vocab(pattern));
    ASSERT_TRUE(tok);
    for (const std::string& s : round_trip_texts()) {
      const Ids ids = tok->encode(s, false);
      EXPECT_EQ(tok->decode(ids), s);
      if (s.size() == 2000) {
        EXPECT_LT(ids.size(), s.size() / 2) << "botchan's own merges apply to botchan";
      }
    }
  }
}

TEST(ByteLevelBpe, InvalidUtf8RoundTripsAsBytes) {
  auto tok = make(trained_vocab(llama3_pretokenizer_pattern()));
  ASSERT_TRUE(tok);
  const std::string s = "ok \xff\xfe bytes \xe4\xbd and a cut \xf0\x9f\x91";
  const Ids ids = tok->encode(s, false);
  std::string bytes;
  for (int32_t id : ids) bytes += tok->token_bytes(id, false);
  EXPECT_EQ(bytes, s) << "every byte is kept";
  // Shown as text, each invalid byte becomes U+FFFD (as StreamDecoder does for SentencePiece).
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(tok->decode(ids), "ok " + r + r + " bytes " + r + r + " and a cut " + r + r + r);
}

TEST(ByteLevelBpe, RandomBytesKeepEveryByte) {
  auto tok = make(trained_vocab(qwen2_pretokenizer_pattern()));
  ASSERT_TRUE(tok);
  std::mt19937 rng(7);
  for (int n = 0; n < 300; ++n) {
    std::string s(size_t(rng() % 64), '\0');
    // Mostly ASCII letters, spaces and digits, with stray high bytes that rarely form valid UTF-8.
    for (char& c : s) c = rng() % 4 ? " aZ9\n'"[rng() % 7] : char(0x80 + rng() % 128);
    std::string bytes;
    for (int32_t id : tok->encode(s, false)) bytes += tok->token_bytes(id, false);
    ASSERT_EQ(bytes, s) << "case " << n;
  }
}

TEST(ByteLevelBpe, StreamingEmitsWholeCharacters) {
  auto tok = make(hand_vocab({{"ä", "½"}}));  // 你 = [E4 BD] [A0]: the character spans two tokens
  ASSERT_TRUE(tok);
  StreamDecoder dec(*tok);
  EXPECT_EQ(dec.push(256), "");
  EXPECT_EQ(dec.push(0xa0), "你");
  EXPECT_EQ(dec.push(' '), " ");
  EXPECT_EQ(dec.push(0xf0), "");
  EXPECT_EQ(dec.flush(), "\xef\xbf\xbd");
  auto trained = make(trained_vocab(qwen2_pretokenizer_pattern()));
  ASSERT_TRUE(trained);
  for (const std::string& s : round_trip_texts()) {
    StreamDecoder d(*trained);
    std::string text;
    for (int32_t id : trained->encode(s, false)) {
      const std::string piece = d.push(id);
      // Each piece is whole characters: it decodes to itself.
      EXPECT_EQ(trained->decode(trained->encode(piece, false)), piece);
      text += piece;
    }
    EXPECT_EQ(text + d.flush(), s);
  }
}

TEST(ByteLevelBpe, AddedTokensAreMatchedWhole) {
  const BpeVocabulary v = trained_vocab(qwen2_pretokenizer_pattern());
  auto tok = make(v);
  ASSERT_TRUE(tok);
  const int32_t start = v.added[1].id, end = v.added[2].id, tool = v.added[3].id;
  const Ids user = tok->encode("user\nhi", false);
  Ids expected = {start};
  expected.insert(expected.end(), user.begin(), user.end());
  expected.push_back(end);
  EXPECT_EQ(tok->encode("<|im_start|>user\nhi<|im_end|>", false, true), expected);
  // Without parse_special the markers are text; a partial marker is always text.
  const Ids as_text = tok->encode("<|im_start|>user", false);
  EXPECT_EQ(std::count(as_text.begin(), as_text.end(), start), 0);
  EXPECT_EQ(tok->decode(as_text), "<|im_start|>user");
  const Ids partial = tok->encode("<|im_start", false, true);
  EXPECT_EQ(std::count(partial.begin(), partial.end(), start), 0);
  // A non-special added token is matched either way and shown when decoded; special ones are not shown.
  EXPECT_EQ(tok->encode("<tool_call>", false), (Ids{tool}));
  EXPECT_EQ(tok->decode({start, tool, end}), "<tool_call>");
  EXPECT_TRUE(tok->is_special(start));
  EXPECT_FALSE(tok->is_special(tool));
  EXPECT_EQ(tok->find("<|im_end|>"), end);
  const auto the = std::find(v.pieces.begin(), v.pieces.end(), "Ġthe");
  ASSERT_NE(the, v.pieces.end()) << "botchan's merges make ' the' a token";
  EXPECT_EQ(tok->find("Ġthe"), int32_t(the - v.pieces.begin()));
  EXPECT_EQ(tok->find("the cat"), std::nullopt);
  EXPECT_EQ(tok->eos_id(), end);
  EXPECT_EQ(tok->bos_id(), -1);
  EXPECT_EQ(tok->encode("hi", true), tok->encode("hi", false)) << "no BOS in this vocabulary";
  EXPECT_EQ(tok->vocab_size(), int(v.pieces.size()) + 4);
}

// The same vocabulary as GGUF metadata (tokenizer.ggml.model gpt2).
test::GgufBuilder gguf_of(const BpeVocabulary& v, std::string_view pre) {
  std::vector<std::string> tokens = v.pieces;
  std::vector<int32_t> types(tokens.size(), 1);
  for (const AddedToken& a : v.added) {
    if (tokens.size() <= size_t(a.id)) tokens.resize(size_t(a.id) + 1), types.resize(size_t(a.id) + 1, 1);
    tokens[size_t(a.id)] = a.text;
    types[size_t(a.id)] = a.special ? 3 : 4;
  }
  std::vector<std::string> merges;
  for (const auto& [a, b] : v.merges) merges.push_back(a + " " + b);
  test::GgufBuilder g;
  g.kv_string("tokenizer.ggml.model", "gpt2").kv_string("tokenizer.ggml.pre", pre);
  g.kv_strings("tokenizer.ggml.tokens", tokens).kv_i32s("tokenizer.ggml.token_type", types);
  g.kv_strings("tokenizer.ggml.merges", merges);
  if (v.bos_id >= 0) g.kv_u32("tokenizer.ggml.bos_token_id", uint32_t(v.bos_id));
  if (v.eos_id >= 0) g.kv_u32("tokenizer.ggml.eos_token_id", uint32_t(v.eos_id));
  if (v.eot_id >= 0) g.kv_u32("tokenizer.ggml.eot_token_id", uint32_t(v.eot_id));
  g.kv_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  return g;
}

Result<std::unique_ptr<Tokenizer>> from_gguf_bytes(const test::Bytes& bytes) {
  auto f = GgufFile::parse("test.gguf", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!f) return f.status();
  return Tokenizer::from_gguf(**f);
}

// A model directory holding only tokenizer.json (and optionally tokenizer_config.json).
std::string json_dir(const std::string& name, const nlohmann::ordered_json& tokenizer, const std::string& config = "") {
  const std::string dir = test::scratch_dir(name);
  test::write_file(dir + "/tokenizer.json", tokenizer.dump());
  if (!config.empty()) test::write_file(dir + "/tokenizer_config.json", config);
  return dir;
}

TEST(ByteLevelBpe, TokenizerJsonAndGgufGiveTheSameIds) {
  struct Case {
    std::string_view pattern, pre;
  };
  for (const Case c : {Case{llama3_pretokenizer_pattern(), "llama-bpe"}, Case{qwen2_pretokenizer_pattern(), "qwen2"}}) {
    BpeVocabulary v = trained_vocab(c.pattern);
    v.ignore_merges = c.pre == "llama-bpe";  // what llama.cpp assumes for this regex
    v.bos_id = v.added[0].id;
    v.add_bos = true;
    v.eot_id = v.added[2].id;
    auto from_json = Tokenizer::load(json_dir("bpe_json", tokenizer_json(v)));
    ASSERT_TRUE(from_json) << from_json.status().message();
    // Merges written as "a b" strings, as older tokenizer.json files have them.
    nlohmann::ordered_json old_style = tokenizer_json(v);
    for (auto& m : old_style["model"]["merges"]) m = m[0].get<std::string>() + " " + m[1].get<std::string>();
    auto from_old_json = Tokenizer::load(json_dir("bpe_json_old", old_style));
    ASSERT_TRUE(from_old_json) << from_old_json.status().message();
    const test::Bytes bytes = gguf_of(v, c.pre).bytes();
    auto from_gguf = from_gguf_bytes(bytes);
    ASSERT_TRUE(from_gguf) << from_gguf.status().message();

    const Tokenizer& j = **from_json;
    const Tokenizer& o = **from_old_json;
    const Tokenizer& g = **from_gguf;
    EXPECT_TRUE(j.byte_level() && g.byte_level());
    EXPECT_EQ(j.vocab_size(), g.vocab_size());
    EXPECT_EQ(j.bos_id(), v.added[0].id);
    EXPECT_EQ(g.bos_id(), v.added[0].id);
    EXPECT_EQ(g.eos_id(), v.added[2].id);
    EXPECT_EQ(g.eot_id(), v.added[2].id);
    std::vector<std::string> texts = round_trip_texts();
    texts.push_back("<|im_start|>user\n12345 apples<|im_end|>\n<tool_call>");
    for (const std::string& s : texts) {
      const Ids ids = j.encode(s, true, true);
      EXPECT_EQ(ids.front(), v.bos_id);
      EXPECT_EQ(g.encode(s, true, true), ids) << c.pre << ": " << s;
      EXPECT_EQ(o.encode(s, true, true), ids) << c.pre << ": " << s;
      EXPECT_EQ(g.decode(ids), j.decode(ids));
    }
    for (int32_t id = 0; id < j.vocab_size(); ++id) EXPECT_EQ(g.piece(id), j.piece(id)) << id;
  }
}

// tokenizer.json normalizers, read from the file. Texts whose normal forms differ, with the ids and bytes they
// must give: é as e + U+0301 (NFC: C3 A9), the Hangul syllable 한 as three conjoining jamo U+1112 U+1161 U+11AB
// (NFC: ED 95 9C), the ligature ﬁ (NFKC: "fi"). One merge, "Ã" + "©" (the pieces of bytes C3 and A9), makes
// the composed é a single id: 256.
TEST(ByteLevelBpe, NormalizersFromTokenizerJsonApplyBeforeBpe) {
  BpeVocabulary v = hand_vocab({{"Ã", "©"}});
  auto load = [&](const nlohmann::ordered_json& normalizer) {
    auto j = tokenizer_json(v);
    j["normalizer"] = normalizer;
    auto t = Tokenizer::load(json_dir("bpe_normalizer", j));
    EXPECT_TRUE(t) << t.status().message();
    return t ? std::move(t.value()) : nullptr;
  };
  const std::string decomposed = "cafe\xcc\x81", composed = "caf\xc3\xa9";
  const std::string jamo = "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", syllable = "\xed\x95\x9c";
  const Ids composed_ids = {'c', 'a', 'f', 256}, decomposed_ids = {'c', 'a', 'f', 'e', 0xcc, 0x81};

  auto none = load(nullptr), nfc = load({{"type", "NFC"}}), nfd = load({{"type", "NFD"}});
  ASSERT_TRUE(none && nfc && nfd);
  EXPECT_EQ(none->encode(decomposed, false), decomposed_ids) << "no normalizer: the bytes as given";
  EXPECT_EQ(nfc->encode(decomposed, false), composed_ids);
  EXPECT_EQ(nfc->encode(composed, false), composed_ids);
  EXPECT_EQ(nfc->decode(nfc->encode(decomposed, false)), composed);
  EXPECT_EQ(nfc->encode(jamo, false), (Ids{0xed, 0x95, 0x9c}));
  EXPECT_EQ(nfc->decode(nfc->encode(jamo, false)), syllable);
  EXPECT_EQ(none->encode(jamo, false).size(), 9u);
  EXPECT_EQ(nfd->encode(composed, false), decomposed_ids);
  EXPECT_EQ(nfd->decode(nfd->encode(syllable, false)), jamo);
  // Invalid UTF-8 stays as bytes; the valid text on either side is still normalized.
  EXPECT_EQ(nfc->encode("e\xcc\x81\xff" + decomposed, false), (Ids{256, 0xff, 'c', 'a', 'f', 256}));
  // Added tokens are matched on the text as given, the text between them normalized.
  v.added = {{"<|im_start|>", 257, true}};
  auto with_added = load({{"type", "NFC"}});
  ASSERT_TRUE(with_added);
  EXPECT_EQ(with_added->encode("<|im_start|>" + decomposed, false, true), (Ids{257, 'c', 'a', 'f', 256}));

  // A Sequence applies its parts in order: NFKD then NFC turns the ligature into "fi" and composes é.
  auto seq = load({{"type", "Sequence"}, {"normalizers", {{{"type", "NFKD"}}, {{"type", "NFC"}}}}});
  ASSERT_TRUE(seq);
  EXPECT_EQ(seq->decode(seq->encode("\xef\xac\x81" + decomposed, false)), "fi" + composed);
  EXPECT_EQ(nfc->decode(nfc->encode("\xef\xac\x81", false)), "\xef\xac\x81") << "NFC keeps compatibility characters";

  // What tokenizer_json writes for normalizers reads back as the same ones.
  v.normalizers = {UnicodeForm::kNFKD, UnicodeForm::kNFC};
  auto written = Tokenizer::load(json_dir("bpe_normalizer_written", tokenizer_json(v)));
  ASSERT_TRUE(written) << written.status().message();
  EXPECT_EQ((*written)->decode((*written)->encode("\xef\xac\x81" + decomposed, false)), "fi" + composed);
}

TEST(ByteLevelBpe, UnsupportedNormalizersAreRefusedByName) {
  auto j = tokenizer_json(hand_vocab({}));
  for (const auto& [normalizer, name] :
       std::vector<std::pair<nlohmann::ordered_json, std::string>>{
           {{{"type", "Lowercase"}}, "Lowercase"},
           {{{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}, {{"type", "Replace"}}}}}, "Replace"},
           {{{"type", "BertNormalizer"}, {"lowercase", true}}, "BertNormalizer"}}) {
    j["normalizer"] = normalizer;
    auto t = Tokenizer::load(json_dir("bpe_normalizer_bad", j));
    ASSERT_FALSE(t) << name;
    EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(t.status().message().find("tokenizer.json: normalizer '" + name + "' is not supported"),
              std::string::npos)
        << t.status().message();
  }
}

TEST(ByteLevelBpe, TokenizerConfigNamesBosAndEos) {
  BpeVocabulary v = trained_vocab(llama3_pretokenizer_pattern());
  auto t = Tokenizer::load(json_dir("bpe_config", tokenizer_json(v),
                                    R"({"bos_token": "<|endoftext|>", "eos_token": {"content": "<|im_end|>"},
                                        "add_bos_token": true})"));
  ASSERT_TRUE(t) << t.status().message();
  EXPECT_EQ((*t)->bos_id(), v.added[0].id);
  EXPECT_EQ((*t)->eos_id(), v.added[2].id);
  EXPECT_EQ((*t)->encode("a", true), (Ids{v.added[0].id, 'a'}));
}

TEST(ByteLevelBpe, TokenizerJsonErrors) {
  const BpeVocabulary v = hand_vocab({{"a", "b"}});
  auto load = [](const nlohmann::ordered_json& j) { return Tokenizer::load(json_dir("bpe_errors", j)); };
  auto expect = [&](const nlohmann::ordered_json& j, StatusCode code, const std::string& needle) {
    auto t = load(j);
    ASSERT_FALSE(t) << needle;
    EXPECT_EQ(t.status().code(), code) << t.status().message();
    EXPECT_NE(t.status().message().find("tokenizer.json: "), std::string::npos) << t.status().message();
    EXPECT_NE(t.status().message().find(needle), std::string::npos) << t.status().message();
  };
  auto j = tokenizer_json(v);
  ASSERT_TRUE(load(j)) << load(j).status().message();
  j["model"]["type"] = "WordPiece";
  expect(j, StatusCode::kUnsupported, "model type 'WordPiece'");
  j = tokenizer_json(v);
  j["model"]["byte_fallback"] = true;
  expect(j, StatusCode::kUnsupported, "byte_fallback");
  j = tokenizer_json(v);
  j["normalizer"] = {{"type", "Lowercase"}};
  expect(j, StatusCode::kUnsupported, "normalizer 'Lowercase'");
  j = tokenizer_json(v);
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  expect(j, StatusCode::kUnsupported, "pre_tokenizer");
  j = tokenizer_json(v);
  j["model"]["merges"].push_back({"x", "zz"});
  expect(j, StatusCode::kInvalidFormat, "merge 1 'x zz': 'zz' is not in the vocabulary");
  j = tokenizer_json(v);
  j["model"]["merges"].push_back("a b c");
  expect(j, StatusCode::kInvalidFormat, "merge 1 is \"a b c\"");
  j = tokenizer_json(v);
  j["model"]["vocab"].erase("Ġ");
  expect(j, StatusCode::kInvalidFormat, "no token for byte 0x20 ('Ġ')");
  j = tokenizer_json(v);
  j["model"]["vocab"]["你"] = 300;
  expect(j, StatusCode::kInvalidFormat, "token 300 '你' is not byte-level");
  j = tokenizer_json(v);
  j["model"]["vocab"]["zz"] = 3;
  expect(j, StatusCode::kInvalidFormat, "model.vocab gives id 3 twice");
  j = tokenizer_json(v);
  j["model"]["vocab"]["zz"] = -1;
  expect(j, StatusCode::kInvalidFormat, "the id of 'zz' in model.vocab");
  j = tokenizer_json(v);
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "[";
  expect(j, StatusCode::kInvalidFormat, "regex does not compile");
}

TEST(ByteLevelBpe, GgufErrors) {
  const BpeVocabulary v = hand_vocab({{"a", "b"}});
  auto expect = [&](const test::GgufBuilder& g, StatusCode code, const std::string& needle) {
    const test::Bytes bytes = g.bytes();
    auto t = from_gguf_bytes(bytes);
    ASSERT_FALSE(t) << needle;
    EXPECT_EQ(t.status().code(), code) << t.status().message();
    EXPECT_NE(t.status().message().find("test.gguf: " + needle), std::string::npos) << t.status().message();
  };
  ASSERT_TRUE(from_gguf_bytes(gguf_of(v, "gpt-2").bytes()));
  expect(gguf_of(v, "falcon"), StatusCode::kUnsupported, "tokenizer.ggml.pre is 'falcon'");
  test::GgufBuilder bad_merge;
  bad_merge.kv_string("tokenizer.ggml.model", "gpt2").kv_string("tokenizer.ggml.pre", "qwen2");
  bad_merge.kv_strings("tokenizer.ggml.tokens", v.pieces).kv_strings("tokenizer.ggml.merges", {"ab"});
  expect(bad_merge, StatusCode::kInvalidFormat, "merge 0 'ab' is not two tokens");
  test::GgufBuilder bad_eos = gguf_of(v, "qwen2");
  bad_eos.kv_u32("tokenizer.ggml.eot_token_id", 9999);
  expect(bad_eos, StatusCode::kInvalidFormat, "key 'tokenizer.ggml.eot_token_id' is 9999, outside");
  test::GgufBuilder bert;
  bert.kv_string("tokenizer.ggml.model", "bert");
  expect(bert, StatusCode::kUnsupported, "tokenizer.ggml.model is 'bert'");
}

// A random Qwen2.5 / Llama-3 shaped model converted to GGUF keeps its tokenizer and chat template: the same ids from
// tokenizer.json and from tokenizer.ggml.*, the same template recognised from tokenizer.chat_template.
TEST(ByteLevelBpe, ConvertedGgufKeepsTheTokenizer) {
  for (const char* shape : {"qwen2.5-tiny", "llama3-tiny"}) {
    const std::string dir = test::scratch_dir(std::string("bpe_convert_") + shape);
    auto spec = random_model_shape(shape);
    ASSERT_TRUE(spec);
    ASSERT_TRUE(write_random_checkpoint(*spec, dir).is_ok());
    const std::string path = dir + "/../" + shape + ".gguf";
    const Status converted = convert_to_gguf(dir, path, GgmlType::kF16);
    ASSERT_TRUE(converted.is_ok()) << converted.message();
    auto hf = Tokenizer::load(dir);
    ASSERT_TRUE(hf) << hf.status().message();
    auto file = GgufFile::open(path);
    ASSERT_TRUE(file) << file.status().message();
    auto gg = Tokenizer::from_gguf(**file);
    ASSERT_TRUE(gg) << gg.status().message();
    EXPECT_EQ((*gg)->bos_id(), (*hf)->bos_id());
    EXPECT_EQ((*gg)->eos_id(), (*hf)->eos_id());
    EXPECT_EQ((*gg)->adds_bos(), (*hf)->adds_bos());
    for (const std::string& s : round_trip_texts())
      EXPECT_EQ((*gg)->encode(s, true, true), (*hf)->encode(s, true, true)) << shape << ": " << s;
    const auto jinja = (*file)->get_string("tokenizer.chat_template");
    ASSERT_TRUE(jinja);
    const ChatTemplate t = ChatTemplate::detect(jinja.value(), spec->bpe_tokenizer == "qwen2" ? "qwen2" : "llama");
    const std::vector<Message> conv = {{Role::kSystem, t.default_system_prompt()}, {Role::kUser, "Hi 你好"}};
    EXPECT_EQ(t.render(**gg, conv, true), t.render(**hf, conv, true));
    EXPECT_EQ(t.stop_ids(**gg), t.stop_ids(**hf));
  }
}

}  // namespace
}  // namespace jetchat
