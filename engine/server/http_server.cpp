#include "http_server.h"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "openai_api.h"

namespace jetchat::server {
namespace {

using nlohmann::json;

// One request's generation, shared by the HTTP thread that answers it and the worker that runs it.
//
// Streaming is lock-step: the worker hands over one piece and waits until the HTTP thread has taken it, so a
// client that stops reading holds the worker back instead of piling text up, and a failed write (the client
// went away) cancels the generation while at most one more token is computed.
class Job {
 public:
  explicit Job(GenerationRequest r) : request(std::move(r)) {}

  const GenerationRequest request;

  // Worker side: a streamed piece; false when the job was cancelled (the engine then stops generating).
  bool push(std::string_view piece) {
    std::unique_lock<std::mutex> lock(mu_);
    if (cancelled_) return false;
    pending_ += piece;
    cv_.notify_all();
    cv_.wait(lock, [&] { return pending_.empty() || cancelled_; });
    return !cancelled_;
  }
  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }
  // Worker side: the session that runs the job, so that cancel() reaches it mid-prefill; false if already cancelled.
  bool attach(Session* session) {
    std::lock_guard<std::mutex> lock(mu_);
    session_ = session;
    return !cancelled_;
  }
  void finish(Result<Generation> r) {
    std::lock_guard<std::mutex> lock(mu_);
    session_ = nullptr;
    if (r.is_ok()) result_ = std::move(r.value());
    else status_ = r.status();
    finished_ = true;
    cv_.notify_all();
  }

  // Any thread: stop the job whether it waits in the queue or runs.
  void cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    if (session_) session_->cancel();
    cv_.notify_all();
  }

  // HTTP side: waits until the job has finished (or, with first_piece, until it streamed something).
  void wait(bool first_piece) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return finished_ || (first_piece && !pending_.empty()); });
  }
  // HTTP side: takes the text streamed so far, waiting for some; sets `finished` once nothing more will come.
  std::string take(bool& finished) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return finished_ || !pending_.empty(); });
    std::string text;
    text.swap(pending_);
    finished = finished_;
    cv_.notify_all();
    return text;
  }
  // The engine's refusal, once finished with one.
  std::optional<Status> error() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_ && !status_.is_ok()) return status_;
    return std::nullopt;
  }
  // Valid once wait() or take() has seen the job finished.
  const Generation& result() const { return result_; }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  bool cancelled_ = false;
  bool finished_ = false;
  Session* session_ = nullptr;
  Status status_;
  Generation result_;
};

int64_t unix_now() { return int64_t(std::time(nullptr)); }

std::string new_id(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kHex[rng() & 15];
  return id;
}

// Compares without stopping at the first difference, so response time does not reveal how much of a guessed key
// was right.
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, e.http_status, error_body(e)); }

ApiError engine_error(const Status& s) {
  if (s.code() == StatusCode::kInvalidArgument) return ApiError{400, s.message(), "invalid_request_error", "", ""};
  return ApiError{500, s.message(), "server_error", "", ""};
}

const ApiError kShuttingDown{503, "the server is shutting down", "server_error", "", "server_shutting_down"};

}  // namespace

class HttpServerImpl {
 public:
  HttpServerImpl(std::shared_ptr<Model> model, ServerOptions options)
      : model_(std::move(model)),
        options_(std::move(options)),
        name_(options_.model_name.empty() ? model_->info().name : options_.model_name),
        created_(unix_now()) {}

  Status start();
  void stop();
  ServerStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    ServerStats s = stats_;
    s.queued = int(queue_.size());
    s.busy = running_ != nullptr;
    return s;
  }

  int port_ = 0;
  const std::shared_ptr<Model> model_;
  const ServerOptions options_;
  const std::string name_;

 private:
  void routes();
  bool authorized(const httplib::Request& req) const;
  void handle_generation(Endpoint endpoint, const httplib::Request& req, httplib::Response& res);
  void stream(const std::shared_ptr<Job>& job, httplib::Response& res);
  std::optional<ApiError> enqueue(const std::shared_ptr<Job>& job);
  void worker_loop();
  void run(Session& session, Job& job);

  const int64_t created_;
  httplib::Server http_;
  std::thread listener_, worker_;
  std::atomic<bool> listen_ended_{false};

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::shared_ptr<Job> running_;
  bool started_ = false, stopping_ = false;
  ServerStats stats_;
};

