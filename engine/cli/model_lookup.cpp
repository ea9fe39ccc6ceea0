#include "model_lookup.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace jetchat::cli {

std::vector<std::string> model_folders() {
  std::vector<std::string> out;
  // XDG base directories: $XDG_DATA_HOME when set and absolute, else ~/.local/share.
  const char* data_home = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  if (data_home && data_home[0] == '/')
    out.push_back(std::string(data_home) + "/jetchat/models");
  else if (home && home[0] == '/')
    out.push_back(std::string(home) + "/.local/share/jetchat/models");
  out.push_back("/var/lib/jetchat/models");
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) out.push_back((exe.parent_path().parent_path() / "share/jetchat/models").lexically_normal().string());
  return out;
}

CLI::Validator model_lookup() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::error_code ec;
        if (value.empty() || value.find('/') != std::string::npos || fs::exists(value, ec)) return {};
        std::string searched;
        for (const std::string& folder : model_folders()) {
          const fs::path candidate = fs::path(folder) / value;
          if (fs::exists(candidate, ec)) {
            value = candidate.string();
            return {};
          }
          searched += (searched.empty() ? "" : ", ") + folder;
        }
        return "no model '" + value + "' here or in " + searched;
      },
      "DIR or NAME");
}

}  // namespace jetchat::cli
