// Inhibition (Alertmanager's inhibit_rules): while an alert matching `source` fires, alerts
// matching `target` that agree with it on every `equal` label are inhibited: they keep
// their lifecycle and show in the API (with `inhibited_by`) but notify nobody and declare
// no incident. Example: a model that failed to load inhibits its latency and error-rate
// warnings. Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "alerting/evaluator.h"
#include "alerting/silence.h"

namespace vigil::alerting {

struct InhibitRule {
  std::vector<Matcher> source;     // all must match the inhibiting (firing) alert
  std::vector<Matcher> target;     // all must match the inhibited alert
  std::vector<std::string> equal;  // labels both must have with the same value (or both lack)
};

// Fingerprints of the firing alerts among `alerts` that inhibit `a` (empty: not inhibited).
// An alert never inhibits itself; a resolved `a` is never inhibited.
std::vector<std::string> InhibitedBy(const Alert& a, const std::vector<Alert>& alerts,
                                     const std::vector<InhibitRule>& rules);

}  // namespace vigil::alerting
