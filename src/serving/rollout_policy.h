// Gradual rollouts: steps of traffic (e.g. 5 -> 25 -> 50 -> 100 %), each held for a
// duration, with guardrails that compare the candidate with production during the step.
//
// EvaluateStep is a pure function of the plan, the time the step has been held and the
// two variants' statistics for that step, so tests drive it without clocks or threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil {

struct GradualPlan {
  std::vector<double> steps = {5, 25, 50, 100};  // percent of unversioned traffic
  std::chrono::milliseconds hold{std::chrono::minutes(5)};
  // Guardrails (candidate vs production, over the current step):
  double max_error_rate_increase = 0.01;  // candidate error rate <= production's + this
  double max_p95_ratio = 1.5;             // candidate p95 <= this x production p95 (+1 ms)
  int64_t min_requests = 20;              // candidate requests in a step before judging
  double max_disagreement = 0.1;          // share of candidate rows whose answer differs
                                          // from production's (the same request run on both)
  double max_accuracy_drop = 0.05;        // candidate accuracy >= production's - this, from
                                          // labels received during the step (feedback API)
  int64_t min_labels = 20;                // labels per variant before accuracy is judged

  // "steps=5,25,50,100;hold_ms=300000;max_error_rate_increase=0.01;..." (stored form).
  std::string Serialize() const;
  static Result<GradualPlan> Parse(const std::string& text);
};

// One variant's counts over a step; buckets are cumulative histogram counts by bound.
struct VariantStats {
  double success = 0;
  double error = 0;
  double agree = 0, disagree = 0;    // candidate only: rows compared with production
  double labelled = 0, correct = 0;  // delayed labels received (classifiers)
  std::vector<double> bounds;        // latency bucket upper bounds, seconds (+Inf last)
  std::vector<double> cumulative;    // cumulative counts per bound

  double requests() const { return success + error; }
  double error_rate() const { return requests() > 0 ? error / requests() : 0; }
  double accuracy() const { return labelled > 0 ? correct / labelled : 0; }
  // The bound under which 95 % of the step's requests finished (0 when none).
  double p95_seconds() const;
  // This minus an earlier snapshot of the same series.
  VariantStats Since(const VariantStats& start) const;
};

struct StepDecision {
  enum class Kind { kWait, kAdvance, kPromote, kAbort } kind = Kind::kWait;
  std::string reason;
};

StepDecision EvaluateStep(const GradualPlan& plan, size_t step, std::chrono::milliseconds held,
                          const VariantStats& candidate, const VariantStats& production);

}  // namespace vigil
