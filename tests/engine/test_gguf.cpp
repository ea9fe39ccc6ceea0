// The GGUF reader against hand-built files: every value type read back, and malformed files (truncated at every
// byte, impossible counts, unknown type ids, misaligned or overlapping tensors) refused with errors naming the key
// or tensor, never read out of bounds. Plus the two real fixtures.
#include "gguf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "support/fixtures.h"
#include "support/gguf_builder.h"
#include "tokenizer.h"

namespace jetchat {
namespace {

using test::Bytes;
using test::GgufBuilder;
using test::put;
using test::put_str;

Bytes f32_bytes(std::vector<float> v) { return Bytes(reinterpret_cast<const char*>(v.data()), v.size() * 4); }

Result<std::unique_ptr<GgufFile>> parse(const Bytes& b) {
  return GgufFile::parse("test.gguf", reinterpret_cast<const uint8_t*>(b.data()), b.size());
}

// Parsing fails with `code` and a message that names the file and contains `needle`.
void expect_error(const Bytes& b, StatusCode code, const std::string& needle) {
  auto f = parse(b);
  ASSERT_FALSE(f) << "parsed; expected an error containing '" << needle << "'";
  EXPECT_EQ(f.status().code(), code) << f.status().message();
  EXPECT_NE(f.status().message().find("test.gguf: "), std::string::npos) << f.status().message();
  EXPECT_NE(f.status().message().find(needle), std::string::npos) << f.status().message();
}

// A file using every metadata type and three tensor types.
GgufBuilder full_file() {
  GgufBuilder g;
  Bytes v;
  put<uint8_t>(v, 200);
  g.kv("u8", 0, v);
  v.clear(), put<int8_t>(v, -5), g.kv("i8", 1, v);
  v.clear(), put<uint16_t>(v, 60000), g.kv("u16", 2, v);
  v.clear(), put<int16_t>(v, -300), g.kv("i16", 3, v);
  g.kv_u32("u32", 4000000000u);
  v.clear(), put<int32_t>(v, -7), g.kv("i32", 5, v);
  v.clear(), put<float>(v, 1.5f), g.kv("f32", 6, v);
  v.clear(), put<uint8_t>(v, 1), g.kv("bool", 7, v);
  g.kv_string("general.architecture", "llama");
  v.clear(), put<uint64_t>(v, uint64_t(1) << 40), g.kv("u64", 10, v);
  v.clear(), put<int64_t>(v, -(int64_t(1) << 40)), g.kv("i64", 11, v);
  v.clear(), put<double>(v, 0.25), g.kv("f64", 12, v);
  g.kv_strings("strings", {"a", "", "\xe2\x96\x81" "b"});
  g.kv_floats("floats", {0.5f, -1.0f});
  g.kv_i32s("ints", {1, 3, 6});
  g.tensor("a.weight", {2, 3}, 0, f32_bytes({1, 2, 3, 4, 5, 6}));
  g.tensor("b.weight", {4}, 1, Bytes(8, '\x3c'));
  g.tensor("c.weight", {32, 2}, 8, Bytes(68, '\x01'));
  return g;
}

TEST(Gguf, ReadsEveryValueTypeAndTensor) {
  for (uint32_t version : {2u, 3u}) {
    GgufBuilder g = full_file();
    g.version = version;
    const Bytes b = g.bytes();
    auto f = parse(b);
    ASSERT_TRUE(f) << f.status().message();
    const GgufFile& gguf = **f;
    EXPECT_EQ(gguf.version(), version);
    EXPECT_EQ(gguf.alignment(), 32u);
    EXPECT_EQ(*gguf.get_uint("u8"), 200u);
    EXPECT_EQ(*gguf.get_int("i8"), -5);
    EXPECT_EQ(*gguf.get_uint("u16"), 60000u);
    EXPECT_EQ(*gguf.get_int("i16"), -300);
    EXPECT_EQ(*gguf.get_uint("u32"), 4000000000u);
    EXPECT_EQ(*gguf.get_int("i32"), -7);
    EXPECT_EQ(*gguf.get_float("f32"), 1.5);
    EXPECT_TRUE(*gguf.get_bool("bool"));
    EXPECT_EQ(*gguf.get_string("general.architecture"), "llama");
    EXPECT_EQ(*gguf.get_uint("u64"), uint64_t(1) << 40);
    EXPECT_EQ(*gguf.get_int("i64"), -(int64_t(1) << 40));
    EXPECT_EQ(*gguf.get_float("f64"), 0.25);
    EXPECT_EQ(*gguf.get_string_array("strings"), (std::vector<std::string_view>{"a", "", "\xe2\x96\x81" "b"}));
    EXPECT_EQ(*gguf.get_float_array("floats"), (std::vector<float>{0.5f, -1.0f}));
    EXPECT_EQ(*gguf.get_int_array("ints"), (std::vector<int64_t>{1, 3, 6}));

    ASSERT_EQ(gguf.tensors().size(), 3u);
    const GgufTensor* a = gguf.find_tensor("a.weight");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->type, GgmlType::kF32);
    EXPECT_EQ(a->dims, (std::vector<uint64_t>{2, 3}));
    EXPECT_EQ(a->nbytes, 24u);
    EXPECT_EQ(a->numel(), 6u);
    float x[6];
    std::memcpy(x, a->data, 24);
    EXPECT_EQ(x[5], 6.0f);
    // The data section holds a (24 bytes, padded to 32), b (8, padded to 32), then c (68), and ends the file.
    EXPECT_EQ(a->data, reinterpret_cast<const uint8_t*>(b.data()) + b.size() - 132);
    const GgufTensor* c = gguf.find_tensor("c.weight");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->type, GgmlType::kQ8_0);
    EXPECT_EQ(c->nbytes, 68u);
    EXPECT_EQ(c->offset, 64u);
    EXPECT_EQ(c->data + c->nbytes, reinterpret_cast<const uint8_t*>(b.data()) + b.size());
    EXPECT_EQ(gguf.find_tensor("missing"), nullptr);
  }
}

