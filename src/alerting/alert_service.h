// AlertService: evaluates the alert rules on its own thread every `interval` and keeps
// the alerts for the API and /metrics (ALERTS{alertname, alertstate, ...} = 1 for each
// pending or firing alert, as Prometheus exports its own).
//
// Thread-safe: Alerts() may be called from any thread; EvaluateOnce() is also what the
// thread runs (tests call it directly).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alerting/evaluator.h"
#include "alerting/rule.h"
#include "alerting/signals.h"
#include "core/clock.h"

namespace prometheus {
class Registry;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace vigil::alerting {

class AlertService {
 public:
  // `rules` is asked for the current rules at every evaluation (models come and go);
  // `on_transition` (nullable) hears every alert that starts firing or resolves.
  // `source` and `clock` must outlive the service.
  AlertService(const Clock& clock, SignalSource& source,
               std::function<std::vector<AlertRule>()> rules, prometheus::Registry& registry,
               const std::string& environment);
  ~AlertService();
  AlertService(const AlertService&) = delete;
  AlertService& operator=(const AlertService&) = delete;

  void SetTransitionHandler(std::function<void(const AlertTransition&)> handler);
  void Start(std::chrono::milliseconds interval);
  void EvaluateOnce();

  std::vector<Alert> Alerts() const;
  std::vector<AlertRule> Rules() const;

 private:
  const Clock& clock_;
  SignalSource& source_;
  std::function<std::vector<AlertRule>()> rules_;
  std::function<void(const AlertTransition&)> on_transition_;
  prometheus::Family<prometheus::Gauge>* alerts_family_;
  std::map<std::string, std::string> constant_labels_;

  mutable std::mutex mu_;  // guards evaluator_ reads, series_ and last_rules_
  AlertEvaluator evaluator_;
  std::map<std::string, prometheus::Gauge*> series_;  // fingerprint + state -> ALERTS series
  std::vector<AlertRule> last_rules_;

  std::mutex eval_mu_;  // one evaluation at a time
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace vigil::alerting
