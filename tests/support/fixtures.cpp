#include "support/fixtures.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace jetchat::test {

std::string fixture(const std::string& relative) {
  const char* env = std::getenv("FIXTURES");
  const fs::path root = env && *env ? fs::path(env) : fs::path(JETCHAT_FIXTURES_DIR);
  const fs::path p = root / relative;
  if (!fs::exists(p)) ADD_FAILURE() << "missing fixture " << p << " (set FIXTURES or check ../shared/fixtures)";
  return p.string();
}

std::string scratch_dir(const std::string& name) {
  // ctest runs each test in its own process, several at once: every test gets its own folder.
  std::string test = "no_test";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info())
    test = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : test)
    if (c == '/') c = '_';
  const fs::path p = fs::path(JETCHAT_TEST_TMP) / test / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace jetchat::test
