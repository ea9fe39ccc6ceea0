// SHA-256 of a byte string, hex-encoded (FIPS 180-4), for tests that pin a shipped file's exact bytes.
#pragma once

#include <string>

namespace jetchat::test {

std::string sha256_hex(const std::string& bytes);

}  // namespace jetchat::test
