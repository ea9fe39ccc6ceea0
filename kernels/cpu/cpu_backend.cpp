#include "cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "half.h"
#include "kv_quant.h"

namespace jetchat {

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& opts) {
  return std::make_unique<cpu::CpuBackend>(opts);
}

namespace cpu {
namespace {

constexpr size_t kAlign = 64;  // a cache line; also what AVX-512 loads like

float to_f32(DType t, const void* p, int64_t i) {
  switch (t) {
    case DType::kF32: return static_cast<const float*>(p)[i];
    case DType::kF16: return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::kBF16: return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::kQ4:
    case DType::kQ8:
    case DType::kI8: break;
  }
  return NAN;
}

void store_from_f32(DType t, void* p, int64_t i, float v) {
  switch (t) {
    case DType::kF32: static_cast<float*>(p)[i] = v; break;
    case DType::kF16: static_cast<uint16_t*>(p)[i] = f32_to_f16(v); break;
    case DType::kBF16: static_cast<uint16_t*>(p)[i] = f32_to_bf16(v); break;
    case DType::kQ4:
    case DType::kQ8:
    case DType::kI8: break;
  }
}

// The layout of a kQ4 or kQ8 tensor's rows (Tensor::extra).
struct GroupedLayout {
  size_t stride;
  int group;
  int64_t groups;
};
GroupedLayout layout_of(const Tensor& w) {
  if (w.dtype == DType::kQ4) {
    const auto& l = *static_cast<const Q4Layout*>(w.extra);
    return {l.row_stride(), l.group, l.groups()};
  }
  const auto& l = *static_cast<const Q8Layout*>(w.extra);
  return {l.row_stride(), l.group, l.groups()};
}

}  // namespace

CpuBackend::CpuBackend(const CpuBackendOptions& opts)
    : pool_(opts.threads), vec_(vec_kernels_best()), q4_(q4_kernels_best()), q8_(q8_kernels_best()) {
  // JETCHAT_Q4_ACT=int8-all: int8 activations for prefill too (perplexity of the int8 numerics; slower);
  // =f32: none for decode either.
  const char* act = std::getenv("JETCHAT_Q4_ACT");
  q4_int8_all_ = act && std::string(act) == "int8-all";
  q8_int8_ = !(act && std::string(act) == "f32");
}
CpuBackend::~CpuBackend() = default;

std::string CpuBackend::name() const {
  return std::string("cpu (") + vec_.isa + ", q4 " + q4_.isa + ", q8 " + q8_.isa + ", " +
         std::to_string(pool_.size()) + " threads)";
}

Result<Tensor> CpuBackend::alloc(DType dtype, int64_t rows, int64_t cols) {
  if (dtype == DType::kQ4 || dtype == DType::kQ8)
    return Status(StatusCode::kInvalidArgument, "alloc: use upload_q4 or upload_quant for quantised weights");
  Tensor t;
  t.dtype = dtype;
  t.rows = rows;
  t.cols = cols;
  t.bytes = size_t(rows) * size_t(cols) * dtype_size(dtype);
  const size_t padded = (std::max<size_t>(t.bytes, 1) + kAlign - 1) / kAlign * kAlign;
  t.data = std::aligned_alloc(kAlign, padded);
  if (!t.data)
    return Status(StatusCode::kOutOfMemory, "cpu backend: cannot allocate " + std::to_string(t.bytes) + " bytes");
  bytes_in_use_ += int64_t(t.bytes);
  return t;
}

Result<Tensor> CpuBackend::upload(const HostMatrix& m, DType storage) {
  auto t = alloc(storage, m.rows, m.cols);
  if (!t) return t;
  const int64_t n = m.rows * m.cols;
  if (m.dtype == storage) {
    std::memcpy(t->data, m.data, t->bytes);
  } else {
    void* dst = t->data;
    pool_.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) store_from_f32(storage, dst, i, to_f32(m.dtype, m.data, i));
    }, 4096);
  }
  return t;
}

