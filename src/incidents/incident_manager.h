// IncidentManager: incidents declared by hand or from alerts, their status and roles, an
// append-only timeline, milestones (started, detected, acknowledged, mitigated, resolved)
// and the figures derived from them (MTTD, MTTA, MTTR, MTBF), kept in the Store.
//
// Severity policy (lecture 003): SEV1 respond in 5 min, escalate after 15, pager + chat +
// e-mail; SEV2 15/30 pager + chat; SEV3 60/120 chat + e-mail; SEV4 480/none, ticket.
// Alert mapping (DESIGN.md §9.8): severity critical -> SEV2, warning -> SEV3, info -> SEV4;
// a `sev` label (SEV1..SEV4 or 1..4) overrides.
//
// An alert that starts firing for a model joins that model's open automatic incident, or
// declares one; when every alert of an automatic incident has resolved, the incident
// resolves. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alerting/evaluator.h"
#include "core/status.h"
#include "oncall/schedule.h"
#include "store/store.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace vigil::incidents {

using oncall::SeverityPolicy;
// "SEV1".."SEV4" (also "1".."4", "sev2"); nullopt when not a severity.
std::optional<std::string> ParseSeverity(std::string_view text);
// The policy of a severity: the lecture's table (oncall::DefaultSeverityPolicies), or the
// one SetSeverityPolicies installed. An unknown severity reads as SEV3.
const SeverityPolicy& PolicyFor(const std::string& severity);
// Installs the on-call file's table. Process-wide configuration: call once at start-up,
// before any thread reads a policy (not thread-safe against concurrent PolicyFor).
void SetSeverityPolicies(std::map<std::string, SeverityPolicy> policies);
// The severity an alert declares (critical -> SEV2, ...; the `sev` label wins).
std::string SeverityForAlert(const alerting::Alert& alert);

inline constexpr std::string_view kStatuses[] = {"investigating", "identified", "monitoring",
                                                 "resolved"};
bool IsStatus(std::string_view s);

struct DeclareRequest {
  std::string title;
  std::string description;
  std::string severity;  // SEV1..SEV4
  std::string service;   // the model, optional
  std::string author;
};

// One change to an incident; unset fields stay as they are.
struct IncidentUpdate {
  std::optional<std::string> status;
  std::optional<std::string> severity;
  std::optional<std::string> commander, communications_lead, technical_lead;
  std::optional<std::string> add_responder;
  std::optional<std::string> note;
  std::optional<std::string> action;  // something done (e.g. a rollback), for the timeline
  std::string author;
};

// Aggregates over incidents (seconds; nullopt without data).
struct IncidentFigures {
  int64_t total = 0, open = 0;
  std::optional<double> mttd, mtta, mttr, mtbf;
};

// Where an incident's timeline entries become notifications (notify/ implements it):
// Plan() gives the outbox rows for entries about to be stored, which are stored in the
// same transaction; Queued() is told how many once they are. Thread-safe.
class IncidentOutbox {
 public:
  virtual ~IncidentOutbox() = default;
  virtual std::vector<NotificationRecord> Plan(const IncidentRecord& incident,
                                               const std::vector<IncidentEvent>& events) = 0;
  virtual void Queued(size_t count) = 0;
};

class IncidentManager {
 public:
  using NowFn = std::function<int64_t()>;  // unix milliseconds (injectable for tests)

  IncidentManager(Store& store, prometheus::Registry& registry, const std::string& environment,
                  NowFn now = nullptr);

  // Call before any thread uses the manager; `outbox` must outlive it.
  void SetOutbox(IncidentOutbox* outbox) { outbox_ = outbox; }

  Result<IncidentRecord> Declare(const DeclareRequest& request);
  Result<IncidentRecord> Apply(const std::string& id, const IncidentUpdate& update);
  Result<IncidentRecord> Acknowledge(const std::string& id, const std::string& author);
  // Appends one timeline entry (a page, an SLA breach) without changing the incident.
  Status Record(const std::string& id, const std::string& kind, const std::string& author,
                const std::string& text);
  Result<IncidentRecord> Get(const std::string& id);
  // Newest first; `status`: "" (all), "open" (not resolved) or a status.
  Result<std::vector<IncidentRecord>> List(const std::string& status, size_t limit);
  Result<IncidentFigures> Figures();

  // Feeds an alert transition (from the alert service's thread).
  void OnAlert(const alerting::AlertTransition& transition);
  // At start-up, with the alerts restored as firing: each open automatic incident gets
  // back its firing alerts (so their resolution resolves it); one left with none resolves
  // now (its alerts ended while Vigil was down).
  void RestoreFiring(const std::vector<alerting::Alert>& firing);
  // The open automatic incident a firing alert belongs to.
  std::optional<std::string> IncidentForAlert(const std::string& fingerprint);

 private:
  Status Save(IncidentRecord& r, std::vector<IncidentEvent> events);
  Result<IncidentRecord> Load(const std::string& id);
  void RefreshFigures();
  std::string NewId();

  Store& store_;
  IncidentOutbox* outbox_ = nullptr;
  NowFn now_;
  std::mutex mu_;
  // Firing alerts (fingerprints) of each open automatic incident.
  std::map<std::string, std::set<std::string>> firing_;
  prometheus::Family<prometheus::Counter>* total_;
  prometheus::Histogram* time_to_detect_;
  prometheus::Histogram* time_to_resolve_;
  prometheus::Gauge* mttd_;
  prometheus::Gauge* mtta_;
  prometheus::Gauge* mttr_;
  prometheus::Gauge* mtbf_;
  std::map<std::string, std::string> constant_;
};

// Milestone durations of one incident, seconds (nullopt when a milestone is missing).
std::optional<double> Seconds(int64_t from_ms, int64_t to_ms);

// The lecture's postmortem template, prefilled with everything the incident records.
std::string PostmortemMarkdown(const IncidentRecord& incident);

}  // namespace vigil::incidents
