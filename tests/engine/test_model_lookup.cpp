// jetchat-cli's MODEL lookup (engine/cli/model_lookup.h): bare names resolve in the model folders in order, paths
// are left alone, and a name found nowhere fails naming the folders searched.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "model_lookup.h"
#include "support/fixtures.h"

namespace fs = std::filesystem;
using jetchat::cli::model_folders;
using jetchat::cli::model_lookup;

namespace {

// Applies the transform as CLI11 does; returns its error ("" = accepted) and leaves the result in `value`.
std::string apply(std::string& value) { return model_lookup()(value); }

class ModelLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = jetchat::test::scratch_dir("model_lookup");
    setenv("XDG_DATA_HOME", root_.c_str(), 1);
    user_models_ = root_ + "/jetchat/models";
    fs::create_directories(user_models_ + "/mine");
  }
  std::string root_, user_models_;
};

TEST_F(ModelLookup, FoldersAreUserThenSystemThenBuiltIn) {
  const auto folders = model_folders();
  ASSERT_EQ(folders.size(), 3u);
  EXPECT_EQ(folders[0], user_models_);
  EXPECT_EQ(folders[1], "/var/lib/jetchat/models");
  // Beside this binary: <dir of the test>/../share/jetchat/models.
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  EXPECT_EQ(folders[2], (exe.parent_path().parent_path() / "share/jetchat/models").lexically_normal().string());
}

TEST_F(ModelLookup, HomeIsUsedWithoutXdgDataHome) {
  unsetenv("XDG_DATA_HOME");
  setenv("HOME", "/home/robot", 1);
  EXPECT_EQ(model_folders().front(), "/home/robot/.local/share/jetchat/models");
}

TEST_F(ModelLookup, BareNameResolvesInTheUserFolder) {
  std::string value = "mine";
  EXPECT_EQ(apply(value), "");
  EXPECT_EQ(value, user_models_ + "/mine");
}

TEST_F(ModelLookup, BareGgufFileNameResolves) {
  jetchat::test::write_file(user_models_ + "/small.gguf", "GGUF");
  std::string value = "small.gguf";
  EXPECT_EQ(apply(value), "");
  EXPECT_EQ(value, user_models_ + "/small.gguf");
}

TEST_F(ModelLookup, PathsAreLeftAlone) {
  std::string relative = "./mine", missing = root_ + "/nowhere";
  EXPECT_EQ(apply(relative), "");
  EXPECT_EQ(relative, "./mine");
  EXPECT_EQ(apply(missing), "");  // the loader reports a missing path with its own message
  EXPECT_EQ(missing, root_ + "/nowhere");
}

TEST_F(ModelLookup, UnknownNameNamesEveryFolderSearched) {
  std::string value = "no-such-model-anywhere";
  const std::string error = apply(value);
  EXPECT_NE(error.find("no-such-model-anywhere"), std::string::npos) << error;
  for (const std::string& folder : model_folders()) EXPECT_NE(error.find(folder), std::string::npos) << error;
}

}  // namespace
