#include "alerting/evaluator.h"

#include <cstdio>
#include <set>

namespace vigil::alerting {

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
    case AlertState::kResolved:
      return "resolved";
  }
  return "pending";
}

std::string Fingerprint(const std::map<std::string, std::string>& labels) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // separator: {"ab": "c"} and {"a": "bc"} differ
    h *= 1099511628211ull;
  };
  for (const auto& [k, v] : labels) {
    mix(k);
    mix(v);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::vector<AlertTransition> AlertEvaluator::Evaluate(const std::vector<AlertRule>& rules,
                                                      SignalSource& source, int64_t unix_ms) {
  const TimePoint now = clock_.Now();
  std::vector<AlertTransition> out;
  std::set<std::string> seen;
  for (const AlertRule& rule : rules) {
    for (const SignalValue& v : source.Read(rule)) {
      if (!Compare(v.value, rule.comparator, rule.threshold)) continue;
      std::map<std::string, std::string> labels = rule.labels;
      for (const auto& [k, val] : v.labels) labels[k] = val;
      labels["alertname"] = rule.name;
      labels["severity"] = rule.severity;
      const std::string fp = Fingerprint(labels);
      seen.insert(fp);
      auto it = active_.find(fp);
      if (it == active_.end()) {
        Active a;
        a.alert.fingerprint = fp;
        a.alert.name = rule.name;
        a.alert.signal = std::string(SignalName(rule.signal));
        a.alert.labels = std::move(labels);
        a.alert.annotations = rule.annotations;
        a.alert.threshold = rule.threshold;
        char cond[96];
        std::snprintf(cond, sizeof cond, "%s %s %g", std::string(SignalName(rule.signal)).c_str(),
                      std::string(ComparatorText(rule.comparator)).c_str(), rule.threshold);
        a.alert.condition = cond;
        a.alert.active_since_ms = unix_ms;
        a.since = now;
        it = active_.emplace(fp, std::move(a)).first;
      }
      Active& a = it->second;
      a.alert.value = v.value;
      if (a.alert.state == AlertState::kPending && now - a.since >= rule.for_duration) {
        a.alert.state = AlertState::kFiring;
        a.alert.fired_at_ms = unix_ms;
        out.push_back({a.alert, AlertState::kPending});
      }
    }
  }
  for (auto it = active_.begin(); it != active_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    if (it->second.alert.state == AlertState::kFiring) {
      Alert a = std::move(it->second.alert);
      a.state = AlertState::kResolved;
      a.resolved_at_ms = unix_ms;
      out.push_back({a, AlertState::kFiring});
      resolved_.push_front(std::move(a));
      if (resolved_.size() > kKeepResolved) resolved_.pop_back();
    }
    it = active_.erase(it);
  }
  return out;
}

void AlertEvaluator::Restore(const Alert& firing) {
  Active a;
  a.alert = firing;
  a.alert.state = AlertState::kFiring;
  a.since = clock_.Now();
  active_[firing.fingerprint] = std::move(a);
}

std::vector<Alert> AlertEvaluator::Snapshot() const {
  std::vector<Alert> out;
  for (const auto& [fp, a] : active_) {
    if (a.alert.state == AlertState::kFiring) out.push_back(a.alert);
  }
  for (const auto& [fp, a] : active_) {
    if (a.alert.state == AlertState::kPending) out.push_back(a.alert);
  }
  out.insert(out.end(), resolved_.begin(), resolved_.end());
  return out;
}

}  // namespace vigil::alerting