bool HttpServerImpl::authorized(const httplib::Request& req) const {
  if (options_.api_key.empty()) return true;
  return same_secret(req.get_header_value("Authorization"), "Bearer " + options_.api_key);
}

void HttpServerImpl::routes() {
  // The key is checked before the body is read, so an unauthorised client cannot make the server buffer a megabyte.
  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, ApiError{401, "a valid API key is required: send 'Authorization: Bearer <key>'",
                             "invalid_request_error", "", "invalid_api_key"});
    return httplib::Server::HandlerResponse::Handled;
  });
  // Errors raised by the library itself (413 body too large, 404 no route, 400 unreadable request) get the same
  // JSON shape as ours; responses that already carry a body are left alone.
  http_.set_error_handler(httplib::Server::Handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    ApiError e{res.status, "", "invalid_request_error", "", ""};
    if (res.status == 413) {
      e.message = "the request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes";
      e.code = "request_too_large";
    } else if (res.status == 404) {
      e.message = "no such endpoint: " + req.method + " " + req.path;
      e.code = "not_found";
    } else {
      e.message = "the request could not be read (HTTP " + std::to_string(res.status) + ")";
      if (res.status >= 500) e.type = "server_error";
    }
    send_error(res, e);
  }));

  http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const ServerStats s = stats();
    send_json(res, 200, {{"status", "ok"}, {"model", name_}, {"queued", s.queued}, {"busy", s.busy}});
  });
  http_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, models_list(name_, created_));
  });
  http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generation(Endpoint::kChat, req, res);
  });
  http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generation(Endpoint::kCompletion, req, res);
  });
}

std::optional<ApiError> HttpServerImpl::enqueue(const std::shared_ptr<Job>& job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return kShuttingDown;
  if (int(queue_.size()) >= options_.max_queue) {
    ++stats_.rejected_busy;
    return ApiError{429, "the server is busy: " + std::to_string(queue_.size()) + " requests are waiting; retry later",
                    "rate_limit_error", "", "queue_full"};
  }
  queue_.push_back(job);
  cv_.notify_all();
  return std::nullopt;
}

void HttpServerImpl::handle_generation(Endpoint endpoint, const httplib::Request& req, httplib::Response& res) {
  auto parsed = parse_generation_request(endpoint, req.body, name_);
  if (const auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
  auto job = std::make_shared<Job>(std::move(std::get<GenerationRequest>(parsed)));
  if (auto e = enqueue(job)) return send_error(res, *e);

  // A stream's status line waits for its first piece, so that errors found before generating (a prompt longer than
  // the context) still get a proper HTTP status rather than an event inside a 200 stream.
  job->wait(job->request.stream);
  if (job->cancelled()) return send_error(res, kShuttingDown);
  if (auto failed = job->error()) return send_error(res, engine_error(*failed));
  if (job->request.stream) return stream(job, res);
  const Generation& g = job->result();
  const int64_t now = unix_now();
  send_json(res, 200, endpoint == Endpoint::kChat ? chat_completion(new_id("chatcmpl-"), now, name_, g)
                                                  : text_completion(new_id("cmpl-"), now, name_, g));
}

void HttpServerImpl::stream(const std::shared_ptr<Job>& job, httplib::Response& res) {
  struct State {
    std::string id;
    int64_t created;
    bool opened = false;
  };
  const bool chat = job->request.endpoint == Endpoint::kChat;
  auto state = std::make_shared<State>(State{new_id(chat ? "chatcmpl-" : "cmpl-"), unix_now()});
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");  // reverse proxies must pass events through as they come
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, job, state, chat](size_t, httplib::DataSink& sink) {
        // A failed write means the client is gone: stop generating for it.
        auto send = [&](const json& event) {
          const std::string s = sse_event(event);
          if (sink.write(s.data(), s.size())) return true;
          job->cancel();
          return false;
        };
        if (!state->opened) {
          state->opened = true;
          if (chat && !send(chat_chunk_role(state->id, state->created, name_))) return false;
        }
        bool finished = false;
        const std::string text = job->take(finished);
        if (!text.empty()) {
          const json chunk = chat ? chat_chunk_content(state->id, state->created, name_, text)
                                  : completion_chunk(state->id, state->created, name_, text, "");
          if (!send(chunk)) return false;
        }
        if (!finished) return true;
        // A generation cut short by the server stopping ends the connection without [DONE]: the reply is
        // incomplete, and clients must not mistake it for a whole one.
        if (job->cancelled() || job->error()) return false;
        const Generation& g = job->result();
        const std::string reason = finish_reason(g.stats);
        bool ok = send(chat ? chat_chunk_finish(state->id, state->created, name_, reason)
                            : completion_chunk(state->id, state->created, name_, "", reason));
        if (ok && job->request.include_usage)
          ok = send(usage_chunk(job->request.endpoint, state->id, state->created, name_, g));
        const std::string done = sse_done();
        if (!ok || !sink.write(done.data(), done.size())) return false;
        sink.done();
        return true;
      },
      // Runs whenever the response is released, also when the client vanished before the first write.
      [job](bool) { job->cancel(); });
}