Result<Tensor> CpuBackend::upload_q4(const HostQ4Matrix& m) {
  if (const std::string why = q4_layout_problem(m); !why.empty())
    return Status(StatusCode::kInvalidArgument, "cpu backend: 4-bit weight [" + std::to_string(m.rows) + ", " +
                                                    std::to_string(m.cols) + "]: " + why);
  const Q4Layout layout{m.rows, m.cols, m.group_size};
  auto t = alloc_packed(DType::kQ4, m.rows, m.cols, layout.bytes());
  if (!t) return t;
  t->extra = new Q4Layout(layout);
  q4_repack_awq(m, static_cast<uint8_t*>(t->data), pool_);
  return t;
}

Result<Tensor> CpuBackend::upload_quant(const HostQuantMatrix& m) {
  const std::string why = m.bits == 4 ? q4_quant_layout_problem(m) : q8_layout_problem(m);
  if (!why.empty())
    return Status(StatusCode::kInvalidArgument, "cpu backend: " + std::to_string(m.bits) + "-bit weight [" +
                                                    std::to_string(m.rows) + ", " + std::to_string(m.cols) +
                                                    "]: " + why);
  if (m.bits == 4) {
    const Q4Layout layout{m.rows, m.cols, m.group_size};
    auto t = alloc_packed(DType::kQ4, m.rows, m.cols, layout.bytes());
    if (!t) return t;
    t->extra = new Q4Layout(layout);
    q4_repack_quant(m, static_cast<uint8_t*>(t->data), pool_);
    return t;
  }
  const Q8Layout layout{m.rows, m.cols, m.group_size};
  auto t = alloc_packed(DType::kQ8, m.rows, m.cols, layout.bytes());
  if (!t) return t;
  t->extra = new Q8Layout(layout);
  q8_repack(m, static_cast<uint8_t*>(t->data), pool_);
  return t;
}

Result<Tensor> CpuBackend::alloc_packed(DType dtype, int64_t rows, int64_t cols, size_t bytes) {
  Tensor t;
  t.dtype = dtype;
  t.rows = rows;
  t.cols = cols;
  t.bytes = bytes;
  t.data = std::aligned_alloc(kAlign, (t.bytes + kAlign - 1) / kAlign * kAlign);
  if (!t.data)
    return Status(StatusCode::kOutOfMemory, "cpu backend: cannot allocate " + std::to_string(t.bytes) + " bytes");
  bytes_in_use_ += int64_t(t.bytes);
  return t;
}

void CpuBackend::free(Tensor& t) {
  if (t.data) {
    std::free(t.data);
    bytes_in_use_ -= int64_t(t.bytes);
  }
  if (t.dtype == DType::kQ4) delete static_cast<Q4Layout*>(t.extra);
  if (t.dtype == DType::kQ8) delete static_cast<Q8Layout*>(t.extra);
  t = Tensor{};
}

void CpuBackend::read(const Tensor& t, float* host) {
  if (t.dtype == DType::kQ4) {
    const auto& l = *static_cast<const Q4Layout*>(t.extra);
    for (int64_t r = 0; r < t.rows; ++r)
      q4_dequant_row(l, static_cast<const uint8_t*>(t.data) + size_t(r) * l.row_stride(), host + r * t.cols);
    return;
  }
  if (t.dtype == DType::kQ8) {
    const auto& l = *static_cast<const Q8Layout*>(t.extra);
    for (int64_t r = 0; r < t.rows; ++r)
      q8_dequant_row(l, static_cast<const uint8_t*>(t.data) + size_t(r) * l.row_stride(), host + r * t.cols);
    return;
  }
  if (t.dtype == DType::kF32) return void(std::memcpy(host, t.data, t.bytes));  // logits, every step
  // Over the pool: reading a whole output head back (head_q8.h) is tens of millions of elements.
  pool_.parallel_for(t.rows * t.cols, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) host[i] = to_f32(t.dtype, t.data, i);
  }, 4096);
}

void CpuBackend::embed(Tensor& out, const Tensor& table, const int32_t* ids, int n) {
  float* o = static_cast<float*>(out.data);
  for (int i = 0; i < n; ++i) {
    const size_t row = size_t(ids[i]) * size_t(table.cols);
    for (int64_t j = 0; j < table.cols; ++j) o[i * out.cols + j] = to_f32(table.dtype, table.data, int64_t(row) + j);
  }
}

