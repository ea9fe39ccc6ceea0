// jetchat-cli: the engine from the command line (inspect, run, chat with, measure and convert models).
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"JetChat engine command line: run quantized LLMs offline on the CPU or a GPU", "jetchat-cli"};
  app.set_version_flag("--version", std::string("jetchat-cli ") + JETCHAT_VERSION);
  app.require_subcommand(1);
  jetchat::cli::add_info(app);
  jetchat::cli::add_generate(app);
  jetchat::cli::add_chat(app);
  jetchat::cli::add_perplexity(app);
  jetchat::cli::add_tokenize(app);
  jetchat::cli::add_bench(app);
  jetchat::cli::add_import_llama2c(app);
  jetchat::cli::add_make_model(app);
  jetchat::cli::add_convert_gguf(app);
  jetchat::cli::add_quantize(app);
  jetchat::cli::add_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return jetchat::cli::exit_code();
}
