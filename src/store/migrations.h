// The store's schema, as numbered migrations applied in order and recorded in
// schema_migrations. Never edit a released migration: append a new one. Plain SQL that
// SQLite and PostgreSQL both accept.
#pragma once

#include <array>

namespace vigil::store_schema {

struct Migration {
  int version;
  const char* sql;
};

inline constexpr std::array<Migration, 7> kMigrations = {{
    {1, R"sql(
CREATE TABLE model_versions (
  model TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  source TEXT NOT NULL,
  description TEXT NOT NULL,
  PRIMARY KEY (model, version)
);
CREATE TABLE version_files (
  model TEXT NOT NULL,
  version BIGINT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  PRIMARY KEY (model, version, path)
);
CREATE TABLE version_metrics (
  model TEXT NOT NULL,
  version BIGINT NOT NULL,
  name TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (model, version, name)
);
CREATE TABLE aliases (
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (model, alias)
);
CREATE TABLE history (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  from_version BIGINT,
  to_version BIGINT,
  reason TEXT NOT NULL
);
CREATE INDEX history_by_model ON history (model, id);
)sql"},
    {2, R"sql(
CREATE TABLE rollouts (
  model TEXT PRIMARY KEY,
  version BIGINT NOT NULL,
  strategy TEXT NOT NULL,
  percent DOUBLE PRECISION NOT NULL,
  state TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql"},
    {3, R"sql(
ALTER TABLE rollouts ADD COLUMN plan TEXT NOT NULL DEFAULT '';
ALTER TABLE rollouts ADD COLUMN step BIGINT NOT NULL DEFAULT 0;
)sql"},
    {4, R"sql(
CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL,
  service TEXT NOT NULL,
  created_by TEXT NOT NULL,
  automatic BIGINT NOT NULL,
  commander TEXT NOT NULL,
  communications_lead TEXT NOT NULL,
  technical_lead TEXT NOT NULL,
  responders TEXT NOT NULL,
  alerts TEXT NOT NULL,
  started_ms BIGINT NOT NULL,
  detected_ms BIGINT NOT NULL,
  declared_ms BIGINT NOT NULL,
  acknowledged_ms BIGINT NOT NULL,
  mitigated_ms BIGINT NOT NULL,
  resolved_ms BIGINT NOT NULL
);
CREATE INDEX incidents_by_declared ON incidents (declared_ms);
CREATE TABLE incident_events (
  id INTEGER PRIMARY KEY,
  incident_id TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  kind TEXT NOT NULL,
  author TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id, id);
)sql"},
    {5, R"sql(
CREATE TABLE silences (
  id TEXT PRIMARY KEY,
  matchers TEXT NOT NULL,
  starts_ms BIGINT NOT NULL,
  ends_ms BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  comment TEXT NOT NULL
);
)sql"},
    {6, R"sql(
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  event TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  next_attempt_ms BIGINT NOT NULL,
  sent_ms BIGINT NOT NULL,
  last_error TEXT NOT NULL
);
CREATE INDEX notifications_due ON notifications (state, next_attempt_ms);
)sql"},
    {7, R"sql(
CREATE TABLE alert_state (
  fingerprint TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
)sql"},
}};

}  // namespace vigil::store_schema
