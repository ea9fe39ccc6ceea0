// StreamDecoder: token-by-token text that is always whole UTF-8 and adds up to the decoded sequence.
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <cstdio>
#include <random>

#include "support/fixtures.h"
#include "tokenizer.h"

namespace jetchat {
namespace {

using Ids = std::vector<int32_t>;

const std::string kReplacement = "\xef\xbf\xbd";

std::unique_ptr<Tokenizer> open_model(const std::string& relative) {
  auto t = Tokenizer::from_sentencepiece_file(test::fixture(relative));
  EXPECT_TRUE(t) << t.status().message();
  return t ? std::move(t.value()) : nullptr;
}

// Strict UTF-8 (RFC 3629), written independently of the decoder's own check.
bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = uint8_t(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) n = 1, cp = c;
    else if ((c & 0xe0) == 0xc0) n = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) n = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) n = 4, cp = c & 0x07;
    else return false;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((uint8_t(s[i + k]) & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (uint8_t(s[i + k]) & 0x3f);
    }
    const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

// Pushes ids one at a time; every piece must be valid UTF-8 on its own.
std::vector<std::string> stream(const Tokenizer& tok, const Ids& ids, bool flush = true) {
  StreamDecoder dec(tok);
  std::vector<std::string> pieces;
  for (int32_t id : ids) {
    pieces.push_back(dec.push(id));
    EXPECT_TRUE(valid_utf8(pieces.back())) << "after id " << id;
  }
  if (flush) pieces.push_back(dec.flush());
  return pieces;
}

std::string join(const std::vector<std::string>& pieces) {
  std::string s;
  for (const auto& p : pieces) s += p;
  return s;
}

int32_t byte_id(const Tokenizer& tok, uint8_t b) {
  char name[8];
  std::snprintf(name, sizeof name, "<0x%02X>", b);
  const auto id = tok.find(name);
  EXPECT_TRUE(id) << name;
  return id.value_or(0);
}

TEST(StreamDecoder, TokenByTokenEqualsTheOriginalText) {
  const std::vector<std::string> texts = {
      "Hello world! Once upon a time",
      "中文",
      "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
      "emoji 👩‍💻 and flags 🇯🇵🇫🇷, a llama 🦙!",
      "  two leading spaces, trailing three   ",
      "\ttab\tand\nnew\n\nlines\r\n",
      " ",
  };
  for (const char* model : {"llama2c-tokenizer/tokenizer.model", "internlm-tokenizers/tokenizer_internlm2.model"}) {
    auto tok = open_model(model);
    ASSERT_TRUE(tok);
    for (const std::string& text : texts) {
      for (bool bos : {false, true}) {
        const Ids ids = tok->encode(text, bos);
        const auto pieces = stream(*tok, ids);
        EXPECT_EQ(join(pieces), text) << model << " bos " << bos;
        EXPECT_EQ(pieces.back(), "") << "nothing held at the end of whole characters";
      }
    }
  }
}

TEST(StreamDecoder, KeepsEachWordsLeadingSpace) {
  auto tok = open_model("llama2c-tokenizer/tokenizer.model");
  ASSERT_TRUE(tok);
  // ▁Hello ▁world ! ▁Once: the first piece loses the dummy prefix's space, no later one does.
  EXPECT_EQ(stream(*tok, {1, 15043, 3186, 29991, 9038}, false),
            (std::vector<std::string>{"", "Hello", " world", "!", " Once"}));
  // A lone "▁" first piece is the dummy prefix; the word after it keeps its own space (" hi" -> ▁ ▁hi).
  EXPECT_EQ(stream(*tok, tok->encode(" hi", true), false), (std::vector<std::string>{"", "", " hi"}));
  // Decoding per token with SentencePiece would give "Hello" "world": the pitfall this class exists for.
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(test::fixture("llama2c-tokenizer/tokenizer.model")).ok());
  EXPECT_EQ(sp.DecodeIds(std::vector<int>{3186}), "world");

  // InternLM2 adds no dummy prefix: a leading space at the start is the text's own.
  auto internlm2 = open_model("internlm-tokenizers/tokenizer_internlm2.model");
  ASSERT_TRUE(internlm2);
  EXPECT_EQ(stream(*internlm2, {1, 15720}, false), (std::vector<std::string>{"", " hi"}));
}

