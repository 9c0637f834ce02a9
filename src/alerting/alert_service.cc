#include "alerting/alert_service.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <set>

#include "alerting/alert_codec.h"
#include "core/ids.h"
#include "core/logging.h"

namespace vigil::alerting {
namespace {}  // namespace

AlertService::AlertService(const Clock& clock, SignalSource& source,
                           std::function<std::vector<AlertRule>()> rules,
                           prometheus::Registry& registry, const std::string& environment,
                           Store* store)
    : clock_(clock),
      source_(source),
      rules_(std::move(rules)),
      store_(store),
      now_([] { return UnixMillis(); }),
      evaluator_(clock) {
  if (store_) {
    auto stored = store_->ListSilences(UnixMillis());
    if (stored.ok()) {
      for (const SilenceRecord& r : *stored) {
        Silence s;
        s.id = r.id;
        s.starts_ms = r.starts_ms;
        s.ends_ms = r.ends_ms;
        s.created_by = r.created_by;
        s.comment = r.comment;
        size_t start = 0;
        while (start < r.matchers.size()) {
          size_t end = r.matchers.find('\n', start);
          if (end == std::string::npos) end = r.matchers.size();
          auto m = ParseMatcher(r.matchers.substr(start, end - start));
          if (m.ok()) s.matchers.push_back(std::move(*m));
          start = end + 1;
        }
        silences_.push_back(std::move(s));
      }
    } else {
      LogError("silences not loaded", {{"error", stored.status().message()}});
    }
  }
  if (store_) {
    auto firing = store_->FiringAlerts();
    if (!firing.ok()) {
      LogError("firing alerts not restored", {{"error", firing.status().message()}});
    } else {
      for (const auto& [fp, body] : *firing) {
        auto a = DecodeAlert(body);
        if (!a.ok()) continue;
        if (!a->acknowledged_by.empty()) acks_[fp] = {a->acknowledged_by, a->acknowledged_ms};
        a->acknowledged_by.clear();
        a->acknowledged_ms = 0;
        if (a->source == "vigil") {
          evaluator_.Restore(*a);
        } else {
          external_.emplace(fp, *a);
        }
      }
      persisted_ = std::move(*firing);
      if (!persisted_.empty()) {
        LogInfo("firing alerts restored", {{"alerts", static_cast<int64_t>(persisted_.size())}});
      }
    }
  }
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

void AlertService::SetNotificationPolicy(GroupingConfig grouping,
                                         std::vector<InhibitRule> inhibit_rules,
                                         std::function<void(std::vector<AlertGroup>)> on_groups) {
  std::lock_guard eval_lock(eval_mu_);
  std::lock_guard lock(mu_);
  grouper_ = AlertGrouper(std::move(grouping));
  inhibit_rules_ = std::move(inhibit_rules);
  on_groups_ = std::move(on_groups);
}

void AlertService::SetUnixClock(std::function<int64_t()> now) {
  std::lock_guard eval_lock(eval_mu_);
  std::lock_guard lock(mu_);
  now_ = std::move(now);
}

void AlertService::FlushGroups() {
  if (!on_groups_) return;
  std::vector<Alert> alerts;
  int64_t now;
  {
    std::lock_guard lock(mu_);
    alerts = AlertsLocked();
    now = now_();
  }
  auto due = grouper_.Flush(alerts, now);
  if (!due.empty()) on_groups_(std::move(due));
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

void AlertService::UpdateSeriesLocked() {
  std::set<std::string> keep;
  std::vector<Alert> active = evaluator_.Snapshot();
  for (const auto& [fp, a] : external_) active.push_back(a);
  for (const Alert& a : active) {
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

namespace {

// Values read before the evaluation, handed out in rule order: the slow reads (the
// monitor's windows, the store) happen without the lock that Alerts() needs.
class ReadAhead final : public SignalSource {
 public:
  ReadAhead(const std::vector<AlertRule>& rules, SignalSource& source) {
    for (const auto& r : rules) values_.push_back(source.Read(r));
  }
  std::vector<SignalValue> Read(const AlertRule&) override {
    return next_ < values_.size() ? std::move(values_[next_++]) : std::vector<SignalValue>();
  }

 private:
  std::vector<std::vector<SignalValue>> values_;
  size_t next_ = 0;
};

}  // namespace

void AlertService::EvaluateOnce() {
  std::lock_guard eval_lock(eval_mu_);
  std::vector<AlertRule> rules = rules_();
  std::vector<AlertTransition> transitions;
  ReadAhead values(rules, source_);
  {
    std::lock_guard lock(mu_);
    const int64_t now = now_();
    transitions = evaluator_.Evaluate(rules, values, now);
    for (auto it = external_.begin(); it != external_.end();) {
      auto next = std::next(it);
      if (it->second.ends_at_ms && now >= it->second.ends_at_ms) {
        ResolveExternalLocked(it, it->second.ends_at_ms, transitions);
      }
      it = next;
    }
    last_rules_ = rules;
    UpdateSeriesLocked();
  }
  Deliver(transitions);
  FlushGroups();
  PersistFiring();
  if (after_evaluation_) after_evaluation_();
}

void AlertService::PersistFiring() {
  if (!store_) return;
  std::map<std::string, std::string> firing;
  {
    std::lock_guard lock(mu_);
    const int64_t now = now_();
    const std::vector<Alert> active = ActiveLocked();
    for (Alert a : active) {
      if (a.state != AlertState::kFiring) continue;
      Decorate(a, now, active);
      firing[a.fingerprint] = EncodeAlert(a);
    }
  }
  if (firing == persisted_) return;
  if (Status st = store_->ReplaceFiringAlerts(firing); !st.ok()) {
    LogError("firing alerts not stored", {{"error", st.message()}});
    return;
  }
  persisted_ = std::move(firing);
}

void AlertService::Deliver(const std::vector<AlertTransition>& transitions) {
  for (const AlertTransition& t : transitions) {
    const Alert& a = t.alert;
    bool silenced = false, inhibited = false;
    {
      std::lock_guard lock(mu_);
      silenced = SilencedLocked(a, now_());
      inhibited = !InhibitedBy(a, ActiveLocked(), inhibit_rules_).empty();
      if (a.state == AlertState::kResolved) acks_.erase(a.fingerprint);
    }
    LogInfo(a.state == AlertState::kFiring ? (silenced    ? "alert firing (silenced)"
                                              : inhibited ? "alert firing (inhibited)"
                                                          : "alert firing")
                                           : "alert resolved",
            {{"alertname", a.name},
             {"fingerprint", a.fingerprint},
             {"source", a.source},
             {"model", a.labels.count("model") ? a.labels.at("model") : std::string()},
             {"severity", a.labels.count("severity") ? a.labels.at("severity") : std::string()},
             {"value", a.value},
             {"condition", a.condition}});
    // A silenced or inhibited alert declares nothing; its resolution is still passed on
    // (it is a no-op for an alert nobody heard fire).
    if ((silenced || inhibited) && a.state == AlertState::kFiring) continue;
    if (on_transition_) on_transition_(t);
  }
}

void AlertService::Ingest(std::vector<Alert> external, const std::string& source) {
  std::lock_guard eval_lock(eval_mu_);
  std::vector<AlertTransition> transitions;
  {
    std::lock_guard lock(mu_);
    for (Alert& a : external) {
      a.source = source;
      auto it = external_.find(a.fingerprint);
      if (a.state == AlertState::kFiring) {
        if (it == external_.end()) {
          transitions.push_back({a, AlertState::kPending});
          external_.emplace(a.fingerprint, std::move(a));
        } else {
          it->second.annotations = a.annotations;
          it->second.ends_at_ms = a.ends_at_ms;
        }
      } else if (it != external_.end()) {
        ResolveExternalLocked(it, a.resolved_at_ms ? a.resolved_at_ms : now_(), transitions);
      }
    }
    UpdateSeriesLocked();
  }
  Deliver(transitions);
  FlushGroups();
}

void AlertService::ResolveExternalLocked(std::map<std::string, Alert>::iterator it, int64_t at_ms,
                                         std::vector<AlertTransition>& out) {
  Alert resolved = std::move(it->second);
  external_.erase(it);
  resolved.state = AlertState::kResolved;
  resolved.resolved_at_ms = at_ms;
  out.push_back({resolved, AlertState::kFiring});
  external_resolved_.push_front(std::move(resolved));
  if (external_resolved_.size() > AlertEvaluator::kKeepResolved) external_resolved_.pop_back();
}

bool AlertService::SilencedLocked(const Alert& a, int64_t now_ms) const {
  for (const Silence& s : silences_) {
    if (s.ActiveAt(now_ms) && s.Matches(a.labels)) return true;
  }
  return false;
}

void AlertService::Decorate(Alert& a, int64_t now_ms, const std::vector<Alert>& active) const {
  a.silenced_by.clear();
  a.inhibited_by = InhibitedBy(a, active, inhibit_rules_);
  if (a.state != AlertState::kResolved) {
    for (const Silence& s : silences_) {
      if (s.ActiveAt(now_ms) && s.Matches(a.labels)) a.silenced_by.push_back(s.id);
    }
  }
  auto ack = acks_.find(a.fingerprint);
  if (ack != acks_.end() && a.state != AlertState::kResolved) {
    a.acknowledged_by = ack->second.first;
    a.acknowledged_ms = ack->second.second;
  }
}

Result<Silence> AlertService::AddSilence(Silence s) {
  if (s.matchers.empty()) return InvalidArgument("matchers: at least one is required");
  if (s.ends_ms <= s.starts_ms) return InvalidArgument("endsAt: must be after startsAt");
  if (s.created_by.empty()) s.created_by = "unknown";
  s.id = "SIL-" + RandomHex128().substr(0, 8);
  if (store_) {
    SilenceRecord r{s.id, "", s.starts_ms, s.ends_ms, s.created_by, s.comment};
    for (const auto& m : s.matchers) r.matchers += (r.matchers.empty() ? "" : "\n") + m.ToString();
    VIGIL_RETURN_IF_ERROR(store_->PutSilence(r));
  }
  std::lock_guard lock(mu_);
  silences_.push_back(s);
  LogInfo("silence added", {{"id", s.id}, {"by", s.created_by}, {"comment", s.comment}});
  return s;
}

Status AlertService::ExpireSilence(const std::string& id, const std::string& author) {
  std::lock_guard lock(mu_);
  const int64_t now = now_();
  for (Silence& s : silences_) {
    if (s.id != id) continue;
    if (s.ends_ms <= now) return FailedPrecondition("silence " + id + " has already ended");
    const int64_t old_end = s.ends_ms;
    s.ends_ms = std::max(now, s.starts_ms);
    if (store_) {
      SilenceRecord r{s.id, "", s.starts_ms, s.ends_ms, s.created_by, s.comment};
      for (const auto& m : s.matchers) {
        r.matchers += (r.matchers.empty() ? "" : "\n") + m.ToString();
      }
      Status st = store_->PutSilence(r);
      if (!st.ok()) {
        s.ends_ms = old_end;
        return st;
      }
    }
    LogInfo("silence expired", {{"id", id}, {"by", author}});
    return Status::Ok();
  }
  return NotFound("unknown silence '" + id + "'");
}

std::vector<Silence> AlertService::Silences() const {
  std::lock_guard lock(mu_);
  std::vector<Silence> out;
  const int64_t now = now_();
  for (const Silence& s : silences_) {
    if (s.ends_ms > now) out.push_back(s);
  }
  return out;
}

Result<Alert> AlertService::Acknowledge(const std::string& fingerprint, const std::string& author) {
  std::lock_guard lock(mu_);
  const std::vector<Alert> active = ActiveLocked();
  for (Alert a : active) {
    if (a.fingerprint != fingerprint) continue;
    if (!acks_.count(fingerprint))
      acks_[fingerprint] = {author.empty() ? "unknown" : author, now_()};
    Decorate(a, now_(), active);
    return a;
  }
  return NotFound("no active alert with fingerprint '" + fingerprint + "'");
}

std::vector<Alert> AlertService::ActiveLocked() const {
  std::vector<Alert> out;
  for (Alert& a : evaluator_.Snapshot()) {
    if (a.state != AlertState::kResolved) out.push_back(std::move(a));
  }
  for (const auto& [fp, a] : external_) out.push_back(a);
  return out;
}

std::vector<Alert> AlertService::Alerts() const {
  std::lock_guard lock(mu_);
  return AlertsLocked();
}

std::vector<Alert> AlertService::AlertsLocked() const {
  std::vector<Alert> own = evaluator_.Snapshot();
  std::vector<Alert> out;
  // Firing, pending, then resolved (newest first), Alertmanager's among Vigil's own.
  for (const auto& a : own) {
    if (a.state == AlertState::kFiring) out.push_back(a);
  }
  for (const auto& [fp, a] : external_) out.push_back(a);
  for (const auto& a : own) {
    if (a.state == AlertState::kPending) out.push_back(a);
  }
  for (const auto& a : own) {
    if (a.state == AlertState::kResolved) out.push_back(a);
  }
  out.insert(out.end(), external_resolved_.begin(), external_resolved_.end());
  const int64_t now = now_();
  const std::vector<Alert> active = ActiveLocked();
  for (Alert& a : out) Decorate(a, now, active);
  return out;
}

std::vector<AlertRule> AlertService::Rules() const {
  std::lock_guard lock(mu_);
  return last_rules_;
}

}  // namespace vigil::alerting
