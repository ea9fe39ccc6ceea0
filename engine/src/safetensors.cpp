#include "safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace jetchat {
namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference parser's cap

struct DTypeName {
  StDType t;
  const char* name;
  size_t size;
};
constexpr DTypeName kDTypes[] = {
    {StDType::kF64, "F64", 8}, {StDType::kF32, "F32", 4}, {StDType::kF16, "F16", 2}, {StDType::kBF16, "BF16", 2},
    {StDType::kI64, "I64", 8}, {StDType::kI32, "I32", 4}, {StDType::kI16, "I16", 2}, {StDType::kI8, "I8", 1},
    {StDType::kU8, "U8", 1},   {StDType::kBool, "BOOL", 1},
};

Status bad(const std::string& path, const std::string& what) {
  return Status(StatusCode::kInvalidFormat, path + ": " + what);
}

}  // namespace

const char* st_dtype_name(StDType t) {
  for (const auto& d : kDTypes)
    if (d.t == t) return d.name;
  return "?";
}
size_t st_dtype_size(StDType t) {
  for (const auto& d : kDTypes)
    if (d.t == t) return d.size;
  return 0;
}

int64_t StTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.status();
  const auto& file = *mapped;
  const uint8_t* base = file->data();
  const size_t size = file->size();
  if (size < 8) return bad(path, "truncated: " + std::to_string(size) + " bytes, not a safetensors file");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | base[i];
  if (n > kMaxHeader) return bad(path, "header length " + std::to_string(n) + " is not plausible (not safetensors?)");
  if (8 + n > size) return bad(path, "truncated: header says " + std::to_string(n) + " bytes, file has " +
                                         std::to_string(size - 8) + " after the length");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(base + 8, base + 8 + n);
  } catch (const std::exception& e) {
    return bad(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) return bad(path, "header is not a JSON object");

  auto out = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  out->file_ = file;
  const uint8_t* buffer = base + 8 + n;
  const size_t buffer_size = size - 8 - n;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return bad(path, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m)
        if (m.value().is_string()) out->metadata_[m.key()] = m.value().get<std::string>();
      continue;
    }
    const std::string where = "tensor '" + name + "': ";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      return bad(path, where + "needs dtype, shape and data_offsets");
    StTensor t;
    t.name = name;
    const auto& dt = v["dtype"];
    const DTypeName* found = nullptr;
    if (dt.is_string())
      for (const auto& d : kDTypes)
        if (dt.get<std::string>() == d.name) found = &d;
    if (!found) return bad(path, where + "unknown dtype " + dt.dump());
    t.dtype = found->t;
    if (!v["shape"].is_array()) return bad(path, where + "shape is not an array");
    int64_t numel = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) return bad(path, where + "bad dimension " + d.dump());
      const int64_t dim = d.get<int64_t>();
      if (dim != 0 && numel > (int64_t(1) << 50) / dim) return bad(path, where + "shape too large");
      numel *= dim;
      t.shape.push_back(dim);
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return bad(path, where + "data_offsets must be two non-negative integers");
    const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e) return bad(path, where + "data_offsets begin > end");
    if (e > buffer_size)
      return bad(path, where + "data ends at byte " + std::to_string(e) + " past the end of the file's data (" +
                           std::to_string(buffer_size) + " bytes): truncated file?");
    if (e - b != uint64_t(numel) * found->size)
      return bad(path, where + "has " + std::to_string(e - b) + " bytes but shape x " + found->name + " needs " +
                           std::to_string(uint64_t(numel) * found->size));
    t.data = buffer + b;
    t.nbytes = size_t(e - b);
    out->tensors_.push_back(std::move(t));
  }
  // No two tensors may share bytes: a file that aliases tensors is corrupt or hostile.
  std::vector<const StTensor*> by_offset;
  for (const auto& t : out->tensors_)
    if (t.nbytes) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->data < b->data; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->data + by_offset[i - 1]->nbytes > by_offset[i]->data)
      return bad(path, "tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "' overlap");
  for (size_t i = 0; i < out->tensors_.size(); ++i) out->index_[out->tensors_[i].name] = i;
  return out;
}

const StTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsWriter::add(const std::string& name, StDType dtype, std::vector<int64_t> shape, const void* data,
                            size_t nbytes) {
  tensors_.push_back({name, dtype, std::move(shape), nbytes, std::string(static_cast<const char*>(data), nbytes)});
}

void SafetensorsWriter::declare(const std::string& name, StDType dtype, std::vector<int64_t> shape) {
  size_t n = st_dtype_size(dtype);
  for (int64_t d : shape) n *= size_t(d);
  tensors_.push_back({name, dtype, std::move(shape), n, {}});
}

Status SafetensorsWriter::begin(const std::string& path) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  starts_.clear();
  for (const auto& t : tensors_) {
    offset = (offset + 7) / 8 * 8;
    starts_.push_back(offset);
    header[t.name] = {{"dtype", st_dtype_name(t.dtype)}, {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  path_ = path;
  out_ = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
  if (!*out_) return Status(StatusCode::kIoError, path + ": cannot create");
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(json.size()) >> (8 * i));
  out_->write(reinterpret_cast<const char*>(len), 8);
  out_->write(json.data(), std::streamsize(json.size()));
  next_ = 0;
  pos_ = 0;
  return Status::ok();
}

Status SafetensorsWriter::append(const std::string& name, const void* data, size_t nbytes) {
  if (!out_ || next_ >= tensors_.size() || tensors_[next_].name != name || tensors_[next_].nbytes != nbytes)
    return Status(StatusCode::kInternal, path_ + ": tensor '" + name + "' written out of the declared order or size");
  static const char kZeros[8] = {};
  out_->write(kZeros, std::streamsize(starts_[next_] - pos_));
  out_->write(static_cast<const char*>(data), std::streamsize(nbytes));
  pos_ = starts_[next_] + nbytes;
  ++next_;
  if (!*out_) return Status(StatusCode::kIoError, path_ + ": write failed (disk full?)");
  return Status::ok();
}

Status SafetensorsWriter::finish() {
  if (!out_) return Status(StatusCode::kInternal, "safetensors writer: finish() without begin()");
  if (next_ != tensors_.size())
    return Status(StatusCode::kInternal, path_ + ": " + std::to_string(tensors_.size() - next_) +
                                             " declared tensors were never written");
  out_->close();
  const bool ok = bool(*out_);
  out_.reset();
  if (!ok) return Status(StatusCode::kIoError, path_ + ": write failed (disk full?)");
  return Status::ok();
}

Status SafetensorsWriter::write(const std::string& path) {
  JETCHAT_TRY(begin(path));
  for (const auto& t : tensors_) JETCHAT_TRY(append(t.name, t.bytes.data(), t.bytes.size()));
  return finish();
}

}  // namespace jetchat
