#include "q4_weights.h"

#include <cstring>

namespace jetchat {
namespace {

// AWQ GEMM packing: nibble i of a word holds output column 8c + kAwqOrder[i] (FORMATS.md section 1).
constexpr int kAwqOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

bool scales_dtype(StDType st, DType* out) {
  return (st == StDType::kF16 || st == StDType::kBF16 || st == StDType::kF32) && to_dense_dtype(st, out);
}

// One AWQ word from the nibble values of 8 consecutive output columns.
int32_t awq_word(const uint8_t* nibbles_by_column) {
  uint32_t w = 0;
  for (int i = 0; i < 8; ++i) w |= uint32_t(nibbles_by_column[kAwqOrder[i]] & 0xF) << (4 * i);
  return int32_t(w);
}

}  // namespace

Status Q4Reader::check_config(const QuantConfig& q, const std::string& where) {
  if (q.method.empty()) return Status::ok();
  if (q.method != "awq" && q.method != "gptq")
    return Status(StatusCode::kUnsupported, where + ": quantization method '" + q.method +
                                                "' is not supported (JetChat runs AWQ GEMM and GPTQ 4-bit)");
  if (q.bits != 4)
    return Status(StatusCode::kUnsupported, where + ": " + std::to_string(q.bits) + "-bit " + q.method +
                                                " weights are not supported, only 4-bit");
  if (q.group_size == 0 || q.group_size < -1)
    return Status(StatusCode::kInvalidFormat, where + ": quantization group_size " + std::to_string(q.group_size) +
                                                  " is not valid (a positive size, or -1 for whole rows)");
  if (q.method == "awq") {
    if (!q.version.empty() && q.version != "gemm")
      return Status(StatusCode::kUnsupported, where + ": AWQ version '" + q.version +
                                                  "' packs weights differently; only 'gemm' checkpoints load");
    if (!q.zero_point)
      return Status(StatusCode::kUnsupported, where + ": AWQ without zero points (zero_point false) is not supported");
  } else if (q.desc_act) {
    return Status(StatusCode::kUnsupported,
                  where + ": GPTQ with act-order (desc_act true) permutes the input groups and is not supported; "
                          "use a checkpoint quantized without act-order, or an AWQ one");
  }
  return Status::ok();
}

Status Q4Reader::bad(const std::string& tensor, const std::string& what) const {
  return Status(StatusCode::kInvalidFormat, ck_.file_of(tensor) + ": tensor '" + tensor + "' " + what);
}

Result<Q4Host> Q4Reader::read(const std::string& prefix, int64_t rows, int64_t cols) const {
  const int group = q_.group_size < 0 ? int(cols) : q_.group_size;  // -1: one group per row
  const std::string qw_name = prefix + ".qweight", qz_name = prefix + ".qzeros", sc_name = prefix + ".scales";
  if (rows % 8)
    return bad(qw_name, "has " + std::to_string(rows) + " outputs, not a multiple of the 8 packed per int32");
  if (cols % group)
    return bad(qw_name, "has " + std::to_string(cols) + " inputs, not a multiple of group_size " +
                            std::to_string(group) + " from config.json");
  if (q_.method == "gptq") return read_gptq(prefix, rows, cols, group);
  const StTensor* qw = ck_.find(qw_name);
  const StTensor* qz = ck_.find(qz_name);
  const StTensor* sc = ck_.find(sc_name);
  if (!qw) return Status(StatusCode::kNotFound, ck_.dir() + ": tensor '" + qw_name + "' is missing");
  if (!qz)
    return Status(StatusCode::kNotFound, ck_.dir() + ": tensor '" + qz_name +
                                             "' is missing (AWQ checkpoints need zero points beside each qweight)");
  if (!sc) return Status(StatusCode::kNotFound, ck_.dir() + ": tensor '" + sc_name + "' is missing");
  Q4Host h;
  h.m = {rows, cols, group, nullptr, nullptr, sc->data, DType::kF16};
  if (qw->dtype != StDType::kI32) return bad(qw_name, std::string("is ") + st_dtype_name(qw->dtype) + ", not I32");
  if (qz->dtype != StDType::kI32) return bad(qz_name, std::string("is ") + st_dtype_name(qz->dtype) + ", not I32");
  if (!scales_dtype(sc->dtype, &h.m.scales_dtype))
    return bad(sc_name, std::string("is ") + st_dtype_name(sc->dtype) + "; scales must be F16, BF16 or F32");
  const int64_t groups = cols / group;
  const std::vector<int64_t> want_qw{cols, rows / 8}, want_qz{groups, rows / 8}, want_sc{groups, rows};
  if (qw->shape != want_qw)
    return bad(qw_name, "has shape " + shape_str(qw->shape) + " but config.json implies " + shape_str(want_qw) +
                            " (AWQ GEMM: [in_features, out_features / 8])");
  if (sc->shape.size() == 2 && sc->shape[1] == rows && sc->shape[0] != groups)
    return bad(sc_name, "has " + std::to_string(sc->shape[0]) + " groups but group_size " + std::to_string(group) +
                            " from config.json implies " + std::to_string(groups) + " for " + std::to_string(cols) +
                            " inputs: wrong group size");
  if (sc->shape != want_sc)
    return bad(sc_name, "has shape " + shape_str(sc->shape) + " but config.json implies " + shape_str(want_sc));
  if (qz->shape != want_qz)
    return bad(qz_name, "has shape " + shape_str(qz->shape) + " but config.json implies " + shape_str(want_qz));
  // Our writer aligns tensor data; a foreign file may not, and int32 must not be read misaligned.
  auto ints = [](const StTensor* t, std::vector<int32_t>& own) {
    if (reinterpret_cast<uintptr_t>(t->data) % alignof(int32_t) == 0) return reinterpret_cast<const int32_t*>(t->data);
    own.resize(t->nbytes / 4);
    std::memcpy(own.data(), t->data, t->nbytes);
    return static_cast<const int32_t*>(own.data());
  };
  h.m.qweight = ints(qw, h.qweight);
  h.m.qzeros = ints(qz, h.qzeros);
  if (reinterpret_cast<uintptr_t>(sc->data) % st_dtype_size(sc->dtype)) {
    h.scales.assign(sc->data, sc->data + sc->nbytes);
    h.m.scales = h.scales.data();
  }
  return h;
}

// GPTQ (AutoGPTQ cuda-old layout): qweight [in/8, out] packed along the input, qzeros [groups, out/8] in plain
// order storing zero - 1. Converted to the AWQ layout so that one repack serves both.
Result<Q4Host> Q4Reader::read_gptq(const std::string& prefix, int64_t rows, int64_t cols, int group) const {
  const std::string qw_name = prefix + ".qweight", qz_name = prefix + ".qzeros", sc_name = prefix + ".scales";
  const StTensor* qw = ck_.find(qw_name);
  const StTensor* qz = ck_.find(qz_name);
  const StTensor* sc = ck_.find(sc_name);
  if (!qw || !qz || !sc)
    return Status(StatusCode::kNotFound, ck_.dir() + ": GPTQ layer '" + prefix + "' needs qweight, qzeros and scales");
  const int64_t groups = cols / group;
  Q4Host h;
  h.m = {rows, cols, group, nullptr, nullptr, nullptr, DType::kF16};
  if (qw->dtype != StDType::kI32 || qw->shape != std::vector<int64_t>{cols / 8, rows})
    return bad(qw_name, "must be I32 [" + std::to_string(cols / 8) + ", " + std::to_string(rows) + "] (GPTQ)");
  if (qz->dtype != StDType::kI32 || qz->shape != std::vector<int64_t>{groups, rows / 8})
    return bad(qz_name, "must be I32 [" + std::to_string(groups) + ", " + std::to_string(rows / 8) +
                            "] for group_size " + std::to_string(group));
  if (!scales_dtype(sc->dtype, &h.m.scales_dtype) || sc->shape != std::vector<int64_t>{groups, rows})
    return bad(sc_name, "must be F16/BF16/F32 [" + std::to_string(groups) + ", " + std::to_string(rows) + "]");
  if (const StTensor* gi = ck_.find(prefix + ".g_idx")) {
    std::vector<int32_t> g(size_t(gi->nbytes / 4));
    std::memcpy(g.data(), gi->data, gi->nbytes);
    for (int64_t k = 0; k < int64_t(g.size()); ++k)
      if (g[size_t(k)] != k / group)
        return Status(StatusCode::kUnsupported, ck_.file_of(prefix + ".g_idx") + ": '" + prefix +
                                                    ".g_idx' permutes the groups (act-order GPTQ), which is not supported");
  }
  auto word = [](const StTensor* t, int64_t i) {
    int32_t v;
    std::memcpy(&v, t->data + i * 4, 4);
    return uint32_t(v);
  };
  h.qweight.resize(size_t(cols * rows / 8));
  uint8_t col[8];
  for (int64_t k = 0; k < cols; ++k)
    for (int64_t c = 0; c < rows / 8; ++c) {
      for (int j = 0; j < 8; ++j) col[j] = uint8_t(word(qw, (k / 8) * rows + c * 8 + j) >> (4 * (k % 8)));
      h.qweight[size_t(k * rows / 8 + c)] = awq_word(col);
    }
  h.qzeros.resize(size_t(groups * rows / 8));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t c = 0; c < rows / 8; ++c) {
      const uint32_t w = word(qz, g * rows / 8 + c);
      for (int j = 0; j < 8; ++j) col[j] = uint8_t(((w >> (4 * j)) + 1) & 0xF);  // stored zero - 1
      h.qzeros[size_t(g * rows / 8 + c)] = awq_word(col);
    }
  h.scales.assign(sc->data, sc->data + sc->nbytes);
  h.m.qweight = h.qweight.data();
  h.m.qzeros = h.qzeros.data();
  h.m.scales = h.scales.data();
  return h;
}

