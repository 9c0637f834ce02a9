// AlertRule: a condition on one of Vigil's own signals, per model, that must hold for a
// while before it fires (the Prometheus alerting-rule model, without PromQL).
//
// Built-in rules come from each model's config (`slo:` and `monitor:`): error rate, p95
// latency, accuracy, dataset drift, breaker open, load failure, queue saturation. Custom
// rules come from a YAML file (server setting `alert_rules`).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "serving/model_config.h"

namespace vigil::alerting {

// What a rule looks at, per model (its production version).
enum class Signal {
  kErrorRate,        // errors / requests over the window
  kLatency,          // a latency quantile (aggregation p50|p90|p95|p99) over the window, seconds
  kRequestRate,      // requests per second over the window
  kAccuracy,         // rolling accuracy from delayed labels (no value until labels arrive)
  kDriftShare,       // share of features drifted over the window (no value without a profile)
  kBreakerOpen,      // 1 while the production version's breaker is open or half-open
  kLoadFailure,      // 1 while a version of the model failed to load (or its config)
  kQueueSaturation,  // queue depth / max_queue_size of the production version
  // SLO burn rates: (bad / requests) / (1 - objective), the smaller of two windows
  // (`window` and `short_window`), so the alert needs both to burn.
  kAvailabilityBurn,  // bad = errors
  kLatencyBurn,       // bad = slower than the model's slo.latency_p95_ms
  // The service's own health (one value, labelled service="vigil", no model):
  kServiceHealth,        // 0 healthy, 1 degraded (a model not ready), 2 unhealthy (none ready)
  kMonitorDropRate,      // monitor samples dropped per second over the window (tap full)
  kNotificationsFailed,  // notifications given up on within the window
  kNotificationBacklog,  // age in seconds of the oldest undelivered notification
};
std::string_view SignalName(Signal s);
// Whether the signal is about the service rather than a model.
bool IsServiceSignal(Signal s);

enum class Comparator { kGreater, kGreaterEqual, kLess, kLessEqual, kEqual, kNotEqual };
std::string_view ComparatorText(Comparator c);
bool Compare(double value, Comparator c, double threshold);

struct AlertRule {
  std::string name;  // alertname
  Signal signal = Signal::kErrorRate;
  std::string model;  // "" = every model
  std::chrono::milliseconds window{std::chrono::minutes(5)};
  double quantile = 0.95;  // kLatency: the aggregation
  // Burn rates: the short window and the SLO's objective (e.g. 0.99 good).
  std::chrono::milliseconds short_window{std::chrono::minutes(5)};
  double objective = 0.99;
  double latency_threshold_s = 0.2;  // kLatencyBurn: what "slow" means
  Comparator comparator = Comparator::kGreater;
  double threshold = 0;
  std::chrono::milliseconds for_duration{0};  // condition held this long before firing
  std::string severity = "warning";           // critical | warning | info
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;  // summary, description, runbook_url
  bool builtin = false;
};

// The built-in rules of one model, from its `slo:` section (defaults: p95 latency 200 ms,
// error rate 1 %, accuracy 0.90, window 5m, for 1m) and its monitor settings.
std::vector<AlertRule> BuiltinRules(const ModelConfig& config);

// The service's own health rules: VigilServiceUnhealthy (no model ready for 1m; sev SEV1,
// the service is down), VigilServiceDegraded (a model not ready for 5m),
// VigilMonitorDroppingSamples, VigilNotificationsFailing, VigilNotificationsDelayed.
std::vector<AlertRule> ServiceRules();

// ModelLoadFailure for `model`: also what a model whose config does not parse gets.
AlertRule LoadFailureRule(const std::string& model);

// Parses a rules file: `rules: [{name, signal, model, window, aggregation, comparator,
// threshold, for, severity, labels, annotations}]`. Errors name the file, the rule and
// the field.
Result<std::vector<AlertRule>> ParseRulesText(const std::string& text, const std::string& file);
Result<std::vector<AlertRule>> LoadRulesFile(const std::filesystem::path& file);

}  // namespace vigil::alerting
