// The quantizer and the 4-bit loader: round-to-nearest error bounds, a quantized model's logits against its
// 16-bit logits, AWQ's objective and perplexity against RTN's, and malformed 4-bit checkpoints refused clearly.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "jetchat/engine.h"
#include "jetchat/session.h"
#include "llama2c_import.h"
#include "model_impl.h"
#include "backend.h"
#include "quantize/awq_clip.h"
#include "quantize/awq_search.h"
#include "quantize/quantizer.h"
#include "quantize/rtn.h"
#include "random_checkpoint.h"
#include "safetensors.h"
#include "support/fixtures.h"
#include "tokenizer.h"

namespace jetchat {
namespace {

TEST(Rtn, DequantisedWeightsWithinHalfAStepOfEachGroup) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(-0.3f, 0.5f);
  for (int group : {32, 64, 128}) {
    const int64_t rows = 24, cols = group * 3;
    std::vector<float> w(size_t(rows * cols)), back(w.size());
    for (auto& v : w) v = u(rng);
    const quant::AwqLinear q = quant::quantize_rtn(w.data(), rows, cols, group);
    quant::dequantize(q, back.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < cols / group; ++g) {
        float lo = 0, hi = 0;
        for (int j = 0; j < group; ++j) lo = std::min(lo, w[size_t(r * cols + g * group + j)]), hi = std::max(hi, w[size_t(r * cols + g * group + j)]);
        // Half a step, plus the f16 rounding of the step stretched over 15 steps.
        const float step = (hi - lo) / 15, bound = step * (0.5f + 15.0f / 2048);
        for (int j = 0; j < group; ++j) {
          const size_t i = size_t(r * cols + g * group + j);
          ASSERT_LE(std::fabs(w[i] - back[i]), bound) << "group " << group << " r=" << r << " g=" << g;
        }
      }
  }
}

// Σ over calibration rows and outputs of (x·wᵀ - x·approxᵀ)², in double: AWQ's objective, computed here apart
// from the quantizer's own loss code. x [tokens, cols], w and approx [rows, cols].
double output_error(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& approx,
                    int64_t cols) {
  double sum = 0;
  for (size_t t = 0; t < x.size() / size_t(cols); ++t)
    for (size_t r = 0; r < w.size() / size_t(cols); ++r) {
      double e = 0;
      for (size_t k = 0; k < size_t(cols); ++k) e += double(x[t * cols + k]) * (double(w[r * cols + k]) - approx[r * cols + k]);
      sum += e * e;
    }
  return sum;
}

// AWQ as the quantizer applies it to two linears reading one input (scales, then clipping, then round-to-nearest
// through the packed format) must lose less than plain round-to-nearest on its own calibration rows. The rows
// are what defeats a careless search: a few channels 20x larger than the rest (what AWQ protects), and half of
// the rows one repeated "template" row.
TEST(Awq, ObjectiveOnItsCalibrationRowsBelowRtn) {
  constexpr int64_t kCols = 128, kTokens = 256;  // 256 rows: the scale search scores every one of them
  constexpr int kGroup = 32;
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(size_t(kTokens * kCols)), templ(static_cast<size_t>(kCols));
  for (auto& v : templ) v = nd(rng);
  for (int64_t t = 0; t < kTokens; ++t)
    for (int64_t k = 0; k < kCols; ++k) {
      float v = t % 2 ? templ[size_t(k)] : nd(rng);
      if (k % 37 == 5) v *= 20;  // salient input channels 5, 42, 79, 116
      x[size_t(t * kCols + k)] = v;
    }
  std::vector<float> w1(size_t(64 * kCols)), w2(size_t(32 * kCols));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto* w : {&w1, &w2})
    for (auto& v : *w) v = u(rng);