void CpuBackend::rmsnorm(Tensor& out, const Tensor& x, const Tensor& w, float eps) {
  const int64_t d = x.cols;
  const float* xs = static_cast<const float*>(x.data);
  float* os = static_cast<float*>(out.data);
  pool_.parallel_for(x.rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = xs + r * d;
      double ss = 0;
      for (int64_t j = 0; j < d; ++j) ss += double(xr[j]) * xr[j];
      const float inv = 1.0f / std::sqrt(float(ss / double(d)) + eps);
      for (int64_t j = 0; j < d; ++j) os[r * d + j] = xr[j] * inv * to_f32(w.dtype, w.data, j);
    }
  });
}

void CpuBackend::matmul_grouped(Tensor& y, const Tensor& x, const Tensor& w) {
  const GroupedLayout l = layout_of(w);
  const int64_t n = x.rows, k = w.cols, out = w.rows, groups = l.groups;
  const float* xs = static_cast<const float*>(x.data);
  float* ys = static_cast<float*>(y.data);
  const uint8_t* wb = static_cast<const uint8_t*>(w.data);
  const size_t stride = l.stride;
  const bool q4 = w.dtype == DType::kQ4;
  const Q4DotTileFn dot = q4 ? q4_.dot : q8_.dot;
  const Q4DotI8Fn dot_i8 = q4 ? q4_.dot_i8 : q8_int8_ ? q8_.dot_i8 : nullptr;
  if (dot_i8 && (n == 1 || q4_int8_all_)) {
    // Decode (issue #3): the activation row quantised to int8 once, integer dot products per weight row.
    for (int64_t t = 0; t < n; ++t) {
      q4_quantize_x(xs + t * k, k, l.group, q4_xq_);
      float* yt = ys + t * out;
      pool_.parallel_for(out, [&](int64_t r0, int64_t r1) {
        dot_i8(wb + size_t(r0) * stride, stride, int(r1 - r0), k, l.group, q4_xq_.q.data(), q4_xq_.d.data(),
               q4_xq_.xsum.data(), yt + r0);
      }, 16);
    }
    return;
  }
  // The minimums enter as min * sum(x over the group): summed once here for all output rows.
  q4_xsum_.resize(size_t(n * groups));
  for (int64_t t = 0; t < n; ++t)
    for (int64_t g = 0; g < groups; ++g) {
      float s = 0;
      for (int64_t j = g * l.group; j < (g + 1) * l.group; ++j) s += xs[t * k + j];
      q4_xsum_[size_t(t * groups + g)] = s;
    }
  pool_.parallel_for(out, [&](int64_t r0, int64_t r1) {
    float tile[kMaxTile];
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t t0 = 0; t0 < n; t0 += kMaxTile) {
        const int nt = int(std::min<int64_t>(kMaxTile, n - t0));
        dot(wb + size_t(r) * stride, k, l.group, xs + t0 * k, k, q4_xsum_.data() + t0 * groups, nt, tile);
        for (int t = 0; t < nt; ++t) ys[(t0 + t) * out + r] = tile[t];
      }
  }, 16);
}

void CpuBackend::matmul(Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias) {
  const int64_t n = x.rows, out = w.rows;
  float* ys = static_cast<float*>(y.data);
  if (w.dtype == DType::kQ4 || w.dtype == DType::kQ8) {
    matmul_grouped(y, x, w);
  } else {
    matmul_dense(y, x, w);
  }
  if (bias) {
    for (int64_t t = 0; t < n; ++t)
      for (int64_t r = 0; r < out; ++r) ys[t * out + r] += to_f32(bias->dtype, bias->data, r);
  }
}