TEST(Gguf, GettersNameTheKeyOnErrors) {
  const Bytes b = full_file().bytes();
  auto f = parse(b);
  ASSERT_TRUE(f);
  const GgufFile& gguf = **f;
  auto missing = gguf.get_uint("llama.block_count");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "test.gguf: key 'llama.block_count' is missing");
  auto wrong = gguf.get_uint("general.architecture");
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidFormat);
  EXPECT_EQ(wrong.status().message(), "test.gguf: key 'general.architecture' is string, expected an unsigned integer");
  EXPECT_FALSE(gguf.get_uint("i32")) << "negative";
  EXPECT_FALSE(gguf.get_float("u32"));
  EXPECT_FALSE(gguf.get_string("strings"));
  EXPECT_EQ(gguf.get_float_array("ints").status().message(),
            "test.gguf: key 'ints' is array of i32, expected array of f32");
  EXPECT_FALSE(gguf.get_string_array("floats"));
  EXPECT_FALSE(gguf.get_int_array("strings"));
  EXPECT_FALSE(gguf.get_bool("u8"));
}

TEST(Gguf, CustomAlignment) {
  GgufBuilder g;
  g.alignment = 64;
  g.kv_u32("general.alignment", 64);
  g.tensor("x", {3}, 0, f32_bytes({1, 2, 3}));
  g.tensor("y", {1}, 0, f32_bytes({4}));
  const Bytes b = g.bytes();
  auto f = parse(b);
  ASSERT_TRUE(f) << f.status().message();
  EXPECT_EQ((*f)->alignment(), 64u);
  EXPECT_EQ((*f)->find_tensor("y")->offset, 64u);
  EXPECT_EQ((reinterpret_cast<uintptr_t>((*f)->find_tensor("x")->data) - reinterpret_cast<uintptr_t>(b.data())) % 64,
            0u);
}

