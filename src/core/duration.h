// Parsing of human durations used in config and flags: "250ms", "30s", "15m", "1h".
#pragma once

#include <chrono>
#include <string_view>

#include "core/status.h"

namespace vigil {

// A bare number is read in `bare_unit` (config keys such as recovery_timeout: 30 mean seconds).
Result<std::chrono::milliseconds> ParseDuration(
    std::string_view text, std::chrono::milliseconds bare_unit = std::chrono::milliseconds(1));

}  // namespace vigil
