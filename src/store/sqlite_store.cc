// SQLite implementation of Store: one connection behind a mutex (the lifecycle is not
// the hot path), WAL journal, synchronous=FULL, migrations from migrations.h.
#include <sqlite3.h>

#include <chrono>
#include <mutex>

#include "core/clock.h"
#include "store/migrations.h"
#include "store/sqlite_statement.h"
#include "store/store.h"

namespace vigil {
namespace {

class SqliteStore final : public Store, private SqliteConnection {
 public:
  SqliteStore(sqlite3* db, std::string path)
      : SqliteConnection(db, std::move(path), StatusCode::kInternal) {}

  Status Init() {
    VIGIL_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    VIGIL_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
    VIGIL_RETURN_IF_ERROR(Exec("PRAGMA busy_timeout=5000"));
    VIGIL_RETURN_IF_ERROR(
        Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
             "applied_at BIGINT NOT NULL)"));
    int64_t current = 0;
    {
      Stmt q(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (!q.ok() || q.Step() != SQLITE_ROW) return Error("reading the schema version");
      current = q.Int(0);
    }
    const int64_t newest = store_schema::kMigrations.back().version;
    if (current > newest) {
      return FailedPrecondition(path_ + ": schema version " + std::to_string(current) +
                                " is newer than this vigil knows (" + std::to_string(newest) +
                                "); upgrade vigil");
    }
    for (const auto& m : store_schema::kMigrations) {
      if (m.version <= current) continue;
      VIGIL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
      Status st = Exec(m.sql);
      if (st.ok()) {
        Stmt ins(db_, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
        ins.Bind(1, static_cast<int64_t>(m.version)).Bind(2, Now());
        if (ins.Step() != SQLITE_DONE) st = Error("recording migration");
      }
      if (!st.ok()) {
        Exec("ROLLBACK").ok();
        return st.WithPrefix("migration " + std::to_string(m.version));
      }
      VIGIL_RETURN_IF_ERROR(Exec("COMMIT"));
    }
    return Status::Ok();
  }

  Result<std::optional<VersionRecord>> GetVersion(const std::string& model,
                                                  int64_t version) override {
    std::lock_guard lock(mu_);
    return ReadVersion(model, version);
  }

  Result<std::vector<VersionRecord>> ListVersions(const std::string& model) override {
    std::lock_guard lock(mu_);
    std::vector<int64_t> versions;
    {
      Stmt q(db_, "SELECT version FROM model_versions WHERE model = ? ORDER BY version");
      q.Bind(1, model);
      while (q.Step() == SQLITE_ROW) versions.push_back(q.Int(0));
    }
    std::vector<VersionRecord> out;
    for (int64_t v : versions) {
      auto r = ReadVersion(model, v);
      if (!r.ok()) return r.status();
      if (*r) out.push_back(std::move(**r));
    }
    return out;
  }

  Status PutVersion(const VersionRecord& r, const std::optional<HistoryEntry>& entry) override {
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      const char* deletes[] = {"DELETE FROM model_versions WHERE model = ? AND version = ?",
                               "DELETE FROM version_files WHERE model = ? AND version = ?",
                               "DELETE FROM version_metrics WHERE model = ? AND version = ?"};
      for (const char* sql : deletes) {
        Stmt d(db_, sql);
        d.Bind(1, r.model).Bind(2, r.version);
        if (d.Step() != SQLITE_DONE) return Error("deleting the old version record");
      }
      Stmt v(db_,
             "INSERT INTO model_versions (model, version, created_at, source, description) "
             "VALUES (?, ?, ?, ?, ?)");
      v.Bind(1, r.model)
          .Bind(2, r.version)
          .Bind(3, r.created_at)
          .Bind(4, r.source)
          .Bind(5, r.description);
      if (v.Step() != SQLITE_DONE) return Error("writing the version record");
      for (const auto& f : r.files) {
        Stmt q(db_,
               "INSERT INTO version_files (model, version, path, sha256, size) VALUES (?, ?, ?, "
               "?, ?)");
        q.Bind(1, r.model)
            .Bind(2, r.version)
            .Bind(3, f.path)
            .Bind(4, f.sha256)
            .Bind(5, static_cast<int64_t>(f.size));
        if (q.Step() != SQLITE_DONE) return Error("writing a file record");
      }
      for (const auto& [name, value] : r.metrics) {
        Stmt q(db_,
               "INSERT INTO version_metrics (model, version, name, value) VALUES (?, ?, ?, ?)");
        q.Bind(1, r.model).Bind(2, r.version).Bind(3, name).Bind(4, value);
        if (q.Step() != SQLITE_DONE) return Error("writing a metric");
      }
      return entry ? AppendHistory(*entry) : Status::Ok();
    });
  }

