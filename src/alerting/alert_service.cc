#include "alerting/alert_service.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <set>

#include "core/logging.h"

namespace vigil::alerting {
namespace {

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AlertService::AlertService(const Clock& clock, SignalSource& source,
                           std::function<std::vector<AlertRule>()> rules,
                           prometheus::Registry& registry, const std::string& environment)
    : clock_(clock), source_(source), rules_(std::move(rules)), evaluator_(clock) {
  if (!environment.empty()) constant_labels_["environment"] = environment;
  alerts_family_ = &prometheus::BuildGauge()
                        .Name("ALERTS")
                        .Help("1 for each pending or firing alert (as Prometheus exports them)")
                        .Labels(constant_labels_)
                        .Register(registry);
}

AlertService::~AlertService() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertService::SetTransitionHandler(std::function<void(const AlertTransition&)> handler) {
  std::lock_guard lock(eval_mu_);
  on_transition_ = std::move(handler);
}

void AlertService::Start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(stop_mu_);
    while (!stop_) {
      lock.unlock();
      EvaluateOnce();
      lock.lock();
      stop_cv_.wait_for(lock, interval, [this] { return stop_; });
    }
  });
}

void AlertService::EvaluateOnce() {
  std::lock_guard eval_lock(eval_mu_);
  std::vector<AlertRule> rules = rules_();
  std::vector<AlertTransition> transitions;
  {
    // The evaluator's state is read by Alerts(): evaluate under the lock. Signal reads
    // are cheap (counters, gauges and the monitor's windows).
    std::lock_guard lock(mu_);
    transitions = evaluator_.Evaluate(rules, source_, UnixMs());
    last_rules_ = rules;
    // ALERTS series: one per active alert and state.
    std::set<std::string> keep;
    for (const Alert& a : evaluator_.Snapshot()) {
      if (a.state == AlertState::kResolved) continue;
      const std::string key = a.fingerprint + std::string(AlertStateName(a.state));
      keep.insert(key);
      if (series_.count(key)) continue;
      std::map<std::string, std::string> labels = a.labels;
      labels["alertstate"] = std::string(AlertStateName(a.state));
      series_[key] = &alerts_family_->Add(labels);
      series_[key]->Set(1);
    }
    for (auto it = series_.begin(); it != series_.end();) {
      if (keep.count(it->first)) {
        ++it;
        continue;
      }
      alerts_family_->Remove(it->second);
      it = series_.erase(it);
    }
  }
  for (const AlertTransition& t : transitions) {
    const Alert& a = t.alert;
    LogInfo(a.state == AlertState::kFiring ? "alert firing" : "alert resolved",
            {{"alertname", a.name},
             {"fingerprint", a.fingerprint},
             {"model", a.labels.count("model") ? a.labels.at("model") : std::string()},
             {"severity", a.labels.count("severity") ? a.labels.at("severity") : std::string()},
             {"value", a.value},
             {"condition", a.condition}});
    if (on_transition_) on_transition_(t);
  }
}

std::vector<Alert> AlertService::Alerts() const {
  std::lock_guard lock(mu_);
  return evaluator_.Snapshot();
}

std::vector<AlertRule> AlertService::Rules() const {
  std::lock_guard lock(mu_);
  return last_rules_;
}

}  // namespace vigil::alerting
