// 4-bit linear weights from AWQ (GEMM) and GPTQ checkpoints, validated against config.json and turned into
// HostQ4Matrix views for Backend::upload_q4. Fused matrices (q|k|v, gate|up) and InternLM2's grouped wqkv are
// assembled along the output dimension in per-matrix temporaries; nothing holds a second copy of the model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend.h"
#include "checkpoint.h"
#include "model_config.h"

namespace jetchat {

// A HostQ4Matrix and, when it had to be assembled or converted, the buffers it points into.
struct Q4Host {
  HostQ4Matrix m;
  std::vector<int32_t> qweight, qzeros;  // AWQ GEMM layout, when owned
  std::vector<uint8_t> scales;           // m.scales_dtype elements, when owned
};

// Output rows [first, first + count) of part `part`, in the order the segments are listed.
struct Q4Segment {
  int part;
  int64_t first, count;
};

class Q4Reader {
 public:
  Q4Reader(const Checkpoint& ck, const QuantConfig& q) : ck_(ck), q_(q) {}

  // Refuses settings we cannot run (another bit width, AWQ GEMV packing, act-order GPTQ), naming `where`.
  static Status check_config(const QuantConfig& q, const std::string& where);

  bool has(const std::string& prefix) const { return ck_.find(prefix + ".qweight") != nullptr; }

  // <prefix>.{qweight,qzeros,scales} of an nn.Linear [rows = out, cols = in].
  Result<Q4Host> read(const std::string& prefix, int64_t rows, int64_t cols) const;

  // Several linears of the same `cols` into one matrix made of the listed output-row segments (each a multiple
  // of 8 rows, the AWQ packing unit).
  Result<Q4Host> assemble(const std::vector<std::string>& prefixes, const std::vector<int64_t>& rows, int64_t cols,
                          const std::vector<Q4Segment>& segments) const;

 private:
  Result<Q4Host> read_gptq(const std::string& prefix, int64_t rows, int64_t cols, int group) const;
  Status bad(const std::string& tensor, const std::string& what) const;

  const Checkpoint& ck_;
  const QuantConfig& q_;
};

}  // namespace jetchat
