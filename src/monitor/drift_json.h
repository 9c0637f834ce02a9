// The JSON form of a feature's drift verdict, shared by GET /api/v1/models/{m}/drift and
// `vigil drift --json` (docs/api.md lists the fields).
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "monitor/drift.h"

namespace vigil::monitor {

// {"feature", "method", "evaluated", "score", "score_kind", "statistic", "threshold",
//  "drifted", "reference_rows", "current_rows", "note"}; non-finite numbers are null.
void WriteFeatureDrift(rapidjson::Writer<rapidjson::StringBuffer>& w, const FeatureDrift& d);

}  // namespace vigil::monitor
