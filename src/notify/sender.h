// Sender: one HTTP POST to a receiver (Slack, PagerDuty, a webhook). An interface so the
// notifier's retry logic is tested without a network.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "notify/channel.h"

namespace vigil::notify {

struct PostReply {
  int status = 0;
  std::string body;
};

class Sender {
 public:
  virtual ~Sender() = default;
  // A transport failure (refused, timed out, TLS) is an error Status; any HTTP answer,
  // 5xx included, is a reply.
  virtual Result<PostReply> Post(const std::string& url,
                                 const std::map<std::string, std::string>& headers,
                                 const std::string& body, std::chrono::milliseconds timeout) = 0;
  // Sends an e-mail (`message`: RFC 5322 headers and body, CRLF lines) over SMTP to the
  // channel's server and recipients. The reply maps SMTP onto HTTP's classes so retries
  // decide alike: 200 accepted, 503 a transient refusal (4yz), 400 a permanent one (5yz),
  // with the server's text as the body; a transport failure is an error Status.
  virtual Result<PostReply> Mail(const Channel& channel, const std::string& message) = 0;
};

// Blocking HTTP/1.1 over TCP, or TLS for https:// (the system's CA certificates, host name
// verified); SMTP for e-mail (plain, STARTTLS or smtps://, AUTH PLAIN). Thread-compatible:
// one call at a time per sender.
std::unique_ptr<Sender> MakeHttpSender();

}  // namespace vigil::notify
