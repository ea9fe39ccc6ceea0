// The compute interface the forward pass calls. A Backend owns every buffer it hands out; model code never does
// pointer arithmetic on backend memory, so the same forward pass runs on the CPU and on a GPU.
// A backend is used by one thread at a time (the session running a forward pass).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jetchat/params.h"
#include "jetchat/status.h"

namespace jetchat {

// kQ4/kQ8: packed weights in backend layouts; kI8: the int8 KV cache (kv_quant.h).
enum class DType : uint8_t { kF32, kF16, kBF16, kQ4, kQ8, kI8 };

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

// Weights quantised per group as w = q * scale - min, one q per byte: GGUF's Q4_1, Q4_K (bits 4, q 0..15) and
// Q8_0, Q6_K, Q5_K (bits 8, q -128..127) decoded exactly (gguf_dequant.h), before a backend repacks them.
struct HostQuantMatrix {
  int bits = 8;
  int64_t rows = 0, cols = 0;     // out_features, in_features
  int group_size = 32;            // 16 (Q6_K) or a multiple of 32
  const int8_t* q = nullptr;      // [rows, cols]
  const float* scales = nullptr;  // [rows, cols/group]
  const float* mins = nullptr;    // [rows, cols/group]
};

// Geometry of the attention of one layer; the KV cache is [context, kv_heads*head_dim] per layer for K and V.
struct AttentionShape {
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
};

// One layer's KV cache. k, v: [capacity, kv_heads*head_dim] f32, f16 or kI8. An int8 cache also keeps the scale
// of every (token, KV head): k_scale, v_scale [capacity, kv_heads] f32 (value = q * scale, see kv_quant.h);
// they are empty otherwise.
struct KvLayer {
  Tensor k, v;
  Tensor k_scale, v_scale;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // --- memory ---
  virtual Result<Tensor> alloc(DType dtype, int64_t rows, int64_t cols) = 0;     // activations, KV cache
  virtual Result<Tensor> upload(const HostMatrix& m, DType storage) = 0;          // dense weight
  virtual Result<Tensor> upload_q4(const HostQ4Matrix& m) = 0;                    // repacked 4-bit weight
  // A grouped-quantised weight. The default stores it expanded to f16, for backends without kernels for these
  // layouts (the CUDA backend); the CPU backend keeps it 4- or 8-bit.
  virtual Result<Tensor> upload_quant(const HostQuantMatrix& m);
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
  // Appends K and V of the n rows of qkv at positions pos0.. to the layer's cache (rounded or quantised to its
  // element type), then causal attention of the n queries over positions [0, pos0+n): out[n, heads*head_dim].
  virtual void attention(Tensor& out, const Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0) = 0;
  // out[n, f] = silu(gate_up[n, :f]) * gate_up[n, f:]
  virtual void silu_mul(Tensor& out, const Tensor& gate_up) = 0;
  // x += y
  virtual void add(Tensor& x, const Tensor& y) = 0;
  // Waits for queued work (a no-op on the CPU).
  virtual void sync() {}

