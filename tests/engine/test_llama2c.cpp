// llama2.c's stories260K through our importer and forward pass reproduces llama2.c's own logits and greedy tokens.
#include <gtest/gtest.h>

#include <fstream>

#include "jetchat/engine.h"
#include "llama2c_import.h"
#include "model_impl.h"
#include "support/fixtures.h"

namespace jetchat {
namespace {

std::vector<double> read_numbers(const std::string& path) {
  std::ifstream f(path);
  std::vector<double> v;
  double x;
  while (f >> x) v.push_back(x);
  return v;
}

class Llama2c : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch_dir("stories260K");
    const Status s = import_llama2c(test::fixture("llama2c-stories260K/stories260K.bin"), dir_,
                                    test::fixture("llama2c-stories260K/mousetrap-tok512.model"));
    ASSERT_TRUE(s.is_ok()) << s.message();
    LoadParams p;
    p.context_length = 64;
    auto m = Model::load(dir_, p);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    model_ = *m;
  }
  std::string dir_;
  std::shared_ptr<Model> model_;
};

TEST_F(Llama2c, LogitsMatchReferenceAtThreePositions) {
  Transformer& tr = *model_->impl().transformer;
  auto kv = tr.alloc_kv(64);
  ASSERT_TRUE(kv.is_ok());
  const int32_t feed[3] = {1, 461, 461};
  std::vector<float> logits(512);
  for (int pos = 0; pos < 3; ++pos) {
    tr.forward(*kv, &feed[pos], 1, pos, false, logits.data());
    const auto ref = read_numbers(test::fixture("llama2c-stories260K/reference/logits_pos" + std::to_string(pos) + ".txt"));
    ASSERT_EQ(ref.size(), 512u);
    double worst = 0;
    for (int i = 0; i < 512; ++i) worst = std::max(worst, std::abs(logits[i] - ref[i]));
    EXPECT_LT(worst, 1e-4) << "position " << pos;  // the reference is printed with 6 decimals
  }
  tr.free_kv(*kv);
}

TEST_F(Llama2c, GreedyTokensMatchReference) {
  const auto ref = read_numbers(test::fixture("llama2c-stories260K/reference/greedy_ids_from_bos.txt"));
  ASSERT_GE(ref.size(), 35u);
  Transformer& tr = *model_->impl().transformer;
  auto kv = tr.alloc_kv(64);
  std::vector<float> logits(512);
  int32_t id = 1;
  for (int i = 0; i < 35; ++i) {
    tr.forward(*kv, &id, 1, i, false, logits.data());
    id = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    ASSERT_EQ(id, int32_t(ref[i])) << "token " << i;
  }
  tr.free_kv(*kv);
}

TEST_F(Llama2c, TruncatedCheckpointIsRefused) {
  const std::string bytes = test::read_file(test::fixture("llama2c-stories260K/stories260K.bin"));
  const std::string dir = test::scratch_dir("stories_truncated");
  test::write_file(dir + "/short.bin", bytes.substr(0, bytes.size() / 2));
  const Status s = import_llama2c(dir + "/short.bin", dir + "/out", "");
  EXPECT_EQ(s.code(), StatusCode::kInvalidFormat);
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace jetchat
