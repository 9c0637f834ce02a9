#include "incidents/incident_manager.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/clock.h"
#include "core/ids.h"
#include "core/logging.h"

namespace vigil::incidents {
namespace {

const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  // Seconds: one minute to one day, around the SLAs of the severity table.
  static const prometheus::Histogram::BucketBoundaries kBuckets = {60,   300,   900,   1800, 3600,
                                                                   7200, 14400, 28800, 86400};
  return kBuckets;
}

std::string Label(const alerting::Alert& a, const char* key) {
  auto it = a.labels.find(key);
  return it == a.labels.end() ? "" : it->second;
}

}  // namespace

std::optional<std::string> ParseSeverity(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::toupper(c); });
  if (t.rfind("SEV-", 0) == 0) t.erase(3, 1);
  if (t.rfind("SEV", 0) != 0) t = "SEV" + t;
  if (t == "SEV1" || t == "SEV2" || t == "SEV3" || t == "SEV4") return t;
  return std::nullopt;
}

namespace {

std::map<std::string, SeverityPolicy>& Policies() {
  static std::map<std::string, SeverityPolicy> policies = oncall::DefaultSeverityPolicies();
  return policies;
}

}  // namespace

const SeverityPolicy& PolicyFor(const std::string& severity) {
  const auto& policies = Policies();
  auto it = policies.find(severity);
  return it == policies.end() ? policies.at("SEV3") : it->second;
}

void SetSeverityPolicies(std::map<std::string, SeverityPolicy> policies) {
  for (const auto& [sev, p] : oncall::DefaultSeverityPolicies()) policies.try_emplace(sev, p);
  Policies() = std::move(policies);
}

std::string SeverityForAlert(const alerting::Alert& a) {
  if (auto sev = ParseSeverity(Label(a, "sev"))) return *sev;
  const std::string s = Label(a, "severity");
  if (s == "critical") return "SEV2";
  if (s == "info") return "SEV4";
  return "SEV3";
}

bool IsStatus(std::string_view s) {
  return std::find(std::begin(kStatuses), std::end(kStatuses), s) != std::end(kStatuses);
}

std::optional<double> Seconds(int64_t from_ms, int64_t to_ms) {
  if (from_ms <= 0 || to_ms <= 0 || to_ms < from_ms) return std::nullopt;
  return static_cast<double>(to_ms - from_ms) / 1000.0;
}

IncidentManager::IncidentManager(Store& store, prometheus::Registry& registry,
                                 const std::string& environment, NowFn now)
    : store_(store), now_(now ? std::move(now) : NowFn(UnixMillis)) {
  if (!environment.empty()) constant_["environment"] = environment;
  total_ = &prometheus::BuildCounter()
                .Name("incidents_total")
                .Help("Incidents declared, by severity and service")
                .Labels(constant_)
                .Register(registry);
  time_to_detect_ = &prometheus::BuildHistogram()
                         .Name("incident_time_to_detect_seconds")
                         .Help("Started -> detected, per incident")
                         .Labels(constant_)
                         .Register(registry)
                         .Add({}, DurationBuckets());
  time_to_resolve_ = &prometheus::BuildHistogram()
                          .Name("incident_time_to_resolve_seconds")
                          .Help("Started -> resolved, per incident")
                          .Labels(constant_)
                          .Register(registry)
                          .Add({}, DurationBuckets());
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Labels(constant_).Register(registry).Add(
        {});
  };
  mttd_ = gauge("incident_mttd_seconds", "Mean time to detect (started -> detected)");
  mtta_ = gauge("incident_mtta_seconds", "Mean time to acknowledge (declared -> acknowledged)");
  mttr_ = gauge("incident_mttr_seconds", "Mean time to resolve (started -> resolved)");
  mtbf_ = gauge("incident_mtbf_seconds", "Mean time between incident starts");
  RefreshFigures();
}

std::string IncidentManager::NewId() {
  for (;;) {
    std::string id = "INC-" + RandomHex128().substr(0, 8);
    auto existing = store_.GetIncident(id);
    if (existing.ok() && !*existing) return id;
    if (!existing.ok()) return id;  // the insert will report the store's problem
  }
}

Status IncidentManager::Save(IncidentRecord& r, std::vector<IncidentEvent> events) {
  std::vector<NotificationRecord> outbox;
  if (outbox_) outbox = outbox_->Plan(r, events);
  VIGIL_RETURN_IF_ERROR(store_.PutIncident(r, events, outbox));
  if (outbox_ && !outbox.empty()) outbox_->Queued(outbox.size());
  return Status::Ok();
}

