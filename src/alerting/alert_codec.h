// Alerts as JSON, for the store (firing alerts survive a restart). The latest value is
// not kept: the first evaluation after a restart reads it again.
#pragma once

#include <string>

#include "alerting/evaluator.h"
#include "core/status.h"

namespace vigil::alerting {

std::string EncodeAlert(const Alert& alert);
Result<Alert> DecodeAlert(const std::string& json);

}  // namespace vigil::alerting