  // --- optional fast paths and device services; the defaults compose the ops above or decline ---
  // y += x · Wᵀ (+ bias): the residual add fused into a projection. `scratch` [n, W.rows] f32 is what the
  // default implementation computes the product into.
  virtual void matmul_add(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& scratch) {
    matmul(scratch, x, w, bias);
    add(y, scratch);
  }
  // y = rmsnorm(x; norm_w, eps) · Wᵀ (+ bias): the norm fused into the product that consumes it. `xn`
  // [n, W.cols] is where the default puts the normed rows; a backend that normalises on the fly may leave it
  // untouched, so callers treat it as scratch.
  virtual void rmsnorm_matmul(Tensor& y, Tensor& xn, const Tensor& x, const Tensor& norm_w, float eps,
                              const Tensor& w, const Tensor* bias) {
    rmsnorm(xn, x, norm_w, eps);
    matmul(y, xn, w, bias);
  }
  // y += (silu(gate_up[:, :f]) * gate_up[:, f:]) · Wᵀ: the SiLU gate fused into the down projection. `ffn`
  // [n, f] and `scratch` [n, W.rows] are what the default computes through.
  virtual void silu_mul_matmul_add(Tensor& y, const Tensor& gate_up, const Tensor& w, Tensor& ffn,
                                   Tensor& scratch) {
    silu_mul(ffn, gate_up);
    matmul_add(y, ffn, w, nullptr, scratch);
  }
  // rope, then attention: a backend may rotate the query and key heads on the fly and leave qkv unrotated.
  virtual void rope_attention(Tensor& out, Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0,
                              const std::vector<float>& inv_freq) {
    rope(qkv, s, pos0, inv_freq);
    attention(out, qkv, kv, s, pos0);
  }
  // The KV cache's element type when the user asks for none in particular (the backend's full precision), and
  // whether its attention reads and writes a cache of type t.
  virtual DType kv_dtype() const { return DType::kF32; }
  virtual bool kv_dtype_supported(DType t) const { return t == kv_dtype(); }
  // Why this backend cannot run attention of this shape (OK when it can), so that a model is refused at load
  // instead of at its first token.
  virtual Status attention_shape_problem(const AttentionShape&) const { return Status::ok(); }
  // Free bytes of the memory this backend allocates from when it is not the system's RAM (a discrete GPU);
  // kUnsupported where the system's MemAvailable is the answer (CPU, Jetson's shared memory).
  virtual Result<int64_t> device_memory_free() const {
    return Status(StatusCode::kUnsupported, "backend memory is system memory");
  }
  // The next token from logits [1, vocab], chosen on the backend so only the id crosses (the logits row is
  // modified). `penalized`: distinct ids the repetition penalty applies to. kUnsupported: sample on the host.
  virtual bool samples_on_device() const { return false; }
  virtual Result<int32_t> sample(Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& penalized,
                                 uint64_t seed) {
    (void)logits, (void)p, (void)penalized, (void)seed;
    return Status(StatusCode::kUnsupported, "no device sampler");
  }
  // Sampling ahead (backends that sample on the device): sample_ahead enqueues the choice of a token from
  // logits [1, vocab] and returns at once; take_sampled waits for the oldest choice not yet taken and returns it.
  // With next_pos >= 0 the chosen id is also the token of the next one-token step, issued with ids == nullptr at
  // next_pos, so that step can be enqueued before the host knows the id. penalize_last: the token chosen by the
  // previous sample_ahead is penalised too (a host that samples ahead does not know it yet). kUnsupported: use
  // sample().
  virtual bool samples_ahead() const { return false; }
  virtual Status sample_ahead(Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& penalized,
                              bool penalize_last, uint64_t seed, int next_pos) {
    (void)logits, (void)p, (void)penalized, (void)penalize_last, (void)seed, (void)next_pos;
    return Status(StatusCode::kUnsupported, "no sampling ahead");
  }
  virtual Result<int32_t> take_sampled() { return Status(StatusCode::kUnsupported, "no sampling ahead"); }
  // Decode-step recording. begin_step returns false when a step recorded under `key` was replayed with these
  // ids and this position (the caller then issues nothing); true when the caller must issue the step's ops and
  // then call end_step (the backend may record them). ids == nullptr (n == 1, backends that sample ahead): the
  // token sample_ahead chose for this position. The key names everything the ops capture besides the ids and
  // the position: buffers, rope frequencies, which logits are computed.
  virtual bool begin_step(uint64_t key, const int32_t* ids, int n, int pos0) {
    (void)key, (void)ids, (void)n, (void)pos0;
    return true;
  }
  virtual void end_step() {}
  // The first device failure since creation: ops return nothing, so an error is kept until asked for.
  virtual Status status() const { return Status::ok(); }

  // --- measurement (jetchat-cli bench) ---
  // Device-to-device copy bandwidth, bytes read + written per second; kUnsupported on the CPU.
  virtual Result<double> copy_bandwidth() { return Status(StatusCode::kUnsupported, "no device copy"); }
  virtual int64_t peak_bytes_in_use() const { return bytes_in_use(); }
  // Seconds per call of `fn` (which issues backend ops), timed on the device after a warm-up.
  virtual Result<double> time_per_call(const std::function<void()>& fn, int reps);
};

struct CpuBackendOptions {
  int threads = 0;  // 0: all cores
};
std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& opts);

struct CudaBackendOptions {
  int device = 0;
  bool graphs = true;  // record decode steps into CUDA graphs and replay them
};
// Defined only in builds with the CUDA backend (JETCHAT_HAVE_CUDA); fails where no usable GPU exists.
Result<std::unique_ptr<Backend>> make_cuda_backend(const CudaBackendOptions& opts);

}  // namespace jetchat
