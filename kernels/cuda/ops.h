// Launchers of the CUDA kernels, one family per .cu file. Each enqueues on `stream` and returns the launch's
// error (cudaGetLastError); none synchronises. Activations are f32, row-major [n, cols]; weights as uploaded.
// Per-step values (token ids, position) come either as host arguments or, while a decode step is recorded into
// a CUDA graph, from device memory (`pos_dev` non-null), so that one recorded graph serves every step.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace jetchat::cuda {

enum class WType : uint8_t { kF32, kF16, kBF16 };

// 4-bit weight [N outputs, K inputs] as the kernels read it: qweight repacked by w4_repack into 16-byte vectors of
// 4 outputs x 8 consecutive inputs, vector (k/8, n/4) at [k/8 * N/4 + n/4], component n % 4; byte b of that word
// holds input 8(k/8) + b in its low nibble and 8(k/8) + 4 + b in its high nibble (one dp4a operand per mask).
// qzeros [K/G, N/8] (AWQ's nibble order [0,2,4,6,1,3,5,7]) and scales [K/G, N] fp16 as AWQ; w = (q - z) * s.
struct W4Weight {
  const uint32_t* qweight = nullptr;
  const uint32_t* qzeros = nullptr;
  const __half* scales = nullptr;
  int n = 0, k = 0, group = 0;
};

// Where a matrix product writes: y = (accumulate ? y : 0) + x·Wᵀ + bias.
struct Epilogue {
  float* y = nullptr;
  const float* bias = nullptr;  // [N] f32 or null
  bool accumulate = false;
};

// Split-K scratch: partial sums and one arrival counter per output tile (zero between launches).
struct SplitKScratch {
  float* partial = nullptr;
  int64_t partial_floats = 0;
  unsigned* counters = nullptr;
  int counter_count = 0;
};

// How a one-token product forms its input row x[K] while loading it, so that the kernel producing it is saved.
struct GemvInput {
  enum class Kind : uint8_t {
    kPlain,    // x as given
    kRmsNorm,  // x / rms(x) * norm_w (every block reduces the row itself; 16-32 KB from L2)
    kSiluMul,  // silu(src[:K]) * src[K:2K] (the gate and up halves of a fused gate/up product)
  };
  Kind kind = Kind::kPlain;
  const float* src = nullptr;     // [K], or [2K] for kSiluMul; 16-byte aligned
  const float* norm_w = nullptr;  // kRmsNorm: [K]
  float eps = 0.0f;
};

// A weight with an f32 scale and minimum per group, w = q * s - m (GGUF's Q4_1/Q4_K at 4 bits and Q5_K/Q6_K/Q8_0
// at 8, repacked exactly at upload). bits 4: q as W4Weight's qweight (4 outputs x 8 inputs per 16 bytes), group a
// multiple of 32. bits 8: int8, 16-byte vectors of 4 outputs x 4 inputs, vector (k/4, n/4) at [k/4 * N/4 + n/4],
// component n % 4, byte b = input 4(k/4) + b; group 16 or a multiple of 32. scales and mins [K/G, N].
struct QuantWeight {
  const uint32_t* q = nullptr;
  const float* scales = nullptr;
  const float* mins = nullptr;
  int n = 0, k = 0, group = 0, bits = 4;
};

// --- dependent_launch.cu ---
// Launch the decode GEMVs and attention as programmatic dependent launches (dependent_launch.h; only where the
// device has them, sm_90+): each may start while the kernel before it finishes.
void set_dependent_launch(bool on);

// --- gemv_quant.cu ---
// One token: y[N] = x̂[K] · Wᵀ, x̂ the input quantised to int8 per 32 inputs (as the CPU's decode; group % 32 == 0).
// Chooses the K split from the multiprocessor count; returns cudaErrorInvalidValue when the scratch is too
// small (w4_gemv_scratch_floats says how much it needs).
int64_t w4_gemv_scratch_floats(const W4Weight& w, int sm_count);
cudaError_t w4_gemv(const W4Weight& w, const GemvInput& x, const Epilogue& e, const SplitKScratch& s, int sm_count,
                    cudaStream_t stream);
// AWQ's qweight [K, N/8] words (device memory) into the kernels' order (see W4Weight); out must not alias.
cudaError_t w4_repack(const uint32_t* awq_qweight, uint32_t* out, int n, int k, cudaStream_t stream);
// Rows [row0, row0 + rows) of W as fp16 [rows, K] (nn.Linear layout), for the tensor-core (cuBLAS) prefill path.
cudaError_t w4_dequantize(const W4Weight& w, int row0, int rows, __half* out, cudaStream_t stream);
// The same three for QuantWeight (N % 8 == 0; quant_supported says whether the kernels take a shape).
bool quant_supported(const QuantWeight& w);
int64_t quant_gemv_scratch_floats(const QuantWeight& w, int sm_count);
cudaError_t quant_gemv(const QuantWeight& w, const GemvInput& x, const Epilogue& e, const SplitKScratch& s,
                       int sm_count, cudaStream_t stream);
cudaError_t quant_dequantize(const QuantWeight& w, int row0, int rows, __half* out, cudaStream_t stream);

// --- gemm_w4.cu ---
// Several tokens: y[m, N] = x[m, K] · Wᵀ on tensor cores (mma.sync, sm_80+), x fp16 row-major [m, K], the 4-bit
// weights dequantised in registers. Where it is not available (GPUs before sm_80) or supported (groups not a
// multiple of 32) the backend dequantises slices of W for cuBLAS instead. Splits K across blocks when the tiles
// are too few for the multiprocessors, into `partial`; returns cudaErrorInvalidValue when that is too small
// (w4_gemm_scratch_floats says how much it needs).
bool w4_gemm_available();  // on the current device
bool w4_gemm_supported(const W4Weight& w);
int64_t w4_gemm_scratch_floats(const W4Weight& w, int m, int sm_count);
cudaError_t w4_gemm(const W4Weight& w, const __half* x, int m, const Epilogue& e, float* partial,
                    int64_t partial_floats, int sm_count, cudaStream_t stream);

