// The OpenAI-compatible HTTP server over one loaded model: routes, API-key check, a bounded queue of requests and
// the one generation worker that serves them in order, streaming replies as server-sent events.
//
//   jetchat::server::HttpServer server(model, options);
//   if (auto s = server.start(); !s) ...;   // listening on server.port()
//   ...
//   server.stop();                          // cancels the running generation, refuses the queued ones
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "jetchat/engine.h"
#include "jetchat/session.h"
#include "jetchat/status.h"

namespace jetchat::server {

struct ServerOptions {
  std::string host = "127.0.0.1";   // loopback unless the operator says otherwise
  int port = 8080;                  // 0: any free port (see HttpServer::port())
  std::string api_key;              // "" = no key; else every request needs "Authorization: Bearer <key>"
  size_t max_body_bytes = size_t(1) << 20;
  int max_queue = 16;               // requests waiting behind the running one; more get 429
  std::string model_name;           // the id clients send as "model"; "" = the model directory's name
};

// What the server has done, for /health, logs and tests.
struct ServerStats {
  uint64_t completed = 0;           // generations that ran to their end (stop or length)
  uint64_t cancelled = 0;           // generations stopped because the client went away or the server stopped
  uint64_t rejected_busy = 0;       // 429s
  int queued = 0;                   // waiting now
  bool busy = false;                // a generation is running now
  GenerationStats last;             // of the last generation that ran, finished or not
};

class HttpServerImpl;

class HttpServer {
 public:
  HttpServer(std::shared_ptr<Model> model, ServerOptions options);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on background threads.
  Status start();
  // The bound port (the chosen one when options.port was 0); 0 before start().
  int port() const;
  // Cancels the running generation, answers the queued requests with 503, and joins every thread. Idempotent.
  void stop();
  ServerStats stats() const;
  const std::string& model_name() const;

 private:
  std::unique_ptr<HttpServerImpl> impl_;
};

}  // namespace jetchat::server
