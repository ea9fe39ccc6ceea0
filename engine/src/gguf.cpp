#include "gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace jetchat {
namespace {

constexpr uint32_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS: llama.cpp refuses more
// The smallest encodings, used to refuse counts the remaining bytes cannot possibly hold before reserving memory.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;            // key length, type, a one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset

struct TypeInfo {
  GgufType t;
  const char* name;
  size_t size;  // 0: variable (string, array)
};
constexpr TypeInfo kTypes[] = {
    {GgufType::kU8, "u8", 1},   {GgufType::kI8, "i8", 1},         {GgufType::kU16, "u16", 2},
    {GgufType::kI16, "i16", 2}, {GgufType::kU32, "u32", 4},       {GgufType::kI32, "i32", 4},
    {GgufType::kF32, "f32", 4}, {GgufType::kBool, "bool", 1},     {GgufType::kString, "string", 0},
    {GgufType::kArray, "array", 0}, {GgufType::kU64, "u64", 8},   {GgufType::kI64, "i64", 8},
    {GgufType::kF64, "f64", 8},
};

const TypeInfo* type_info(uint32_t id) {
  for (const auto& t : kTypes)
    if (uint32_t(t.t) == id) return &t;
  return nullptr;
}

struct GgmlInfo {
  GgmlType t;
  const char* name;
  size_t block, bytes;
};
// Block layouts from ggml-common.h.
constexpr GgmlInfo kGgmlTypes[] = {
    {GgmlType::kF32, "F32", 1, 4},       {GgmlType::kF16, "F16", 1, 2},       {GgmlType::kQ4_0, "Q4_0", 32, 18},
    {GgmlType::kQ4_1, "Q4_1", 32, 20},   {GgmlType::kQ5_0, "Q5_0", 32, 22},   {GgmlType::kQ5_1, "Q5_1", 32, 24},
    {GgmlType::kQ8_0, "Q8_0", 32, 34},   {GgmlType::kQ2_K, "Q2_K", 256, 84},  {GgmlType::kQ3_K, "Q3_K", 256, 110},
    {GgmlType::kQ4_K, "Q4_K", 256, 144}, {GgmlType::kQ5_K, "Q5_K", 256, 176}, {GgmlType::kQ6_K, "Q6_K", 256, 210},
    {GgmlType::kI8, "I8", 1, 1},         {GgmlType::kI16, "I16", 1, 2},       {GgmlType::kI32, "I32", 1, 4},
    {GgmlType::kI64, "I64", 1, 8},       {GgmlType::kF64, "F64", 1, 8},       {GgmlType::kBF16, "BF16", 1, 2},
};

const GgmlInfo* ggml_info(uint32_t id) {
  for (const auto& t : kGgmlTypes)
    if (uint32_t(t.t) == id) return &t;
  return nullptr;
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // the file is little-endian, as are all targets (x86-64, aarch64)
  return v;
}

// Reads the file front to back; every read is checked against the end, and a failed read names what was being read.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t pos() const { return pos_; }
  size_t left() const { return size_ - pos_; }
  const uint8_t* at(size_t pos) const { return data_ + pos; }

  bool skip(uint64_t n) {
    if (n > left()) return false;
    pos_ += size_t(n);
    return true;
  }
  template <typename T>
  bool read(T& v) {
    if (sizeof(T) > left()) return false;
    v = load<T>(data_ + pos_);
    pos_ += sizeof(T);
    return true;
  }
  bool read_string(std::string_view& s) {
    uint64_t n = 0;
    if (!read(n) || n > left()) return false;
    s = std::string_view(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
    pos_ += size_t(n);
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 200)) out += (uint8_t(c) < 0x20 || uint8_t(c) == 0x7f) ? '?' : c;
  return out + (s.size() > 200 ? "...'" : "'");
}

