// safetensors files: a validating reader over a memory map, and a writer (for the converters and quantizer).
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}}, then data.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "jetchat/status.h"
#include "mapped_file.h"

namespace jetchat {

enum class StDType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

const char* st_dtype_name(StDType t);
size_t st_dtype_size(StDType t);

struct StTensor {
  std::string name;
  StDType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // inside the mapped file
  size_t nbytes = 0;
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Maps and validates the whole header: every offset inside the file, sizes matching shape x dtype, no two
  // tensors overlapping. Errors name the file and the tensor.
  static Result<std::unique_ptr<SafetensorsFile>> open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  const StTensor* find(const std::string& name) const;
  const std::vector<StTensor>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<StTensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors in the order added with 8-byte aligned data (the header is padded with spaces, as the reference
// implementation does). Two ways to use it:
//   in memory: add() every tensor with its data, then write(path);
//   streaming (files larger than memory): declare() every tensor, begin(path) writes the header, then append()
//   each declared tensor's data in the declared order, then finish().
class SafetensorsWriter {
 public:
  void add(const std::string& name, StDType dtype, std::vector<int64_t> shape, const void* data, size_t nbytes);
  void declare(const std::string& name, StDType dtype, std::vector<int64_t> shape);
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  Status write(const std::string& path);
  size_t size() const { return tensors_.size(); }

  Status begin(const std::string& path);
  Status append(const std::string& name, const void* data, size_t nbytes);
  Status finish();

 private:
  struct Pending {
    std::string name;
    StDType dtype;
    std::vector<int64_t> shape;
    size_t nbytes = 0;
    std::string bytes;  // in-memory mode only
  };
  std::vector<Pending> tensors_;
  std::map<std::string, std::string> metadata_;
  // Streaming state.
  std::unique_ptr<std::ofstream> out_;
  std::string path_;
  std::vector<uint64_t> starts_;
  size_t next_ = 0;
  uint64_t pos_ = 0;
};

}  // namespace jetchat
