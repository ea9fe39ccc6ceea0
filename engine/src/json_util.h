// Reading JSON files with errors that name the file and the key.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "jetchat/status.h"

namespace jetchat {

Result<nlohmann::json> read_json_file(const std::string& path);

}  // namespace jetchat
