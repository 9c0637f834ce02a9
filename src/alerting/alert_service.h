// AlertService: evaluates the alert rules on its own thread every `interval` and keeps
// the alerts for the API and /metrics (ALERTS{alertname, alertstate, ...} = 1 for each
// pending or firing alert, as Prometheus exports its own).
//
// Thread-safe: Alerts() may be called from any thread; EvaluateOnce() is also what the
// thread runs (tests call it directly).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alerting/evaluator.h"
#include "alerting/grouping.h"
#include "alerting/inhibition.h"
#include "alerting/rule.h"
#include "alerting/signals.h"
#include "alerting/silence.h"
#include "core/clock.h"
#include "store/store.h"

namespace prometheus {
class Registry;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace vigil::alerting {

class AlertService {
 public:
  // `rules` is asked for the current rules at every evaluation (models come and go).
  // `store` (nullable) keeps the silences and the firing alerts (with their
  // acknowledgements), which are restored here: after a restart an alert whose condition
  // ended meanwhile resolves at the first evaluation. `source`, `clock` and `store` must
  // outlive the service.
  AlertService(const Clock& clock, SignalSource& source,
               std::function<std::vector<AlertRule>()> rules, prometheus::Registry& registry,
               const std::string& environment, Store* store = nullptr);
  ~AlertService();
  AlertService(const AlertService&) = delete;
  AlertService& operator=(const AlertService&) = delete;

  // Hears every alert that starts firing (unless silenced or inhibited) or resolves.
  void SetTransitionHandler(std::function<void(const AlertTransition&)> handler);
  // Inhibition rules, and the grouping whose due notifications go to `on_groups` after
  // every evaluation (and every Alertmanager delivery). Call before Start().
  void SetNotificationPolicy(GroupingConfig grouping, std::vector<InhibitRule> inhibit_rules,
                             std::function<void(std::vector<AlertGroup>)> on_groups);
  // Runs at the end of every evaluation, on the evaluating thread (follow-ups that read
  // the same signals). Call before Start().
  void SetAfterEvaluation(std::function<void()> fn) { after_evaluation_ = std::move(fn); }
  // Unix milliseconds for timestamps, silences and grouping (the server's test clock);
  // `for` durations stay on `clock`. Call before Start().
  void SetUnixClock(std::function<int64_t()> now);
  void Start(std::chrono::milliseconds interval);
  void EvaluateOnce();

  std::vector<Alert> Alerts() const;
  std::vector<AlertRule> Rules() const;

  // Alerts from outside (Alertmanager's webhook: source "alertmanager"; POST /api/v1/alerts:
  // "api"): firing ones join, resolved ones resolve; they go through the same silences,
  // inhibitions, grouping and handler.
  void Ingest(std::vector<Alert> external, const std::string& source);

  // Silences (kept in the store when there is one).
  Result<Silence> AddSilence(Silence silence);
  Status ExpireSilence(const std::string& id, const std::string& author);
  std::vector<Silence> Silences() const;  // not yet ended, oldest first

  // Marks an active alert acknowledged (it stays visible); NotFound for an unknown one.
  Result<Alert> Acknowledge(const std::string& fingerprint, const std::string& author);

 private:
  const Clock& clock_;
  SignalSource& source_;
  std::function<std::vector<AlertRule>()> rules_;
  std::function<void(const AlertTransition&)> on_transition_;
  prometheus::Family<prometheus::Gauge>* alerts_family_;
  std::map<std::string, std::string> constant_labels_;

  // Fills silenced_by / inhibited_by / acknowledged_*; `active` are the alerts that may
  // inhibit. REQUIRES: mu_ held.
  void Decorate(Alert& a, int64_t now_ms, const std::vector<Alert>& active) const;
  std::vector<Alert> ActiveLocked() const;  // REQUIRES: mu_ held
  std::vector<Alert> AlertsLocked() const;  // REQUIRES: mu_ held
  void FlushGroups();                       // REQUIRES: eval_mu_ held
  // Stores the firing alerts when they changed. REQUIRES: eval_mu_ held, mu_ not held.
  void PersistFiring();
  bool SilencedLocked(const Alert& a, int64_t now_ms) const;
  void Deliver(const std::vector<AlertTransition>& transitions);
  void UpdateSeriesLocked();
  // Moves a pushed alert to the resolved list. REQUIRES: mu_ held.
  void ResolveExternalLocked(std::map<std::string, Alert>::iterator it, int64_t at_ms,
                             std::vector<AlertTransition>& out);

  Store* store_;
  std::function<int64_t()> now_;
  std::vector<InhibitRule> inhibit_rules_;
  AlertGrouper grouper_{GroupingConfig{}};  // guarded by eval_mu_
  std::function<void(std::vector<AlertGroup>)> on_groups_;
  std::function<void()> after_evaluation_;
  mutable std::mutex mu_;  // guards evaluator_ reads, series_, last_rules_ and below
  AlertEvaluator evaluator_;
  std::map<std::string, Alert> external_;  // by fingerprint: firing Alertmanager alerts
  std::deque<Alert> external_resolved_;
  std::vector<Silence> silences_;
  std::map<std::string, std::pair<std::string, int64_t>> acks_;  // fingerprint -> by, at
  std::map<std::string, prometheus::Gauge*> series_;  // fingerprint + state -> ALERTS series
  std::vector<AlertRule> last_rules_;
  std::map<std::string, std::string> persisted_;  // guarded by eval_mu_: what the store has

  std::mutex eval_mu_;  // one evaluation at a time
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace vigil::alerting
