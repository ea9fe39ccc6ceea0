// jetchat-cli's subcommands; each add_* registers one on the app with its options and handler.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "jetchat/params.h"
#include "jetchat/status.h"
#include "model_lookup.h"

namespace jetchat::cli {

void add_info(CLI::App& app);
void add_generate(CLI::App& app);
void add_chat(CLI::App& app);
void add_perplexity(CLI::App& app);
void add_tokenize(CLI::App& app);
void add_bench(CLI::App& app);
void add_import_llama2c(CLI::App& app);
void add_make_model(CLI::App& app);
void add_convert_gguf(CLI::App& app);
void add_quantize(CLI::App& app);
void add_serve(CLI::App& app);

// --kv-cache auto|f16|int8, the KV cache's element type (LoadParams::kv_cache).
void add_kv_cache_option(CLI::App* c, KvCacheType& t);
// --head auto|q8, the output head's storage (LoadParams::head).
void add_head_option(CLI::App* c, HeadType& t);

// Prints "jetchat-cli: <message>" to stderr and returns the exit code for a failed status.
int fail(const Status& s);

// Exit code of the subcommand that ran (set by its handler).
int& exit_code();

}  // namespace jetchat::cli
