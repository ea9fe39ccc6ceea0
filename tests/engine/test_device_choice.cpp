// DeviceKind::kAuto (the app's choice): the CUDA backend where this build has one, a GPU is usable and its kernels
// run the model, else the CPU backend, and the model runs either way. CI (no GPU) checks the fallback; the GPU
// machine the GPU, and that a shape the GPU's attention lacks (the built-in demo's heads of 48) goes to the CPU
// under kAuto and is refused at load, not at the first token, when the GPU is asked for.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "jetchat/session.h"
#include "model_impl.h"
#include "random_checkpoint.h"
#include "support/fixtures.h"

namespace jetchat {
namespace {

bool gpu_usable() {
#ifdef JETCHAT_HAVE_CUDA
  return make_cuda_backend({}).is_ok();
#else
  return false;
#endif
}

TEST(DeviceChoice, AutoTakesTheGpuWhereThereIsOneElseTheCpu) {
  const bool gpu = gpu_usable();
  RandomModelSpec spec;  // heads of 16: every backend runs it
  spec.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
  const std::string dir = test::scratch_dir("device_choice");
  ASSERT_TRUE(write_random_checkpoint(spec, dir).is_ok());
  LoadParams p;
  p.device = DeviceKind::kAuto;
  p.context_length = 128;
  p.threads = 2;
  auto model = Model::load(dir, p);
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  const std::string backend = (*model)->backend_name();
  EXPECT_EQ(backend.rfind(gpu ? "cuda" : "cpu", 0), 0u) << backend;

  std::vector<int32_t> text(100);
  for (size_t i = 0; i < text.size(); ++i) text[i] = int32_t((i * 91 + 5) % 509 + 3);
  Session s(*model);
  auto perplexity = s.perplexity(text, 64, {});
  ASSERT_TRUE(perplexity.is_ok()) << perplexity.status().message();
  EXPECT_TRUE(std::isfinite(*perplexity) && *perplexity > 1.0) << *perplexity;
}

TEST(DeviceChoice, AShapeTheGpuLacksRunsOnTheCpuUnderAutoAndIsRefusedAtLoadOnTheGpu) {
  const std::string demo = std::string(JETCHAT_SOURCE_DIR) + "/resources/models/jetchat-demo";  // head_dim 48
  LoadParams p;
  p.context_length = 64;
  p.threads = 2;
  p.device = DeviceKind::kAuto;
  auto model = Model::load(demo, p);
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  EXPECT_EQ((*model)->backend_name().rfind("cpu", 0), 0u) << (*model)->backend_name();

  p.device = DeviceKind::kCuda;
  auto refused = Model::load(demo, p);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnsupported) << refused.status().message();
  if (gpu_usable()) {
    EXPECT_NE(refused.status().message().find("head_dim 48"), std::string::npos) << refused.status().message();
  }
}

}  // namespace
}  // namespace jetchat
