#include "serving/rollout_policy.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/duration.h"
#include "core/strings.h"

namespace vigil {

std::string GradualPlan::Serialize() const {
  std::string s = "steps=";
  for (size_t i = 0; i < steps.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%g", i ? "," : "", steps[i]);
    s += buf;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf,
                ";hold_ms=%lld;max_error_rate_increase=%g;max_p95_ratio=%g;min_requests=%lld;"
                "max_disagreement=%g;max_accuracy_drop=%g;min_labels=%lld",
                static_cast<long long>(hold.count()), max_error_rate_increase, max_p95_ratio,
                static_cast<long long>(min_requests), max_disagreement, max_accuracy_drop,
                static_cast<long long>(min_labels));
  return s + buf;
}

Result<GradualPlan> GradualPlan::Parse(const std::string& text) {
  GradualPlan p;
  auto number = [](const std::string& v, double& out) {
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && end == v.data() + v.size() && std::isfinite(out);
  };
  for (const auto& kv : SplitAndTrim(text, ';')) {
    const auto eq = kv.find('=');
    const std::string key = kv.substr(0, eq),
                      value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    double d = 0;
    if (key == "steps") {
      p.steps.clear();
      for (const auto& step : SplitAndTrim(value, ',')) {
        if (!number(step, d) || d <= 0 || d > 100 || (!p.steps.empty() && d <= p.steps.back())) {
          return InvalidArgument("steps: expected increasing percentages in (0, 100], got '" +
                                 value + "'");
        }
        p.steps.push_back(d);
      }
      if (p.steps.empty()) return InvalidArgument("steps: expected at least one percentage");
    } else if (key == "hold_ms" && number(value, d) && d >= 0 && d <= 3.0e10) {
      p.hold = std::chrono::milliseconds(static_cast<int64_t>(d));
    } else if (key == "max_error_rate_increase" && number(value, d) && d >= 0) {
      p.max_error_rate_increase = d;
    } else if (key == "max_p95_ratio" && number(value, d) && d > 0 && d <= 1e6) {
      p.max_p95_ratio = d;
    } else if (key == "max_disagreement" && number(value, d) && d >= 0 && d <= 1) {
      p.max_disagreement = d;
    } else if (key == "min_requests" && number(value, d) && d >= 0 && d <= 1e12) {
      p.min_requests = static_cast<int64_t>(d);
    } else if (key == "max_accuracy_drop" && number(value, d) && d >= 0 && d <= 1) {
      p.max_accuracy_drop = d;
    } else if (key == "min_labels" && number(value, d) && d >= 1 && d <= 1e12) {
      p.min_labels = static_cast<int64_t>(d);
    } else {
      return InvalidArgument("rollout plan: bad setting '" + kv + "'");
    }
  }
  if (p.steps.back() != 100) p.steps.push_back(100);
  return p;
}

double VariantStats::p95_seconds() const {
  if (cumulative.empty() || cumulative.back() <= 0) return 0;
  const double target = 0.95 * cumulative.back();
  for (size_t i = 0; i < cumulative.size(); ++i) {
    if (cumulative[i] >= target) return bounds[i];
  }
  return bounds.back();
}

VariantStats VariantStats::Since(const VariantStats& start) const {
  VariantStats d = *this;
  d.success -= start.success;
  d.error -= start.error;
  d.agree -= start.agree;
  d.disagree -= start.disagree;
  d.labelled -= start.labelled;
  d.correct -= start.correct;
  for (size_t i = 0; i < d.cumulative.size() && i < start.cumulative.size(); ++i) {
    d.cumulative[i] -= start.cumulative[i];
  }
  return d;
}

StepDecision EvaluateStep(const GradualPlan& plan, size_t step, std::chrono::milliseconds held,
                          const VariantStats& candidate, const VariantStats& production) {
  char buf[256];
  const bool judged = candidate.requests() >= static_cast<double>(plan.min_requests);
  if (judged) {
    if (candidate.error_rate() > production.error_rate() + plan.max_error_rate_increase) {
      std::snprintf(buf, sizeof buf,
                    "guardrail: error rate %.4f > production %.4f + %.4f (step %zu, %.0f requests)",
                    candidate.error_rate(), production.error_rate(), plan.max_error_rate_increase,
                    step + 1, candidate.requests());
      return {StepDecision::Kind::kAbort, buf};
    }
    const double compared = candidate.agree + candidate.disagree;
    if (compared >= static_cast<double>(plan.min_requests) &&
        candidate.disagree / compared > plan.max_disagreement) {
      std::snprintf(buf, sizeof buf,
                    "guardrail: disagreement with production %.4f > %.4f (step %zu, %.0f rows)",
                    candidate.disagree / compared, plan.max_disagreement, step + 1, compared);
      return {StepDecision::Kind::kAbort, buf};
    }
    if (candidate.labelled >= static_cast<double>(plan.min_labels) &&
        production.labelled >= static_cast<double>(plan.min_labels) &&
        candidate.accuracy() < production.accuracy() - plan.max_accuracy_drop) {
      std::snprintf(buf, sizeof buf,
                    "guardrail: accuracy %.4f < production %.4f - %.4f (step %zu, %.0f labels)",
                    candidate.accuracy(), production.accuracy(), plan.max_accuracy_drop, step + 1,
                    candidate.labelled);
      return {StepDecision::Kind::kAbort, buf};
    }
    const double cp95 = candidate.p95_seconds(), pp95 = production.p95_seconds();
    if (production.requests() > 0 && cp95 > plan.max_p95_ratio * pp95 + 0.001) {
      std::snprintf(buf, sizeof buf,
                    "guardrail: p95 latency %.1f ms > %.2f x production %.1f ms (step %zu)",
                    cp95 * 1000, plan.max_p95_ratio, pp95 * 1000, step + 1);
      return {StepDecision::Kind::kAbort, buf};
    }
  }
  if (held < plan.hold || !judged) return {};
  if (step + 1 >= plan.steps.size()) {
    return {StepDecision::Kind::kPromote, "gradual rollout passed every step"};
  }
  std::snprintf(buf, sizeof buf, "step %zu passed (%.0f requests, error rate %.4f)", step + 1,
                candidate.requests(), candidate.error_rate());
  return {StepDecision::Kind::kAdvance, buf};
}

}  // namespace vigil
