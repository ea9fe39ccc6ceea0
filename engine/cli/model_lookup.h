// How jetchat-cli finds a model given by name: a MODEL argument that is a bare name (no '/') and not a folder or
// file in the current directory is looked up in the folders the app searches too, in the app's order:
// $XDG_DATA_HOME/jetchat/models (default ~/.local/share/jetchat/models), /var/lib/jetchat/models, and the installed
// built-in models beside the binary (<bindir>/../share/jetchat/models).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace jetchat::cli {

// Help text of a MODEL argument.
inline constexpr const char* kModelHelp =
    "model directory (config.json, *.safetensors, tokenizer.model or tokenizer.json) or .gguf file, or the name of "
    "one in ~/.local/share/jetchat/models, /var/lib/jetchat/models or the built-in models";

// The model folders, in lookup order (whether or not they exist).
std::vector<std::string> model_folders();

// CLI11 transform for a MODEL option: replaces a bare name by the first <folder>/<name> that exists (a model
// directory or a .gguf file); a path, or a name that exists in the current directory, is left alone. Fails, naming every folder searched, when nothing matches.
CLI::Validator model_lookup();

}  // namespace jetchat::cli
