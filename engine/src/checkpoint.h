// A Hugging Face model directory's weights: one or more safetensors shards, found through
// model.safetensors.index.json or by listing *.safetensors. Pickle checkpoints are refused, never unpickled.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "jetchat/status.h"
#include "safetensors.h"

namespace jetchat {

class Checkpoint {
 public:
  static Result<std::unique_ptr<Checkpoint>> open(const std::string& model_dir);

  const std::string& dir() const { return dir_; }
  const StTensor* find(const std::string& name) const;
  const std::string& file_of(const std::string& name) const;  // for error messages
  int64_t total_bytes() const;
  std::vector<std::string> tensor_names() const;

  // A required float tensor ([rows, cols], or [cols] when rows == 0) as a HostMatrix; a missing tensor, another
  // shape or a non-float dtype is an error naming the file and the tensor.
  Result<HostMatrix> matrix(const std::string& name, int64_t rows, int64_t cols) const;
  Result<HostMatrix> vector(const std::string& name, int64_t n) const { return matrix(name, 0, n); }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::pair<const StTensor*, size_t>> tensors_;  // name -> (tensor, file index)
};

// True for safetensors dtypes the dense path runs (F32, F16, BF16); sets *out.
bool to_dense_dtype(StDType st, DType* out);

}  // namespace jetchat