TEST(Gguf, TruncatedAnywhereIsAnError) {
  const Bytes b = full_file().bytes();
  for (size_t n = 0; n < b.size(); ++n) {
    // A copy of exactly n bytes, so that a sanitizer catches any read past the end.
    std::vector<uint8_t> prefix(b.begin(), b.begin() + ptrdiff_t(n));
    auto f = GgufFile::parse("test.gguf", prefix.data(), prefix.size());
    EXPECT_FALSE(f) << "a file cut to " << n << " of " << b.size() << " bytes parsed";
    if (!f) {
      EXPECT_EQ(f.status().message().rfind("test.gguf: ", 0), 0u) << f.status().message();
    }
  }
}

TEST(Gguf, HeaderErrors) {
  expect_error("GGUX", StatusCode::kInvalidFormat, "magic");
  GgufBuilder g = full_file();
  g.version = 1;
  expect_error(g.bytes(), StatusCode::kUnsupported, "version 1");
  g.version = 0x03000000;  // a big-endian file
  expect_error(g.bytes(), StatusCode::kUnsupported, "version 50331648");
  g = full_file();
  g.n_kv_override = uint64_t(1) << 62;
  expect_error(g.bytes(), StatusCode::kInvalidFormat, "4611686018427387904 metadata entries");
  g = full_file();
  g.n_tensors_override = std::numeric_limits<uint64_t>::max();
  expect_error(g.bytes(), StatusCode::kInvalidFormat, "18446744073709551615 tensors");
  g = full_file();
  g.n_kv_override = g.n_kv + 1;  // the first tensor info is read as a metadata entry
  EXPECT_FALSE(parse(g.bytes()));
}

TEST(Gguf, MetadataErrors) {
  Bytes huge;
  put<uint64_t>(huge, std::numeric_limits<uint64_t>::max());
  expect_error(GgufBuilder().kv("s", 8, huge).bytes(), StatusCode::kInvalidFormat, "key 's': string value truncated");

  Bytes key = "GGUF";  // a key whose length runs past the end
  put<uint32_t>(key, 3), put<uint64_t>(key, 0), put<uint64_t>(key, 1), put<uint64_t>(key, 1000), key += Bytes(20, 'x');
  expect_error(key, StatusCode::kInvalidFormat, "metadata entry 0: key truncated");

  expect_error(GgufBuilder().kv("t", 13, "").bytes(), StatusCode::kInvalidFormat, "key 't': unknown value type id 13");

  Bytes arr;
  put<uint32_t>(arr, 99), put<uint64_t>(arr, 1);
  expect_error(GgufBuilder().kv("a", 9, arr).bytes(), StatusCode::kInvalidFormat,
               "key 'a': array of unknown type id 99");
  arr.clear(), put<uint32_t>(arr, 9), put<uint64_t>(arr, 1);
  expect_error(GgufBuilder().kv("a", 9, arr).bytes(), StatusCode::kInvalidFormat, "arrays of arrays");
  arr.clear(), put<uint32_t>(arr, 6), put<uint64_t>(arr, uint64_t(1) << 62);
  expect_error(GgufBuilder().kv("a", 9, arr).bytes(), StatusCode::kInvalidFormat, "key 'a': array of");
  arr.clear(), put<uint32_t>(arr, 8), put<uint64_t>(arr, std::numeric_limits<uint64_t>::max());
  expect_error(GgufBuilder().kv("a", 9, arr).bytes(), StatusCode::kInvalidFormat, "strings cannot fit");
  arr.clear(), put<uint32_t>(arr, 8), put<uint64_t>(arr, 2), put_str(arr, "x"), put<uint64_t>(arr, 1u << 30);
  expect_error(GgufBuilder().kv("a", 9, arr).bytes(), StatusCode::kInvalidFormat, "key 'a': string 1 of the array");

  expect_error(GgufBuilder().kv("b", 7, "\x02").bytes(), StatusCode::kInvalidFormat, "key 'b': bool value is 2");
  expect_error(GgufBuilder().kv_u32("k", 1).kv_u32("k", 2).bytes(), StatusCode::kInvalidFormat,
               "key 'k': appears twice");
  expect_error(GgufBuilder().kv_u32("", 1).bytes(), StatusCode::kInvalidFormat, "empty key");

  expect_error(GgufBuilder().kv_u32("general.alignment", 48).bytes(), StatusCode::kInvalidFormat,
               "'general.alignment' is 48, not a power of two");
  expect_error(GgufBuilder().kv_u32("general.alignment", 0).bytes(), StatusCode::kInvalidFormat, "power of two");
  expect_error(GgufBuilder().kv_string("general.alignment", "32").bytes(), StatusCode::kInvalidFormat,
               "'general.alignment' is string, expected u32");
}

