// The compute interface the forward pass calls. A Backend owns every buffer it hands out; model code never does
// pointer arithmetic on backend memory, so the same forward pass runs on the CPU and on a GPU.
// A backend is used by one thread at a time (the session running a forward pass).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jetchat/status.h"

namespace jetchat {

enum class DType : uint8_t { kF32, kF16, kBF16, kQ4 };

const char* dtype_name(DType t);
size_t dtype_size(DType t);  // bytes per element; 0 for packed types

// Row-major [rows, cols] matrix in backend memory. A Tensor is a handle: copying it does not copy data, and a
// view of its first rows (rows_view) shares the storage. Freed only through Backend::free.
struct Tensor {
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  void* data = nullptr;    // backend memory (host or device)
  void* extra = nullptr;   // backend-specific side data (quantized layouts)
  size_t bytes = 0;

  bool empty() const { return data == nullptr; }
  Tensor rows_view(int64_t first, int64_t n) const;  // rows [first, first+n); dense dtypes only
};

// A weight as read from a checkpoint (usually memory-mapped), before it is uploaded.
struct HostMatrix {
  DType dtype = DType::kF32;  // kF32, kF16 or kBF16
  int64_t rows = 0, cols = 0;
  const void* data = nullptr;
};

// 4-bit weights in AutoAWQ's GEMM layout, before repacking for a backend's kernels.
struct HostQ4Matrix {
  int64_t rows = 0, cols = 0;        // out_features, in_features (the nn.Linear view)
  int group_size = 128;
  const int32_t* qweight = nullptr;  // [cols, rows/8], AWQ interleaved nibble order
  const int32_t* qzeros = nullptr;   // [cols/group, rows/8]
  const void* scales = nullptr;      // [cols/group, rows], scales_dtype
  DType scales_dtype = DType::kF16;
};

// Geometry of the attention of one layer; the KV cache is [context, kv_heads*head_dim] per layer for K and V.
struct AttentionShape {
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // --- memory ---
  virtual Result<Tensor> alloc(DType dtype, int64_t rows, int64_t cols) = 0;     // activations, KV cache
  virtual Result<Tensor> upload(const HostMatrix& m, DType storage) = 0;          // dense weight
  virtual Result<Tensor> upload_q4(const HostQ4Matrix& m) = 0;                    // repacked 4-bit weight
  virtual void free(Tensor& t) = 0;
  virtual void read(const Tensor& t, float* host) = 0;                            // whole tensor as f32
  virtual int64_t bytes_in_use() const = 0;

  // --- ops on f32 activations; every output is [n, ...] for the n tokens in flight ---
  // out[i] = table[ids[i]]
  virtual void embed(Tensor& out, const Tensor& table, const int32_t* ids, int n) = 0;
  // out = x / rms(x) * w, per row
  virtual void rmsnorm(Tensor& out, const Tensor& x, const Tensor& w, float eps) = 0;
  // y[n, W.rows] = x[n, W.cols] · Wᵀ (+ bias[W.rows])
  virtual void matmul(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias) = 0;
  // Rotates the first (heads + kv_heads) heads of each row of qkv in place (HF rotate_half pairs j, j+rot/2),
  // token i at position pos0 + i, angle = position * inv_freq[j], j < rot/2 (rot = inv_freq.size()*2).
  virtual void rope(Tensor& qkv, const AttentionShape& s, int pos0, const std::vector<float>& inv_freq) = 0;
  // Appends K and V of the n rows of qkv at positions pos0.. to the layer's cache, then causal attention of the
  // n queries over positions [0, pos0+n): out[n, heads*head_dim].
  virtual void attention(Tensor& out, const Tensor& qkv, Tensor& k_cache, Tensor& v_cache,
                         const AttentionShape& s, int pos0) = 0;
  // out[n, f] = silu(gate_up[n, :f]) * gate_up[n, f:]
  virtual void silu_mul(Tensor& out, const Tensor& gate_up) = 0;
  // x += y
  virtual void add(Tensor& x, const Tensor& y) = 0;
  // Waits for queued work (a no-op on the CPU).
  virtual void sync() {}
};

struct CpuBackendOptions {
  int threads = 0;  // 0: all cores
};
std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& opts);

}  // namespace jetchat
