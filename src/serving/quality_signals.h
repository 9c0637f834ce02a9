// QualitySignals: what the monitor knows about a version's answers that serving needs for
// its decisions (the gradual rollout's accuracy guardrail). Serving defines it, the monitor
// implements it and app injects it, so serving never depends on the monitor.
#pragma once

#include <cstdint>
#include <string>

namespace vigil {

class QualitySignals {
 public:
  virtual ~QualitySignals() = default;

  struct LabelCounts {
    double labelled = 0;  // delayed labels received for the version's predictions
    double correct = 0;   // of which the prediction was right (classifiers)
  };
  // Cumulative since the process started (monotone), so callers diff two readings.
  // Thread-safe.
  virtual LabelCounts Labels(const std::string& model, int64_t version) const = 0;
};

}  // namespace vigil
