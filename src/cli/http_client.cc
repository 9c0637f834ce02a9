#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdlib>

namespace vigil {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

Result<HttpReply> HttpCall(const std::string& url, const std::string& method,
                           const std::string& path, const std::string& body,
                           const std::string& token, const std::string& content_type) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return InvalidArgument("--url: expected http://HOST:PORT, got '" + url + "'");
  }
  std::string hostport = url.substr(kScheme.size());
  while (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
  std::string host = hostport, port = "80";
  if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(60));
    stream.connect(resolver.resolve(host, port));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), path, 11};
    req.set(bhttp::field::host, host);
    req.set(bhttp::field::user_agent, "vigil-cli");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    const char* user = std::getenv("USER");
    req.set("X-Vigil-Actor", user && *user ? user : "cli");
    if (!body.empty()) req.set(bhttp::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    bhttp::read(stream, buffer, parser);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return HttpReply{static_cast<int>(parser.get().result_int()), parser.get().body()};
  } catch (const std::exception& e) {
    return Unavailable("cannot reach the Vigil server at " + url + ": " + e.what() +
                       " (is `vigil serve` running? set --url or VIGIL_URL)");
  }
}

}  // namespace vigil
