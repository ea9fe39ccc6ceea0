// Writes GGUF v3 files: metadata, then tensor infos, then the tensors' data at the file's alignment (32). Used by
// the HF -> GGUF converter (jetchat-cli convert-gguf) and by tests that need GGUF models. Holds every tensor in
// memory until write(): meant for test- and benchmark-sized models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf.h"
#include "jetchat/status.h"

namespace jetchat {

class GgufWriter {
 public:
  void add_string(const std::string& key, const std::string& v);
  void add_u32(const std::string& key, uint32_t v);
  void add_f32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_strings(const std::string& key, const std::vector<std::string>& v);
  void add_f32s(const std::string& key, const std::vector<float>& v);
  void add_i32s(const std::string& key, const std::vector<int32_t>& v);

  // dims in ggml order (innermost first: an HF [out, in] weight is {in, out}); `data` is the encoded blocks.
  void add_tensor(const std::string& name, std::vector<uint64_t> dims, GgmlType type, std::vector<uint8_t> data);

  Status write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
    GgmlType type;
    std::vector<uint8_t> data;
  };
  void key(const std::string& k, GgufType t);
  std::string kv_;  // encoded metadata entries
  uint64_t n_kv_ = 0;
  std::vector<Tensor> tensors_;
};

}  // namespace jetchat
