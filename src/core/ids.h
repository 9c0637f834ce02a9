// Identifiers: W3C trace ids, prediction ids. Thread-safe (thread-local generators).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// 32 lowercase hex characters (128 random bits).
std::string RandomHex128();

// 32 lowercase hex characters: 48 bits of Unix milliseconds, then 80 random bits (the
// layout of a UUIDv7). Ids made later sort later, so stores keyed by them append instead
// of inserting at random places (prediction ids).
std::string TimeOrderedHex128();

// The trace id of a W3C `traceparent` header ("00-<32 hex>-<16 hex>-<2 hex>"), or
// nullopt when the header is malformed or the id is all zeros.
std::optional<std::string> TraceIdFromTraceparent(std::string_view header);

}  // namespace vigil
