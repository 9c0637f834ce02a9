#include "http/auth.h"

#include "core/strings.h"

namespace vigil::http {

bool ApiKeyAuth::Check(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      authorization.substr(0, kBearer.size()) != kBearer) {
    return false;
  }
  std::string_view token = authorization.substr(kBearer.size());
  bool match = false;
  // Every key is compared, so timing does not reveal which (if any) matched.
  for (const auto& k : keys_) match = ConstantTimeEquals(token, k) | match;
  return match;
}

}  // namespace vigil::http