// Reads a value of type `type` (not an array's element type) into v.
bool read_value(Reader& r, const TypeInfo& type, GgufValue& v, std::string& error) {
  v.type = type.t;
  if (type.t == GgufType::kString) {
    std::string_view s;
    if (!r.read_string(s)) return error = "string value truncated", false;
    v.data = reinterpret_cast<const uint8_t*>(s.data());
    v.nbytes = s.size();
    return true;
  }
  if (type.t != GgufType::kArray) {
    v.data = r.at(r.pos());
    v.nbytes = type.size;
    if (!r.skip(type.size)) return error = std::string(type.name) + " value truncated", false;
    if (type.t == GgufType::kBool && *v.data > 1) return error = "bool value is " + std::to_string(*v.data), false;
    return true;
  }
  uint32_t elem_id = 0;
  if (!r.read(elem_id) || !r.read(v.count)) return error = "array header truncated", false;
  const TypeInfo* elem = type_info(elem_id);
  if (!elem) return error = "array of unknown type id " + std::to_string(elem_id), false;
  if (elem->t == GgufType::kArray) return error = "arrays of arrays are not supported", false;
  v.elem = elem->t;
  v.data = r.at(r.pos());
  if (elem->t == GgufType::kString) {
    if (v.count > r.left() / 8)
      return error = "array of " + std::to_string(v.count) + " strings cannot fit in the " +
                     std::to_string(r.left()) + " bytes left",
             false;
    v.strings.reserve(size_t(v.count));
    for (uint64_t i = 0; i < v.count; ++i) {
      std::string_view s;
      if (!r.read_string(s)) return error = "string " + std::to_string(i) + " of the array truncated", false;
      v.strings.push_back(s);
    }
    v.nbytes = size_t(r.at(r.pos()) - v.data);
    return true;
  }
  if (v.count > r.left() / elem->size)
    return error = "array of " + std::to_string(v.count) + " " + elem->name + " runs past the end of the file",
           false;
  v.nbytes = size_t(v.count) * elem->size;
  r.skip(v.nbytes);
  if (elem->t == GgufType::kBool)
    for (size_t i = 0; i < v.nbytes; ++i)
      if (v.data[i] > 1) return error = "bool element " + std::to_string(i) + " is " + std::to_string(v.data[i]), false;
  return true;
}

