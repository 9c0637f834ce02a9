// AlertEvaluator: the alert lifecycle, pending -> firing -> resolved, on an injectable
// clock (tests drive it without sleeping).
//
// Each evaluation reads every rule's values; a value meeting the rule's condition makes
// its alert (identified by a fingerprint of alertname + labels) pending, and firing once
// the condition has held for the rule's `for`. An alert whose condition stops holding
// (or whose series disappears) resolves if it was firing, and is forgotten if it was
// only pending. Resolved alerts are kept (the newest `kKeepResolved`) for the API.
//
// Not thread-safe: one evaluator thread calls Evaluate(); readers take Snapshot() copies
// through the owner's lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "alerting/rule.h"
#include "alerting/signals.h"
#include "core/clock.h"

namespace vigil::alerting {

enum class AlertState { kPending, kFiring, kResolved };
std::string_view AlertStateName(AlertState s);

struct Alert {
  std::string fingerprint;                    // 16 hex: stable for alertname + labels
  std::string name;                           // alertname
  std::string signal;                         // the rule's signal (error_rate, accuracy, ...)
  std::map<std::string, std::string> labels;  // alertname, model, severity, rule labels
  std::map<std::string, std::string> annotations;
  AlertState state = AlertState::kPending;
  double value = 0;  // the latest value of the signal
  double threshold = 0;
  std::string condition;  // e.g. "accuracy < 0.9"
  // Unix milliseconds: condition first met, firing started, resolved.
  int64_t active_since_ms = 0, fired_at_ms = 0, resolved_at_ms = 0;
  std::string source = "vigil";  // or "alertmanager" (its webhook), "api" (POST /api/v1/alerts)
  // Pushed alerts: resolves by itself at this time unless sent again (0: only when told).
  int64_t ends_at_ms = 0;
  // Filled when read through AlertService::Alerts().
  std::vector<std::string> silenced_by;   // ids of the active silences that match it
  std::vector<std::string> inhibited_by;  // fingerprints of the firing alerts inhibiting it
  std::string acknowledged_by;
  int64_t acknowledged_ms = 0;
};

struct AlertTransition {
  Alert alert;  // after the transition
  AlertState from = AlertState::kPending;
};

class AlertEvaluator {
 public:
  static constexpr size_t kKeepResolved = 1000;

  // `clock` gives durations (for `for`); `unix_ms` stamps the alerts.
  explicit AlertEvaluator(const Clock& clock) : clock_(clock) {}

  // One pass; returns the alerts that started firing or resolved. Reads each rule's
  // values exactly once, in the order of `rules`.
  std::vector<AlertTransition> Evaluate(const std::vector<AlertRule>& rules, SignalSource& source,
                                        int64_t unix_ms);

  // Active (pending, firing) alerts, then the resolved ones, newest first.
  std::vector<Alert> Snapshot() const;

  // Puts back an alert that was firing before a restart: it stays firing while its
  // condition holds and resolves (a transition) at the first evaluation where it does not.
  void Restore(const Alert& firing);

 private:
  struct Active {
    Alert alert;
    TimePoint since;  // on `clock_`
  };
  const Clock& clock_;
  std::map<std::string, Active> active_;  // by fingerprint
  std::deque<Alert> resolved_;            // newest first
};

// 16 hex characters of FNV-1a over the sorted labels (alertname included).
std::string Fingerprint(const std::map<std::string, std::string>& labels);

}  // namespace vigil::alerting
