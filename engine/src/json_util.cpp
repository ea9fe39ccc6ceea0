#include "json_util.h"

#include <fstream>
#include <sstream>

namespace jetchat {

Result<nlohmann::json> read_json_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(StatusCode::kNotFound, path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const std::exception& e) {
    return Status(StatusCode::kInvalidFormat, path + ": not valid JSON: " + e.what());
  }
}

}  // namespace jetchat