Result<IncidentRecord> IncidentManager::Load(const std::string& id) {
  auto r = store_.GetIncident(id);
  if (!r.ok()) return r.status();
  if (!*r) return NotFound("unknown incident '" + id + "'");
  return std::move(**r);
}

Result<IncidentRecord> IncidentManager::Declare(const DeclareRequest& req) {
  if (req.title.empty()) return InvalidArgument("title: required");
  auto sev = ParseSeverity(req.severity);
  if (!sev) {
    return InvalidArgument("severity: expected SEV1, SEV2, SEV3 or SEV4, got '" + req.severity +
                           "'");
  }
  std::lock_guard lock(mu_);
  IncidentRecord r;
  r.id = NewId();
  r.title = req.title;
  r.description = req.description;
  r.severity = *sev;
  r.status = "investigating";
  r.service = req.service;
  r.created_by = req.author.empty() ? "unknown" : req.author;
  const int64_t now = now_();
  r.started_ms = r.detected_ms = r.declared_ms = now;
  const SeverityPolicy& p = PolicyFor(r.severity);
  std::string channels;
  for (const auto& c : p.channels) channels += (channels.empty() ? "" : ", ") + c;
  VIGIL_RETURN_IF_ERROR(
      Save(r, {{now, "declared", r.created_by,
                "Incident declared (" + r.severity + "): " + r.title + "; respond within " +
                    std::to_string(p.respond_minutes) + " min; notify " + channels}}));
  total_->Add({{"severity", r.severity}, {"service", r.service}}).Increment();
  LogInfo("incident declared", {{"id", r.id}, {"severity", r.severity}, {"title", r.title}});
  RefreshFigures();
  return Load(r.id);
}

Result<IncidentRecord> IncidentManager::Acknowledge(const std::string& id,
                                                    const std::string& author) {
  std::lock_guard lock(mu_);
  auto r = Load(id);
  if (!r.ok()) return r.status();
  if (r->acknowledged_ms) return *r;  // acknowledging twice changes nothing
  r->acknowledged_ms = now_();
  if (!author.empty() &&
      std::find(r->responders.begin(), r->responders.end(), author) == r->responders.end()) {
    r->responders.push_back(author);
  }
  VIGIL_RETURN_IF_ERROR(
      Save(*r, {{r->acknowledged_ms, "ack", author, "Acknowledged by " + author}}));
  RefreshFigures();
  return Load(id);
}

Status IncidentManager::Record(const std::string& id, const std::string& kind,
                               const std::string& author, const std::string& text) {
  std::lock_guard lock(mu_);
  auto r = Load(id);
  if (!r.ok()) return r.status();
  return Save(*r, {{now_(), kind, author, text}});
}

Result<IncidentRecord> IncidentManager::Apply(const std::string& id, const IncidentUpdate& u) {
  std::lock_guard lock(mu_);
  auto loaded = Load(id);
  if (!loaded.ok()) return loaded.status();
  IncidentRecord& r = *loaded;
  const int64_t now = now_();
  std::vector<IncidentEvent> events;
  const std::string who = u.author.empty() ? "unknown" : u.author;
  if (u.severity) {
    auto sev = ParseSeverity(*u.severity);
    if (!sev) {
      return InvalidArgument("severity: expected SEV1, SEV2, SEV3 or SEV4, got '" + *u.severity +
                             "'");
    }
    if (*sev != r.severity) {
      events.push_back({now, "severity", who, "Severity " + r.severity + " -> " + *sev});
      r.severity = *sev;
    }
  }
  if (u.status) {
    if (!IsStatus(*u.status)) {
      return InvalidArgument(
          "status: expected investigating, identified, monitoring or "
          "resolved, got '" +
          *u.status + "'");
    }
    if (*u.status != r.status) {
      const bool reopen = r.status == "resolved";
      events.push_back({now, "status", who,
                        (reopen ? "Reopened: " : "Status ") + r.status + " -> " + *u.status});
      r.status = *u.status;
      if (reopen) r.resolved_ms = 0;
      if ((r.status == "monitoring" || r.status == "resolved") && !r.mitigated_ms) {
        r.mitigated_ms = now;
      }
      if (r.status == "resolved") r.resolved_ms = now;
    }
  }
  auto role = [&](const std::optional<std::string>& v, std::string& field, const char* name) {
    if (!v || *v == field) return;
    field = *v;
    events.push_back({now, "role", who, std::string(name) + ": " + *v});
  };
  role(u.commander, r.commander, "Incident commander");
  role(u.communications_lead, r.communications_lead, "Communications lead");
  role(u.technical_lead, r.technical_lead, "Technical lead");
  if (u.add_responder && !u.add_responder->empty() &&
      std::find(r.responders.begin(), r.responders.end(), *u.add_responder) == r.responders.end()) {
    r.responders.push_back(*u.add_responder);
    events.push_back({now, "role", who, "Responder joined: " + *u.add_responder});
  }
  if (u.action && !u.action->empty()) events.push_back({now, "action", who, *u.action});
  if (u.note && !u.note->empty()) events.push_back({now, "note", who, *u.note});
  if (events.empty()) return r;
  const bool resolved_now = u.status && *u.status == "resolved";
  VIGIL_RETURN_IF_ERROR(Save(r, std::move(events)));
  if (resolved_now) {
    if (auto s = Seconds(r.started_ms, r.resolved_ms)) time_to_resolve_->Observe(*s);
    firing_.erase(r.id);
  }
  RefreshFigures();
  return Load(id);
}