void CpuBackend::matmul_dense(Tensor& y, const Tensor& x, const Tensor& w) {
  const int64_t n = x.rows, k = w.cols, out = w.rows;
  const float* xs = static_cast<const float*>(x.data);
  float* ys = static_cast<float*>(y.data);
  DotTileFn dot = w.dtype == DType::kF16 ? vec_.dot_f16 : w.dtype == DType::kBF16 ? vec_.dot_bf16 : vec_.dot_f32;
  const size_t row_bytes = size_t(k) * dtype_size(w.dtype);
  const char* wb = static_cast<const char*>(w.data);
  // Rows of W are split across threads; each weight row is streamed once and multiplied with up to kMaxTile
  // activation rows at a time, so W is read from memory once per kMaxTile tokens.
  pool_.parallel_for(out, [&](int64_t r0, int64_t r1) {
    float tile[kMaxTile];
    for (int64_t r = r0; r < r1; ++r) {
      const void* wr = wb + size_t(r) * row_bytes;
      for (int64_t t0 = 0; t0 < n; t0 += kMaxTile) {
        const int nt = int(std::min<int64_t>(kMaxTile, n - t0));
        dot(wr, xs + t0 * k, k, nt, k, tile);
        for (int t = 0; t < nt; ++t) ys[(t0 + t) * out + r] = tile[t];
      }
    }
  }, 16);
}

void CpuBackend::rope(Tensor& qkv, const AttentionShape& s, int pos0, const std::vector<float>& inv_freq) {
  const int half = int(inv_freq.size());
  const int heads = s.heads + s.kv_heads;
  float* base = static_cast<float*>(qkv.data);
  pool_.parallel_for(qkv.rows, [&](int64_t b, int64_t e) {
    std::vector<float> cs(half), sn(half);
    for (int64_t t = b; t < e; ++t) {
      const double pos = double(pos0 + t);
      for (int j = 0; j < half; ++j) {
        // Angles in double: at position 32K an f32 product loses the low bits of the phase.
        const double a = pos * double(inv_freq[j]);
        cs[j] = float(std::cos(a));
        sn[j] = float(std::sin(a));
      }
      float* row = base + t * qkv.cols;
      for (int h = 0; h < heads; ++h) {
        float* v = row + h * s.head_dim;
        for (int j = 0; j < half; ++j) {
          const float x0 = v[j], x1 = v[j + half];
          v[j] = x0 * cs[j] - x1 * sn[j];
          v[j + half] = x1 * cs[j] + x0 * sn[j];
        }
      }
    }
  });
}

namespace {

// Stores one token's K or V heads (kv_heads x D f32) at row `pos` of a cache of the layer's element type; an
// int8 cache gets each head's scale too (kv_quant.h).
void kv_store(const Tensor& cache, const Tensor& scales, int64_t pos, const float* x, int kv_heads, int D) {
  const int64_t kv_dim = int64_t(kv_heads) * D;
  switch (cache.dtype) {
    case DType::kF32: std::memcpy(static_cast<float*>(cache.data) + pos * kv_dim, x, size_t(kv_dim) * 4); break;
    case DType::kF16:
      for (int64_t i = 0; i < kv_dim; ++i) static_cast<uint16_t*>(cache.data)[pos * kv_dim + i] = f32_to_f16(x[i]);
      break;
    case DType::kI8:
      for (int h = 0; h < kv_heads; ++h) {
        const float* xh = x + int64_t(h) * D;
        float amax = 0.0f;
        for (int d = 0; d < D; ++d) amax = std::max(amax, std::fabs(xh[d]));
        const float inv = kv_int8_inv_scale(amax);
        int8_t* q = static_cast<int8_t*>(cache.data) + pos * kv_dim + int64_t(h) * D;
        for (int d = 0; d < D; ++d) q[d] = kv_int8_quantize(xh[d], inv);
        static_cast<float*>(scales.data)[pos * kv_heads + h] = kv_int8_scale(amax);
      }
      break;
    default: break;  // refused by kv_dtype_supported before any cache exists
  }
}

// Head h of cache row `pos` as f32: a pointer into an f32 cache, else converted into buf[D].
const float* kv_head(const Tensor& cache, const Tensor& scales, int64_t pos, int h, int kv_heads, int D, float* buf) {
  const int64_t at = pos * kv_heads * D + int64_t(h) * D;
  switch (cache.dtype) {
    case DType::kF16:
      for (int d = 0; d < D; ++d) buf[d] = f16_to_f32(static_cast<const uint16_t*>(cache.data)[at + d]);
      return buf;
    case DType::kI8: {
      const float scale = static_cast<const float*>(scales.data)[pos * kv_heads + h];
      for (int d = 0; d < D; ++d) buf[d] = float(static_cast<const int8_t*>(cache.data)[at + d]) * scale;
      return buf;
    }
    default: return static_cast<const float*>(cache.data) + at;
  }
}

}  // namespace

