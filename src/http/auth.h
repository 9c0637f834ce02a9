// API-key authentication: "Authorization: Bearer <key>", compared in constant time.
//
// Thread-safe after construction (read-only).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::http {

class ApiKeyAuth {
 public:
  explicit ApiKeyAuth(std::vector<std::string> keys) : keys_(std::move(keys)) {}

  bool enabled() const { return !keys_.empty(); }

  // True when `authorization` (the header's value) carries a configured key.
  bool Check(std::string_view authorization) const;

 private:
  std::vector<std::string> keys_;
};

}  // namespace vigil::http
