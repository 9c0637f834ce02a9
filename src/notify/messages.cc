#include "notify/messages.h"

#include <cstdio>

namespace vigil::notify {
namespace {

std::string PagerSeverity(const std::string& sev) {
  if (sev == "SEV1") return "critical";
  if (sev == "SEV2") return "error";
  if (sev == "SEV3") return "warning";
  return "info";
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string Value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

std::optional<Message> IncidentMessage(const IncidentRecord& r, const IncidentEvent& e,
                                       const std::string& external_url) {
  const auto& policy = incidents::PolicyFor(r.severity);
  const std::set<std::string> all(policy.channels.begin(), policy.channels.end());
  Message m;
  m.dedup_key = "vigil/" + r.id;
  m.subject = r.id;
  m.severity = PagerSeverity(r.severity);
  m.source = r.service.empty() ? "vigil" : r.service;
  m.at_ms = e.at_ms;
  if (!external_url.empty()) m.link = external_url + "/api/v1/incidents/" + r.id;
  m.details = {{"incident", r.id},     {"severity", r.severity}, {"status", r.status},
               {"service", r.service}, {"entry", e.kind},        {"author", e.author}};
  const std::string head = "[" + r.severity + "] " + r.id + ": " + r.title;
  m.text = e.text;
  if (e.kind == "page") {
    m.event = "trigger";
    m.routes = all;
    m.title = head;
  } else if (e.kind == "ack") {
    m.event = "acknowledge";
    m.routes = all;
    m.title = "Acknowledged " + head;
  } else if (e.kind == "status" && r.status == "resolved" && !StartsWith(e.text, "Reopened")) {
    m.event = "resolve";
    m.routes = all;
    m.title = "Resolved " + head;
  } else if (e.kind == "status" && StartsWith(e.text, "Reopened")) {
    m.event = "trigger";
    m.routes = all;
    m.title = "Reopened " + head;
  } else if ((e.kind == "action" || e.kind == "sla" || e.kind == "status") && all.count("chat")) {
    m.event = "info";
    m.routes = {"chat"};
    m.title = head;
  } else {
    return std::nullopt;
  }
  return m;
}

Message AlertGroupMessage(const alerting::AlertGroup& g, const std::string& external_url,
                          int64_t now_ms) {
  Message m;
  m.event = g.firing.empty() ? "resolve" : "trigger";
  std::string key_hash;
  {
    uint64_t h = 1469598103934665603ull;  // FNV-1a: a stable, short dedup key
    for (unsigned char c : g.key) h = (h ^ c) * 1099511628211ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    key_hash = buf;
  }
  m.dedup_key = "vigil/alerts/" + key_hash;
  m.subject = g.key;
  m.routes = {"alerts"};
  m.at_ms = now_ms;
  if (!external_url.empty()) m.link = external_url + "/api/v1/alerts";
  std::string names;
  for (const auto& [k, v] : g.labels) names += (names.empty() ? "" : " ") + v;
  m.title =
      (g.firing.empty() ? "[RESOLVED] " : "[FIRING:" + std::to_string(g.firing.size()) + "] ") +
      names + (g.repeat ? " (still firing)" : "");
  std::string severity = "info";
  auto rank = [](const std::string& s) {
    return s == "critical" ? 3 : s == "error" ? 2 : s == "warning" ? 1 : 0;
  };
  std::string source;
  for (const alerting::Alert& a : g.firing) {
    auto sev = a.labels.count("severity") ? a.labels.at("severity") : "warning";
    if (rank(sev) > rank(severity)) severity = sev;
    if (source.empty() && a.labels.count("model")) source = a.labels.at("model");
    const std::string summary =
        a.annotations.count("summary") ? a.annotations.at("summary") : a.name;
    m.text += "Firing: " + summary + " (" + a.condition + ", value " + Value(a.value) + ")";
    if (a.annotations.count("runbook_url"))
      m.text += " runbook: " + a.annotations.at("runbook_url");
    m.text += "\n";
  }
  for (const alerting::Alert& a : g.resolved) {
    if (source.empty() && a.labels.count("model")) source = a.labels.at("model");
    const std::string summary =
        a.annotations.count("summary") ? a.annotations.at("summary") : a.name;
    m.text += "Resolved: " + summary + "\n";
  }
  if (!m.text.empty()) m.text.pop_back();
  m.severity = rank(severity) > 0 ? severity : (g.firing.empty() ? "info" : "warning");
  m.source = source.empty() ? "vigil" : source;
  for (const auto& [k, v] : g.labels) m.details[k] = v;
  m.details["firing"] = std::to_string(g.firing.size());
  m.details["resolved"] = std::to_string(g.resolved.size());
  return m;
}

std::vector<NotificationRecord> IncidentNotifications::Plan(
    const IncidentRecord& incident, const std::vector<IncidentEvent>& events) {
  std::vector<NotificationRecord> out;
  for (const IncidentEvent& e : events) {
    auto m = IncidentMessage(incident, e, notifier_.config().external_url);
    if (!m) continue;
    for (auto& row : notifier_.Plan(*m)) out.push_back(std::move(row));
  }
  return out;
}

}  // namespace vigil::notify
