// The Sender over the network: HTTP/1.1 POSTs (plain or TLS) and SMTP.
//
// Every exchange is bounded by the channel's timeout: the connection is made
// asynchronously and given up when the time passes; the blocking exchange after it runs
// under a Deadline, which shuts the socket down (unblocking any read or write) if it is
// still going when the time is up.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <istream>
#include <mutex>
#include <thread>

#include "core/version.h"
#include "notify/sender.h"

namespace vigil::notify {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

// Shuts `fd` down if the scope is still running after `timeout`. Thread-safe by
// construction: shutdown(2) on a descriptor another thread blocks on is what unblocks it.
class Deadline {
 public:
  Deadline(int fd, std::chrono::milliseconds timeout)
      : thread_([this, fd, timeout] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_for(lock, timeout, [this] { return done_; })) {
            expired_ = true;
            ::shutdown(fd, SHUT_RDWR);
          }
        }) {}
  ~Deadline() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  bool expired() const { return expired_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> expired_{false};
  std::thread thread_;  // last: starts once the members above exist
};

struct Endpoint {
  bool tls = false;
  std::string host, port, target;
};

Result<Endpoint> ParseUrl(const std::string& url) {
  Endpoint u;
  std::string rest;
  const std::pair<const char*, bool> schemes[] = {
      {"https://", true}, {"http://", false}, {"smtps://", true}, {"smtp://", false}};
  bool known = false;
  for (const auto& [scheme, tls] : schemes) {
    if (url.rfind(scheme, 0) != 0) continue;
    known = true;
    u.tls = tls;
    rest = url.substr(std::string_view(scheme).size());
    const bool smtp = std::string_view(scheme).substr(0, 4) == "smtp";
    u.port = smtp ? (tls ? "465" : "25") : (tls ? "443" : "80");
    break;
  }
  if (!known) return InvalidArgument("unsupported URL '" + url + "'");
  const size_t slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  u.host = hostport;
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:8080
    const size_t close = hostport.find(']');
    if (close == std::string::npos) return InvalidArgument("bad host in '" + url + "'");
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') {
      u.port = hostport.substr(close + 2);
    }
  } else if (const size_t colon = hostport.rfind(':'); colon != std::string::npos) {
    u.host = hostport.substr(0, colon);
    u.port = hostport.substr(colon + 1);
  }
  if (u.host.empty()) return InvalidArgument("no host in '" + url + "'");
  return u;
}

// Resolves and connects within `timeout`; throws boost::system::system_error otherwise.
void Connect(net::io_context& ioc, tcp::socket& socket, const Endpoint& u,
             std::chrono::milliseconds timeout) {
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(u.host, u.port);
  boost::system::error_code result = net::error::would_block;
  net::async_connect(
      socket, endpoints,
      [&result](const boost::system::error_code& ec, const tcp::endpoint&) { result = ec; });
  ioc.run_for(timeout);
  if (result == net::error::would_block) {
    socket.close();
    throw boost::system::system_error(net::error::timed_out, "connect");
  }
  if (result) throw boost::system::system_error(result, "connect");
}

void StartTls(ssl::stream<tcp::socket&>& tls, const std::string& host) {
  if (!SSL_set_tlsext_host_name(tls.native_handle(), host.c_str())) {
    throw std::runtime_error("TLS: cannot set the server name " + host);
  }
  tls.set_verify_callback(ssl::host_name_verification(host));
  tls.handshake(ssl::stream_base::client);
}

