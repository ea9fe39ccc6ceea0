// GGUF files (versions 2 and 3): a validating reader over a memory map. Everything the header claims — counts,
// string lengths, array sizes, type ids, alignment, tensor offsets and extents — is checked against the bytes that
// are really there before anything is read, so a truncated or hostile file is an error naming the file and the
// key or tensor, never an out-of-bounds read. Little-endian files only, as every GGUF writer produces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jetchat/status.h"
#include "mapped_file.h"

namespace jetchat {

// Metadata value types, numbered as in the file.
enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8, kArray = 9,
  kU64 = 10, kI64 = 11, kF64 = 12,
};
const char* gguf_type_name(GgufType t);

// Tensor element types (ggml's numbering). Only types whose block layout is known are accepted: the reader must
// know a tensor's byte size to check that it lies inside the file.
enum class GgmlType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ2_K = 10, kQ3_K = 11, kQ4_K = 12,
  kQ5_K = 13, kQ6_K = 14, kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kBF16 = 30,
};
const char* ggml_type_name(GgmlType t);
// Weights per block and bytes per block (1 and the element size for plain types).
size_t ggml_block_size(GgmlType t);
size_t ggml_block_bytes(GgmlType t);

// One metadata value, pointing into the file. Scalars: `data` holds the value's bytes. Strings: `data`/`nbytes` are
// the text. Arrays of numbers: `count` elements of `elem` packed at `data`. Arrays of strings: `strings`.
struct GgufValue {
  GgufType type = GgufType::kU8;
  GgufType elem = GgufType::kU8;  // arrays only
  uint64_t count = 0;             // arrays only
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  std::vector<std::string_view> strings;
};

struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the innermost (contiguous) one, so HF [out, in] is [in, out]
  uint64_t offset = 0;         // from the start of the data section
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  uint64_t numel() const;
};

class GgufFile {
 public:
  // Maps and validates the file.
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Validates bytes the caller keeps alive for the GgufFile's lifetime; `name` is used in error messages.
  static Result<std::unique_ptr<GgufFile>> parse(const std::string& name, const uint8_t* data, size_t size);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }

  const GgufValue* find(std::string_view key) const;
  const std::map<std::string, GgufValue, std::less<>>& metadata() const { return metadata_; }
  const GgufTensor* find_tensor(std::string_view name) const;
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  // Typed access; errors name the file and key: kNotFound when absent, kInvalidFormat when of another type.
  // Integers of any width and signedness are accepted where the value fits (writers differ: u32 or u64 counts).
  Result<uint64_t> get_uint(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;  // f32 or f64
  Result<bool> get_bool(std::string_view key) const;
  Result<std::string> get_string(std::string_view key) const;
  Result<std::vector<std::string_view>> get_string_array(std::string_view key) const;
  Result<std::vector<float>> get_float_array(std::string_view key) const;  // f32 elements
  Result<std::vector<int64_t>> get_int_array(std::string_view key) const;  // integer elements of any width

 private:
  GgufFile() = default;
  Status type_error(std::string_view key, const GgufValue& v, const char* expected) const;
  Result<const GgufValue*> require(std::string_view key) const;

  std::shared_ptr<MappedFile> file_;  // null when parsed from caller-owned bytes
  std::string name_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  std::map<std::string, GgufValue, std::less<>> metadata_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace jetchat