// --- gemv_dense.cu ---
// y[N] = x[K] · Wᵀ for a 16- or 32-bit row-major W [N, K], one warp per row.
cudaError_t dense_gemv(WType t, const void* w, int n, int k, const float* x, const Epilogue& e,
                       cudaStream_t stream);

// --- elementwise.cu ---
cudaError_t embed(WType t, const void* table, int cols, const int32_t* ids_dev, int n, float* out,
                  cudaStream_t stream);
cudaError_t silu_mul(const float* gate_up, int n, int f, float* out, cudaStream_t stream);
cudaError_t add(float* x, const float* y, int64_t count, cudaStream_t stream);
cudaError_t add_bias(float* y, const float* bias, int n, int cols, cudaStream_t stream);
cudaError_t f32_to(WType t, const float* x, int64_t count, void* out, cudaStream_t stream);
cudaError_t convert_to_f32(WType t, const void* x, int64_t count, float* out, cudaStream_t stream);

// --- norm.cu ---
cudaError_t rmsnorm(const float* x, const float* w, int n, int d, float eps, float* out, cudaStream_t stream);

// --- rope.cu ---
// Rotates the first `heads` heads (query and key heads) of each row in place; token i at position pos0 + i.
cudaError_t rope(float* qkv, int n, int64_t row_stride, int heads, int head_dim, const float* inv_freq_dev,
                 int half_rot, int pos0, const int* pos_dev, cudaStream_t stream);

// --- attention.cu ---
struct AttentionArgs {
  const float* qkv = nullptr;  // [n, (H + 2 Hkv) D] f32, rotated
  int64_t qkv_stride = 0;
  void* k_cache = nullptr;     // [capacity, Hkv D] fp16, or int8 when k_scale is set
  void* v_cache = nullptr;
  float* k_scale = nullptr;    // int8 cache: [capacity, Hkv] f32 per (token, KV head), see kernels/kv_quant.h
  float* v_scale = nullptr;
  int capacity = 0;
  float* out = nullptr;        // [n, H D] f32
  int64_t out_stride = 0;
  int n = 0, heads = 0, kv_heads = 0, head_dim = 0;
  int pos0 = 0;
  const int* pos_dev = nullptr;
  // Rotary embedding applied on the fly to the query and the new key (decode, n == 1, only): pairs (j, j + half)
  // for j < half_rot, angle = position * inv_freq[j]. Null: qkv is already rotated.
  const float* inv_freq = nullptr;
  int half_rot = 0;
};
bool attention_supported(int heads, int kv_heads, int head_dim);
// Floats of scratch the split-sequence partial results need for n queries over at most `keys` keys.
int64_t attention_scratch_floats(const AttentionArgs& a, int keys, int sm_count);
constexpr int kAttentionCounters = 256;  // arrival counters decode needs: one per KV head (zero between launches)
// Appends the n rows' K and V at positions pos0.. to the cache (fp16, or int8 quantised per token and KV head),
// then causal attention split along the sequence (flash-decoding: partial softmax per split, then a combine;
// one split writes the output itself). For n == 1 the grid is fixed by the capacity and the multiprocessor count
// (about one block per multiprocessor) so a recorded graph stays valid as the context grows: the kernel sizes
// the splits from the length it reads. Everything is one kernel: the block holding the new position appends it,
// the last split of each KV head to finish combines. Decode is a dependent launch where set_dependent_launch
// turned them on.
cudaError_t attention(const AttentionArgs& a, float* scratch, unsigned* counters, int sm_count, cudaStream_t stream);

// --- sampling.cu ---
constexpr int kMaxPenalized = 256;  // ids the repetition penalty applies to, passed with the launch
struct SampleArgs {
  float* logits = nullptr;  // [vocab] f32, modified in place
  int vocab = 0;
  int32_t penalized[kMaxPenalized];  // distinct token ids to penalise
  int penalized_count = 0;
  // Penalised too unless listed: the previous launch's choice (its `chosen`), which a host sampling ahead does
  // not know yet. Null: none.
  const int32_t* penalize_also = nullptr;
  float repetition_penalty = 1.0f, temperature = 0.0f, top_p = 1.0f, min_p = 0.0f;
  int top_k = 0;
  uint64_t seed = 0;
  int32_t* out_id = nullptr;  // the choice: device memory or mapped host memory
  int32_t* chosen = nullptr;  // device: the choice again, for the next launch's penalize_also (or null)
  // The next decode step's {position, token} (device; see CudaBackend's StepValues), written with next_pos and
  // the choice so that step can run before the host has read it. Null: not written.
  int32_t* next_step = nullptr;
  int next_pos = 0;
};
constexpr int kMaxSampleCandidates = 1024;
cudaError_t sample(const SampleArgs& a, cudaStream_t stream);

// --- elementwise.cu: whether this build holds code the current device runs (SASS for its architecture, or PTX
// it can compile): cudaSuccess, else the error a launch would give ---
cudaError_t device_code_available();
// --- elementwise.cu: a non-zero pattern for buffers the bandwidth test copies ---
cudaError_t fill_pattern(uint32_t* p, int64_t words, uint32_t seed, cudaStream_t stream);

}  // namespace jetchat::cuda