ssl::context ClientContext() {
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

template <typename Stream>
PostReply Exchange(Stream& stream, const Endpoint& u,
                   const std::map<std::string, std::string>& headers, const std::string& body) {
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, u.target, 11};
  req.set(bhttp::field::host, u.host);
  req.set(bhttp::field::user_agent, std::string("vigil/") + kVersion);
  req.set(bhttp::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1 << 20);
  bhttp::read(stream, buffer, parser);
  return PostReply{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

// --- SMTP ----------------------------------------------------------------------------

using SmtpReply = std::pair<int, std::string>;

// One reply, multi-line ("250-...", then "250 ...") joined.
template <typename Stream>
SmtpReply ReadReply(Stream& s, net::streambuf& buf) {
  std::string text;
  for (;;) {
    net::read_until(s, buf, "\r\n");
    std::istream in(&buf);
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    text += (text.empty() ? "" : " ") + line;
    if (line.size() < 4 || line[3] != '-') {
      return {line.size() >= 3 ? std::atoi(line.substr(0, 3).c_str()) : 0, text};
    }
  }
}

template <typename Stream>
SmtpReply Command(Stream& s, net::streambuf& buf, const std::string& line) {
  net::write(s, net::buffer(line + "\r\n"));
  return ReadReply(s, buf);
}

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// From EHLO (unless done) to the end of DATA; the first reply that is not what its step
// wants, or DATA's 250.
template <typename Stream>
SmtpReply MailTransaction(Stream& s, net::streambuf& buf, const Channel& c,
                          const std::string& message, bool ehlo_done) {
  SmtpReply r;
  if (!ehlo_done && (r = Command(s, buf, "EHLO vigil")).first != 250) return r;
  if (!c.username.empty()) {
    const std::string plain = std::string(1, '\0') + c.username + std::string(1, '\0') + c.password;
    if ((r = Command(s, buf, "AUTH PLAIN " + Base64(plain))).first != 235) return r;
  }
  if ((r = Command(s, buf, "MAIL FROM:<" + c.from + ">")).first != 250) return r;
  for (const auto& to : c.to) {
    r = Command(s, buf, "RCPT TO:<" + to + ">");
    if (r.first != 250 && r.first != 251) return r;
  }
  if ((r = Command(s, buf, "DATA")).first != 354) return r;
  std::string data;
  for (size_t start = 0; start < message.size();) {  // dot-stuffing, RFC 5321 4.5.2
    size_t end = message.find("\r\n", start);
    if (end == std::string::npos) end = message.size();
    if (message[start] == '.') data += '.';
    data += message.substr(start, end - start) + "\r\n";
    start = end + 2;
  }
  r = Command(s, buf, data + ".");
  if (r.first == 250) {
    boost::system::error_code ignored;
    net::write(s, net::buffer(std::string("QUIT\r\n")), ignored);
  }
  return r;
}

PostReply MailReply(const SmtpReply& r) {
  if (r.first == 250) return {200, r.second};
  return {r.first >= 400 && r.first < 500 ? 503 : 400, "SMTP " + r.second};
}

class NetworkSender final : public Sender {
 public:
  Result<PostReply> Post(const std::string& url, const std::map<std::string, std::string>& headers,
                         const std::string& body, std::chrono::milliseconds timeout) override {
    auto u = ParseUrl(url);
    if (!u.ok()) return u.status();
    try {
      net::io_context ioc;
      tcp::socket socket(ioc);
      Connect(ioc, socket, *u, timeout);
      Deadline deadline(socket.native_handle(), timeout);
      try {
        if (!u->tls) return Exchange(socket, *u, headers, body);
        ssl::context ctx = ClientContext();
        ssl::stream<tcp::socket&> tls(socket, ctx);
        StartTls(tls, u->host);
        return Exchange(tls, *u, headers, body);  // receivers often skip close_notify
      } catch (const std::exception& e) {
        if (deadline.expired()) return Unavailable("POST " + u->host + ": timed out");
        throw;
      }
    } catch (const std::exception& e) {
      return Unavailable("POST " + u->host + ":" + u->port + ": " + e.what());
    }
  }

  Result<PostReply> Mail(const Channel& c, const std::string& message) override {
    auto u = ParseUrl(c.url);
    if (!u.ok()) return u.status();
    try {
      net::io_context ioc;
      tcp::socket socket(ioc);
      Connect(ioc, socket, *u, c.timeout);
      Deadline deadline(socket.native_handle(), c.timeout);
      try {
        net::streambuf buf;
        ssl::context ctx = ClientContext();
        if (u->tls) {  // smtps://: TLS from the first byte
          ssl::stream<tcp::socket&> tls(socket, ctx);
          StartTls(tls, u->host);
          SmtpReply r = ReadReply(tls, buf);
          if (r.first != 220) return MailReply(r);
          return MailReply(MailTransaction(tls, buf, c, message, false));
        }
        SmtpReply r = ReadReply(socket, buf);
        if (r.first != 220) return MailReply(r);
        if (!c.starttls) return MailReply(MailTransaction(socket, buf, c, message, false));
        if ((r = Command(socket, buf, "EHLO vigil")).first != 250) return MailReply(r);
        if ((r = Command(socket, buf, "STARTTLS")).first != 220) return MailReply(r);
        ssl::stream<tcp::socket&> tls(socket, ctx);
        StartTls(tls, u->host);
        return MailReply(MailTransaction(tls, buf, c, message, false));
      } catch (const std::exception& e) {
        if (deadline.expired()) return Unavailable("SMTP " + u->host + ": timed out");
        throw;
      }
    } catch (const std::exception& e) {
      return Unavailable("SMTP " + u->host + ":" + u->port + ": " + e.what());
    }
  }
};

}  // namespace

std::unique_ptr<Sender> MakeHttpSender() { return std::make_unique<NetworkSender>(); }

}  // namespace vigil::notify
