// jetchat-cli serve: one loaded model behind an OpenAI-compatible HTTP API (docs/API.md), until SIGINT or SIGTERM.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "http_server.h"

namespace jetchat::cli {
namespace {

struct ServeOptions {
  std::string path, device = "cpu", chat_template;
  int threads = 0, context = 0;
  KvCacheType kv_cache = KvCacheType::kAuto;
  HeadType head = HeadType::kAuto;
  server::ServerOptions server;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

void add_serve(CLI::App& app) {
  auto* c = app.add_subcommand("serve", "serve a model over an OpenAI-compatible HTTP API (see docs/API.md)");
  auto o = std::make_shared<ServeOptions>();
  c->add_option("MODEL", o->path, kModelHelp)->required()->transform(model_lookup());
  c->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  c->add_option("--threads", o->threads, "CPU threads (0: all cores)");
  c->add_option("--ctx", o->context, "context length in tokens (0: the model's, at most 4096)");
  c->add_option("--template", o->chat_template, "chat template: internlm2, internlm, llama2, llama3, chatml, raw");
  add_kv_cache_option(c, o->kv_cache);
  add_head_option(c, o->head);
  c->add_option("--host", o->server.host, "address to listen on; 0.0.0.0 exposes the model to the network")
      ->capture_default_str();
  c->add_option("--port", o->server.port, "TCP port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  c->add_option("--api-key", o->server.api_key,
                "require 'Authorization: Bearer KEY' on every request (or set JETCHAT_API_KEY, which keeps the key "
                "out of the process list)")
      ->envname("JETCHAT_API_KEY");
  c->add_option("--max-queue", o->server.max_queue, "requests that may wait behind the running one; more get 429")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  c->add_option("--max-body", o->server.max_body_bytes, "largest request body in bytes; larger ones get 413")
      ->check(CLI::Range(size_t(1024), size_t(64) << 20))
      ->capture_default_str();
  c->add_option("--model-name", o->server.model_name, "the model id clients use (default: the directory's name)");
  c->callback([o] {
    // Block the stop signals before any thread exists (the model's thread pool, the server's), so every thread
    // inherits the mask and they arrive only at the sigwait below, where stopping is not limited to
    // async-signal-safe calls.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    std::fprintf(stderr, "loading %s ...\n", o->path.c_str());
    LoadParams p;
    p.device = o->device == "cuda" ? DeviceKind::kCuda : DeviceKind::kCpu;
    p.threads = o->threads;
    p.context_length = o->context;
    p.kv_cache = o->kv_cache;
    p.head = o->head;
    p.chat_template = o->chat_template;
    auto model = Model::load(o->path, p);
    if (!model) return void(fail(model.status()));

    server::HttpServer server(*model, o->server);
    if (Status s = server.start(); !s) return void(fail(s));
    std::fprintf(stderr, "serving '%s' on %s at http://%s:%d/v1 (%s); Ctrl-C stops\n", server.model_name().c_str(),
                 (*model)->backend_name().c_str(), o->server.host.c_str(), server.port(),
                 o->server.api_key.empty() ? "no API key" : "API key required");
    if (o->server.api_key.empty() && !is_loopback(o->server.host))
      std::fprintf(stderr, "warning: listening on %s without --api-key: anyone who can reach this port can use the "
                           "model\n", o->server.host.c_str());
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "%s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
  });
}

}  // namespace jetchat::cli