  Result<std::map<std::string, int64_t>> GetAliases(const std::string& model) override {
    std::lock_guard lock(mu_);
    std::map<std::string, int64_t> out;
    Stmt q(db_, "SELECT alias, version FROM aliases WHERE model = ?");
    if (!q.ok()) return Error("reading aliases");
    q.Bind(1, model);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out[q.Text(0)] = q.Int(1);
    if (rc != SQLITE_DONE) return Error("reading aliases");
    return out;
  }

  Status UpdateAliases(const std::string& model,
                       const std::map<std::string, std::optional<int64_t>>& changes,
                       const HistoryEntry& entry) override {
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      for (const auto& [alias, version] : changes) {
        Stmt d(db_, "DELETE FROM aliases WHERE model = ? AND alias = ?");
        d.Bind(1, model).Bind(2, alias);
        if (d.Step() != SQLITE_DONE) return Error("updating an alias");
        if (!version) continue;
        Stmt i(db_, "INSERT INTO aliases (model, alias, version) VALUES (?, ?, ?)");
        i.Bind(1, model).Bind(2, alias).Bind(3, *version);
        if (i.Step() != SQLITE_DONE) return Error("updating an alias");
      }
      return AppendHistory(entry);
    });
  }

  Result<std::optional<RolloutRecord>> GetRollout(const std::string& model) override {
    std::lock_guard lock(mu_);
    Stmt q(db_,
           "SELECT version, strategy, percent, state, started_at, updated_at, plan, step FROM "
           "rollouts WHERE model = ?");
    if (!q.ok()) return Error("reading the rollout");
    q.Bind(1, model);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<RolloutRecord>();
    if (rc != SQLITE_ROW) return Error("reading the rollout");
    RolloutRecord r;
    r.model = model;
    r.version = q.Int(0);
    r.strategy = q.Text(1);
    r.percent = q.Double(2);
    r.state = q.Text(3);
    r.started_at = q.Int(4);
    r.updated_at = q.Int(5);
    r.plan = q.Text(6);
    r.step = q.Int(7);
    return std::optional<RolloutRecord>(std::move(r));
  }

  Status UpdateRollout(const std::string& model, const std::optional<RolloutRecord>& r,
                       const HistoryEntry& entry) override {
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      Stmt d(db_, "DELETE FROM rollouts WHERE model = ?");
      d.Bind(1, model);
      if (d.Step() != SQLITE_DONE) return Error("updating the rollout");
      if (r) {
        Stmt i(db_,
               "INSERT INTO rollouts (model, version, strategy, percent, state, started_at, "
               "updated_at, plan, step) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        i.Bind(1, model).Bind(2, r->version).Bind(3, r->strategy).Bind(4, r->percent);
        i.Bind(5, r->state).Bind(6, r->started_at ? r->started_at : Now());
        i.Bind(7, Now()).Bind(8, r->plan).Bind(9, r->step);
        if (i.Step() != SQLITE_DONE) return Error("updating the rollout");
      }
      return AppendHistory(entry);
    });
  }

  Result<std::vector<HistoryEntry>> History(const std::string& model, size_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<HistoryEntry> out;
    Stmt q(db_,
           "SELECT id, model, at, actor, action, from_version, to_version, reason FROM history "
           "WHERE model = ? ORDER BY id DESC LIMIT ?");
    if (!q.ok()) return Error("reading history");
    q.Bind(1, model).Bind(2, static_cast<int64_t>(limit));
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      out.push_back({q.Int(0), q.Text(1), q.Int(2), q.Text(3), q.Text(4), q.OptInt(5), q.OptInt(6),
                     q.Text(7)});
    }
    if (rc != SQLITE_DONE) return Error("reading history");
    return out;
  }

  Status PutIncident(const IncidentRecord& r, const std::vector<IncidentEvent>& events,
                     const std::vector<NotificationRecord>& outbox) override {
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      Stmt q(db_,
             "INSERT OR REPLACE INTO incidents (id, title, description, severity, status, "
             "service, created_by, automatic, commander, communications_lead, technical_lead, "
             "responders, alerts, started_ms, detected_ms, declared_ms, acknowledged_ms, "
             "mitigated_ms, resolved_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      q.Bind(1, r.id).Bind(2, r.title).Bind(3, r.description).Bind(4, r.severity);
      q.Bind(5, r.status).Bind(6, r.service).Bind(7, r.created_by);
      q.Bind(8, static_cast<int64_t>(r.automatic)).Bind(9, r.commander);
      q.Bind(10, r.communications_lead).Bind(11, r.technical_lead);
      q.Bind(12, Join(r.responders)).Bind(13, Join(r.alerts)).Bind(14, r.started_ms);
      q.Bind(15, r.detected_ms).Bind(16, r.declared_ms).Bind(17, r.acknowledged_ms);
      q.Bind(18, r.mitigated_ms).Bind(19, r.resolved_ms);
      if (q.Step() != SQLITE_DONE) return Error("storing an incident");
      Stmt e(db_,
             "INSERT INTO incident_events (incident_id, at_ms, kind, author, text) "
             "VALUES (?, ?, ?, ?, ?)");
      for (const IncidentEvent& ev : events) {
        e.Reset();
        e.Bind(1, r.id).Bind(2, ev.at_ms).Bind(3, ev.kind).Bind(4, ev.author).Bind(5, ev.text);
        if (e.Step() != SQLITE_DONE) return Error("appending to an incident's timeline");
      }
      return InsertNotificationsLocked(outbox);
    });
  }

  Result<std::optional<IncidentRecord>> GetIncident(const std::string& id) override {
    std::lock_guard lock(mu_);
    Stmt q(db_, (std::string(kIncidentSelect) + " WHERE id = ?").c_str());
    q.Bind(1, id);
    const int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<IncidentRecord>();
    if (rc != SQLITE_ROW) return Error("reading an incident");
    IncidentRecord r = ReadIncident(q);
    Stmt e(db_,
           "SELECT at_ms, kind, author, text FROM incident_events WHERE incident_id = ? "
           "ORDER BY id");
    e.Bind(1, id);
    while (e.Step() == SQLITE_ROW) {
      r.timeline.push_back({e.Int(0), e.Text(1), e.Text(2), e.Text(3)});
    }
    return std::optional<IncidentRecord>(std::move(r));
  }

  Result<std::vector<IncidentRecord>> ListIncidents(size_t limit) override {
    std::lock_guard lock(mu_);
    Stmt q(db_, (std::string(kIncidentSelect) + " ORDER BY declared_ms DESC, id LIMIT ?").c_str());
    q.Bind(1, static_cast<int64_t>(limit));
    std::vector<IncidentRecord> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadIncident(q));
    if (rc != SQLITE_DONE) return Error("listing incidents");
    return out;
  }

  Status PutSilence(const SilenceRecord& r) override {
    std::lock_guard lock(mu_);
    Stmt q(
        db_,
        "INSERT OR REPLACE INTO silences (id, matchers, starts_ms, ends_ms, created_by, comment) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    q.Bind(1, r.id).Bind(2, r.matchers).Bind(3, r.starts_ms).Bind(4, r.ends_ms);
    q.Bind(5, r.created_by).Bind(6, r.comment);
    if (q.Step() != SQLITE_DONE) return Error("storing a silence");
    return Status::Ok();
  }

  Result<std::vector<SilenceRecord>> ListSilences(int64_t after_ms) override {
    std::lock_guard lock(mu_);
    Stmt q(db_,
           "SELECT id, matchers, starts_ms, ends_ms, created_by, comment FROM silences "
           "WHERE ends_ms > ? ORDER BY starts_ms, id");
    q.Bind(1, after_ms);
    std::vector<SilenceRecord> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      out.push_back({q.Text(0), q.Text(1), q.Int(2), q.Int(3), q.Text(4), q.Text(5)});
    }
    if (rc != SQLITE_DONE) return Error("listing silences");
    return out;
  }

  Status ReplaceFiringAlerts(const std::map<std::string, std::string>& alerts) override {
    std::lock_guard lock(mu_);
    return Transaction([&]() -> Status {
      Stmt del(db_, "DELETE FROM alert_state");
      if (del.Step() != SQLITE_DONE) return Error("storing the firing alerts");
      Stmt q(db_, "INSERT INTO alert_state (fingerprint, body) VALUES (?, ?)");
      for (const auto& [fp, body] : alerts) {
        q.Reset();
        q.Bind(1, fp).Bind(2, body);
        if (q.Step() != SQLITE_DONE) return Error("storing the firing alerts");
      }
      return Status::Ok();
    });
  }

  Result<std::map<std::string, std::string>> FiringAlerts() override {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT fingerprint, body FROM alert_state ORDER BY fingerprint");
    std::map<std::string, std::string> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out[q.Text(0)] = q.Text(1);
    if (rc != SQLITE_DONE) return Error("reading the firing alerts");
    return out;
  }

  Status EnqueueNotifications(const std::vector<NotificationRecord>& messages) override {
    std::lock_guard lock(mu_);
    return Transaction([&] { return InsertNotificationsLocked(messages); });
  }

  Result<std::vector<NotificationRecord>> DueNotifications(int64_t now_ms, size_t limit) override {
    std::lock_guard lock(mu_);
    Stmt q(db_, (std::string(kNotificationSelect) +
                 " WHERE state = 'pending' AND next_attempt_ms <= ? ORDER BY id LIMIT ?")
                    .c_str());
    q.Bind(1, now_ms).Bind(2, static_cast<int64_t>(limit));
    return ReadNotifications(q);
  }

  Status UpdateNotification(const NotificationRecord& m) override {
    std::lock_guard lock(mu_);
    Stmt q(db_,
           "UPDATE notifications SET state = ?, attempts = ?, next_attempt_ms = ?, sent_ms = ?, "
           "last_error = ? WHERE id = ?");
    q.Bind(1, m.state).Bind(2, m.attempts).Bind(3, m.next_attempt_ms).Bind(4, m.sent_ms);
    q.Bind(5, m.last_error).Bind(6, m.id);
    if (q.Step() != SQLITE_DONE) return Error("updating a notification");
    return Status::Ok();
  }

  Result<std::vector<NotificationRecord>> ListNotifications(const std::string& state,
                                                            size_t limit) override {
    std::lock_guard lock(mu_);
    Stmt q(db_, (std::string(kNotificationSelect) +
                 " WHERE (? = '' OR state = ?) ORDER BY id DESC LIMIT ?")
                    .c_str());
    q.Bind(1, state).Bind(2, state).Bind(3, static_cast<int64_t>(limit));
    return ReadNotifications(q);
  }

  Result<std::optional<int64_t>> NextNotificationDue() override {
    return PendingMin("next_attempt_ms");
  }

  Result<std::optional<int64_t>> OldestPendingNotification() override {
    return PendingMin("created_ms");
  }

 private:
  static int64_t Now() { return UnixSeconds(); }

  static constexpr const char* kIncidentSelect =
      "SELECT id, title, description, severity, status, service, created_by, automatic, "
      "commander, communications_lead, technical_lead, responders, alerts, started_ms, "
      "detected_ms, declared_ms, acknowledged_ms, mitigated_ms, resolved_ms FROM incidents";

  // MIN(column) over the pending notifications (both columns are indexed by state).
  Result<std::optional<int64_t>> PendingMin(const std::string& column) {
    std::lock_guard lock(mu_);
    Stmt q(db_, ("SELECT MIN(" + column + ") FROM notifications WHERE state = 'pending'").c_str());
    if (q.Step() != SQLITE_ROW) return Error("reading the outbox");
    return q.OptInt(0);
  }

  static constexpr const char* kNotificationSelect =
      "SELECT id, channel, dedup_key, event, subject, body, state, attempts, created_ms, "
      "next_attempt_ms, sent_ms, last_error FROM notifications";

  Result<std::vector<NotificationRecord>> ReadNotifications(Stmt& q) {
    std::vector<NotificationRecord> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      NotificationRecord m;
      m.id = q.Int(0);
      m.channel = q.Text(1);
      m.dedup_key = q.Text(2);
      m.event = q.Text(3);
      m.subject = q.Text(4);
      m.body = q.Text(5);
      m.state = q.Text(6);
      m.attempts = q.Int(7);
      m.created_ms = q.Int(8);
      m.next_attempt_ms = q.Int(9);
      m.sent_ms = q.Int(10);
      m.last_error = q.Text(11);
      out.push_back(std::move(m));
    }
    if (rc != SQLITE_DONE) return Error("reading the outbox");
    return out;
  }

  // REQUIRES: mu_ held, inside a transaction.
  Status InsertNotificationsLocked(const std::vector<NotificationRecord>& messages) {
    if (messages.empty()) return Status::Ok();
    Stmt q(db_,
           "INSERT INTO notifications (channel, dedup_key, event, subject, body, state, "
           "attempts, created_ms, next_attempt_ms, sent_ms, last_error) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const NotificationRecord& m : messages) {
      q.Reset();
      q.Bind(1, m.channel).Bind(2, m.dedup_key).Bind(3, m.event).Bind(4, m.subject);
      q.Bind(5, m.body).Bind(6, m.state).Bind(7, m.attempts).Bind(8, m.created_ms);
      q.Bind(9, m.next_attempt_ms).Bind(10, m.sent_ms).Bind(11, m.last_error);
      if (q.Step() != SQLITE_DONE) return Error("queueing a notification");
    }
    return Status::Ok();
  }

  static std::string Join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : "\n") + x;
    return s;
  }
  static std::vector<std::string> Split(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < s.size()) {
      size_t end = s.find('\n', start);
      if (end == std::string::npos) end = s.size();
      out.push_back(s.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }
  static IncidentRecord ReadIncident(const Stmt& q) {
    IncidentRecord r;
    r.id = q.Text(0);
    r.title = q.Text(1);
    r.description = q.Text(2);
    r.severity = q.Text(3);
    r.status = q.Text(4);
    r.service = q.Text(5);
    r.created_by = q.Text(6);
    r.automatic = q.Int(7) != 0;
    r.commander = q.Text(8);
    r.communications_lead = q.Text(9);
    r.technical_lead = q.Text(10);
    r.responders = Split(q.Text(11));
    r.alerts = Split(q.Text(12));
    r.started_ms = q.Int(13);
    r.detected_ms = q.Int(14);
    r.declared_ms = q.Int(15);
    r.acknowledged_ms = q.Int(16);
    r.mitigated_ms = q.Int(17);
    r.resolved_ms = q.Int(18);
    return r;
  }

  // REQUIRES: mu_ held, inside a transaction.
  Status AppendHistory(const HistoryEntry& e) {
    Stmt q(db_,
           "INSERT INTO history (model, at, actor, action, from_version, to_version, reason) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)");
    q.Bind(1, e.model).Bind(2, e.at ? e.at : Now()).Bind(3, e.actor).Bind(4, e.action);
    q.Bind(5, e.from_version).Bind(6, e.to_version).Bind(7, e.reason);
    if (q.Step() != SQLITE_DONE) return Error("appending history");
    return Status::Ok();
  }

  // REQUIRES: mu_ held.
  Result<std::optional<VersionRecord>> ReadVersion(const std::string& model, int64_t version) {
    VersionRecord r;
    {
      Stmt q(db_,
             "SELECT created_at, source, description FROM model_versions WHERE model = ? AND "
             "version = ?");
      if (!q.ok()) return Error("reading a version");
      q.Bind(1, model).Bind(2, version);
      int rc = q.Step();
      if (rc == SQLITE_DONE) return std::optional<VersionRecord>();
      if (rc != SQLITE_ROW) return Error("reading a version");
      r.model = model;
      r.version = version;
      r.created_at = q.Int(0);
      r.source = q.Text(1);
      r.description = q.Text(2);
    }
    {
      Stmt q(db_,
             "SELECT path, sha256, size FROM version_files WHERE model = ? AND version = ? ORDER "
             "BY path");
      q.Bind(1, model).Bind(2, version);
      while (q.Step() == SQLITE_ROW) {
        r.files.push_back({q.Text(0), q.Text(1), static_cast<uint64_t>(q.Int(2))});
      }
    }
    {
      Stmt q(db_, "SELECT name, value FROM version_metrics WHERE model = ? AND version = ?");
      q.Bind(1, model).Bind(2, version);
      while (q.Step() == SQLITE_ROW) r.metrics[q.Text(0)] = q.Double(1);
    }
    return std::optional<VersionRecord>(std::move(r));
  }

  std::mutex mu_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& data_dir) {
  auto db = OpenSqliteFile(data_dir, "vigil.db", "store");
  if (!db.ok()) return db.status();
  auto store = std::make_unique<SqliteStore>(*db, (data_dir / "vigil.db").string());
  VIGIL_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace vigil
