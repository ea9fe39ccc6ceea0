// Bad model directories: each is refused with a clear message naming what is wrong, and nothing crashes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "jetchat/engine.h"
#include "jetchat/session.h"
#include "random_checkpoint.h"
#include "safetensors.h"
#include "support/fixtures.h"

namespace fs = std::filesystem;

namespace jetchat {
namespace {

class LoaderErrors : public ::testing::Test {
 protected:
  // A valid tiny Llama checkpoint in a fresh folder; tests then break one thing.
  std::string good(const std::string& name) {
    const std::string dir = test::scratch_dir("bad_" + name);
    RandomModelSpec s;
    s.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
    EXPECT_TRUE(write_random_checkpoint(s, dir).is_ok());
    return dir;
  }
  static Status load(const std::string& dir, int ctx = 64) {
    LoadParams p;
    p.context_length = ctx;
    p.threads = 1;
    auto m = Model::load(dir, p);
    return m.status();
  }
  static void rewrite_config(const std::string& dir, const std::function<void(nlohmann::json&)>& edit) {
    auto j = nlohmann::json::parse(test::read_file(dir + "/config.json"));
    edit(j);
    test::write_file(dir + "/config.json", j.dump());
  }
  // Rewrites model.safetensors with one tensor changed by `edit` (or dropped when it returns false).
  static void rewrite_tensors(const std::string& dir,
                              const std::function<bool(std::string&, StDType&, std::vector<int64_t>&, std::string&)>& edit) {
    auto f = SafetensorsFile::open(dir + "/model.safetensors");
    ASSERT_TRUE(f.is_ok());
    SafetensorsWriter w;
    for (const auto& t : (*f)->tensors()) {
      std::string name = t.name, bytes(reinterpret_cast<const char*>(t.data), t.nbytes);
      StDType dt = t.dtype;
      std::vector<int64_t> shape = t.shape;
      if (edit(name, dt, shape, bytes)) w.add(name, dt, shape, bytes.data(), bytes.size());
    }
    f.value().reset();
    ASSERT_TRUE(w.write(dir + "/model.safetensors").is_ok());
  }
  static void expect_error(const Status& s, StatusCode code, const std::string& needle) {
    EXPECT_FALSE(s.is_ok());
    EXPECT_EQ(s.code(), code) << s.message();
    EXPECT_NE(s.message().find(needle), std::string::npos) << "message: " << s.message();
  }
};

TEST_F(LoaderErrors, GoodCheckpointLoads) { EXPECT_TRUE(load(good("ok")).is_ok()); }

TEST_F(LoaderErrors, TruncatedWeights) {
  const std::string dir = good("truncated");
  const std::string bytes = test::read_file(dir + "/model.safetensors");
  test::write_file(dir + "/model.safetensors", bytes.substr(0, bytes.size() - 100));
  expect_error(load(dir), StatusCode::kInvalidFormat, "truncated");
}

TEST_F(LoaderErrors, MissingTensorIsNamed) {
  const std::string dir = good("missing");
  rewrite_tensors(dir, [](std::string& n, auto&, auto&, auto&) { return n != "model.layers.1.mlp.up_proj.weight"; });
  expect_error(load(dir), StatusCode::kNotFound, "model.layers.1.mlp.up_proj.weight");
}

TEST_F(LoaderErrors, ShapeNotMatchingConfig) {
  const std::string dir = good("shape");
  rewrite_config(dir, [](auto& j) { j["intermediate_size"] = 180; });
  expect_error(load(dir), StatusCode::kInvalidFormat, "config.json implies");
}

TEST_F(LoaderErrors, WrongDtype) {
  const std::string dir = good("dtype");
  rewrite_tensors(dir, [](std::string& n, StDType& dt, auto&, auto&) {
    if (n == "model.norm.weight") dt = StDType::kI16;  // same byte size as F16
    return true;
  });
  expect_error(load(dir), StatusCode::kUnsupported, "model.norm.weight");
}

TEST_F(LoaderErrors, UnknownArchitectureListsSupportedOnes) {
  const std::string dir = good("arch");
  rewrite_config(dir, [](auto& j) { j["architectures"] = {"GPTNeoXForCausalLM"}; });
  expect_error(load(dir), StatusCode::kUnsupported, "InternLM2ForCausalLM");
}

TEST_F(LoaderErrors, EmptyConfig) {
  const std::string dir = good("empty_config");
  test::write_file(dir + "/config.json", "");
  expect_error(load(dir), StatusCode::kInvalidFormat, "config.json");
  test::write_file(dir + "/config.json", "{}");
  expect_error(load(dir), StatusCode::kInvalidFormat, "empty");
}

TEST_F(LoaderErrors, PickleCheckpointIsRefusedWithConversionAdvice) {
  const std::string dir = good("pickle");
  fs::remove(dir + "/model.safetensors");
  test::write_file(dir + "/pytorch_model.bin", "PK\x03\x04 not really a zip");
  expect_error(load(dir), StatusCode::kUnsupported, "safe_serialization=True");
}

TEST_F(LoaderErrors, ForeignFileAsWeights) {
  const std::string dir = good("foreign");
  test::write_file(dir + "/model.safetensors", test::read_file(test::fixture("tiny-gguf/llama-2-tiny-random.gguf")));
  const Status s = load(dir);
  EXPECT_EQ(s.code(), StatusCode::kInvalidFormat) << s.message();
}

TEST_F(LoaderErrors, ShardedCheckpointWithIndexLoads) {
  const std::string dir = good("sharded");
  auto f = SafetensorsFile::open(dir + "/model.safetensors");
  ASSERT_TRUE(f.is_ok());
  SafetensorsWriter a, b;
  nlohmann::json map;
  int i = 0;
  for (const auto& t : (*f)->tensors()) {
    auto& w = (i++ % 2) ? b : a;
    w.add(t.name, t.dtype, t.shape, t.data, t.nbytes);
    map[t.name] = (&w == &a) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  f.value().reset();
  ASSERT_TRUE(a.write(dir + "/model-00001-of-00002.safetensors").is_ok());
  ASSERT_TRUE(b.write(dir + "/model-00002-of-00002.safetensors").is_ok());
  fs::remove(dir + "/model.safetensors");
  test::write_file(dir + "/model.safetensors.index.json", nlohmann::json{{"weight_map", map}}.dump());
  EXPECT_TRUE(load(dir).is_ok());
  // The same tensor in two shards is corrupt.
  fs::copy_file(dir + "/model-00001-of-00002.safetensors", dir + "/model-00003.safetensors");
  map["extra"] = "model-00003.safetensors";
  test::write_file(dir + "/model.safetensors.index.json", nlohmann::json{{"weight_map", map}}.dump());
  expect_error(load(dir), StatusCode::kInvalidFormat, "appears in both");
}

TEST_F(LoaderErrors, TooBigForMemoryIsRefusedBeforeAllocatingWithNumbers) {
  const std::string dir = good("too_big");
  // A context of 2^31 tokens needs terabytes of KV cache.
  const Status s = load(dir, 1 << 30);
  expect_error(s, StatusCode::kOutOfMemory, "MiB");
  EXPECT_NE(s.message().find("available"), std::string::npos);
}

TEST_F(LoaderErrors, MissingTokenizer) {
  const std::string dir = good("no_tokenizer");
  fs::remove(dir + "/tokenizer.model");
  const Status s = load(dir);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("tokenizer.model"), std::string::npos) << s.message();
}

TEST_F(LoaderErrors, NotADirectory) {
  const std::string dir = good("file");
  expect_error(load(dir + "/config.json"), StatusCode::kInvalidArgument, "model directory");
  expect_error(load(dir + "/nope"), StatusCode::kNotFound, "nope");
}

TEST_F(LoaderErrors, PromptLongerThanContextAndOddBytes) {
  const std::string dir = good("prompt");
  LoadParams p;
  p.context_length = 16;
  auto m = Model::load(dir, p);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  Session s(*m);
  GenerateParams g;
  g.max_tokens = 4;
  auto r = s.complete(std::string(400, 'a') + " long prompt", g);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("context holds 16"), std::string::npos) << r.status().message();
  // Invalid UTF-8 in the prompt is text like any other: it must not crash, and the session stays usable.
  auto odd = s.complete(std::string("\xff\xfe\xc3(\x80", 5), g);
  EXPECT_TRUE(odd.is_ok()) << odd.status().message();
  auto after = s.complete("Once", g);
  EXPECT_TRUE(after.is_ok());
}

}  // namespace
}  // namespace jetchat