void CpuBackend::attention(Tensor& out, const Tensor& qkv, KvLayer& kv, const AttentionShape& s, int pos0) {
  const int n = int(qkv.rows), D = s.head_dim, H = s.heads, Hkv = s.kv_heads, group = H / Hkv;
  const int64_t kv_dim = int64_t(Hkv) * D;
  const float* q_all = static_cast<const float*>(qkv.data);
  for (int t = 0; t < n; ++t) {
    const float* row = q_all + t * qkv.cols;
    kv_store(kv.k, kv.k_scale, pos0 + t, row + int64_t(H) * D, Hkv, D);
    kv_store(kv.v, kv.v_scale, pos0 + t, row + int64_t(H) * D + kv_dim, Hkv, D);
  }
  const float scale = 1.0f / std::sqrt(float(D));
  float* o = static_cast<float*>(out.data);
  pool_.parallel_for(int64_t(n) * H, [&](int64_t b, int64_t e) {
    std::vector<float> score, buf(static_cast<size_t>(D));  // buf: a converted f16 or int8 head
    for (int64_t job = b; job < e; ++job) {
      const int t = int(job / H), h = int(job % H), kvh = h / group;
      const int len = pos0 + t + 1;  // causal: keys 0..pos0+t
      const float* q = q_all + t * qkv.cols + int64_t(h) * D;
      score.resize(len);
      float mx = -INFINITY;
      for (int p = 0; p < len; ++p) {
        // The SIMD dot product: a plain loop is a serial chain of D adds (no reordering without -ffast-math).
        float dot;
        if (kv.k.dtype == DType::kF16)  // converted inside the SIMD loop
          vec_.dot_f16(static_cast<const uint16_t*>(kv.k.data) + p * kv_dim + int64_t(kvh) * D, q, D, 1, D, &dot);
        else
          vec_.dot_f32(kv_head(kv.k, kv.k_scale, p, kvh, Hkv, D, buf.data()), q, D, 1, D, &dot);
        score[p] = dot * scale;
        mx = std::max(mx, score[p]);
      }
      float sum = 0;
      for (int p = 0; p < len; ++p) sum += (score[p] = std::exp(score[p] - mx));
      const float inv = 1.0f / sum;
      float* od = o + t * out.cols + int64_t(h) * D;
      std::fill(od, od + D, 0.0f);
      for (int p = 0; p < len; ++p) {
        const float* v = kv_head(kv.v, kv.v_scale, p, kvh, Hkv, D, buf.data());
        const float w = score[p] * inv;
        for (int d = 0; d < D; ++d) od[d] += w * v[d];
      }
    }
  });
}

void CpuBackend::silu_mul(Tensor& out, const Tensor& gate_up) {
  const int64_t f = out.cols;
  const float* g = static_cast<const float*>(gate_up.data);
  float* o = static_cast<float*>(out.data);
  for (int64_t t = 0; t < out.rows; ++t)
    for (int64_t j = 0; j < f; ++j) {
      const float a = g[t * 2 * f + j], u = g[t * 2 * f + f + j];
      o[t * f + j] = a / (1.0f + std::exp(-a)) * u;
    }
}

void CpuBackend::add(Tensor& x, const Tensor& y) {
  float* a = static_cast<float*>(x.data);
  const float* b = static_cast<const float*>(y.data);
  const int64_t n = x.rows * x.cols;
  for (int64_t i = 0; i < n; ++i) a[i] += b[i];
}

}  // namespace cpu
}  // namespace jetchat
