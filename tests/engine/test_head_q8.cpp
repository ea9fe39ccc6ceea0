// The output head made 8-bit at load (LoadParams::head = kQ8, head_q8.h): the rounding keeps every weight within
// half a step of its group's range; llama2.c's stories260K (tied f32 table, group 64), a random untied bf16 llama
// (group 128) and GGUF files of one (f16 head, tied and untied) give logits within a stated bound of their
// 16/32-bit heads' and the same greedy tokens; the memory the load's check uses and what the backend holds both
// count the 8-bit head (beside a tied table, in place of an untied head), as does probe before loading; a hidden
// size the 8-bit kernels cannot take is refused at load with the reason.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "gguf_convert.h"
#include "head_q8.h"
#include "llama2c_import.h"
#include "model_impl.h"
#include "random_checkpoint.h"
#include "support/fixtures.h"
#include "support/logits_errors.h"
#include "support/greedy_agreement.h"

namespace jetchat {
namespace {

// Relative L2 error of the logits against the 16/32-bit head's (decode: the worst of 20 steps; it also includes
// the int8 activations of the 8-bit decode kernel). Measured (2026-11-26): stories260K 4.9e-3 prefill, 2.1e-2
// decode (1.7e-2 with JETCHAT_Q4_ACT=f32: a 64-wide model averages little of the rounding away); random bf16
// llama 3.9e-3 and 7.6e-3.
constexpr double kLogitsTolerance = 3e-2;

std::shared_ptr<Model> load(const std::string& dir, HeadType head) {
  LoadParams p;
  p.context_length = 256;
  p.threads = 2;
  p.head = head;
  auto m = Model::load(dir, p);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? *m : nullptr;
}

TEST(HeadQ8, RoundingStaysWithinHalfAStepOfEachGroupsRange) {
  const int64_t rows = 3, cols = 96, group = 32, groups = cols / group;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> w(size_t(rows * cols));
  for (float& x : w) x = dist(rng) + 0.02f;  // off-centre, so the minimum matters
  for (int64_t k = 0; k < group; ++k) w[size_t(cols + k)] = -0.75f;  // a constant group (row 1, group 0)
  std::vector<int8_t> q(w.size());
  std::vector<float> scales(size_t(rows * groups)), mins(scales.size());
  quantize_rows_q8(w.data(), rows, cols, group, q.data(), scales.data(), mins.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const float s = scales[size_t(r * groups + g)], m = mins[size_t(r * groups + g)];
      float lo = 1e9f, hi = -1e9f;
      int qlo = 127, qhi = -128;
      for (int64_t k = g * group; k < (g + 1) * group; ++k) {
        const float x = w[size_t(r * cols + k)];
        lo = std::min(lo, x), hi = std::max(hi, x);
        const int qi = q[size_t(r * cols + k)];
        qlo = std::min(qlo, qi), qhi = std::max(qhi, qi);
        EXPECT_NEAR(float(qi) * s - m, x, 0.5f * s + 1e-6f) << "row " << r << " weight " << k;
      }
      EXPECT_NEAR(s, (hi - lo) / 255.0f, 1e-9f);
      if (hi > lo) {  // the range is spread over all 256 levels
        EXPECT_EQ(qlo, -128);
        EXPECT_EQ(qhi, 127);
      }
    }
}

// Logits of a 100-token prompt (two prefill chunks: f32 activation tiles) and of 20 decode steps (int8
// activations) against the reference head's.
void expect_close_logits(const char* name, Model& ref, Model& q8) {
  const int vocab = ref.impl().config.vocab_size;
  std::vector<int32_t> ids(120);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 37 + 11) % (vocab - 3) + 3);
  const test::LogitsErrors e = test::logits_errors(ref, q8, ids, 100, 128);
  EXPECT_LT(e.prefill, kLogitsTolerance) << "prefill logits";
  EXPECT_LT(e.decode, kLogitsTolerance) << "decode logits";
  std::printf("%s: 8-bit head logits error prefill %.2e decode %.2e\n", name, e.prefill, e.decode);
}

TEST(HeadQ8, Stories260KTiedTableStaysAndTheHeadIsACopy) {
  const std::string dir = test::scratch_dir("head_q8_stories260K");
  ASSERT_TRUE(import_llama2c(test::fixture("llama2c-stories260K/stories260K.bin"), dir,
                             test::fixture("llama2c-stories260K/mousetrap-tok512.model"))
                  .is_ok());
  auto ref = load(dir, HeadType::kAuto), q8 = load(dir, HeadType::kQ8);
  ASSERT_TRUE(ref && q8);
  const ModelWeights& wr = ref->impl().transformer->weights();
  const ModelWeights& wq = q8->impl().transformer->weights();
  ASSERT_TRUE(wr.tied);
  EXPECT_FALSE(wq.tied);
  EXPECT_EQ(wq.lm_head.dtype, DType::kQ8);
  EXPECT_EQ(wq.embed.dtype, wr.embed.dtype);
  EXPECT_NE(wq.lm_head.data, wq.embed.data);
  // The copy adds its bytes; decode reads it instead of the whole table (of which one row).
  const int64_t head = head_q8_bytes(512, 64);
  EXPECT_EQ(q8->info().weight_bytes - ref->info().weight_bytes, head);
  EXPECT_EQ(q8->memory().weight_bytes - ref->memory().weight_bytes, head);
  {  // what probe promises before loading (the app's memory check) is what the load allocated
    auto probed = ModelInfo::probe(dir);
    ASSERT_TRUE(probed.is_ok()) << probed.status().message();
    EXPECT_EQ(probed->q8_head_weight_bytes - probed->weight_bytes,
              q8->memory().weight_bytes - ref->memory().weight_bytes);
  }
  EXPECT_EQ(q8->impl().transformer->weight_bytes_read_per_token(),
            ref->impl().transformer->weight_bytes_read_per_token() + head - int64_t(wr.embed.bytes) +
                int64_t(wr.embed.bytes) / 512);
  expect_close_logits("stories260K", *ref, *q8);
  test::expect_same_greedy_tokens("stories260K", ref, q8, DType::kF32, kLogitsTolerance);
}