TEST(Gguf, TensorErrors) {
  const Bytes four = f32_bytes({1, 2, 3, 4});
  expect_error(GgufBuilder().tensor("w", {4}, 4, four).bytes(), StatusCode::kUnsupported,
               "tensor 'w': unknown ggml type id 4");
  expect_error(GgufBuilder().tensor("w", {4}, 1000, four).bytes(), StatusCode::kUnsupported, "ggml type id 1000");
  expect_error(GgufBuilder().tensor("w", {}, 0, four).bytes(), StatusCode::kInvalidFormat, "tensor 'w': 0 dimensions");
  expect_error(GgufBuilder().tensor("w", {1, 1, 1, 1, 4}, 0, four).bytes(), StatusCode::kInvalidFormat,
               "5 dimensions");
  expect_error(GgufBuilder().tensor("w", {4, 0}, 0, four).bytes(), StatusCode::kInvalidFormat,
               "tensor 'w': dimension 1 is 0");
  expect_error(GgufBuilder().tensor("w", {uint64_t(1) << 32, uint64_t(1) << 32}, 0, four).bytes(),
               StatusCode::kInvalidFormat, "too many elements");
  expect_error(GgufBuilder().tensor("w", {16}, 8, Bytes(34, '\0')).bytes(), StatusCode::kInvalidFormat,
               "tensor 'w': innermost dimension 16 is not a multiple of the Q8_0 block size 32");
  expect_error(GgufBuilder().tensor("w", {4}, 0, four, 16).bytes(), StatusCode::kInvalidFormat,
               "tensor 'w': offset 16 is not a multiple of the alignment 32");
  // Dims that claim more data than the file holds: the tensor runs past the end.
  expect_error(GgufBuilder().tensor("w", {4, 1000}, 0, four).bytes(), StatusCode::kInvalidFormat,
               "tensor 'w': data [0, 16000) runs past the end");
  expect_error(GgufBuilder().tensor("w", {4}, 0, Bytes(), uint64_t(1) << 63).bytes(), StatusCode::kInvalidFormat,
               "tensor 'w': data [");
  expect_error(GgufBuilder().tensor("w", {4}, 0, four).tensor("v", {8}, 0, Bytes(32, '\0'), 0).bytes(),
               StatusCode::kInvalidFormat, "tensors 'w' and 'v' overlap");
  expect_error(GgufBuilder().tensor("w", {4}, 0, four).tensor("w", {4}, 0, four).bytes(), StatusCode::kInvalidFormat,
               "tensor 'w': appears twice");
  expect_error(GgufBuilder().tensor("", {4}, 0, four).bytes(), StatusCode::kInvalidFormat, "empty name");
  expect_error(GgufBuilder().tensor("bad\nname", {4}, 0, four, 16).bytes(), StatusCode::kInvalidFormat,
               "tensor 'bad?name'");
}

