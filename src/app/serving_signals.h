// ServingSignals: the alert rules' SignalSource over what Vigil serves: request counters
// and latency histograms (windowed by keeping cumulative snapshots, the way Prometheus's
// rate() works), the model table (breakers, queues, load failures) and the monitor
// (accuracy, drift).
//
// Called from the alert evaluator's thread only.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alerting/signals.h"
#include "core/clock.h"
#include "monitor/monitor.h"
#include "serving/model_manager.h"

namespace vigil {

// Counters of the service itself, read at each evaluation (cumulative since start).
struct ServiceStats {
  double monitor_dropped = 0;
  double notifications_failed = 0;
  std::optional<double> notification_backlog_s;  // age of the oldest undelivered one
};

class ServingSignals final : public alerting::SignalSource {
 public:
  // `monitor` may be null (no accuracy or drift values). All must outlive this.
  ServingSignals(const Clock& clock, ModelManager& models, monitor::Monitor* monitor);

  std::vector<alerting::SignalValue> Read(const alerting::AlertRule& rule) override;
  // Where the service-health signals read from (none: those signals have no value).
  // Call before the alert thread starts.
  void SetServiceStats(std::function<ServiceStats()> stats) { stats_ = std::move(stats); }

  // Accuracy is judged only once this many labels are in the rolling window.
  static constexpr int64_t kMinLabels = 10;

 private:
  struct Sample {
    TimePoint at;
    double success = 0, error = 0;
    std::vector<double> bounds, cumulative;  // latency histogram (all ready versions)
  };
  // Appends a sample per model when the clock has moved since the last one.
  void SampleAll();
  // The newest sample and the one at or before `window` ago (else the oldest).
  std::pair<const Sample*, const Sample*> Span(const std::string& model,
                                               std::chrono::milliseconds window) const;

  std::vector<alerting::SignalValue> ReadService(const alerting::AlertRule& rule);

  const Clock& clock_;
  std::function<ServiceStats()> stats_;
  std::deque<std::pair<TimePoint, ServiceStats>> service_history_;
  ModelManager& models_;
  monitor::Monitor* monitor_;
  std::map<std::string, std::deque<Sample>> history_;
  TimePoint last_sample_{};
};

// One line on how `model` does now, from the same signals as its alerts: "production v1:
// error rate 0.0 % (5m), p95 4.1 ms (5m), accuracy 96.0 % (40 labels)..., breaker closed".
// Called on the alert evaluator's thread.
std::string DescribeModelNow(ServingSignals& signals, const std::string& model);

// Prometheus's histogram_quantile over cumulative bucket counts (linear inside a bucket;
// the +Inf bucket answers the largest finite bound). NaN without observations.
double HistogramQuantile(double q, const std::vector<double>& bounds,
                         const std::vector<double>& cumulative);

}  // namespace vigil
