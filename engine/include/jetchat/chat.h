// A conversation as the chat templates see it.
#pragma once

#include <string>
#include <vector>

namespace jetchat {

enum class Role { kSystem, kUser, kAssistant };

struct Message {
  Role role;
  std::string content;
};

}  // namespace jetchat