bool is_integer(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kU16: case GgufType::kI16: case GgufType::kU32:
    case GgufType::kI32: case GgufType::kU64: case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

// An integer element as i64, or false for a u64 too large for it.
bool integer_at(GgufType t, const uint8_t* p, int64_t& out) {
  switch (t) {
    case GgufType::kU8: out = load<uint8_t>(p); return true;
    case GgufType::kI8: out = load<int8_t>(p); return true;
    case GgufType::kU16: out = load<uint16_t>(p); return true;
    case GgufType::kI16: out = load<int16_t>(p); return true;
    case GgufType::kU32: out = load<uint32_t>(p); return true;
    case GgufType::kI32: out = load<int32_t>(p); return true;
    case GgufType::kI64: out = load<int64_t>(p); return true;
    case GgufType::kU64: {
      const auto u = load<uint64_t>(p);
      out = int64_t(u);
      return u <= uint64_t(std::numeric_limits<int64_t>::max());
    }
    default:
      return false;
  }
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  const TypeInfo* i = type_info(uint32_t(t));
  return i ? i->name : "?";
}
const char* ggml_type_name(GgmlType t) {
  const GgmlInfo* i = ggml_info(uint32_t(t));
  return i ? i->name : "?";
}
size_t ggml_block_size(GgmlType t) {
  const GgmlInfo* i = ggml_info(uint32_t(t));
  return i ? i->block : 0;
}
size_t ggml_block_bytes(GgmlType t) {
  const GgmlInfo* i = ggml_info(uint32_t(t));
  return i ? i->bytes : 0;
}

uint64_t GgufTensor::numel() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  return n;
}

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.status();
  auto f = parse(path, (*mapped)->data(), (*mapped)->size());
  if (f) (*f)->file_ = *mapped;
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::parse(const std::string& name, const uint8_t* data, size_t size) {
  auto bad = [&](const std::string& what) { return Status(StatusCode::kInvalidFormat, name + ": " + what); };
  Reader r(data, size);
  if (size < 4 || std::memcmp(data, "GGUF", 4) != 0) return bad("not a GGUF file (no 'GGUF' magic)");
  r.skip(4);
  auto out = std::unique_ptr<GgufFile>(new GgufFile());
  out->name_ = name;
  uint64_t n_tensors = 0, n_kv = 0;
  if (!r.read(out->version_)) return bad("truncated header");
  if (out->version_ == 1)
    return Status(StatusCode::kUnsupported, name + ": GGUF version 1 (32-bit counts) is not supported; "
                                                   "convert it again with a current llama.cpp");
  if (out->version_ != 2 && out->version_ != 3)
    return Status(StatusCode::kUnsupported, name + ": GGUF version " + std::to_string(out->version_) +
                                                " is not supported (2 and 3 are; a big-endian file reads as a "
                                                "huge version)");
  if (!r.read(n_tensors) || !r.read(n_kv)) return bad("truncated header");
  if (n_kv > r.left() / kMinKvBytes)
    return bad("header claims " + std::to_string(n_kv) + " metadata entries, more than the " +
               std::to_string(r.left()) + " bytes left can hold: truncated or corrupt file");
  if (n_tensors > r.left() / kMinTensorInfoBytes)
    return bad("header claims " + std::to_string(n_tensors) + " tensors, more than the " + std::to_string(r.left()) +
               " bytes left can hold: truncated or corrupt file");

  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string entry = "metadata entry " + std::to_string(i);
    std::string_view key;
    if (!r.read_string(key)) return bad(entry + ": key truncated");
    if (key.empty()) return bad(entry + ": empty key");
    const std::string where = "key " + quoted(key) + ": ";
    uint32_t type_id = 0;
    if (!r.read(type_id)) return bad(where + "type truncated");
    const TypeInfo* type = type_info(type_id);
    if (!type) return bad(where + "unknown value type id " + std::to_string(type_id));
    GgufValue v;
    std::string error;
    if (!read_value(r, *type, v, error)) return bad(where + error);
    if (!out->metadata_.emplace(std::string(key), std::move(v)).second) return bad(where + "appears twice");
  }

  if (const GgufValue* a = out->find("general.alignment")) {
    if (a->type != GgufType::kU32) return bad("key 'general.alignment' is " + std::string(gguf_type_name(a->type)) +
                                              ", expected u32");
    const auto align = load<uint32_t>(a->data);
    if (align == 0 || (align & (align - 1)) != 0)
      return bad("key 'general.alignment' is " + std::to_string(align) + ", not a power of two");
    out->alignment_ = align;
  } else {
    out->alignment_ = kDefaultAlignment;
  }

  out->tensors_.reserve(size_t(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const std::string entry = "tensor info " + std::to_string(i);
    std::string_view tname;
    if (!r.read_string(tname)) return bad(entry + ": name truncated");
    if (tname.empty()) return bad(entry + ": empty name");
    const std::string where = "tensor " + quoted(tname) + ": ";
    GgufTensor t;
    t.name = std::string(tname);
    uint32_t n_dims = 0;
    if (!r.read(n_dims)) return bad(where + "dimension count truncated");
    if (n_dims == 0 || n_dims > kMaxDims)
      return bad(where + std::to_string(n_dims) + " dimensions (1 to " + std::to_string(kMaxDims) + " allowed)");
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = 0;
      if (!r.read(dim)) return bad(where + "dimensions truncated");
      if (dim == 0 || dim > uint64_t(std::numeric_limits<int64_t>::max()) / numel)
        return bad(where + "dimension " + std::to_string(d) + " is " + std::to_string(dim) +
                   (dim == 0 ? "" : ": too many elements"));
      numel *= dim;
      t.dims.push_back(dim);
    }
    uint32_t type_id = 0;
    if (!r.read(type_id) || !r.read(t.offset)) return bad(where + "type or offset truncated");
    const GgmlInfo* type = ggml_info(type_id);
    if (!type) return Status(StatusCode::kUnsupported, name + ": " + where + "unknown ggml type id " +
                                                           std::to_string(type_id));
    t.type = type->t;
    if (t.dims[0] % type->block != 0)
      return bad(where + "innermost dimension " + std::to_string(t.dims[0]) + " is not a multiple of the " +
                 type->name + " block size " + std::to_string(type->block));
    const uint64_t blocks = numel / type->block;
    if (blocks > std::numeric_limits<uint64_t>::max() / type->bytes) return bad(where + "too large");
    t.nbytes = size_t(blocks * type->bytes);
    if (t.offset % out->alignment_ != 0)
      return bad(where + "offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                 std::to_string(out->alignment_));
    if (out->tensor_index_.count(t.name)) return bad(where + "appears twice");
    out->tensor_index_.emplace(t.name, out->tensors_.size());
    out->tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment after the tensor infos.
  const uint64_t data_start = (uint64_t(r.pos()) + out->alignment_ - 1) / out->alignment_ * out->alignment_;
  const uint64_t data_size = data_start <= size ? size - data_start : 0;
  if (!out->tensors_.empty() && data_start > size) return bad("truncated before the tensor data");
  for (GgufTensor& t : out->tensors_) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      return bad("tensor " + quoted(t.name) + ": data [" + std::to_string(t.offset) + ", " +
                 std::to_string(t.offset + t.nbytes) + ") runs past the end of the data section (" +
                 std::to_string(data_size) + " bytes): truncated file?");
    t.data = data + data_start + t.offset;
  }
  // No two tensors may share bytes: a file that aliases tensors is corrupt or hostile.
  std::vector<const GgufTensor*> by_offset;
  for (const GgufTensor& t : out->tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->nbytes > by_offset[i]->offset)
      return bad("tensors " + quoted(by_offset[i - 1]->name) + " and " + quoted(by_offset[i]->name) + " overlap");
  return out;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Status GgufFile::type_error(std::string_view key, const GgufValue& v, const char* expected) const {
  std::string type = gguf_type_name(v.type);
  if (v.type == GgufType::kArray) type += std::string(" of ") + gguf_type_name(v.elem);
  return Status(StatusCode::kInvalidFormat,
                name_ + ": key '" + std::string(key) + "' is " + type + ", expected " + expected);
}

Result<const GgufValue*> GgufFile::require(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return Status(StatusCode::kNotFound, name_ + ": key '" + std::string(key) + "' is missing");
  return v;
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  auto v = require(key);
  if (!v) return v.status();
  int64_t out = 0;
  if (!is_integer((*v)->type)) return type_error(key, **v, "an integer");
  if (!integer_at((*v)->type, (*v)->data, out)) return type_error(key, **v, "an integer that fits in i64");
  return out;
}

Result<uint64_t> GgufFile::get_uint(std::string_view key) const {
  auto v = require(key);
  if (!v) return v.status();
  if ((*v)->type == GgufType::kU64) return load<uint64_t>((*v)->data);
  int64_t out = 0;
  if (!is_integer((*v)->type)) return type_error(key, **v, "an unsigned integer");
  if (!integer_at((*v)->type, (*v)->data, out) || out < 0)
    return Status(StatusCode::kInvalidFormat, name_ + ": key '" + std::string(key) + "' is negative");
  return uint64_t(out);
}

Result<double> GgufFile::get_float(std::string_view key) const {
  auto v = require(key);
  if (!v) return v.status();
  if ((*v)->type == GgufType::kF32) return double(load<float>((*v)->data));
  if ((*v)->type == GgufType::kF64) return load<double>((*v)->data);
  return type_error(key, **v, "f32 or f64");
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  auto v = require(key);
  if (!v) return v.status();
  if ((*v)->type != GgufType::kBool) return type_error(key, **v, "bool");
  return *(*v)->data != 0;
}

Result<std::string> GgufFile::get_string(std::string_view key) const {
  auto v = require(key);
  if (!v) return v.status();
  if ((*v)->type != GgufType::kString) return type_error(key, **v, "string");
  return std::string(reinterpret_cast<const char*>((*v)->data), (*v)->nbytes);
}

Result<std::vector<std::string_view>> GgufFile::get_string_array(std::string_view key) const {
  auto v = require(key);
  if (!v) return v.status();
  if ((*v)->type != GgufType::kArray || (*v)->elem != GgufType::kString) return type_error(key, **v, "array of string");
  return (*v)->strings;
}

Result<std::vector<float>> GgufFile::get_float_array(std::string_view key) const {
  auto v = require(key);
  if (!v) return v.status();
  if ((*v)->type != GgufType::kArray || (*v)->elem != GgufType::kF32) return type_error(key, **v, "array of f32");
  std::vector<float> out(size_t((*v)->count));
  if (!out.empty()) std::memcpy(out.data(), (*v)->data, out.size() * sizeof(float));
  return out;
}

Result<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  auto v = require(key);
  if (!v) return v.status();
  if ((*v)->type != GgufType::kArray || !is_integer((*v)->elem)) return type_error(key, **v, "array of integers");
  const size_t width = type_info(uint32_t((*v)->elem))->size;
  std::vector<int64_t> out(size_t((*v)->count));
  for (size_t i = 0; i < out.size(); ++i)
    if (!integer_at((*v)->elem, (*v)->data + i * width, out[i]))
      return type_error(key, **v, "an array of integers that fit in i64");
  return out;
}

}  // namespace jetchat
