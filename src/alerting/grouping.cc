#include "alerting/grouping.h"

namespace vigil::alerting {
namespace {

bool Notifiable(const Alert& a) {
  return a.state == AlertState::kFiring && a.silenced_by.empty() && a.inhibited_by.empty();
}

}  // namespace

std::vector<AlertGroup> AlertGrouper::Flush(const std::vector<Alert>& alerts, int64_t now_ms) {
  std::map<std::string, std::vector<const Alert*>> firing;
  std::map<std::string, const Alert*> by_fingerprint;
  for (const Alert& a : alerts) {
    // The newest copy of an alert wins (firing before resolved in Alerts()' order).
    by_fingerprint.emplace(a.fingerprint, &a);
    if (!Notifiable(a)) continue;
    std::map<std::string, std::string> labels;
    std::string key = "{";
    for (const std::string& name : config_.group_by) {
      auto it = a.labels.find(name);
      if (it == a.labels.end()) continue;
      labels[name] = it->second;
      key += (key.size() > 1 ? ", " : "") + name + "=\"" + it->second + "\"";
    }
    key += "}";
    firing[key].push_back(&a);
    auto [g, created] = groups_.try_emplace(key);
    if (created) {
      g->second.labels = std::move(labels);
      g->second.next_flush_ms = now_ms + config_.group_wait.count();
    }
  }

  std::vector<AlertGroup> out;
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    if (now_ms < g.next_flush_ms) {
      ++it;
      continue;
    }
    g.next_flush_ms = now_ms + config_.group_interval.count();
    AlertGroup n;
    n.key = it->first;
    n.labels = g.labels;
    bool joined = false, all_acked = true;
    std::set<std::string> now_firing;
    if (auto f = firing.find(it->first); f != firing.end()) {
      for (const Alert* a : f->second) {
        n.firing.push_back(*a);
        now_firing.insert(a->fingerprint);
        joined = joined || !g.notified.count(a->fingerprint);
        all_acked = all_acked && !a->acknowledged_by.empty();
      }
    }
    for (const auto& [fp, before] : g.notified) {
      if (now_firing.count(fp)) continue;
      // Gone from the group: a resolution is news; silenced or inhibited is not.
      auto cur = by_fingerprint.find(fp);
      if (cur == by_fingerprint.end()) {
        Alert a = before;
        a.state = AlertState::kResolved;
        a.resolved_at_ms = now_ms;
        n.resolved.push_back(std::move(a));
      } else if (cur->second->state == AlertState::kResolved) {
        n.resolved.push_back(*cur->second);
      }
    }
    const bool repeat = !joined && n.resolved.empty() && !n.firing.empty() && !all_acked &&
                        now_ms - g.last_sent_ms >= config_.repeat_interval.count();
    if (joined || !n.resolved.empty() || repeat) {
      n.repeat = repeat;
      g.last_sent_ms = now_ms;
      g.notified.clear();
      for (const Alert& a : n.firing) g.notified.emplace(a.fingerprint, a);
      out.push_back(std::move(n));
    } else {
      // Alerts silenced or inhibited since: forget them without a message.
      for (auto n_it = g.notified.begin(); n_it != g.notified.end();) {
        n_it = now_firing.count(n_it->first) ? std::next(n_it) : g.notified.erase(n_it);
      }
    }
    if (g.notified.empty() && !firing.count(it->first)) {
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace vigil::alerting