  auto cpu = make_cpu_backend(CpuBackendOptions{2});
  const quant::AwqScales s = quant::search_awq_scales(x, kCols, {&w1, &w2}, kGroup, *cpu);
  ASSERT_EQ(s.scales.size(), size_t(kCols));
  const quant::GroupGram gram = quant::group_gram(x, kCols, s.scales, kGroup);
  double rtn = 0, awq = 0;
  for (const auto* w : {&w1, &w2}) {
    const int64_t rows = int64_t(w->size()) / kCols;
    std::vector<float> plain(w->size()), scaled = *w;
    quant::dequantize(quant::quantize_rtn(w->data(), rows, kCols, kGroup), plain.data());
    rtn += output_error(x, *w, plain, kCols);
    for (size_t i = 0; i < scaled.size(); ++i) scaled[i] *= s.scales[i % kCols];
    const quant::ClipResult clip = quant::clip_search(scaled.data(), rows, gram);
    EXPECT_LT(clip.after, clip.before) << "the 20x channels leave room to clip";
    std::vector<float> back(w->size());
    quant::dequantize(quant::quantize_rtn(scaled.data(), rows, kCols, kGroup), back.data());
    for (size_t i = 0; i < back.size(); ++i) back[i] /= s.scales[i % kCols];
    awq += output_error(x, *w, back, kCols);
  }
  // The search's own figure for round-to-nearest is this objective (a mean over rows and outputs).
  EXPECT_NEAR(s.loss_rtn, rtn / double(kTokens * 96), 1e-3 * s.loss_rtn);
  std::printf("output error on the calibration rows: rtn %.1f, awq %.1f (ratio %.2f)\n", rtn, awq, double(s.ratio));
  EXPECT_LT(awq, rtn);
}

// gate|up are searched on the MLP's output: AWQ's scales must lose less there than round-to-nearest, and the
// search's figure for round-to-nearest must be that error (recomputed here with the packed format).
TEST(Awq, MlpObjectiveOnItsCalibrationRowsBelowRtn) {
  constexpr int64_t kHidden = 128, kInter = 64, kTokens = 256;
  constexpr int kGroup = 32;
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(size_t(kTokens * kHidden));
  for (size_t i = 0; i < x.size(); ++i) x[i] = nd(rng) * (i % kHidden % 29 == 3 ? 15.0f : 1.0f);
  std::uniform_real_distribution<float> u(-0.2f, 0.2f);
  std::vector<float> gate(size_t(kInter * kHidden)), up(gate.size()), down(size_t(kHidden * kInter));
  for (auto* w : {&gate, &up, &down})
    for (auto& v : *w) v = u(rng);
  // silu(x·gᵀ) * (x·uᵀ) · downᵀ for every row, in double.
  auto mlp = [&](const std::vector<float>& g, const std::vector<float>& p) {
    std::vector<double> out(size_t(kTokens * kHidden));
    std::vector<double> h(static_cast<size_t>(kInter));
    for (int64_t t = 0; t < kTokens; ++t) {
      for (int64_t j = 0; j < kInter; ++j) {
        double a = 0, b = 0;
        for (int64_t k = 0; k < kHidden; ++k)
          a += double(x[size_t(t * kHidden + k)]) * g[size_t(j * kHidden + k)],
              b += double(x[size_t(t * kHidden + k)]) * p[size_t(j * kHidden + k)];
        h[size_t(j)] = a / (1 + std::exp(-a)) * b;
      }
      for (int64_t o = 0; o < kHidden; ++o) {
        double y = 0;
        for (int64_t j = 0; j < kInter; ++j) y += h[size_t(j)] * down[size_t(o * kInter + j)];
        out[size_t(t * kHidden + o)] = y;
      }
    }
    return out;
  };
  auto error = [](const std::vector<double>& a, const std::vector<double>& b) {
    double e = 0;
    for (size_t i = 0; i < a.size(); ++i) e += (a[i] - b[i]) * (a[i] - b[i]);
    return e / double(a.size());
  };
  // W -> dequantize(quantize_rtn(W · diag(s))) · diag(1/s)
  auto quantized = [&](const std::vector<float>& w, const std::vector<float>& s) {
    std::vector<float> scaled = w, back(w.size());
    for (size_t i = 0; i < w.size(); ++i) scaled[i] *= s[i % kHidden];
    quant::dequantize(quant::quantize_rtn(scaled.data(), kInter, kHidden, kGroup), back.data());
    for (size_t i = 0; i < w.size(); ++i) back[i] /= s[i % kHidden];
    return back;
  };
  auto cpu = make_cpu_backend(CpuBackendOptions{2});
  const quant::AwqScales s = quant::search_awq_scales(x, kHidden, {&gate, &up}, kGroup, *cpu, &down);
  const std::vector<float> ones(size_t(kHidden), 1.0f);
  const auto reference = mlp(gate, up);
  const double rtn = error(mlp(quantized(gate, ones), quantized(up, ones)), reference);
  const double awq = error(mlp(quantized(gate, s.scales), quantized(up, s.scales)), reference);
  EXPECT_NEAR(s.loss_rtn, rtn, 1e-3 * rtn);
  std::printf("MLP output error on the calibration rows: rtn %.4g, awq %.4g (ratio %.2f)\n", rtn, awq, double(s.ratio));
  EXPECT_LT(awq, rtn);
}

