#include <openssl/ssl.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/version.h"
#include "notify/sender.h"

namespace vigil::notify {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

struct Url {
  bool tls = false;
  std::string host, port, target;
};

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return InvalidArgument("expected an http:// or https:// URL, got '" + url + "'");
  }
  const size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  u.port = u.tls ? "443" : "80";
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

template <typename Stream>
PostReply Exchange(Stream& stream, const Url& u, const std::map<std::string, std::string>& headers,
                   const std::string& body) {
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

class HttpSender final : public Sender {
 public:
  Result<PostReply> Post(const std::string& url, const std::map<std::string, std::string>& headers,
                         const std::string& body, std::chrono::milliseconds timeout) override {
    auto u = ParseUrl(url);
    if (!u.ok()) return u.status();
    try {
      net::io_context ioc;
      tcp::resolver resolver(ioc);
      const auto endpoints = resolver.resolve(u->host, u->port);
      if (!u->tls) {
        beast::tcp_stream stream(ioc);
        stream.expires_after(timeout);
        stream.connect(endpoints);
        PostReply reply = Exchange(stream, *u, headers, body);
        beast::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        return reply;
      }
      ssl::context ctx(ssl::context::tls_client);
      ctx.set_default_verify_paths();
      ctx.set_verify_mode(ssl::verify_peer);
      beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
      if (!SSL_set_tlsext_host_name(stream.native_handle(), u->host.c_str())) {
        return Unavailable("TLS: cannot set the server name " + u->host);
      }
      stream.set_verify_callback(ssl::host_name_verification(u->host));
      beast::get_lowest_layer(stream).expires_after(timeout);
      beast::get_lowest_layer(stream).connect(endpoints);
      stream.handshake(ssl::stream_base::client);
      PostReply reply = Exchange(stream, *u, headers, body);
      beast::error_code ec;
      stream.shutdown(ec);  // receivers often just close; their reply is what counts
      return reply;
    } catch (const std::exception& e) {
      return Unavailable(std::string("POST ") + u->host + ":" + u->port + ": " + e.what());
    }
  }
};

}  // namespace

std::unique_ptr<Sender> MakeHttpSender() { return std::make_unique<HttpSender>(); }

}  // namespace vigil::notify