void HttpServerImpl::run(Session& session, Job& job) {
  const GenerationRequest& r = job.request;
  // Each request is a conversation of its own.
  session.reset();
  session.set_system_prompt(r.system_prompt);
  if (!job.attach(&session)) return job.finish(Generation{});
  // Session::chat clears a cancel() that lands before it starts; the callback catches that one at the next token.
  PieceCallback on_piece;
  if (r.stream) on_piece = [&job](std::string_view piece) { return job.push(piece); };
  else on_piece = [&job](std::string_view) { return !job.cancelled(); };
  auto g = r.endpoint == Endpoint::kChat ? session.chat(r.messages, r.params, on_piece)
                                         : session.complete(r.prompt, r.params, on_piece);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (g.is_ok()) {
      stats_.last = g->stats;
      ++(job.cancelled() ? stats_.cancelled : stats_.completed);
    }
  }
  job.finish(std::move(g));
}

void HttpServerImpl::worker_loop() {
  Session session(model_);
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      queue_.pop_front();
      running_ = job;
    }
    run(session, *job);
    std::lock_guard<std::mutex> lock(mu_);
    running_.reset();
  }
}

Status HttpServerImpl::start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return Status(StatusCode::kInvalidArgument, "the server was already started");
    started_ = true;
  }
  // Debian's libcpp-httplib writes with plain send(): without this, a client that hangs up mid-stream would kill
  // the whole process with SIGPIPE instead of failing one write.
  std::signal(SIGPIPE, SIG_IGN);
  // Every waiting request holds an HTTP thread, so the pool must outnumber the queue, or requests beyond it
  // would wait unseen in the library's own unbounded queue instead of getting 429.
  const size_t threads = size_t(std::max(options_.max_queue, 0)) + 8;
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_.set_payload_max_length(options_.max_body_bytes);
  routes();
  if (options_.port == 0) {
    port_ = http_.bind_to_any_port(options_.host);
  } else if (http_.bind_to_port(options_.host, options_.port)) {
    port_ = options_.port;
  } else {
    port_ = -1;
  }
  if (port_ < 0) {
    port_ = 0;
    return Status(StatusCode::kIoError, "cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                                            " (address in use, or not an address of this machine)");
  }
  worker_ = std::thread([this] { worker_loop(); });
  listener_ = std::thread([this] {
    http_.listen_after_bind();
    listen_ended_ = true;
  });
  // stop() can only interrupt a listen loop that has begun.
  while (!http_.is_running() && !listen_ended_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (listen_ended_) return Status(StatusCode::kIoError, "the listening socket failed on " + options_.host);
  return Status::ok();
}

void HttpServerImpl::stop() {
  std::deque<std::shared_ptr<Job>> queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
    queued.swap(queue_);
    if (running_) running_->cancel();
    cv_.notify_all();
  }
  for (auto& job : queued) {
    job->cancel();
    job->finish(Generation{});
  }
  // The library joins its handler threads here; every one of them is waiting on a job that has just ended.
  http_.stop();
  if (listener_.joinable()) listener_.join();
  if (worker_.joinable()) worker_.join();
}

HttpServer::HttpServer(std::shared_ptr<Model> model, ServerOptions options)
    : impl_(std::make_unique<HttpServerImpl>(std::move(model), std::move(options))) {}
HttpServer::~HttpServer() { stop(); }
Status HttpServer::start() { return impl_->start(); }
int HttpServer::port() const { return impl_->port_; }
void HttpServer::stop() { impl_->stop(); }
ServerStats HttpServer::stats() const { return impl_->stats(); }
const std::string& HttpServer::model_name() const { return impl_->name_; }

}  // namespace jetchat::server
