// SignalSource: where alert rules read their values. The rule engine is written against
// this interface; the app implements it over the serving metrics, the model table and the
// monitor (so alerting depends on neither).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "alerting/rule.h"

namespace vigil::alerting {

// One value of a rule's signal: for one model, with the labels that identify it.
struct SignalValue {
  std::map<std::string, std::string> labels;  // at least {"model": ...}
  double value = 0;
};

class SignalSource {
 public:
  virtual ~SignalSource() = default;
  // The rule's signal for every model it selects that has a value now (a model without
  // traffic in the window, labels or a reference profile has none). Thread-compatible:
  // called from the alert evaluator's thread only.
  virtual std::vector<SignalValue> Read(const AlertRule& rule) = 0;
};

}  // namespace vigil::alerting