TEST(Gguf, OpensTheFixtures) {
  auto model = GgufFile::open(test::fixture("tiny-gguf/llama-2-tiny-random.gguf"));
  ASSERT_TRUE(model) << model.status().message();
  EXPECT_EQ(*(*model)->get_string("general.architecture"), "llama");
  EXPECT_TRUE((*model)->get_uint("llama.block_count"));
  const GgufTensor* embd = (*model)->find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  ASSERT_EQ(embd->dims.size(), 2u);
  EXPECT_EQ(embd->dims[1], 32000u) << "ggml order: [hidden, vocab]";

  auto vocab = GgufFile::open(test::fixture("llamacpp-vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(vocab) << vocab.status().message();
  EXPECT_TRUE((*vocab)->tensors().empty());
  EXPECT_EQ((*vocab)->get_string_array("tokenizer.ggml.tokens")->size(), 32000u);

  auto absent = GgufFile::open(test::scratch_dir("gguf_absent") + "/none.gguf");
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
}

// --- The tokenizer built from GGUF metadata; the 46 llama.cpp vectors are in test_tokenizer.cpp.
GgufBuilder vocab_file() {
  GgufBuilder g;
  g.kv_string("tokenizer.ggml.model", "llama");
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    tokens.push_back(name), scores.push_back(0), types.push_back(6);
  }
  for (const char* piece : {"\xe2\x96\x81", "a", "b", "\xe2\x96\x81" "a", "ab", "\xe2\x96\x81" "ab"}) {
    tokens.push_back(piece), scores.push_back(-float(tokens.size())), types.push_back(1);
  }
  g.kv_strings("tokenizer.ggml.tokens", tokens).kv_floats("tokenizer.ggml.scores", scores);
  g.kv_i32s("tokenizer.ggml.token_type", types);
  return g;
}

Result<std::unique_ptr<Tokenizer>> tokenizer_of(const GgufBuilder& g, Bytes& storage) {
  storage = g.bytes();
  auto f = parse(storage);
  if (!f) return f.status();
  return Tokenizer::from_gguf(**f);
}

TEST(GgufTokenizer, BuildsASentencePieceModel) {
  Bytes storage;
  auto tok = tokenizer_of(vocab_file(), storage);
  ASSERT_TRUE(tok) << tok.status().message();
  EXPECT_EQ((*tok)->vocab_size(), 265);
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_EQ((*tok)->eos_id(), 2);
  EXPECT_EQ((*tok)->encode("ab a", true), (std::vector<int32_t>{1, 264, 262}));
  EXPECT_EQ((*tok)->encode("c", false), (std::vector<int32_t>{259, 3 + 'c'})) << "byte fallback";
  EXPECT_EQ((*tok)->decode({1, 264, 262}), "ab a");

  GgufBuilder no_prefix = vocab_file();
  no_prefix.kv("tokenizer.ggml.add_space_prefix", 7, Bytes(1, '\0'));
  no_prefix.kv_u32("tokenizer.ggml.eos_token_id", 0);
  tok = tokenizer_of(no_prefix, storage);
  ASSERT_TRUE(tok) << tok.status().message();
  EXPECT_EQ((*tok)->encode("ab", false), (std::vector<int32_t>{263}));
  EXPECT_EQ((*tok)->eos_id(), 0);
}

TEST(GgufTokenizer, Errors) {
  Bytes storage;
  GgufBuilder g;
  g.kv_string("tokenizer.ggml.model", "bert");
  auto tok = tokenizer_of(g, storage);
  EXPECT_EQ(tok.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(tok.status().message().find("'bert'"), std::string::npos);

  tok = tokenizer_of(GgufBuilder(), storage);
  EXPECT_EQ(tok.status().message(), "test.gguf: key 'tokenizer.ggml.model' is missing");

  g = vocab_file();
  g.kv_floats("tokenizer.ggml.scores", {1});
  EXPECT_NE(tokenizer_of(g, storage).status().message().find("appears twice"), std::string::npos);

  g = GgufBuilder();
  g.kv_string("tokenizer.ggml.model", "llama").kv_strings("tokenizer.ggml.tokens", {"<unk>", "a"});
  g.kv_floats("tokenizer.ggml.scores", {0});
  EXPECT_EQ(tokenizer_of(g, storage).status().message(),
            "test.gguf: key 'tokenizer.ggml.scores' has 1 entries for 2 tokens");
  g = GgufBuilder();
  g.kv_string("tokenizer.ggml.model", "llama").kv_strings("tokenizer.ggml.tokens", {"<unk>", "a"});
  g.kv_i32s("tokenizer.ggml.token_type", {2, 9});
  EXPECT_EQ(tokenizer_of(g, storage).status().message(), "test.gguf: token 1 has type 9 (1 to 6 allowed)");

  g = vocab_file();
  g.kv_u32("tokenizer.ggml.bos_token_id", 70000);
  EXPECT_NE(tokenizer_of(g, storage).status().message().find("'tokenizer.ggml.bos_token_id' is 70000, outside"),
            std::string::npos);
}

}  // namespace
}  // namespace jetchat
