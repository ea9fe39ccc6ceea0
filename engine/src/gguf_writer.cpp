#include "gguf_writer.h"

#include <cstring>
#include <fstream>

namespace jetchat {
namespace {

constexpr uint64_t kAlignment = 32;  // GGUF's default (general.alignment absent)

template <typename T>
void put(std::string& b, T v) {
  char raw[sizeof(T)];
  std::memcpy(raw, &v, sizeof(T));
  b.append(raw, sizeof(T));
}
void put_str(std::string& b, const std::string& s) {
  put<uint64_t>(b, s.size());
  b += s;
}
uint64_t aligned(uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

void GgufWriter::key(const std::string& k, GgufType t) {
  put_str(kv_, k);
  put(kv_, uint32_t(t));
  ++n_kv_;
}

void GgufWriter::add_string(const std::string& k, const std::string& v) {
  key(k, GgufType::kString);
  put_str(kv_, v);
}
void GgufWriter::add_u32(const std::string& k, uint32_t v) {
  key(k, GgufType::kU32);
  put(kv_, v);
}
void GgufWriter::add_f32(const std::string& k, float v) {
  key(k, GgufType::kF32);
  put(kv_, v);
}
void GgufWriter::add_bool(const std::string& k, bool v) {
  key(k, GgufType::kBool);
  put(kv_, uint8_t(v));
}
void GgufWriter::add_strings(const std::string& k, const std::vector<std::string>& v) {
  key(k, GgufType::kArray);
  put(kv_, uint32_t(GgufType::kString));
  put<uint64_t>(kv_, v.size());
  for (const auto& s : v) put_str(kv_, s);
}
void GgufWriter::add_f32s(const std::string& k, const std::vector<float>& v) {
  key(k, GgufType::kArray);
  put(kv_, uint32_t(GgufType::kF32));
  put<uint64_t>(kv_, v.size());
  for (float x : v) put(kv_, x);
}
void GgufWriter::add_i32s(const std::string& k, const std::vector<int32_t>& v) {
  key(k, GgufType::kArray);
  put(kv_, uint32_t(GgufType::kI32));
  put<uint64_t>(kv_, v.size());
  for (int32_t x : v) put(kv_, x);
}

void GgufWriter::add_tensor(const std::string& name, std::vector<uint64_t> dims, GgmlType type,
                            std::vector<uint8_t> data) {
  tensors_.push_back({name, std::move(dims), type, std::move(data)});
}

Status GgufWriter::write(const std::string& path) const {
  std::string head = "GGUF";
  put<uint32_t>(head, 3);
  put<uint64_t>(head, tensors_.size());
  put<uint64_t>(head, n_kv_);
  head += kv_;
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_str(head, t.name);
    put(head, uint32_t(t.dims.size()));
    for (uint64_t d : t.dims) put(head, d);
    put(head, uint32_t(t.type));
    put(head, offset);
    offset = aligned(offset + t.data.size());
  }
  head.resize(aligned(head.size()), '\0');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status(StatusCode::kIoError, path + ": cannot create");
  out.write(head.data(), std::streamsize(head.size()));
  const std::string pad(kAlignment, '\0');
  for (const Tensor& t : tensors_) {
    out.write(reinterpret_cast<const char*>(t.data.data()), std::streamsize(t.data.size()));
    out.write(pad.data(), std::streamsize(aligned(t.data.size()) - t.data.size()));
  }
  if (!out.flush()) return Status(StatusCode::kIoError, path + ": write failed");
  return Status::ok();
}

}  // namespace jetchat
