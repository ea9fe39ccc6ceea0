// Writes GGUF bytes for tests: metadata entries and tensors in the order added, data laid out after the infos at
// the alignment. Fields can be overridden to make malformed files.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jetchat::test {

using Bytes = std::string;

template <typename T>
void put(Bytes& b, T v) {
  char raw[sizeof(T)];
  std::memcpy(raw, &v, sizeof(T));
  b.append(raw, sizeof(T));
}
inline void put_str(Bytes& b, std::string_view s) {
  put<uint64_t>(b, s.size());
  b.append(s);
}

struct GgufBuilder {
  uint32_t version = 3;
  uint32_t alignment = 32;
  Bytes kvs;
  uint64_t n_kv = 0;
  struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type;
    Bytes data;
    std::optional<uint64_t> offset;  // default: packed at the alignment
  };
  std::vector<Tensor> tensors;
  std::optional<uint64_t> n_kv_override, n_tensors_override;

  // A raw entry: key, type id, value bytes.
  GgufBuilder& kv(std::string_view key, uint32_t type, const Bytes& value) {
    put_str(kvs, key);
    put<uint32_t>(kvs, type);
    kvs += value;
    ++n_kv;
    return *this;
  }
  GgufBuilder& kv_u32(std::string_view key, uint32_t v) {
    Bytes b;
    put(b, v);
    return kv(key, 4, b);
  }
  GgufBuilder& kv_bool(std::string_view key, bool v) { return kv(key, 7, Bytes(1, v ? '\1' : '\0')); }
  GgufBuilder& kv_string(std::string_view key, std::string_view v) {
    Bytes b;
    put_str(b, v);
    return kv(key, 8, b);
  }
  GgufBuilder& kv_strings(std::string_view key, const std::vector<std::string>& v) {
    Bytes b;
    put<uint32_t>(b, 8);
    put<uint64_t>(b, v.size());
    for (const auto& s : v) put_str(b, s);
    return kv(key, 9, b);
  }
  GgufBuilder& kv_floats(std::string_view key, const std::vector<float>& v) {
    Bytes b;
    put<uint32_t>(b, 6);
    put<uint64_t>(b, v.size());
    for (float f : v) put(b, f);
    return kv(key, 9, b);
  }
  GgufBuilder& kv_i32s(std::string_view key, const std::vector<int32_t>& v) {
    Bytes b;
    put<uint32_t>(b, 5);
    put<uint64_t>(b, v.size());
    for (int32_t x : v) put(b, x);
    return kv(key, 9, b);
  }
  GgufBuilder& tensor(std::string name, std::vector<uint64_t> dims, uint32_t type, Bytes data,
                      std::optional<uint64_t> offset = std::nullopt) {
    tensors.push_back({std::move(name), std::move(dims), type, std::move(data), offset});
    return *this;
  }

  Bytes bytes() const {
    Bytes b = "GGUF";
    put(b, version);
    put<uint64_t>(b, n_tensors_override.value_or(tensors.size()));
    put<uint64_t>(b, n_kv_override.value_or(n_kv));
    b += kvs;
    std::vector<uint64_t> offsets;
    uint64_t next = 0;
    for (const Tensor& t : tensors) {
      const uint64_t off = t.offset.value_or(next);
      offsets.push_back(off);
      next = (off + t.data.size() + alignment - 1) / alignment * alignment;
      put_str(b, t.name);
      put<uint32_t>(b, uint32_t(t.dims.size()));
      for (uint64_t d : t.dims) put(b, d);
      put(b, t.type);
      put(b, off);
    }
    b.resize((b.size() + alignment - 1) / alignment * alignment, '\0');
    const size_t data_start = b.size();
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].data.empty()) continue;  // a tensor whose claimed extent is the point of the test
      const size_t at = data_start + offsets[i];
      if (b.size() < at + tensors[i].data.size()) b.resize(at + tensors[i].data.size(), '\0');
      std::memcpy(b.data() + at, tensors[i].data.data(), tensors[i].data.size());
    }
    return b;
  }
};

}  // namespace jetchat::test
