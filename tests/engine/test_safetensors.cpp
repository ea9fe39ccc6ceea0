// The safetensors reader and writer against bytes written out by hand, and every malformed header refused.
#include <gtest/gtest.h>

#include <cstring>

#include "safetensors.h"
#include "support/fixtures.h"

namespace jetchat {
namespace {

// A file built byte by byte: header {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} then 1.0f, -2.0f.
std::string hand_made_file(const std::string& header, const std::string& data) {
  std::string f(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) f[i] = char((n >> (8 * i)) & 0xff);
  return f + header + data;
}

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  size_t i = 0;
  for (float x : v) std::memcpy(&s[4 * i++], &x, 4);
  return s;
}

Result<std::unique_ptr<SafetensorsFile>> open_bytes(const std::string& name, const std::string& bytes) {
  const std::string path = test::scratch_dir("st_" + name) + "/x.safetensors";
  test::write_file(path, bytes);
  return SafetensorsFile::open(path);
}

TEST(Safetensors, ReadsHandMadeFile) {
  auto f = open_bytes("ok", hand_made_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                           R"("__metadata__":{"format":"pt"}})",
                                           floats({1.0f, -2.0f})));
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const StTensor* a = (*f)->find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, StDType::kF32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2}));
  float v[2];
  std::memcpy(v, a->data, 8);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
  EXPECT_EQ((*f)->metadata().at("format"), "pt");
}

TEST(Safetensors, WriterProducesExactBytes) {
  SafetensorsWriter w;
  const uint16_t h[3] = {0x3c00, 0xc000, 0x0001};  // f16 1, -2, smallest subnormal
  w.add("h", StDType::kF16, {3}, h, 6);
  const float f = 0.5f;
  w.add("f", StDType::kF32, {}, &f, 4);
  const std::string path = test::scratch_dir("st_writer") + "/w.safetensors";
  ASSERT_TRUE(w.write(path).is_ok());
  const std::string got = test::read_file(path);
  // Header JSON in insertion order, padded with spaces to a multiple of 8; the second tensor's data starts on
  // an 8-byte boundary (6 -> 8).
  std::string header = R"({"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},)"
                       R"("f":{"dtype":"F32","shape":[],"data_offsets":[8,12]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string data("\x00\x3c\x00\xc0\x01\x00\x00\x00", 8);
  data += floats({0.5f});
  EXPECT_EQ(got, hand_made_file(header, data));
  auto back = SafetensorsFile::open(path);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ((*back)->find("f")->shape.size(), 0u);
}

struct BadCase {
  const char* name;
  std::string bytes;
  const char* expect;  // a word the message must contain
};

TEST(Safetensors, MalformedFilesAreRefusedWithTheTensorNamed) {
  const std::string good_data = floats({1, 2, 3, 4});
  const BadCase cases[] = {
      {"empty", "", "truncated"},
      {"short_header", std::string("\x10\0\0\0\0\0\0\0{}", 10), "truncated"},
      {"huge_header", std::string("\xff\xff\xff\xff\xff\xff\0\0", 8), "not plausible"},
      {"not_json", hand_made_file("{nope", ""), "JSON"},
      {"past_end", hand_made_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", floats({1, 2})),
       "'w'"},
      {"size_mismatch", hand_made_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", good_data),
       "'w'"},
      {"bad_dtype", hand_made_file(R"({"w":{"dtype":"Q9","shape":[4],"data_offsets":[0,16]}})", good_data),
       "dtype"},
      {"negative_dim", hand_made_file(R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", good_data),
       "dimension"},
      {"reversed", hand_made_file(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", good_data),
       "begin > end"},
      {"overlap", hand_made_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                 good_data),
       "overlap"},
      {"missing_field", hand_made_file(R"({"w":{"dtype":"F32","shape":[4]}})", good_data), "data_offsets"},
  };
  for (const auto& c : cases) {
    auto f = open_bytes(c.name, c.bytes);
    ASSERT_FALSE(f.is_ok()) << c.name;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidFormat) << c.name;
    EXPECT_NE(f.status().message().find(c.expect), std::string::npos) << c.name << ": " << f.status().message();
    EXPECT_NE(f.status().message().find("x.safetensors"), std::string::npos) << "names the file";
  }
}

TEST(Safetensors, MissingFileIsNotFound) {
  auto f = SafetensorsFile::open(test::scratch_dir("st_missing") + "/nope.safetensors");
  ASSERT_FALSE(f.is_ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace jetchat
