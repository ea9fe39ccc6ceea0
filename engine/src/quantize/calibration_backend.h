// A Backend that forwards every op to another one and records what AWQ calibration needs: the input rows of
// each of one layer's four matrix products, and the layer's output (the residual stream after its last add).
// Its embed() feeds given hidden states instead of looking up the table, so a one-layer Transformer built from
// layer l's weights runs that layer alone on the outputs of layer l-1. The inner backend must keep tensors in
// host memory (the CPU backend). Used by one thread (the quantizer).
#pragma once

#include <memory>
#include <vector>

#include "backend.h"

namespace jetchat::quant {

// Which product a recorded input belongs to, in the forward pass's order.
enum Linear { kQkv, kO, kGateUp, kDown, kLinearCount };

class CalibrationBackend final : public Backend {
 public:
  explicit CalibrationBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}

  // The weights whose inputs are recorded (their data pointers identify them), the hidden states embed() hands
  // out in order ([tokens, hidden] f32), and where inputs and outputs are collected ([tokens, cols] each).
  void watch(const Tensor* weights[kLinearCount]);
  // Stops recording, keeping what was recorded. Called before the watched weights are freed: a later
  // allocation at the same address (the scale search's trial weights) must not be taken for them.
  void unwatch();
  void feed(const std::vector<float>* hidden) { hidden_ = hidden, cursor_ = 0; }
  std::vector<float> inputs[kLinearCount];
  std::vector<float> output;

  Backend& inner() { return *inner_; }  // the same device without the recording

  std::string name() const override { return "calibration over " + inner_->name(); }
  Result<Tensor> alloc(DType d, int64_t r, int64_t c) override { return inner_->alloc(d, r, c); }
  Result<Tensor> upload(const HostMatrix& m, DType s) override { return inner_->upload(m, s); }
  Result<Tensor> upload_q4(const HostQ4Matrix& m) override { return inner_->upload_q4(m); }
  void free(Tensor& t) override { inner_->free(t); }
  void read(const Tensor& t, float* host) override { inner_->read(t, host); }
  int64_t bytes_in_use() const override { return inner_->bytes_in_use(); }

  void embed(Tensor& out, const Tensor& table, const int32_t* ids, int n) override;
  void rmsnorm(Tensor& o, const Tensor& x, const Tensor& w, float eps) override { inner_->rmsnorm(o, x, w, eps); }
  void matmul(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias) override;
  void rope(Tensor& qkv, const AttentionShape& s, int pos0, const std::vector<float>& f) override {
    inner_->rope(qkv, s, pos0, f);
  }
  void attention(Tensor& out, const Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0) override {
    inner_->attention(out, qkv, kv, s, pos0);
  }
  void silu_mul(Tensor& out, const Tensor& gate_up) override { inner_->silu_mul(out, gate_up); }
  // The default matmul_add composes matmul and add, so fused and unfused forward passes are both seen here.
  void add(Tensor& x, const Tensor& y) override;

 private:
  void record(const Tensor& x, const Tensor& w);
  static void append(std::vector<float>& to, Backend& b, const Tensor& t);

  std::unique_ptr<Backend> inner_;
  const void* watched_[kLinearCount] = {};
  const std::vector<float>* hidden_ = nullptr;
  size_t cursor_ = 0;        // floats of hidden_ handed out so far
  bool after_down_ = false;  // the last product was the down projection: the next add ends the layer
};

}  // namespace jetchat::quant