Result<IncidentRecord> IncidentManager::Get(const std::string& id) {
  std::lock_guard lock(mu_);
  return Load(id);
}

Result<std::vector<IncidentRecord>> IncidentManager::List(const std::string& status, size_t limit) {
  if (!status.empty() && status != "open" && !IsStatus(status)) {
    return InvalidArgument(
        "status: expected open, investigating, identified, monitoring or "
        "resolved, got '" +
        status + "'");
  }
  auto all = store_.ListIncidents(std::max<size_t>(limit, 1) * (status.empty() ? 1 : 10));
  if (!all.ok()) return all.status();
  std::vector<IncidentRecord> out;
  for (auto& r : *all) {
    const bool keep =
        status.empty() || (status == "open" ? r.status != "resolved" : r.status == status);
    if (keep && out.size() < limit) out.push_back(std::move(r));
  }
  return out;
}

Result<IncidentFigures> IncidentManager::Figures() {
  auto all = store_.ListIncidents(10000);
  if (!all.ok()) return all.status();
  IncidentFigures f;
  double detect = 0, ack = 0, resolve = 0;
  int nd = 0, na = 0, nr = 0;
  std::vector<int64_t> starts;
  for (const auto& r : *all) {
    ++f.total;
    if (r.status != "resolved") ++f.open;
    if (auto s = Seconds(r.started_ms, r.detected_ms)) detect += *s, ++nd;
    if (auto s = Seconds(r.declared_ms, r.acknowledged_ms)) ack += *s, ++na;
    if (auto s = Seconds(r.started_ms, r.resolved_ms)) resolve += *s, ++nr;
    if (r.started_ms) starts.push_back(r.started_ms);
  }
  if (nd) f.mttd = detect / nd;
  if (na) f.mtta = ack / na;
  if (nr) f.mttr = resolve / nr;
  if (starts.size() >= 2) {
    std::sort(starts.begin(), starts.end());
    f.mtbf = static_cast<double>(starts.back() - starts.front()) / 1000.0 /
             static_cast<double>(starts.size() - 1);
  }
  return f;
}

void IncidentManager::RefreshFigures() {
  auto f = Figures();
  if (!f.ok()) return;
  mttd_->Set(f->mttd.value_or(0));
  mtta_->Set(f->mtta.value_or(0));
  mttr_->Set(f->mttr.value_or(0));
  mtbf_->Set(f->mtbf.value_or(0));
}

void IncidentManager::RestoreFiring(const std::vector<alerting::Alert>& firing) {
  std::set<std::string> now_firing;
  for (const auto& a : firing) {
    if (a.state == alerting::AlertState::kFiring) now_firing.insert(a.fingerprint);
  }
  auto open = List("open", 100000);
  if (!open.ok()) return;
  std::lock_guard lock(mu_);
  for (const IncidentRecord& summary : *open) {
    if (!summary.automatic) continue;
    std::set<std::string>& mine = firing_[summary.id];
    for (const auto& fp : summary.alerts) {
      if (now_firing.count(fp)) mine.insert(fp);
    }
    if (!mine.empty()) continue;
    firing_.erase(summary.id);
    auto r = Load(summary.id);
    if (!r.ok()) continue;
    const int64_t now = now_();
    r->status = "resolved";
    if (!r->mitigated_ms) r->mitigated_ms = now;
    r->resolved_ms = now;
    Save(*r, {{now, "status", "vigil",
               "Status -> resolved (its alerts were no longer firing when Vigil restarted)"}})
        .ok();
  }
  RefreshFigures();
}

