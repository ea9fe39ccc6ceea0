// The CPU implementation of Backend: host memory, a thread pool, and the SIMD loops of vec.h.
#pragma once

#include "backend.h"
#include "cpu/q4.h"
#include "cpu/q8.h"
#include "cpu/thread_pool.h"
#include "cpu/vec.h"

namespace jetchat::cpu {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const CpuBackendOptions& opts);
  ~CpuBackend() override;

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
  // f32 (the default), f16 or int8.
  bool kv_dtype_supported(DType t) const override {
    return t == DType::kF32 || t == DType::kF16 || t == DType::kI8;
  }
  void silu_mul(Tensor& out, const Tensor& gate_up) override;
  void add(Tensor& x, const Tensor& y) override;

  ThreadPool& pool() { return pool_; }
  const VecKernels& vec() const { return vec_; }
  const Q4Kernels& q4() const { return q4_; }
  const Q8Kernels& q8() const { return q8_; }

 private:
  void matmul_dense(Tensor& y, const Tensor& x, const Tensor& w);
  // kQ4 and kQ8 weights: the same tiling, each layout's kernels.
  void matmul_grouped(Tensor& y, const Tensor& x, const Tensor& w);
  Result<Tensor> alloc_packed(DType dtype, int64_t rows, int64_t cols, size_t bytes);

  ThreadPool pool_;
  const VecKernels& vec_;
  const Q4Kernels& q4_;
  const Q8Kernels& q8_;
  Q4QuantX q4_xq_;             // the int8-quantised activation row of the current decode matmul
  bool q4_int8_all_ = false;   // JETCHAT_Q4_ACT=int8-all
  bool q8_int8_ = true;        // not JETCHAT_Q4_ACT=f32
  std::vector<float> q4_xsum_;  // (tokens, groups) per-group activation sums of the current 4/8-bit matmul
  int64_t bytes_in_use_ = 0;
};

}  // namespace jetchat::cpu