std::vector<float> all_logits(const std::string& dir, const std::vector<int32_t>& ids) {
  LoadParams lp;
  lp.context_length = 64;
  lp.threads = 2;
  auto model = Model::load(dir, lp);
  EXPECT_TRUE(model.is_ok()) << model.status().message();
  if (!model) return {};
  Transformer& tr = *(*model)->impl().transformer;
  auto kv = tr.alloc_kv(64);
  std::vector<float> out(ids.size() * size_t(tr.config().vocab_size));
  tr.forward(*kv, ids.data(), int(ids.size()), 0, true, out.data());
  tr.free_kv(*kv);
  return out;
}

class QuantizedModel : public ::testing::Test {
 protected:
  static std::string make_fp16(const std::string& name, const std::string& arch) {
    const std::string dir = test::scratch_dir(name);
    RandomModelSpec s;
    s.architecture = arch;
    s.intermediate_size = 192;  // every linear packable at group 32 and 64
    s.tokenizer_model = test::fixture("llama2c-stories260K/mousetrap-tok512.model");
    EXPECT_TRUE(write_random_checkpoint(s, dir).is_ok());
    return dir;
  }
};

TEST_F(QuantizedModel, LogitsStayCloseToThe16BitModel) {
  const std::string calib = test::scratch_dir("q_calib") + "/calib.txt";
  test::write_file(calib, test::read_file(test::fixture("sentencepiece-testdata/botchan.txt")).substr(0, 8000));
  for (const char* arch : {"LlamaForCausalLM", "InternLM2ForCausalLM", "Qwen2ForCausalLM"}) {
    const std::string fp16 = make_fp16(std::string("q_fp16_") + arch, arch);
    for (const char* method : {"rtn", "awq"}) {  // awq: the folds and the clipping of each family's layout
      const std::string q4 = fp16 + "-" + method;
      quant::QuantizeOptions o;
      o.group = 32;
      o.method = method;
      o.calib_path = calib;
      o.calib_seq = 64;
      ASSERT_TRUE(quant::quantize_model(fp16, q4, o).is_ok()) << arch << " " << method;
      auto info = ModelInfo::probe(q4);
      ASSERT_TRUE(info.is_ok());
      EXPECT_EQ(info->dtype, "awq-w4g32");
      const std::vector<int32_t> ids = {1, 45, 300, 12, 7, 99, 410, 3, 250, 18, 77, 5};
      const auto a = all_logits(fp16, ids), b = all_logits(q4, ids);
      ASSERT_EQ(a.size(), b.size());
      double max_ref = 0, max_diff = 0;
      for (size_t i = 0; i < a.size(); ++i)
        max_ref = std::max(max_ref, double(std::fabs(a[i]))), max_diff = std::max(max_diff, double(std::fabs(a[i] - b[i])));
      // Random weights are uniform, the worst case for 4 bits (1/30 of the range per step); measured 0.10-0.17
      // at group 32 (RTN).
      std::printf("%s %s: max logit error / max logit %.3f\n", arch, method, max_diff / max_ref);
      EXPECT_LT(max_diff / max_ref, 0.25) << arch << " " << method;
      EXPECT_GT(max_diff, 0.0) << arch;  // the 4-bit path really ran
    }
  }
}

