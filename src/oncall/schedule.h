// On-call schedules and escalation policies (lecture 003, runbook 000's ladder).
//
// A schedule has layers (members taking turns: rotation length, handoff time) and
// overrides (someone covers a range of time). Who is on call at T: an override active at
// T, else the last layer that has started. A layer's `start` fixes both the handoff time
// of day and the rotation's phase. A schedule may name a time zone: times written without
// an offset are wall-clock times there, and whole-day rotations hand off at the same
// local time across daylight-saving changes (09:00 stays 09:00).
//
// An escalation policy is a list of levels, each with a delay after the incident was
// declared and targets (a schedule's on-call, or a person). Immutable after loading;
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "oncall/time_zone.h"

namespace vigil::oncall {

struct Layer {
  std::string name;
  int64_t start_ms = 0;  // first handoff (unix ms, UTC)
  std::chrono::milliseconds rotation{std::chrono::hours(24 * 7)};
  std::vector<std::string> members;
};

struct Override {
  std::string user;
  int64_t start_ms = 0, end_ms = 0;  // [start, end)
};

struct Schedule {
  std::string name;
  std::shared_ptr<const TimeZone> zone;  // null: UTC
  std::vector<Layer> layers;
  std::vector<Override> overrides;

  // Who is on call at `ms` ("" when nobody: no layer has started).
  std::string OnCallAt(int64_t ms) const;
  // When the current shift (of the answering layer or override) ends; 0 when unknown.
  int64_t ShiftEndsAt(int64_t ms) const;

 private:
  std::pair<int64_t, int64_t> ShiftAt(const Layer& l, int64_t ms) const;
};

struct Target {
  std::string kind;  // "schedule" or "user"
  std::string name;
};

struct EscalationLevel {
  std::chrono::milliseconds delay{0};  // after the incident was declared
  std::vector<Target> targets;
};

struct EscalationPolicy {
  std::string name;
  std::vector<EscalationLevel> levels;
};

// Lecture 003's severity table: how fast someone must respond, when it escalates, which
// channels are notified (pager, chat, email, ticket).
struct SeverityPolicy {
  int respond_minutes = 0;
  std::optional<int> escalate_minutes;
  std::vector<std::string> channels;
};
// SEV1 5/15 pager + chat + email; SEV2 15/30 pager + chat; SEV3 60/120 chat + email;
// SEV4 480/none ticket.
std::map<std::string, SeverityPolicy> DefaultSeverityPolicies();

struct OnCallConfig {
  std::vector<Schedule> schedules;
  std::vector<EscalationPolicy> policies;
  // The lecture's table with the file's `severities:` applied.
  std::map<std::string, SeverityPolicy> severities = DefaultSeverityPolicies();

  const Schedule* FindSchedule(std::string_view name) const;
  const EscalationPolicy* FindPolicy(std::string_view name) const;
  // The people a target means at `ms` (a schedule's on-call; a user).
  std::vector<std::string> Resolve(const Target& t, int64_t ms) const;
};

// Runbook 000's ladder (DESIGN §9.8): the schedule `primary`'s on-call at once, then
// ml-team (15 min), ml-engineering-manager (30 min), vp-ai-ml (60 min). With no schedules
// configured, level 0 pages ml-team.
OnCallConfig DefaultOnCallConfig();

// Parses the on-call file (YAML: schedules, escalation_policies, severities); errors name
// the field.
// A file without a "default" policy gets runbook 000's ladder as "default".
Result<OnCallConfig> ParseOnCallText(const std::string& text, const std::string& file);
Result<OnCallConfig> LoadOnCallFile(const std::filesystem::path& file);

// RFC 3339: "2026-01-05T09:00:00Z", "...00.123+02:00" -> unix ms (nullopt when malformed).
std::optional<int64_t> ParseTime(const std::string& text);

}  // namespace vigil::oncall
