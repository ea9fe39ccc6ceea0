#include "cuda/cuda_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "cuda/cuda_check.h"
#include "half.h"

namespace jetchat {

Result<std::unique_ptr<Backend>> make_cuda_backend(const CudaBackendOptions& opts) {
  return cuda::CudaBackend::create(opts);
}

namespace cuda {
namespace {

constexpr size_t kAlign = 256;  // cudaMalloc's alignment; sub-allocations keep it for 16-byte vector loads
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// cuBLAS workspace set explicitly so that recording a graph never makes cuBLAS allocate (NVIDIA recommends
// at least 32 MiB on Hopper).
constexpr size_t kCublasWorkspace = size_t(32) << 20;
// The prefill path without the W4 GEMM dequantises W4 matrices into fp16 in slices of at most this many elements,
// so its scratch stays bounded (64 MiB) whatever the model; a slice of 32M weights is still a large, efficient GEMM.
constexpr int64_t kDequantSliceElems = int64_t(32) << 20;
// Split-K counters: one per 256-output tile; enough for outputs up to 4M.
constexpr int kSplitKCounters = 1 << 14;
// Copy-bandwidth test: two buffers far beyond any L2 (50 MB on an H100, 4 MB on Orin).
constexpr size_t kCopyBytes = size_t(256) << 20;

WType wtype(DType t) {
  switch (t) {
    case DType::kF16: return WType::kF16;
    case DType::kBF16: return WType::kBF16;
    default: return WType::kF32;
  }
}

cudaDataType cuda_type(DType t) {
  switch (t) {
    case DType::kF16: return CUDA_R_16F;
    case DType::kBF16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

// JETCHAT_W4_PREFILL=dequant keeps 4-bit prefill on dequantise + cuBLAS where the W4 GEMM exists (measurement only).
bool dequant_prefill_forced() {
  const char* e = std::getenv("JETCHAT_W4_PREFILL");
  return e && std::string(e) == "dequant";
}

// A quantised tensor's `extra`: the AWQ view (upload_q4) or, where quant.q is set, the view with an f32 scale and
// minimum per group (upload_quant).
struct QuantTensor {
  W4Weight awq;
  QuantWeight quant;
};

const QuantTensor& quant_tensor(const Tensor& t) { return *static_cast<const QuantTensor*>(t.extra); }
bool is_quantised(const Tensor& t) { return t.dtype == DType::kQ4 || t.dtype == DType::kQ8; }

}  // namespace

#define NOTE(call) note((call), #call, __LINE__)

Result<std::unique_ptr<Backend>> CudaBackend::create(const CudaBackendOptions& opts) {
  std::unique_ptr<CudaBackend> b(new CudaBackend(opts));
  JETCHAT_TRY(b->init());
  return std::unique_ptr<Backend>(std::move(b));
}

Status CudaBackend::init() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0)
    return Status(StatusCode::kUnsupported, std::string("no usable CUDA device: ") +
                                                (e != cudaSuccess ? cudaGetErrorString(e) : "none found"));
  if (opts_.device < 0 || opts_.device >= count)
    return Status(StatusCode::kInvalidArgument, "CUDA device " + std::to_string(opts_.device) + " does not exist");
  JETCHAT_CUDA_TRY(cudaSetDevice(opts_.device));
  JETCHAT_CUDA_TRY(cudaGetDeviceProperties(&prop_, opts_.device));
  // A build without code for this GPU is refused here, with what to do, so that DeviceKind::kAuto falls back to
  // the CPU instead of the first kernel failing.
  if (const cudaError_t e = device_code_available(); e != cudaSuccess) {
    (void)cudaGetLastError();
    const std::string sm = std::to_string(prop_.major) + std::to_string(prop_.minor);
    return Status(StatusCode::kUnsupported, std::string("this build has no CUDA code for the ") + prop_.name +
                                                " (sm_" + sm + ", " + cudaGetErrorString(e) +
                                                "): rebuild with -DCMAKE_CUDA_ARCHITECTURES=" + sm);
  }
  JETCHAT_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  JETCHAT_CUBLAS_TRY(cublasCreate(&cublas_));
  JETCHAT_CUBLAS_TRY(cublasSetStream(cublas_, stream_));
  JETCHAT_TRY(ensure(cublas_workspace_, kCublasWorkspace));
  JETCHAT_CUBLAS_TRY(cublasSetWorkspace(cublas_, cublas_workspace_.ptr, cublas_workspace_.bytes));
  JETCHAT_TRY(ensure(splitk_counters_, kSplitKCounters * sizeof(unsigned)));
  JETCHAT_CUDA_TRY(cudaMemset(splitk_counters_.ptr, 0, splitk_counters_.bytes));
  JETCHAT_TRY(ensure(attn_counters_, kAttentionCounters * sizeof(unsigned)));
  JETCHAT_CUDA_TRY(cudaMemset(attn_counters_.ptr, 0, attn_counters_.bytes));
  JETCHAT_CUDA_TRY(cudaMalloc(&d_step_, sizeof(StepValues)));
  JETCHAT_CUDA_TRY(cudaMallocHost(&h_step_, sizeof(StepValues)));
  JETCHAT_CUDA_TRY(cudaHostAlloc(&h_sampled_, kSampleRing * sizeof(int32_t), cudaHostAllocMapped));
  JETCHAT_CUDA_TRY(cudaHostGetDevicePointer(reinterpret_cast<void**>(&d_sampled_), h_sampled_, 0));
  for (cudaEvent_t& e : sampled_) JETCHAT_CUDA_TRY(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  JETCHAT_CUDA_TRY(cudaMalloc(&d_last_choice_, sizeof(int32_t)));
  JETCHAT_CUDA_TRY(cudaEventCreateWithFlags(&step_copied_, cudaEventDisableTiming));
  w4_gemm_ = w4_gemm_available() && !dequant_prefill_forced();
  // Hopper's programmatic dependent launch for the decode GEMVs (JETCHAT_PDL=0 turns it off, for measurement).
  const char* pdl = std::getenv("JETCHAT_PDL");
  set_dependent_launch(prop_.major >= 9 && !(pdl && std::string(pdl) == "0"));
  return Status::ok();
}

CudaBackend::~CudaBackend() {
  if (stream_) cudaStreamSynchronize(stream_);
  if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
  for (DeviceBuffer* b : {&splitk_partial_, &splitk_counters_, &attn_counters_, &act16_, &dequant_, &attn_scratch_, &ids_,
                          &inv_freq_, &cublas_workspace_})
    if (b->ptr) cudaFree(b->ptr);
  if (d_step_) cudaFree(d_step_);
  if (h_step_) cudaFreeHost(h_step_);
  if (h_sampled_) cudaFreeHost(h_sampled_);
  for (cudaEvent_t e : sampled_)
    if (e) cudaEventDestroy(e);
  if (d_last_choice_) cudaFree(d_last_choice_);
  if (step_copied_) cudaEventDestroy(step_copied_);
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
}

std::string CudaBackend::name() const {
  return std::string("cuda (") + prop_.name + ", sm_" + std::to_string(prop_.major) + std::to_string(prop_.minor) +
         ", " + std::to_string(prop_.multiProcessorCount) + " SMs" + (opts_.graphs ? ", graphs" : "") + ")";
}

void CudaBackend::note(cudaError_t e, const char* what, int line) {
  if (e != cudaSuccess && status_.is_ok()) status_ = cuda_status(e, what, __FILE__, line);
}

void CudaBackend::note(const Status& s) {
  if (!s.is_ok() && status_.is_ok()) status_ = s;
}

void CudaBackend::count(int64_t delta, bool internal) {
  (internal ? internal_bytes_ : bytes_in_use_) += delta;
  peak_bytes_ = std::max(peak_bytes_, bytes_in_use_ + internal_bytes_);
}

Status CudaBackend::ensure(DeviceBuffer& b, size_t bytes) {
  if (b.bytes >= bytes) return Status::ok();
  if (capturing_)
    return Status(StatusCode::kInternal, "a scratch buffer had to grow while a decode step was being recorded");
  if (b.ptr) {
    JETCHAT_CUDA_TRY(cudaStreamSynchronize(stream_));
    JETCHAT_CUDA_TRY(cudaFree(b.ptr));
    count(-int64_t(b.bytes), true);
    b = DeviceBuffer{};
  }
  JETCHAT_CUDA_TRY(cudaMalloc(&b.ptr, bytes));
  b.bytes = bytes;
  count(int64_t(bytes), true);
  // A recorded step holds the old address: record again.
  if (graph_exec_) JETCHAT_CUDA_TRY(cudaGraphExecDestroy(graph_exec_));
  graph_exec_ = nullptr;
  have_warm_key_ = false;
  return Status::ok();
}

Result<int64_t> CudaBackend::device_memory_free() const {
  // Jetson's GPU allocates from the system's DRAM: MemAvailable is the truth there, not cudaMemGetInfo.
  if (prop_.integrated) return Status(StatusCode::kUnsupported, "integrated GPU: system memory");
  size_t free_b = 0, total = 0;
  JETCHAT_CUDA_TRY(cudaMemGetInfo(&free_b, &total));
  return int64_t(free_b);
}

// --- memory ---

Result<Tensor> CudaBackend::alloc(DType dtype, int64_t rows, int64_t cols) {
  if (dtype == DType::kQ4 || dtype == DType::kQ8)
    return Status(StatusCode::kInvalidArgument, "alloc: quantised weights come from upload_q4 or upload_quant");
  Tensor t;
  t.dtype = dtype;
  t.rows = rows;
  t.cols = cols;
  t.bytes = size_t(rows) * size_t(cols) * dtype_size(dtype);
  JETCHAT_CUDA_TRY(cudaMalloc(&t.data, std::max<size_t>(t.bytes, 1)));
  count(int64_t(t.bytes));
  return t;
}

Result<Tensor> CudaBackend::upload(const HostMatrix& m, DType storage) {
  if (storage == DType::kQ4 || storage == DType::kQ8)
    return Status(StatusCode::kInvalidArgument, "upload: quantised weights come from upload_q4 or upload_quant");
  auto t = alloc(storage, m.rows, m.cols);
  if (!t) return t;
  const int64_t n = m.rows * m.cols;
  const void* src = m.data;
  std::vector<uint8_t> converted;
  if (m.dtype != storage) {  // norms and biases: small, converted on the host
    converted.resize(t->bytes);
    for (int64_t i = 0; i < n; ++i) {
      float v = 0;
      switch (m.dtype) {
        case DType::kF32: v = static_cast<const float*>(m.data)[i]; break;
        case DType::kF16: v = f16_to_f32(static_cast<const uint16_t*>(m.data)[i]); break;
        case DType::kBF16: v = bf16_to_f32(static_cast<const uint16_t*>(m.data)[i]); break;
        case DType::kQ4:
        case DType::kQ8:
        case DType::kI8: break;
      }
      if (storage == DType::kF32) {
        std::memcpy(converted.data() + 4 * i, &v, 4);
      } else {
        const uint16_t h = storage == DType::kF16 ? f32_to_f16(v) : f32_to_bf16(v);
        std::memcpy(converted.data() + 2 * i, &h, 2);
      }
    }
    src = converted.data();
  }
  const cudaError_t e = cudaMemcpy(t->data, src, t->bytes, cudaMemcpyHostToDevice);
  if (e != cudaSuccess) {
    free(*t);
    return cuda_status(e, "cudaMemcpy (upload)", __FILE__, __LINE__);
  }
  return t;
}

Result<Tensor> CudaBackend::upload_q4(const HostQ4Matrix& m) {
  const int64_t N = m.rows, K = m.cols;
  const int G = m.group_size > 0 ? m.group_size : int(K);
  if (N % 8 || G % 32 || K % G)
    return Status(StatusCode::kUnsupported, "CUDA W4 kernels need out_features % 8 == 0 and a group size that is a "
                                            "multiple of 32 dividing in_features (got " + std::to_string(N) + " x " +
                                                std::to_string(K) + ", group " + std::to_string(G) + ")");
  if (m.scales_dtype != DType::kF16 && m.scales_dtype != DType::kBF16)
    return Status(StatusCode::kUnsupported, "W4 scales must be fp16 or bf16");
  const size_t qw_bytes = size_t(K) * size_t(N / 8) * 4, qz_bytes = size_t(K / G) * size_t(N / 8) * 4,
               sc_bytes = size_t(K / G) * size_t(N) * 2;
  // qzeros and scales keep AWQ's layout (see ops.h); only bf16 scales become fp16 here.
  std::vector<uint16_t> scales(size_t(K / G) * size_t(N));
  const auto* src = static_cast<const uint16_t*>(m.scales);
  for (size_t i = 0; i < scales.size(); ++i) {
    if (m.scales_dtype == DType::kF16) {
      scales[i] = src[i];
      continue;
    }
    const float v = bf16_to_f32(src[i]);
    if (!(std::fabs(v) <= 65504.0f))
      return Status(StatusCode::kUnsupported, "a bf16 W4 scale (" + std::to_string(v) + ") does not fit fp16");
    scales[i] = f32_to_f16(v);
  }
  Tensor t;
  t.dtype = DType::kQ4;
  t.rows = N;
  t.cols = K;
  t.bytes = align_up(qw_bytes) + align_up(qz_bytes) + sc_bytes;
  JETCHAT_CUDA_TRY(cudaMalloc(&t.data, t.bytes));
  auto* base = static_cast<uint8_t*>(t.data);
  auto* w = new QuantTensor{W4Weight{reinterpret_cast<const uint32_t*>(base),
                                     reinterpret_cast<const uint32_t*>(base + align_up(qw_bytes)),
                                     reinterpret_cast<const __half*>(base + align_up(qw_bytes) + align_up(qz_bytes)),
                                     int(N), int(K), G},
                            {}};
  t.extra = w;
  count(int64_t(t.bytes));
  // qweight goes through a staging buffer and is repacked on the device into the GEMV's order (ops.h).
  void* staging = nullptr;
  cudaError_t e = cudaMalloc(&staging, qw_bytes);
  if (e == cudaSuccess) e = cudaMemcpyAsync(staging, m.qweight, qw_bytes, cudaMemcpyHostToDevice, stream_);
  if (e == cudaSuccess)
    e = w4_repack(static_cast<const uint32_t*>(staging), reinterpret_cast<uint32_t*>(base), int(N), int(K), stream_);
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream_);
  if (staging) {
    const cudaError_t fe = cudaFree(staging);
    if (e == cudaSuccess) e = fe;
  }
  if (e == cudaSuccess) e = cudaMemcpy(base + align_up(qw_bytes), m.qzeros, qz_bytes, cudaMemcpyHostToDevice);
  if (e == cudaSuccess)
    e = cudaMemcpy(base + align_up(qw_bytes) + align_up(qz_bytes), scales.data(), sc_bytes, cudaMemcpyHostToDevice);
  if (e != cudaSuccess) {
    free(t);
    return cuda_status(e, "cudaMemcpy (upload_q4)", __FILE__, __LINE__);
  }
  return t;
}

Result<Tensor> CudaBackend::upload_quant(const HostQuantMatrix& m) {
  const int64_t N = m.rows, K = m.cols, G = m.group_size;
  QuantWeight w{nullptr, nullptr, nullptr, int(N), int(K), int(G), m.bits};
  if (!m.q || !m.scales || !m.mins || N <= 0 || K <= 0 || G <= 0 || N > INT32_MAX || K > INT32_MAX ||
      !quant_supported(w))
    return Status(StatusCode::kUnsupported,
                  "CUDA quantised kernels need 4 or 8 bits, out_features % 8 == 0 and a group of 16 (8-bit) or a "
                  "multiple of 32 dividing in_features (got " + std::to_string(m.bits) + " bits, " +
                      std::to_string(N) + " x " + std::to_string(K) + ", group " + std::to_string(G) + ")");
  // The kernels' order (ops.h): 16-byte vectors of 4 outputs x 8 (4-bit) or 4 (8-bit) consecutive inputs;
  // scales and minimums transposed to [K/G, N].
  const int per = m.bits == 4 ? 8 : 4;
  const int64_t groups = K / G;
  std::vector<uint32_t> q(size_t(N * K / per));
  for (int64_t kv = 0; kv < K / per; ++kv)
    for (int64_t n = 0; n < N; ++n) {
      const int8_t* src = m.q + n * K + kv * per;
      uint32_t word = 0;
      for (int b = 0; b < 4; ++b)
        word |= m.bits == 4 ? uint32_t((src[b] & 15) | (src[b + 4] & 15) << 4) << (8 * b)
                            : uint32_t(uint8_t(src[b])) << (8 * b);
      q[size_t((kv * (N / 4) + n / 4) * 4 + n % 4)] = word;
    }
  std::vector<float> sm(size_t(2 * groups * N));  // scales, then minimums
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      sm[size_t(g * N + n)] = m.scales[n * groups + g];
      sm[size_t((groups + g) * N + n)] = m.mins[n * groups + g];
    }
  const size_t q_bytes = q.size() * 4, sm_bytes = sm.size() * 4;
  Tensor t;
  t.dtype = m.bits == 4 ? DType::kQ4 : DType::kQ8;
  t.rows = N;
  t.cols = K;
  t.bytes = align_up(q_bytes) + sm_bytes;
  JETCHAT_CUDA_TRY(cudaMalloc(&t.data, t.bytes));
  auto* base = static_cast<uint8_t*>(t.data);
  const auto* scales = reinterpret_cast<const float*>(base + align_up(q_bytes));
  w.q = reinterpret_cast<const uint32_t*>(base);
  w.scales = scales;
  w.mins = scales + groups * N;
  t.extra = new QuantTensor{{}, w};
  count(int64_t(t.bytes));
  cudaError_t e = cudaMemcpy(base, q.data(), q_bytes, cudaMemcpyHostToDevice);
  if (e == cudaSuccess) e = cudaMemcpy(base + align_up(q_bytes), sm.data(), sm_bytes, cudaMemcpyHostToDevice);
  if (e != cudaSuccess) {
    free(t);
    return cuda_status(e, "cudaMemcpy (upload_quant)", __FILE__, __LINE__);
  }
  return t;
}

void CudaBackend::free(Tensor& t) {
  if (t.data) {
    NOTE(cudaStreamSynchronize(stream_));
    NOTE(cudaFree(t.data));
    count(-int64_t(t.bytes));
  }
  delete static_cast<QuantTensor*>(t.extra);
  t = Tensor{};
}

void CudaBackend::read(const Tensor& t, float* host) {
  const int64_t n = t.rows * t.cols;
  const float* src = static_cast<const float*>(t.data);
  if (t.dtype != DType::kF32) {
    note(ensure(act16_, std::max<size_t>(act16_.bytes, size_t(n) * 4)));
    if (!status_.is_ok()) return;
    NOTE(convert_to_f32(wtype(t.dtype), t.data, n, static_cast<float*>(act16_.ptr), stream_));
    src = static_cast<const float*>(act16_.ptr);
  }
  NOTE(cudaMemcpyAsync(host, src, size_t(n) * 4, cudaMemcpyDeviceToHost, stream_));
  NOTE(cudaStreamSynchronize(stream_));
}

void CudaBackend::sync() { NOTE(cudaStreamSynchronize(stream_)); }

// --- ops ---

void CudaBackend::embed(Tensor& out, const Tensor& table, const int32_t* ids, int n) {
  const int32_t* d_ids = &d_step_->id;
  if (!step_on_device_) {
    note(ensure(ids_, size_t(n) * sizeof(int32_t)));
    if (!status_.is_ok()) return;
    NOTE(cudaMemcpyAsync(ids_.ptr, ids, size_t(n) * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
    d_ids = static_cast<const int32_t*>(ids_.ptr);
  }
  NOTE(cuda::embed(wtype(table.dtype), table.data, int(table.cols), d_ids, n, static_cast<float*>(out.data), stream_));
}

void CudaBackend::rmsnorm(Tensor& out, const Tensor& x, const Tensor& w, float eps) {
  if (w.dtype != DType::kF32) return note(Status(StatusCode::kUnsupported, "cuda rmsnorm: norm weights must be f32"));
  NOTE(cuda::rmsnorm(static_cast<const float*>(x.data), static_cast<const float*>(w.data), int(x.rows), int(x.cols),
                     eps, static_cast<float*>(out.data), stream_));
}

void CudaBackend::matmul(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias) {
  matmul_into(y, x, w, bias, false);
}

void CudaBackend::matmul_add(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor&) {
  matmul_into(y, x, w, bias, true);
}

void CudaBackend::matmul_into(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias, bool accumulate) {
  if (bias && bias->dtype != DType::kF32)
    return note(Status(StatusCode::kUnsupported, "cuda matmul: biases must be f32"));
  const Epilogue e{static_cast<float*>(y.data), bias ? static_cast<const float*>(bias->data) : nullptr, accumulate};
  if (is_quantised(w))
    matmul_q4(e, x, w);
  else
    matmul_dense(e, x, w);
}

void CudaBackend::gemv_q4(const Epilogue& e, const GemvInput& x, const Tensor& w) {
  const QuantTensor& q = quant_tensor(w);
  const int sms = prop_.multiProcessorCount;
  const int64_t need = q.quant.q ? quant_gemv_scratch_floats(q.quant, sms) : w4_gemv_scratch_floats(q.awq, sms);
  note(ensure(splitk_partial_, size_t(std::max<int64_t>(need, 1)) * 4));
  if (!status_.is_ok()) return;
  const SplitKScratch s{static_cast<float*>(splitk_partial_.ptr), int64_t(splitk_partial_.bytes / 4),
                        static_cast<unsigned*>(splitk_counters_.ptr), kSplitKCounters};
  NOTE(q.quant.q ? quant_gemv(q.quant, x, e, s, sms, stream_) : w4_gemv(q.awq, x, e, s, sms, stream_));
}

void CudaBackend::rmsnorm_matmul(Tensor& y, Tensor& xn, const Tensor& x, const Tensor& norm_w, float eps,
                                 const Tensor& w, const Tensor* bias) {
  // One token through a quantised matrix: the GEMV normalises its input row itself (xn is left untouched).
  if (x.rows != 1 || !is_quantised(w) || norm_w.dtype != DType::kF32 || (bias && bias->dtype != DType::kF32))
    return Backend::rmsnorm_matmul(y, xn, x, norm_w, eps, w, bias);
  GemvInput in;
  in.kind = GemvInput::Kind::kRmsNorm;
  in.src = static_cast<const float*>(x.data);
  in.norm_w = static_cast<const float*>(norm_w.data);
  in.eps = eps;
  gemv_q4(Epilogue{static_cast<float*>(y.data), bias ? static_cast<const float*>(bias->data) : nullptr, false}, in,
          w);
}

void CudaBackend::silu_mul_matmul_add(Tensor& y, const Tensor& gate_up, const Tensor& w, Tensor& ffn,
                                      Tensor& scratch) {
  // One token through a quantised matrix: the GEMV applies the gate while loading its input (ffn is left untouched).
  if (gate_up.rows != 1 || !is_quantised(w)) return Backend::silu_mul_matmul_add(y, gate_up, w, ffn, scratch);
  GemvInput in;
  in.kind = GemvInput::Kind::kSiluMul;
  in.src = static_cast<const float*>(gate_up.data);
  gemv_q4(Epilogue{static_cast<float*>(y.data), nullptr, true}, in, w);
}

void CudaBackend::matmul_q4(const Epilogue& e, const Tensor& x, const Tensor& w) {
  const QuantTensor& q = quant_tensor(w);
  const int n = int(x.rows), N = int(w.rows), K = int(w.cols);
  if (n == 1) {
    GemvInput in;
    in.src = static_cast<const float*>(x.data);
    return gemv_q4(e, in, w);
  }
  // Prefill: tensor cores on fp16 activations, through the W4 GEMM where the GPU has it (AWQ layout), else
  // through cuBLAS on fp16 slices of the dequantised weight.
  note(ensure(act16_, size_t(n) * size_t(K) * 2));
  if (!status_.is_ok()) return;
  NOTE(f32_to(WType::kF16, static_cast<const float*>(x.data), int64_t(n) * K, act16_.ptr, stream_));
  if (!q.quant.q && w4_gemm_ && w4_gemm_supported(q.awq)) {
    const int64_t need = w4_gemm_scratch_floats(q.awq, n, prop_.multiProcessorCount);
    note(ensure(splitk_partial_, size_t(std::max<int64_t>(need, 1)) * 4));
    if (!status_.is_ok()) return;
    NOTE(w4_gemm(q.awq, static_cast<const __half*>(act16_.ptr), n, e, static_cast<float*>(splitk_partial_.ptr),
                 int64_t(splitk_partial_.bytes / 4), prop_.multiProcessorCount, stream_));
    return;
  }
  const int slice = int(std::max<int64_t>(8, std::min<int64_t>(N, kDequantSliceElems / K) / 8 * 8));
  note(ensure(dequant_, size_t(slice) * size_t(K) * 2));
  if (!status_.is_ok()) return;
  const float alpha = 1.0f, beta = e.accumulate ? 1.0f : 0.0f;
  for (int r0 = 0; r0 < N; r0 += slice) {
    const int rows = std::min(slice, N - r0);
    auto* out = static_cast<__half*>(dequant_.ptr);
    NOTE(q.quant.q ? quant_dequantize(q.quant, r0, rows, out, stream_) : w4_dequantize(q.awq, r0, rows, out, stream_));
    const cublasStatus_t st = cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, rows, n, K, &alpha, dequant_.ptr,
                                           CUDA_R_16F, K, act16_.ptr, CUDA_R_16F, K, &beta, e.y + r0,
                                           CUDA_R_32F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (st != CUBLAS_STATUS_SUCCESS) note(cublas_status(st, "cublasGemmEx (quantised prefill)", __FILE__, __LINE__));
  }
  if (e.bias) NOTE(add_bias(e.y, e.bias, n, N, stream_));
}

void CudaBackend::matmul_dense(const Epilogue& e, const Tensor& x, const Tensor& w) {
  const int n = int(x.rows), N = int(w.rows), K = int(w.cols);
  if (n == 1) {
    NOTE(dense_gemv(wtype(w.dtype), w.data, N, K, static_cast<const float*>(x.data), e, stream_));
    return;
  }
  const float alpha = 1.0f, beta = e.accumulate ? 1.0f : 0.0f;
  cublasStatus_t st;
  if (w.dtype == DType::kF32) {
    st = cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, N, n, K, &alpha, static_cast<const float*>(w.data), K,
                     static_cast<const float*>(x.data), K, &beta, e.y, N);
  } else {
    note(ensure(act16_, size_t(n) * size_t(K) * 2));
    if (!status_.is_ok()) return;
    NOTE(f32_to(wtype(w.dtype), static_cast<const float*>(x.data), int64_t(n) * K, act16_.ptr, stream_));
    st = cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, N, n, K, &alpha, w.data, cuda_type(w.dtype), K, act16_.ptr,
                      cuda_type(w.dtype), K, &beta, e.y, CUDA_R_32F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  }
  if (st != CUBLAS_STATUS_SUCCESS) note(cublas_status(st, "cublas (dense matmul)", __FILE__, __LINE__));
  if (e.bias) NOTE(add_bias(e.y, e.bias, n, N, stream_));
}

void CudaBackend::upload_inv_freq(const std::vector<float>& inv_freq) {
  // Frequencies change only with dynamic NTK scaling; a recorded step's key covers them, so no upload happens
  // while recording.
  if (inv_freq == inv_freq_host_) return;
  note(ensure(inv_freq_, inv_freq.size() * sizeof(float)));
  if (!status_.is_ok()) return;
  NOTE(cudaMemcpyAsync(inv_freq_.ptr, inv_freq.data(), inv_freq.size() * sizeof(float), cudaMemcpyHostToDevice,
                       stream_));
  inv_freq_host_ = inv_freq;
}

void CudaBackend::rope(Tensor& qkv, const AttentionShape& s, int pos0, const std::vector<float>& inv_freq) {
  upload_inv_freq(inv_freq);
  if (!status_.is_ok()) return;
  NOTE(cuda::rope(static_cast<float*>(qkv.data), int(qkv.rows), qkv.cols, s.heads + s.kv_heads, s.head_dim,
                  static_cast<const float*>(inv_freq_.ptr), int(inv_freq.size()), pos0, pos_dev(), stream_));
}

void CudaBackend::attention(Tensor& out, const Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0) {
  attend(out, qkv, kv, s, pos0, false);
}

void CudaBackend::rope_attention(Tensor& out, Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0,
                                 const std::vector<float>& inv_freq) {
  // Decode rotates the query and the new key inside the attention kernel; prefill rotates qkv first.
  if (qkv.rows != 1 || inv_freq.empty() || 2 * inv_freq.size() > size_t(s.head_dim))
    return Backend::rope_attention(out, qkv, kv, s, pos0, inv_freq);
  upload_inv_freq(inv_freq);
  if (!status_.is_ok()) return;
  attend(out, qkv, kv, s, pos0, true);
}

Status CudaBackend::attention_shape_problem(const AttentionShape& s) const {
  if (attention_supported(s.heads, s.kv_heads, s.head_dim)) return Status::ok();
  return Status(StatusCode::kUnsupported, "cuda attention: head_dim " + std::to_string(s.head_dim) + " or GQA group " +
                                              std::to_string(s.heads / std::max(1, s.kv_heads)) +
                                              " not supported (head_dim 16..256 power of two, group <= 8)");
}

void CudaBackend::attend(Tensor& out, const Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0,
                         bool rotate) {
  const bool int8 = kv.k.dtype == DType::kI8;
  if (!kv_dtype_supported(kv.k.dtype) || kv.v.dtype != kv.k.dtype ||
      (int8 && (kv.k_scale.empty() || kv.v_scale.empty())))
    return note(
        Status(StatusCode::kUnsupported, "cuda attention: the KV cache must be f16, or int8 with its scales"));
  if (Status why = attention_shape_problem(s); !why.is_ok()) return note(why);
  AttentionArgs a;
  a.qkv = static_cast<const float*>(qkv.data);
  a.qkv_stride = qkv.cols;
  a.k_cache = kv.k.data;
  a.v_cache = kv.v.data;
  if (int8) {
    a.k_scale = static_cast<float*>(kv.k_scale.data);
    a.v_scale = static_cast<float*>(kv.v_scale.data);
  }
  a.capacity = int(kv.k.rows);
  a.out = static_cast<float*>(out.data);
  a.out_stride = out.cols;
  a.n = int(qkv.rows);
  a.heads = s.heads;
  a.kv_heads = s.kv_heads;
  a.head_dim = s.head_dim;
  a.pos0 = pos0;
  a.pos_dev = pos_dev();
  if (rotate) {
    a.inv_freq = static_cast<const float*>(inv_freq_.ptr);
    a.half_rot = int(inv_freq_host_.size());
  }
  note(ensure(attn_scratch_, size_t(attention_scratch_floats(a, pos0 + a.n, prop_.multiProcessorCount)) * 4));
  if (!status_.is_ok()) return;
  NOTE(cuda::attention(a, static_cast<float*>(attn_scratch_.ptr), static_cast<unsigned*>(attn_counters_.ptr),
                       prop_.multiProcessorCount, stream_));
}

void CudaBackend::silu_mul(Tensor& out, const Tensor& gate_up) {
  NOTE(cuda::silu_mul(static_cast<const float*>(gate_up.data), int(out.rows), int(out.cols),
                      static_cast<float*>(out.data), stream_));
}

void CudaBackend::add(Tensor& x, const Tensor& y) {
  NOTE(cuda::add(static_cast<float*>(x.data), static_cast<const float*>(y.data), x.rows * x.cols, stream_));
}

// --- sampling ---

Result<int32_t> CudaBackend::sample(Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& penalized,
                                    uint64_t seed) {
  JETCHAT_TRY(sample_ahead(logits, p, penalized, false, seed, -1));
  return take_sampled();
}

Status CudaBackend::sample_ahead(Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& penalized,
                                 bool penalize_last, uint64_t seed, int next_pos) {
  JETCHAT_TRY(status_);
  if (sampled_count_ == kSampleRing)
    return Status(StatusCode::kInternal, "more than " + std::to_string(kSampleRing) + " tokens sampled ahead");
  SampleArgs a;
  a.logits = static_cast<float*>(logits.data);
  a.vocab = int(logits.cols);
  if (p.repetition_penalty != 1.0f) {
    if (penalized.size() > size_t(kMaxPenalized))
      return Status(StatusCode::kInvalidArgument, "the repetition penalty applies to at most " +
                                                      std::to_string(kMaxPenalized) + " distinct tokens");
    std::copy(penalized.begin(), penalized.end(), a.penalized);
    a.penalized_count = int(penalized.size());
    if (penalize_last) a.penalize_also = d_last_choice_;
  }
  a.repetition_penalty = p.repetition_penalty;
  a.temperature = p.temperature;
  a.top_k = p.top_k;
  a.top_p = p.top_p;
  a.min_p = p.min_p;
  a.seed = seed;
  const int slot = (sampled_head_ + sampled_count_) % kSampleRing;
  a.out_id = d_sampled_ + slot;
  a.chosen = d_last_choice_;
  if (next_pos >= 0) {
    a.next_step = &d_step_->pos0;
    a.next_pos = next_pos;
  }
  JETCHAT_CUDA_TRY(cuda::sample(a, stream_));
  JETCHAT_CUDA_TRY(cudaEventRecord(sampled_[slot], stream_));
  ++sampled_count_;
  return Status::ok();
}

Result<int32_t> CudaBackend::take_sampled() {
  if (sampled_count_ == 0) return Status(StatusCode::kInternal, "no token was sampled ahead");
  const int slot = sampled_head_;
  sampled_head_ = (sampled_head_ + 1) % kSampleRing;
  --sampled_count_;
  JETCHAT_CUDA_TRY(cudaEventSynchronize(sampled_[slot]));
  return static_cast<volatile int32_t*>(h_sampled_)[slot];
}

// --- decode-step graphs ---

bool CudaBackend::begin_step(uint64_t key, const int32_t* ids, int n, int pos0) {
  step_on_device_ = false;
  if (!ids) {
    // The sampler wrote this step's token and position (sample_ahead): graph or not, the ops read them there.
    if (n != 1) note(Status(StatusCode::kInvalidArgument, "a step fed from the sampler has one token"));
    step_on_device_ = true;
  } else {
    if (!opts_.graphs || n != 1 || !status_.is_ok()) return true;
    // The previous step's copy of the staging values must be done before they are overwritten.
    NOTE(cudaEventSynchronize(step_copied_));
    h_step_->pos0 = pos0;
    h_step_->id = ids[0];
    NOTE(cudaMemcpyAsync(d_step_, h_step_, sizeof(StepValues), cudaMemcpyHostToDevice, stream_));
    NOTE(cudaEventRecord(step_copied_, stream_));
    step_on_device_ = true;
  }
  if (!opts_.graphs || !status_.is_ok()) return true;
  if (graph_exec_ && key == graph_key_) {
    NOTE(cudaGraphLaunch(graph_exec_, stream_));
    step_on_device_ = false;
    return false;
  }
  if (have_warm_key_ && key == warm_key_) {
    NOTE(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    capturing_ = status_.is_ok();
  } else {
    warm_key_ = key;
    have_warm_key_ = true;
  }
  return true;
}

void CudaBackend::end_step() {
  if (capturing_) {
    capturing_ = false;
    cudaGraph_t graph = nullptr;
    NOTE(cudaStreamEndCapture(stream_, &graph));
    if (graph) {
      if (graph_exec_) NOTE(cudaGraphExecDestroy(graph_exec_));
      graph_exec_ = nullptr;
      NOTE(cudaGraphInstantiate(&graph_exec_, graph, 0));
      NOTE(cudaGraphDestroy(graph));
      graph_key_ = warm_key_;
      if (graph_exec_) NOTE(cudaGraphLaunch(graph_exec_, stream_));
    }
  }
  step_on_device_ = false;
}

// --- measurement ---

Result<double> CudaBackend::copy_bandwidth() {
  JETCHAT_TRY(status_);
  void *a = nullptr, *b = nullptr;
  JETCHAT_CUDA_TRY(cudaMalloc(&a, kCopyBytes));
  const cudaError_t e = cudaMalloc(&b, kCopyBytes);
  if (e != cudaSuccess) {
    cudaFree(a);
    return cuda_status(e, "cudaMalloc (copy test)", __FILE__, __LINE__);
  }
  cudaEvent_t t0, t1;
  cudaEventCreate(&t0);
  cudaEventCreate(&t1);
  fill_pattern(static_cast<uint32_t*>(a), int64_t(kCopyBytes / 4), 1, stream_);
  fill_pattern(static_cast<uint32_t*>(b), int64_t(kCopyBytes / 4), 2, stream_);
  constexpr int kReps = 20;
  float best_ms = 1e30f;
  for (int trial = 0; trial < 3; ++trial) {
    cudaMemcpyAsync(b, a, kCopyBytes, cudaMemcpyDeviceToDevice, stream_);  // warm-up
    cudaEventRecord(t0, stream_);
    for (int i = 0; i < kReps; ++i) cudaMemcpyAsync(b, a, kCopyBytes, cudaMemcpyDeviceToDevice, stream_);
    cudaEventRecord(t1, stream_);
    cudaEventSynchronize(t1);
    float ms = 0;
    cudaEventElapsedTime(&ms, t0, t1);
    best_ms = std::min(best_ms, ms);
  }
  const cudaError_t last = cudaGetLastError();
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  cudaFree(a);
  cudaFree(b);
  if (last != cudaSuccess) return cuda_status(last, "copy bandwidth test", __FILE__, __LINE__);
  return 2.0 * double(kCopyBytes) * kReps / (double(best_ms) * 1e-3);
}

Result<double> CudaBackend::time_per_call(const std::function<void()>& fn, int reps) {
  JETCHAT_TRY(status_);
  fn();  // warm-up: sizes every scratch buffer before recording
  JETCHAT_CUDA_TRY(cudaStreamSynchronize(stream_));
  JETCHAT_TRY(status_);
  // Recorded and replayed, so the time is the kernels' and not the launches'.
  cudaGraph_t graph = nullptr;
  JETCHAT_CUDA_TRY(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  capturing_ = true;
  for (int i = 0; i < reps; ++i) fn();
  capturing_ = false;
  JETCHAT_CUDA_TRY(cudaStreamEndCapture(stream_, &graph));
  JETCHAT_TRY(status_);
  cudaGraphExec_t exec = nullptr;
  JETCHAT_CUDA_TRY(cudaGraphInstantiate(&exec, graph, 0));
  cudaGraphDestroy(graph);
  cudaEvent_t t0, t1;
  cudaEventCreate(&t0);
  cudaEventCreate(&t1);
  cudaGraphLaunch(exec, stream_);  // warm-up replay
  cudaEventRecord(t0, stream_);
  cudaGraphLaunch(exec, stream_);
  cudaEventRecord(t1, stream_);
  const cudaError_t e = cudaEventSynchronize(t1);
  float ms = 0;
  cudaEventElapsedTime(&ms, t0, t1);
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  cudaGraphExecDestroy(exec);
  if (e != cudaSuccess) return cuda_status(e, "timed replay", __FILE__, __LINE__);
  return double(ms) * 1e-3 / reps;
}

}  // namespace cuda
}  // namespace jetchat
