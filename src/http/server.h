// HttpServer: HTTP/1.1 over Boost.Beast with keep-alive, TCP_NODELAY, a body limit and
// graceful shutdown.
//
// Each connection runs on its own strand; requests on a connection are answered in
// order. The handler is called on an I/O thread and must not block: it answers through
// the Responder, from any thread, exactly once (a Responder dropped unanswered answers
// 500). Shutdown() stops accepting, closes idle connections, waits for in-flight
// requests to be answered (up to a grace period), then stops the I/O threads.
#pragma once

#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"

namespace vigil::http {

namespace beast_http = boost::beast::http;
using HttpRequest = beast_http::request<beast_http::string_body>;
using HttpResponse = beast_http::response<beast_http::string_body>;

class Session;

class Responder {
 public:
  Responder() = default;
  explicit Responder(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  Responder(Responder&&) = default;
  Responder& operator=(Responder&&) = default;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Thread-safe; sends `res` on the connection (keep-alive and Content-Length are set here).
  void Send(HttpResponse&& res);

  // Thread-safe; runs `fn` on the connection's I/O strand, so a worker thread can hand
  // the building of a response back to the I/O threads. `fn` must not block.
  void Post(std::function<void()> fn) const;

 private:
  std::shared_ptr<Session> session_;
};

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8000;  // 0: any free port
  int threads = 2;
  uint64_t max_body_bytes = 8 * 1024 * 1024;
  std::chrono::seconds idle_timeout{75};
};

// Builds a JSON error response {"error": message}.
HttpResponse MakeErrorResponse(unsigned version, int status, std::string_view message);

class HttpServer {
 public:
  using Handler = std::function<void(HttpRequest&&, Responder&&)>;

  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Returns the bound port.
  Result<uint16_t> Start();

  // Stops accepting and drains; returns once the I/O threads have stopped.
  void Shutdown(std::chrono::milliseconds grace);

  int64_t in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::http