Result<Q4Host> Q4Reader::assemble(const std::vector<std::string>& prefixes, const std::vector<int64_t>& rows,
                                  int64_t cols, const std::vector<Q4Segment>& segments) const {
  std::vector<Q4Host> parts;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    auto p = read(prefixes[i], rows[i], cols);
    if (!p) return p.status();
    if (i && p->m.scales_dtype != parts[0].m.scales_dtype)
      return bad(prefixes[i] + ".scales", std::string("is ") + dtype_name(p->m.scales_dtype) + " but '" +
                                              prefixes[0] + ".scales' is " + dtype_name(parts[0].m.scales_dtype));
    parts.push_back(std::move(p.value()));
  }
  if (prefixes.size() == 1 && segments.size() == 1 && segments[0].first == 0 && segments[0].count == rows[0])
    return std::move(parts[0]);
  int64_t total = 0;
  for (const auto& s : segments) {
    if (s.first % 8 || s.count % 8)
      return Status(StatusCode::kUnsupported, ck_.file_of(prefixes[size_t(s.part)] + ".qweight") + ": '" +
                                                  prefixes[size_t(s.part)] +
                                                  "' must be split at multiples of 8 outputs (head_dim % 8 != 0)");
    total += s.count;
  }
  const HostQ4Matrix& p0 = parts[0].m;
  const int64_t groups = cols / p0.group_size, words = total / 8;
  const size_t esize = dtype_size(p0.scales_dtype);
  Q4Host h;
  h.qweight.resize(size_t(cols * words));
  h.qzeros.resize(size_t(groups * words));
  h.scales.resize(size_t(groups * total) * esize);
  int64_t at = 0;  // output row of the assembled matrix
  for (const auto& s : segments) {
    const HostQ4Matrix& src = parts[size_t(s.part)].m;
    const int64_t src_words = src.rows / 8, n = s.count / 8;
    for (int64_t k = 0; k < cols; ++k)
      std::memcpy(&h.qweight[size_t(k * words + at / 8)], src.qweight + k * src_words + s.first / 8, size_t(n) * 4);
    for (int64_t g = 0; g < groups; ++g) {
      std::memcpy(&h.qzeros[size_t(g * words + at / 8)], src.qzeros + g * src_words + s.first / 8, size_t(n) * 4);
      std::memcpy(&h.scales[size_t(g * total + at) * esize],
                  static_cast<const uint8_t*>(src.scales) + size_t(g * src.rows + s.first) * esize,
                  size_t(s.count) * esize);
    }
    at += s.count;
  }
  h.m = {total, cols, p0.group_size, h.qweight.data(), h.qzeros.data(), h.scales.data(), p0.scales_dtype};
  return h;
}

}  // namespace jetchat
