// Small string helpers shared across modules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// Levenshtein distance; used to suggest the closest known key for a typo.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when none is reasonably close.
std::string ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates);

std::vector<std::string> SplitAndTrim(std::string_view text, char sep);

// Constant-time equality (for secrets): time depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Decodes %XX escapes and '+' (as in URL query strings); nullopt when malformed.
std::optional<std::string> PercentDecode(std::string_view s);

// The decoded value of `key` in a query string ("a=1&b=x%20y"); nullopt when absent or
// malformed.
std::optional<std::string> QueryValue(std::string_view query, std::string_view key);

// A quoted JSON string literal for `s` (with the quotes).
std::string JsonQuote(std::string_view s);

}  // namespace vigil