std::optional<std::string> IncidentManager::IncidentForAlert(const std::string& fingerprint) {
  std::lock_guard lock(mu_);
  for (const auto& [id, alerts] : firing_) {
    if (alerts.count(fingerprint)) return id;
  }
  return std::nullopt;
}

void IncidentManager::OnAlert(const alerting::AlertTransition& t) {
  const alerting::Alert& a = t.alert;
  // The model, or for the service's own alerts the service ("vigil").
  const std::string model = Label(a, "model").empty() ? Label(a, "service") : Label(a, "model");
  std::lock_guard lock(mu_);
  const int64_t now = now_();
  char value[64];
  std::snprintf(value, sizeof value, "%g", a.value);
  const std::string what = a.name + (model.empty() ? "" : " on " + model) + " (" + a.condition +
                           ", value " + value + ")";
  if (a.state == alerting::AlertState::kFiring) {
    // Join the model's open automatic incident, or declare one.
    std::string id;
    for (const auto& [incident, alerts] : firing_) {
      auto r = Load(incident);
      if (r.ok() && r->status != "resolved" && r->service == model) id = incident;
    }
    IncidentRecord r;
    std::vector<IncidentEvent> events;
    if (id.empty()) {
      r.id = NewId();
      r.title = a.annotations.count("summary") ? a.annotations.at("summary") : what;
      r.description = "Declared by Vigil from alert " + what + ".";
      r.severity = SeverityForAlert(a);
      r.status = "investigating";
      r.service = model;
      r.created_by = "vigil";
      r.automatic = true;
      r.started_ms = a.active_since_ms ? a.active_since_ms : now;
      r.detected_ms = a.fired_at_ms ? a.fired_at_ms : now;
      r.declared_ms = now;
      events.push_back({r.started_ms, "alert", "vigil", "Condition first met: " + what});
      events.push_back({r.detected_ms, "alert", "vigil", "Alert firing: " + what});
      events.push_back({now, "declared", "vigil", "Incident declared (" + r.severity + ")"});
      total_->Add({{"severity", r.severity}, {"service", r.service}}).Increment();
      if (auto s = Seconds(r.started_ms, r.detected_ms)) time_to_detect_->Observe(*s);
      LogInfo("incident declared", {{"id", r.id}, {"severity", r.severity}, {"alert", a.name}});
    } else {
      auto loaded = Load(id);
      if (!loaded.ok()) return;
      r = std::move(*loaded);
      events.push_back({now, "alert", "vigil", "Alert firing: " + what});
      // A more severe alert raises the incident's severity (SEV1 is the most severe).
      const std::string sev = SeverityForAlert(a);
      if (sev < r.severity) {
        events.push_back({now, "severity", "vigil",
                          "Severity " + r.severity + " -> " + sev + " (" + a.name + ")"});
        r.severity = sev;
      }
    }
    if (std::find(r.alerts.begin(), r.alerts.end(), a.fingerprint) == r.alerts.end()) {
      r.alerts.push_back(a.fingerprint);
    }
    Status st = Save(r, std::move(events));
    if (!st.ok()) {
      LogError("incident not stored", {{"error", st.message()}});
      return;
    }
    firing_[r.id].insert(a.fingerprint);
  } else if (a.state == alerting::AlertState::kResolved) {
    for (auto it = firing_.begin(); it != firing_.end(); ++it) {
      if (!it->second.erase(a.fingerprint)) continue;
      auto loaded = Load(it->first);
      if (!loaded.ok()) return;
      IncidentRecord r = std::move(*loaded);
      std::vector<IncidentEvent> events = {{now, "alert", "vigil", "Alert resolved: " + what}};
      const bool all_clear = it->second.empty() && r.status != "resolved";
      if (all_clear) {
        events.push_back(
            {now, "status", "vigil", "Status " + r.status + " -> resolved (every alert resolved)"});
        r.status = "resolved";
        if (!r.mitigated_ms) r.mitigated_ms = now;
        r.resolved_ms = now;
      }
      Status st = Save(r, std::move(events));
      if (!st.ok()) LogError("incident not stored", {{"error", st.message()}});
      if (all_clear) {
        if (auto s = Seconds(r.started_ms, r.resolved_ms)) time_to_resolve_->Observe(*s);
        firing_.erase(it);
        LogInfo("incident resolved", {{"id", r.id}});
      }
      break;
    }
  }
  RefreshFigures();
}

}  // namespace vigil::incidents
