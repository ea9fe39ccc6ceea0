// One way for tests to find the shared fixtures and to get scratch folders.
#pragma once

#include <string>

namespace jetchat::test {

// Absolute path of `relative` under the fixtures folder: $FIXTURES if set, else ../shared/fixtures beside the
// checkout. A missing fixture is a test failure (the fixtures are part of CI), not a skip.
std::string fixture(const std::string& relative);

// A fresh, empty folder for one test's files (under the build tree, inside a folder of the running test's
// name), removed and recreated on each call.
std::string scratch_dir(const std::string& name);

// Whole file as bytes; writes a file.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

}  // namespace jetchat::test
