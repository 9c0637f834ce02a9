// A small blocking HTTP/1.1 client for the CLI (talks to a running `vigil serve`).
#pragma once

#include <string>

#include "core/status.h"

namespace vigil {

struct HttpReply {
  int status = 0;
  std::string body;
};

// url: "http://host:port" (no TLS). path includes the query string.
// Sends X-Vigil-Actor: $USER (or "cli") so lifecycle history records who acted.
Result<HttpReply> HttpCall(const std::string& url, const std::string& method,
                           const std::string& path, const std::string& body,
                           const std::string& token,
                           const std::string& content_type = "application/json");

}  // namespace vigil
