// jetchat-cli quantize: 16-bit checkpoint -> AutoAWQ-compatible 4-bit checkpoint (RTN or AWQ), with a progress bar.
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "quantize/quantizer.h"

namespace jetchat::cli {

void add_quantize(CLI::App& app) {
  auto* c = app.add_subcommand("quantize", "quantize a 16-bit model to 4-bit weights (AutoAWQ GEMM format)");
  struct Opts {
    std::string in, out;
    quant::QuantizeOptions q;
  };
  auto o = std::make_shared<Opts>();
  c->add_option("IN_DIR", o->in, "16-bit model directory")->required()->check(CLI::ExistingDirectory);
  c->add_option("OUT_DIR", o->out, "output model directory")->required();
  c->add_option("--group", o->q.group, "inputs per scale/zero group")->check(CLI::IsMember({32, 64, 128}));
  c->add_option("--method", o->q.method, "rtn (round to nearest) or awq (activation-aware scales)")
      ->check(CLI::IsMember({"rtn", "awq"}));
  c->add_option("--calib", o->q.calib_path, "awq: calibration text (UTF-8)")->check(CLI::ExistingFile);
  c->add_option("--calib-tokens", o->q.calib_tokens, "awq: calibration tokens used");
  c->add_option("--calib-seq", o->q.calib_seq, "awq: tokens per calibration sequence");
  c->add_flag("!--no-clip", o->q.clip, "awq: scales only, without the search for each group's clipping range");
  c->add_option("--threads", o->q.threads, "CPU threads (0: all cores)");
  c->callback([o] {
    const auto t0 = std::chrono::steady_clock::now();
    o->q.progress = [](int done, int total) {
      constexpr int kWidth = 40;
      const int filled = done * kWidth / total;
      std::fprintf(stderr, "\r  layer %d/%d [%.*s%*s]", done, total, filled,
                   "########################################", kWidth - filled, "");
      if (done == total) std::fprintf(stderr, "\n");
    };
    std::fprintf(stderr, "quantizing %s (%s, group %d)\n", o->in.c_str(), o->q.method.c_str(), o->q.group);
    Status s = quant::quantize_model(o->in, o->out, o->q);
    if (!s) return void(fail(s));
    std::printf("wrote %s in %.1f s\n", o->out.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  });
}

}  // namespace jetchat::cli
