// The CUDA implementation of Backend: weights and activations in device memory, every op enqueued on one
// stream, W4A16 GEMV for decode, a W4A16 tensor-core GEMM for prefill (dequantise + cuBLAS before sm_80), fp16 or
// int8 KV cache, device sampling, and decode steps recorded into a CUDA graph and replayed. Used by one thread at
// a time, like every Backend.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "backend.h"
#include "cuda/ops.h"

namespace jetchat::cuda {

// Device memory the backend grows on demand (never while a graph is being recorded).
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
};

class CudaBackend final : public Backend {
 public:
  static Result<std::unique_ptr<Backend>> create(const CudaBackendOptions& opts);
  ~CudaBackend() override;

  std::string name() const override;
  Result<Tensor> alloc(DType dtype, int64_t rows, int64_t cols) override;
  Result<Tensor> upload(const HostMatrix& m, DType storage) override;
  Result<Tensor> upload_q4(const HostQ4Matrix& m) override;
  Result<Tensor> upload_quant(const HostQuantMatrix& m) override;
  void free(Tensor& t) override;
  void read(const Tensor& t, float* host) override;
  int64_t bytes_in_use() const override { return bytes_in_use_; }

  void embed(Tensor& out, const Tensor& table, const int32_t* ids, int n) override;
  void rmsnorm(Tensor& out, const Tensor& x, const Tensor& w, float eps) override;
  void matmul(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias) override;
  void rope(Tensor& qkv, const AttentionShape& s, int pos0, const std::vector<float>& inv_freq) override;
  void attention(Tensor& out, const Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0) override;
  void silu_mul(Tensor& out, const Tensor& gate_up) override;
  void add(Tensor& x, const Tensor& y) override;
  void sync() override;

  void matmul_add(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& scratch) override;
  void rmsnorm_matmul(Tensor& y, Tensor& xn, const Tensor& x, const Tensor& norm_w, float eps, const Tensor& w,
                      const Tensor* bias) override;
  void silu_mul_matmul_add(Tensor& y, const Tensor& gate_up, const Tensor& w, Tensor& ffn, Tensor& scratch) override;
  void rope_attention(Tensor& out, Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0,
                      const std::vector<float>& inv_freq) override;
  DType kv_dtype() const override { return DType::kF16; }
  bool kv_dtype_supported(DType t) const override { return t == DType::kF16 || t == DType::kI8; }
  Status attention_shape_problem(const AttentionShape& s) const override;
  Result<int64_t> device_memory_free() const override;
  Result<int32_t> sample(Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& penalized,
                         uint64_t seed) override;
  bool samples_on_device() const override { return true; }
  bool samples_ahead() const override { return true; }
  Status sample_ahead(Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& penalized,
                      bool penalize_last, uint64_t seed, int next_pos) override;
  Result<int32_t> take_sampled() override;
  bool begin_step(uint64_t key, const int32_t* ids, int n, int pos0) override;
  void end_step() override;
  Status status() const override { return status_; }
  Result<double> copy_bandwidth() override;
  int64_t peak_bytes_in_use() const override { return peak_bytes_; }
  Result<double> time_per_call(const std::function<void()>& fn, int reps) override;

 private:
  // Per-step values a recorded graph reads from device memory (the sampler writes them when sampling ahead, in
  // this order: SampleArgs::next_step).
  struct StepValues {
    int32_t pos0;
    int32_t id;
  };
  static constexpr int kSampleRing = 4;  // choices sampled ahead and not yet taken, at most

  explicit CudaBackend(const CudaBackendOptions& opts) : opts_(opts) {}
  Status init();
  void note(cudaError_t e, const char* what, int line);
  void note(const Status& s);
  Status ensure(DeviceBuffer& b, size_t bytes);
  void count(int64_t delta, bool internal = false);
  void matmul_into(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias, bool accumulate);
  void matmul_q4(const Epilogue& e, const Tensor& x, const Tensor& w);
  void gemv_q4(const Epilogue& e, const GemvInput& x, const Tensor& w);
  void attend(Tensor& out, const Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0, bool rotate);
  void upload_inv_freq(const std::vector<float>& inv_freq);
  void matmul_dense(const Epilogue& e, const Tensor& x, const Tensor& w);
  const int* pos_dev() const { return step_on_device_ ? &d_step_->pos0 : nullptr; }

  CudaBackendOptions opts_;
  cudaDeviceProp prop_{};
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  Status status_;
  int64_t bytes_in_use_ = 0;   // tensors handed out
  int64_t internal_bytes_ = 0;  // the backend's own scratch (split-K, dequantisation, attention, cuBLAS)
  int64_t peak_bytes_ = 0;      // of the two together
  bool w4_gemm_ = false;        // 4-bit prefill through the tensor-core W4 GEMM (sm_80+), else dequantise + cuBLAS

  DeviceBuffer splitk_partial_, splitk_counters_, attn_counters_, act16_, dequant_, attn_scratch_, ids_, inv_freq_,
      cublas_workspace_;
  std::vector<float> inv_freq_host_;
  // Sampled ids: a ring of mapped pinned host slots the sampler writes directly, each with an event that says it
  // is there; the oldest untaken is at sampled_head_.
  int32_t* h_sampled_ = nullptr;
  int32_t* d_sampled_ = nullptr;  // the same memory as the device sees it
  cudaEvent_t sampled_[kSampleRing] = {};
  int sampled_head_ = 0, sampled_count_ = 0;
  int32_t* d_last_choice_ = nullptr;  // the previous choice, for SampleArgs::penalize_also

  // Decode-step graphs: a key seen once runs eagerly (sizing every buffer), the second time it is recorded,
  // from then on replayed.
  StepValues* d_step_ = nullptr;
  StepValues* h_step_ = nullptr;  // pinned staging of the next step's values
  cudaEvent_t step_copied_ = nullptr;
  bool step_on_device_ = false, capturing_ = false;
  uint64_t warm_key_ = 0, graph_key_ = 0;
  bool have_warm_key_ = false;
  cudaGraphExec_t graph_exec_ = nullptr;
};

}  // namespace jetchat::cuda
