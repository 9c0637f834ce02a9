#include "http/server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/logging.h"
#include "core/strings.h"

namespace vigil::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

HttpResponse MakeErrorResponse(unsigned version, int status, std::string_view message) {
  HttpResponse res{static_cast<beast_http::status>(status), version};
  res.set(beast_http::field::content_type, "application/json");
  res.body() = "{\"error\":" + JsonQuote(message) + "}";
  return res;
}

struct ServerState {
  ServerOptions options;
  HttpServer::Handler handler;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};  // I/O threads gone: nothing may be posted any more
  std::mutex sessions_mu;
  std::map<Session*, std::weak_ptr<Session>> sessions;  // guarded by sessions_mu
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<ServerState> state)
      : stream_(std::move(socket)), state_(std::move(state)) {}

  void Start() {
    {
      std::lock_guard lock(state_->sessions_mu);
      state_->sessions[this] = weak_from_this();
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  ~Session() {
    std::lock_guard lock(state_->sessions_mu);
    state_->sessions.erase(this);
  }

  void Post(std::function<void()> fn) {
    if (state_->stopped.load()) return;
    net::post(stream_.get_executor(), std::move(fn));
  }

  // Inline when already on the connection's strand, else queued onto it.
  void Send(HttpResponse&& res) {
    if (state_->stopped.load()) return;  // past the shutdown grace: the answer is dropped
    net::dispatch(
        stream_.get_executor(),
        [self = shared_from_this(), r = std::move(res)]() mutable { self->Write(std::move(r)); });
  }

  // Called on shutdown: closes the connection now if idle, else after the response.
  void CloseWhenIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->close_after_response_ = true;
      if (!self->busy_) self->Close();
    });
  }

 private:
  void Read() {
    if (state_->stopping.load()) return Close();
    parser_.emplace();
    parser_->body_limit(state_->options.max_body_bytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(state_->options.idle_timeout);
    beast_http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == beast_http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::connection_reset ||
        ec == net::error::eof) {
      return Close();
    }
    if (ec) {
      close_after_response_ = true;
      busy_ = true;
      state_->in_flight.fetch_add(1);
      if (ec == beast_http::error::body_limit) {
        return Write(MakeErrorResponse(11, 413,
                                       "request body larger than the limit of " +
                                           std::to_string(state_->options.max_body_bytes) +
                                           " bytes"));
      }
      if (ec == beast_http::error::header_limit) {
        return Write(MakeErrorResponse(11, 431, "request headers too large"));
      }
      return Write(MakeErrorResponse(11, 400, "malformed HTTP request: " + ec.message()));
    }
    busy_ = true;
    state_->in_flight.fetch_add(1);
    stream_.expires_never();
    HttpRequest req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    try {
      state_->handler(std::move(req), Responder(shared_from_this()));
    } catch (const std::exception& e) {
      // Handlers answer errors as values; this is a last line of defence.
      LogError("handler threw", {{"error", e.what()}});
    }
  }

  void Write(HttpResponse&& res) {
    const bool keep = keep_alive_ && !close_after_response_ && !state_->stopping.load();
    res.version(version_);
    res.keep_alive(keep);
    res.set(beast_http::field::server, "vigil");
    res.prepare_payload();
    response_.emplace(std::move(res));
    stream_.expires_after(std::chrono::seconds(30));
    beast_http::async_write(stream_, *response_,
                            [self = shared_from_this(), keep](beast::error_code ec, size_t) {
                              self->OnWrite(ec, keep);
                            });
  }

  void OnWrite(beast::error_code ec, bool keep) {
    response_.reset();
    busy_ = false;
    state_->in_flight.fetch_sub(1);
    if (ec || !keep) return Close();
    Read();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<ServerState> state_;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  std::optional<HttpResponse> response_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool busy_ = false;                  // a request is being answered
  bool close_after_response_ = false;  // shutting down, or a broken request
};

Responder::~Responder() {
  if (session_) Send(MakeErrorResponse(11, 500, "internal error: request was not answered"));
}

void Responder::Post(std::function<void()> fn) const {
  if (session_) session_->Post(std::move(fn));
}

void Responder::Send(HttpResponse&& res) {
  if (!session_) return;
  auto s = std::move(session_);
  s->Send(std::move(res));
}

struct HttpServer::Impl {
  std::shared_ptr<ServerState> state = std::make_shared<ServerState>();
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;

  void Accept() {
    acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
        LogWarn("accept failed", {{"error", ec.message()}});
      } else {
        beast::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(s), state)->Start();
      }
      if (!state->stopping.load()) Accept();
    });
  }
};

HttpServer::HttpServer(ServerOptions options, Handler handler) : impl_(new Impl) {
  impl_->state->options = std::move(options);
  impl_->state->handler = std::move(handler);
}

HttpServer::~HttpServer() { Shutdown(std::chrono::milliseconds(0)); }

int64_t HttpServer::in_flight() const { return impl_->state->in_flight.load(); }

Result<uint16_t> HttpServer::Start() {
  const auto& opt = impl_->state->options;
  beast::error_code ec;
  auto addr = net::ip::make_address(opt.host, ec);
  if (ec) return InvalidArgument("invalid listen address '" + opt.host + "'");
  tcp::endpoint ep(addr, opt.port);
  impl_->acceptor.emplace(impl_->ioc);
  auto& acc = *impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + opt.host + ":" + std::to_string(opt.port) + ": " +
                       ec.message());
  }
  const uint16_t port = acc.local_endpoint().port();
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->Accept();
  for (int i = 0; i < std::max(1, opt.threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return port;
}

void HttpServer::Shutdown(std::chrono::milliseconds grace) {
  if (impl_->threads.empty()) return;
  auto& state = *impl_->state;
  state.stopping.store(true);
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    if (impl_->acceptor) impl_->acceptor->close(ignored);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(state.sessions_mu);
    for (auto& [p, w] : state.sessions) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->CloseWhenIdle();
  live.clear();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (state.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  state.stopped.store(true);
}

}  // namespace vigil::http