TEST(StreamDecoder, HoldsASplitCharacterUntilComplete) {
  auto tok = open_model("llama2c-tokenizer/tokenizer.model");
  ASSERT_TRUE(tok);
  // 🦙 is U+1F999 = F0 9F A6 99, which Llama 2 only has as byte-fallback pieces.
  const Ids llama_emoji = {byte_id(*tok, 0xF0), byte_id(*tok, 0x9F), byte_id(*tok, 0xA6), byte_id(*tok, 0x99)};
  Ids ids = tok->encode("Hi", true);
  ids.push_back(*tok->find("\xe2\x96\x81"));  // "▁": the space before the emoji
  ids.insert(ids.end(), llama_emoji.begin(), llama_emoji.end());
  EXPECT_EQ(tok->encode("Hi 🦙", true), ids) << "the fixture's encoding changed";
  EXPECT_EQ(stream(*tok, ids, false), (std::vector<std::string>{"", "Hi", " ", "", "", "", "🦙"}));

  // 中 = E4 B8 AD, pushed as bytes right after a word.
  StreamDecoder dec(*tok);
  EXPECT_EQ(dec.push(15043), "Hello");
  EXPECT_EQ(dec.push(byte_id(*tok, 0xE4)), "");
  EXPECT_EQ(dec.push(byte_id(*tok, 0xB8)), "");
  EXPECT_EQ(dec.push(byte_id(*tok, 0xAD)), "中");
  EXPECT_EQ(dec.flush(), "");
}

TEST(StreamDecoder, InvalidBytesBecomeReplacementCharacters) {
  auto tok = open_model("llama2c-tokenizer/tokenizer.model");
  ASSERT_TRUE(tok);
  StreamDecoder dec(*tok);
  // A byte that can never start a character is replaced at once.
  EXPECT_EQ(dec.push(byte_id(*tok, 0xFF)), kReplacement);
  // An incomplete character is held, then broken by an ASCII piece: each held byte becomes U+FFFD.
  EXPECT_EQ(dec.push(byte_id(*tok, 0xE4)), "");
  EXPECT_EQ(dec.push(byte_id(*tok, 0xB8)), "");
  EXPECT_EQ(dec.push(29991), kReplacement + kReplacement + "!");
  // At the end, flush gives up on what is held.
  EXPECT_EQ(dec.push(byte_id(*tok, 0xF0)), "");
  EXPECT_EQ(dec.flush(), kReplacement);
  EXPECT_EQ(dec.flush(), "");

  // The same sequence decoded whole gives what SentencePiece gives.
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(test::fixture("llama2c-tokenizer/tokenizer.model")).ok());
  const Ids ids = {byte_id(*tok, 0xFF), byte_id(*tok, 0xE4), byte_id(*tok, 0xB8), 29991, byte_id(*tok, 0xF0)};
  EXPECT_EQ(tok->decode(ids), sp.DecodeIds(std::vector<int>(ids.begin(), ids.end())));
  EXPECT_EQ(join(stream(*tok, ids)), tok->decode(ids));
}

TEST(StreamDecoder, ControlTokensAreSilentAndResetStartsOver) {
  auto tok = open_model("llama2c-tokenizer/tokenizer.model");
  ASSERT_TRUE(tok);
  StreamDecoder dec(*tok);
  EXPECT_EQ(dec.push(1), "");
  EXPECT_EQ(dec.push(15043), "Hello");
  EXPECT_EQ(dec.push(2), "");
  EXPECT_EQ(dec.push(15043), " Hello");
  EXPECT_EQ(dec.push(byte_id(*tok, 0xE4)), "");
  dec.reset();
  EXPECT_EQ(dec.flush(), "") << "reset drops held bytes";
  EXPECT_EQ(dec.push(15043), "Hello") << "after reset the next piece is first again";
}

TEST(StreamDecoder, RandomIdsAlwaysGiveValidUtf8AddingUpToDecode) {
  auto tok = open_model("llama2c-tokenizer/tokenizer.model");
  ASSERT_TRUE(tok);
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> len(1, 12), byte(3, 258), any(0, 31999), coin(0, 1);
  for (int n = 0; n < 2000; ++n) {
    Ids ids(size_t(len(rng)));
    for (int32_t& id : ids) id = coin(rng) ? byte(rng) : any(rng);
    EXPECT_EQ(join(stream(*tok, ids)), tok->decode(ids)) << ::testing::PrintToString(ids);
  }
}

}  // namespace
}  // namespace jetchat