TEST_F(QuantizedModel, MalformedCheckpointsAreRefusedClearly) {
  const std::string fp16 = make_fp16("q_bad_fp16", "LlamaForCausalLM");
  quant::QuantizeOptions o;
  o.group = 32;
  auto fresh = [&](const std::string& name) {
    const std::string dir = test::scratch_dir(name);
    EXPECT_TRUE(quant::quantize_model(fp16, dir, o).is_ok());
    return dir;
  };
  auto load = [](const std::string& dir) {
    LoadParams lp;
    lp.context_length = 32;
    lp.threads = 1;
    return Model::load(dir, lp).status();
  };
  auto edit_tensors = [](const std::string& dir, const std::function<bool(const std::string&, std::vector<int64_t>&, std::string&)>& f) {
    auto in = SafetensorsFile::open(dir + "/model.safetensors");
    SafetensorsWriter w;
    for (const auto& t : (*in)->tensors()) {
      std::vector<int64_t> shape = t.shape;
      std::string bytes(reinterpret_cast<const char*>(t.data), t.nbytes);
      if (f(t.name, shape, bytes)) w.add(t.name, t.dtype, shape, bytes.data(), bytes.size());
    }
    in.value().reset();
    ASSERT_TRUE(w.write(dir + "/model.safetensors").is_ok());
  };
  {  // config says group 64, tensors have group 32
    const std::string dir = fresh("q_bad_group");
    auto j = nlohmann::json::parse(test::read_file(dir + "/config.json"));
    j["quantization_config"]["group_size"] = 64;
    test::write_file(dir + "/config.json", j.dump());
    const Status s = load(dir);
    EXPECT_NE(s.message().find("wrong group size"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("model.safetensors"), std::string::npos) << s.message();
  }
  {  // missing qzeros
    const std::string dir = fresh("q_bad_zeros");
    edit_tensors(dir, [](const std::string& n, auto&, auto&) { return n != "model.layers.1.mlp.down_proj.qzeros"; });
    const Status s = load(dir);
    EXPECT_NE(s.message().find("'model.layers.1.mlp.down_proj.qzeros' is missing"), std::string::npos) << s.message();
  }
  {  // qweight of the wrong shape
    const std::string dir = fresh("q_bad_shape");
    edit_tensors(dir, [](const std::string& n, std::vector<int64_t>& shape, std::string& bytes) {
      if (n == "model.layers.0.self_attn.o_proj.qweight") shape = {shape[0] / 2, shape[1] * 2};
      (void)bytes;
      return true;
    });
    const Status s = load(dir);
    EXPECT_NE(s.message().find("o_proj.qweight' has shape [32, 16]"), std::string::npos) << s.message();
  }
  {  // act-order GPTQ
    const std::string dir = fresh("q_bad_gptq");
    auto j = nlohmann::json::parse(test::read_file(dir + "/config.json"));
    j["quantization_config"] = {{"quant_method", "gptq"}, {"bits", 4}, {"group_size", 32}, {"desc_act", true}};
    test::write_file(dir + "/config.json", j.dump());
    const Status s = load(dir);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_NE(s.message().find("act-order"), std::string::npos) << s.message();
  }
}

// The fixture llama2.c model: its attention is packable (64 x 64) but its MLP (172 wide) is not, so the MLP
// stays 16-bit. Calibration and held-out text are disjoint halves of a novel.
TEST(Awq, NotWorseThanRtnOnHeldOutText) {
  const std::string fp = test::scratch_dir("awq_fixture");
  ASSERT_TRUE(import_llama2c(test::fixture("llama2c-stories260K/stories260K.bin"), fp,
                             test::fixture("llama2c-stories260K/mousetrap-tok512.model"))
                  .is_ok());
  const std::string text = test::read_file(test::fixture("sentencepiece-testdata/botchan.txt"));
  const std::string calib = test::scratch_dir("awq_calib") + "/calib.txt";
  const std::string calib_text = text.substr(0, 60000), held_out = text.substr(text.size() - 30000);
  test::write_file(calib, calib_text);
  auto ppl = [&](const std::string& dir, const std::string& t) {
    LoadParams lp;
    lp.context_length = 256;
    lp.threads = 2;
    auto m = Model::load(dir, lp);
    EXPECT_TRUE(m.is_ok()) << m.status().message();
    Session s(*m);
    auto p = s.perplexity((*m)->impl().tokenizer->encode(t, true));
    EXPECT_TRUE(p.is_ok());
    return p ? *p : 0.0;
  };
  quant::QuantizeOptions o;
  o.group = 32;
  ASSERT_TRUE(quant::quantize_model(fp, fp + "-rtn", o).is_ok());
  o.method = "awq";
  o.calib_path = calib;
  ASSERT_TRUE(quant::quantize_model(fp, fp + "-awq", o).is_ok());
  const double base = ppl(fp, held_out), rtn = ppl(fp + "-rtn", held_out), awq = ppl(fp + "-awq", held_out);
  std::printf("held-out perplexity fp32 %.1f, rtn %.1f, awq %.1f\n", base, rtn, awq);
  EXPECT_LE(awq, rtn);
  // And on the text it was calibrated on, where its objective was measured.
  const double rtn_calib = ppl(fp + "-rtn", calib_text), awq_calib = ppl(fp + "-awq", calib_text);
  std::printf("calibration-text perplexity rtn %.1f, awq %.1f\n", rtn_calib, awq_calib);
  EXPECT_LE(awq_calib, rtn_calib);
}

}  // namespace
}  // namespace jetchat
