// Store: everything the model lifecycle decides, kept durably (DESIGN.md §2 store/).
//
// One narrow interface; SQLite (WAL) is the embedded implementation, PostgreSQL comes
// later behind the same calls, so the SQL stays portable. Every mutating call is one
// transaction: after a crash (kill -9 included) either all of it happened or none.
// Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil {

struct FileRecord {
  std::string path;  // relative to the version folder, '/'-separated
  std::string sha256;
  uint64_t size = 0;
};

struct VersionRecord {
  std::string model;
  int64_t version = 0;
  std::vector<FileRecord> files;  // sorted by path
  int64_t created_at = 0;         // unix seconds
  std::string source;             // where the artifact came from ("repository scan", a path)
  std::string description;
  std::map<std::string, double> metrics;  // e.g. accuracy=0.93
};

// One lifecycle action: who, when, why, from -> to.
struct HistoryEntry {
  int64_t id = 0;
  std::string model;
  int64_t at = 0;  // unix seconds
  std::string actor;
  std::string action;  // "initial", "promote", "rollback", "register", ...
  std::optional<int64_t> from_version, to_version;
  std::string reason;
};

// An active traffic split: `percent` of a model's unversioned traffic goes to `version`.
struct RolloutRecord {
  std::string model;
  int64_t version = 0;
  std::string strategy = "canary";
  double percent = 0;
  std::string state = "running";  // running | paused
  std::string plan;               // gradual: the serialized GradualPlan
  int64_t step = 0;               // gradual: index of the current step
  int64_t started_at = 0;
  int64_t updated_at = 0;
};

// One line of an incident's append-only timeline.
struct IncidentEvent {
  int64_t at_ms = 0;  // unix milliseconds
  std::string kind;   // declared, alert, page, ack, action, status, role, note, severity
  std::string author;
  std::string text;
};

// An incident as stored (the incidents module owns its meaning).
struct IncidentRecord {
  std::string id;  // INC-xxxxxxxx
  std::string title, description;
  std::string severity;  // SEV1 .. SEV4
  std::string status;    // investigating | identified | monitoring | resolved
  std::string service;   // the model, when there is one
  std::string created_by;
  bool automatic = false;  // declared from an alert
  std::string commander, communications_lead, technical_lead;
  std::vector<std::string> responders;
  std::vector<std::string> alerts;  // fingerprints of the alerts that belong to it
  // Milestones, unix milliseconds (0 = not yet).
  int64_t started_ms = 0, detected_ms = 0, declared_ms = 0, acknowledged_ms = 0, mitigated_ms = 0,
          resolved_ms = 0;
  std::vector<IncidentEvent> timeline;  // oldest first (filled by GetIncident)
};

// A silence as stored: matchers one per line ("alertname=X", "model=~ir.*").
struct SilenceRecord {
  std::string id;
  std::string matchers;
  int64_t starts_ms = 0, ends_ms = 0;
  std::string created_by, comment;
};

// One message in the notification outbox (notify/ owns its meaning). `body` is the
// rendered request body; the channel's URL and headers come from the configuration when
// it is sent, so a rotated webhook URL applies to messages already queued.
struct NotificationRecord {
  int64_t id = 0;         // assigned by the store, increasing
  std::string channel;    // the configured channel's name
  std::string dedup_key;  // the same for every message about one incident or alert group
  std::string event;      // trigger | acknowledge | resolve | info
  std::string subject;    // what it is about: INC-..., or the alert group
  std::string body;
  std::string state = "pending";  // pending | sent | failed
  int64_t attempts = 0;
  int64_t created_ms = 0, next_attempt_ms = 0, sent_ms = 0;
  std::string last_error;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<std::optional<VersionRecord>> GetVersion(const std::string& model,
                                                          int64_t version) = 0;
  virtual Result<std::vector<VersionRecord>> ListVersions(const std::string& model) = 0;
  // Inserts or replaces the record, and appends `entry` to the history when given.
  virtual Status PutVersion(const VersionRecord& record,
                            const std::optional<HistoryEntry>& entry) = 0;

  // alias -> version ("production", "previous", "canary", user-defined).
  virtual Result<std::map<std::string, int64_t>> GetAliases(const std::string& model) = 0;
  // Sets (value) or removes (nullopt) aliases and appends `entry`, atomically.
  virtual Status UpdateAliases(const std::string& model,
                               const std::map<std::string, std::optional<int64_t>>& changes,
                               const HistoryEntry& entry) = 0;

  virtual Result<std::optional<RolloutRecord>> GetRollout(const std::string& model) = 0;
  // Creates or replaces (value) or ends (nullopt) the model's rollout and appends `entry`.
  virtual Status UpdateRollout(const std::string& model, const std::optional<RolloutRecord>& r,
                               const HistoryEntry& entry) = 0;

  // Newest first, at most `limit`.
  virtual Result<std::vector<HistoryEntry>> History(const std::string& model, size_t limit) = 0;

  // Creates or updates the incident (its timeline field is ignored), appends `events` to
  // its timeline and queues `outbox`, atomically: a page recorded is a page sent.
  virtual Status PutIncident(const IncidentRecord& incident,
                             const std::vector<IncidentEvent>& events,
                             const std::vector<NotificationRecord>& outbox) = 0;
  // With its timeline; nullopt when unknown.
  virtual Result<std::optional<IncidentRecord>> GetIncident(const std::string& id) = 0;
  // Newest declared first, at most `limit`, without timelines.
  virtual Result<std::vector<IncidentRecord>> ListIncidents(size_t limit) = 0;

  // Creates or replaces a silence (expiring one moves its end).
  virtual Status PutSilence(const SilenceRecord& silence) = 0;
  // Silences that end after `after_ms`.
  virtual Result<std::vector<SilenceRecord>> ListSilences(int64_t after_ms) = 0;

  // The firing alerts, so their state survives a restart: fingerprint -> the alerting
  // module's serialized alert. Replace stores exactly this set, atomically.
  virtual Status ReplaceFiringAlerts(const std::map<std::string, std::string>& alerts) = 0;
  virtual Result<std::map<std::string, std::string>> FiringAlerts() = 0;

  // The notification outbox. Enqueue assigns ids and keeps the messages' order.
  virtual Status EnqueueNotifications(const std::vector<NotificationRecord>& messages) = 0;
  // Pending messages whose next attempt is due at `now_ms`, oldest first, at most `limit`.
  virtual Result<std::vector<NotificationRecord>> DueNotifications(int64_t now_ms,
                                                                   size_t limit) = 0;
  // Stores a delivery attempt's outcome (state, attempts, next attempt, sent, error).
  virtual Status UpdateNotification(const NotificationRecord& message) = 0;
  // Newest first; `state` "" for all.
  virtual Result<std::vector<NotificationRecord>> ListNotifications(const std::string& state,
                                                                    size_t limit) = 0;
  // When the next pending message is due (nullopt when none is pending).
  virtual Result<std::optional<int64_t>> NextNotificationDue() = 0;
  // When the oldest pending message was created (nullopt when none is pending).
  virtual Result<std::optional<int64_t>> OldestPendingNotification() = 0;
};

// Opens (creating when missing) `<data_dir>/vigil.db` and applies pending migrations.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& data_dir);

}  // namespace vigil
