#include "core/duration.h"

#include <charconv>
#include <string>

namespace vigil {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text,
                                                std::chrono::milliseconds bare_unit) {
  const std::string original(text);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0) {
    return InvalidArgument("expected a duration such as 250ms, 30s, 15m or 1h, got '" + original +
                           "'");
  }
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  double ms_per_unit;
  if (unit.empty()) {
    ms_per_unit = static_cast<double>(bare_unit.count());
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else if (unit == "d") {
    ms_per_unit = 86'400'000;
  } else {
    return InvalidArgument("unknown duration unit '" + std::string(unit) + "' in '" + original +
                           "' (expected ms, s, m, h or d)");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(value * ms_per_unit + 0.5));
}

}  // namespace vigil