TEST(HeadQ8, UntiedBf16HeadIsReplaced) {
  RandomModelSpec spec;
  spec.hidden_size = 128, spec.intermediate_size = 352, spec.dtype = "bfloat16";
  spec.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
  const std::string dir = test::scratch_dir("head_q8_untied");
  ASSERT_TRUE(write_random_checkpoint(spec, dir).is_ok());
  auto ref = load(dir, HeadType::kAuto), q8 = load(dir, HeadType::kQ8);
  ASSERT_TRUE(ref && q8);
  ASSERT_FALSE(ref->impl().transformer->weights().tied);
  EXPECT_EQ(q8->impl().transformer->weights().lm_head.dtype, DType::kQ8);
  const int64_t saved = 512 * 128 * 2 - head_q8_bytes(512, 128);  // bf16 head out, 8-bit head (group 128) in
  EXPECT_GT(saved, 0);
  EXPECT_EQ(ref->info().weight_bytes - q8->info().weight_bytes, saved);
  EXPECT_EQ(ref->memory().weight_bytes - q8->memory().weight_bytes, saved);
  {  // what probe promises before loading (the app's memory check) is what the load allocated
    auto probed = ModelInfo::probe(dir);
    ASSERT_TRUE(probed.is_ok()) << probed.status().message();
    EXPECT_EQ(probed->q8_head_weight_bytes - probed->weight_bytes,
              q8->memory().weight_bytes - ref->memory().weight_bytes);
  }
  EXPECT_EQ(ref->impl().transformer->weight_bytes_read_per_token() -
                q8->impl().transformer->weight_bytes_read_per_token(),
            saved);
  expect_close_logits("random bf16 llama", *ref, *q8);
  test::expect_same_greedy_tokens("random bf16 llama", ref, q8, DType::kF32, kLogitsTolerance);
}

// A GGUF file's f16 head (its linears Q8_0 here), untied and tied: the memory its probe reports changes by the
// head's own bytes as for a directory.
TEST(HeadQ8, GgufHeadUntiedAndTied) {
  for (bool tied : {false, true}) {
    SCOPED_TRACE(tied ? "tied" : "untied");
    RandomModelSpec spec;
    spec.hidden_size = 128, spec.intermediate_size = 352, spec.tie_word_embeddings = tied;
    spec.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
    const std::string dir = test::scratch_dir(tied ? "head_q8_gguf_tied" : "head_q8_gguf_untied");
    ASSERT_TRUE(write_random_checkpoint(spec, dir).is_ok());
    const std::string gguf = dir + "/model.q8_0.gguf";
    ASSERT_TRUE(convert_to_gguf(dir, gguf, GgmlType::kQ8_0).is_ok());
    auto ref = load(gguf, HeadType::kAuto), q8 = load(gguf, HeadType::kQ8);
    ASSERT_TRUE(ref && q8);
    EXPECT_EQ(q8->impl().transformer->weights().lm_head.dtype, DType::kQ8);
    const int64_t change = head_q8_bytes(512, 128) - (tied ? 0 : 512 * 128 * 2);
    EXPECT_EQ(q8->info().weight_bytes - ref->info().weight_bytes, change);
    EXPECT_EQ(q8->memory().weight_bytes - ref->memory().weight_bytes, change);
    {  // what probe promises before loading (the app's memory check) is what the load allocated
      auto probed = ModelInfo::probe(gguf);
      ASSERT_TRUE(probed.is_ok()) << probed.status().message();
      EXPECT_EQ(probed->q8_head_weight_bytes - probed->weight_bytes,
                q8->memory().weight_bytes - ref->memory().weight_bytes);
    }
    expect_close_logits(tied ? "gguf tied" : "gguf untied", *ref, *q8);
  }
}

TEST(HeadQ8, HiddenSizeNotAMultipleOf32IsRefused) {
  RandomModelSpec spec;
  spec.hidden_size = 48, spec.heads = 4, spec.kv_heads = 2;
  spec.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
  const std::string dir = test::scratch_dir("head_q8_h48");
  ASSERT_TRUE(write_random_checkpoint(spec, dir).is_ok());
  ASSERT_TRUE(load(dir, HeadType::kAuto));  // the model itself loads
  EXPECT_EQ(ModelInfo::probe(dir)->q8_head_weight_bytes, 0);
  LoadParams p;
  p.head = HeadType::kQ8;
  auto m = Model::load(dir, p);
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(m.status().message().find("no 8-bit head"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("48 inputs (hidden_size) are not a multiple of 32"), std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace jetchat
