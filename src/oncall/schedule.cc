#include "oncall/schedule.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/duration.h"
#include "core/strings.h"
#include "core/yaml_fields.h"
#include "oncall/time_zone.h"

namespace vigil::oncall {
namespace {

Status Err(const std::string& where, const std::string& msg) { return FieldError(where, msg); }

Status CheckKeys(const YAML::Node& n, const std::string& where,
                 const std::vector<std::string_view>& known) {
  return CheckYamlKeys(n, where, known);
}

bool Scalar(const YAML::Node& n, const char* key) { return HasScalar(n, key); }

bool HasZoneDesignator(const std::string& text) {
  const size_t t = text.find('T');
  if (t == std::string::npos) return false;
  const std::string rest = text.substr(t);
  return rest.back() == 'Z' || rest.back() == 'z' || rest.find('+') != std::string::npos ||
         rest.find('-') != std::string::npos;
}

// A time in the schedule's zone: with an offset or Z it is that instant; without one it
// is a wall-clock time in `zone` (UTC when none).
Result<int64_t> Time(const YAML::Node& n, const char* key, const std::string& where,
                     const TimeZone* zone) {
  const std::string example =
      "a time such as 2026-01-05T09:00:00Z (or without Z: in the "
      "schedule's time_zone)";
  if (!Scalar(n, key)) return Err(where + "." + key, "expected " + example);
  const std::string text = n[key].Scalar();
  auto t = ParseTime(text);
  if (!t) return Err(where + "." + key, "expected " + example + ", got '" + text + "'");
  if (zone && !HasZoneDesignator(text)) return zone->FromLocal(*t);
  return *t;
}

Result<Target> ParseTarget(const std::string& text, const std::string& where) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Err(where, "expected schedule:NAME or user:NAME, got '" + text + "'");
  }
  Target t{text.substr(0, colon), text.substr(colon + 1)};
  if (t.kind != "schedule" && t.kind != "user") {
    return Err(where, "expected schedule:NAME or user:NAME, got '" + text + "'");
  }
  return t;
}

EscalationPolicy Runbook000Ladder(const std::string& first_schedule) {
  using std::chrono::minutes;
  EscalationPolicy p;
  p.name = "default";
  p.levels.push_back(
      {minutes(0),
       {first_schedule.empty() ? Target{"user", "ml-team"} : Target{"schedule", first_schedule}}});
  p.levels.push_back({minutes(15), {{"user", "ml-team"}}});
  p.levels.push_back({minutes(30), {{"user", "ml-engineering-manager"}}});
  p.levels.push_back({minutes(60), {{"user", "vp-ai-ml"}}});
  return p;
}

}  // namespace

std::optional<int64_t> ParseTime(const std::string& s) {
  int y, mo, d, h, mi;
  double sec;  // fractional seconds allowed (Alertmanager sends them)
  char zone[16] = {0};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%15s", &y, &mo, &d, &h, &mi, &sec, zone) < 6) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = 0;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000 + static_cast<int64_t>(sec * 1000);
  const std::string z = zone;
  if (z.empty() || z == "Z" || z == "z") return ms;
  int zh = 0, zm = 0;
  if ((z[0] != '+' && z[0] != '-') || std::sscanf(z.c_str() + 1, "%2d:%2d", &zh, &zm) != 2) {
    return std::nullopt;
  }
  const int64_t offset = (zh * 60 + zm) * 60'000LL;
  return z[0] == '+' ? ms - offset : ms + offset;
}

// The shift of layer `l` that `ms` falls in: its index and its end. Whole-day rotations
// in a time zone turn over at the same wall-clock time across DST changes; others count
// absolute time.
std::pair<int64_t, int64_t> Schedule::ShiftAt(const Layer& l, int64_t ms) const {
  const int64_t rotation = l.rotation.count();
  if (zone && rotation % 86'400'000 == 0) {
    const int64_t start_local = zone->ToLocal(l.start_ms);
    const int64_t shift = (zone->ToLocal(ms) - start_local) / rotation;
    return {shift, zone->FromLocal(start_local + (shift + 1) * rotation)};
  }
  const int64_t shift = (ms - l.start_ms) / rotation;
  return {shift, l.start_ms + (shift + 1) * rotation};
}

std::string Schedule::OnCallAt(int64_t ms) const {
  for (const Override& o : overrides) {
    if (ms >= o.start_ms && ms < o.end_ms) return o.user;
  }
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    const Layer& l = *it;
    if (l.members.empty() || ms < l.start_ms || l.rotation.count() <= 0) continue;
    const int64_t shift = ShiftAt(l, ms).first;
    return l.members[static_cast<size_t>(shift % static_cast<int64_t>(l.members.size()))];
  }
  return "";
}

int64_t Schedule::ShiftEndsAt(int64_t ms) const {
  for (const Override& o : overrides) {
    if (ms >= o.start_ms && ms < o.end_ms) return o.end_ms;
  }
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    const Layer& l = *it;
    if (l.members.empty() || ms < l.start_ms || l.rotation.count() <= 0) continue;
    return ShiftAt(l, ms).second;
  }
  return 0;
}

const Schedule* OnCallConfig::FindSchedule(std::string_view name) const {
  for (const auto& s : schedules) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const EscalationPolicy* OnCallConfig::FindPolicy(std::string_view name) const {
  for (const auto& p : policies) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<std::string> OnCallConfig::Resolve(const Target& t, int64_t ms) const {
  if (t.kind == "user") return {t.name};
  if (const Schedule* s = FindSchedule(t.name)) {
    const std::string who = s->OnCallAt(ms);
    if (!who.empty()) return {who};
  }
  return {};
}

std::map<std::string, SeverityPolicy> DefaultSeverityPolicies() {
  return {
      {"SEV1", {5, 15, {"pager", "chat", "email"}}},
      {"SEV2", {15, 30, {"pager", "chat"}}},
      {"SEV3", {60, 120, {"chat", "email"}}},
      {"SEV4", {480, std::nullopt, {"ticket"}}},
  };
}

OnCallConfig DefaultOnCallConfig() {
  OnCallConfig c;
  c.policies.push_back(Runbook000Ladder(""));
  return c;
}

Result<OnCallConfig> ParseOnCallText(const std::string& text, const std::string& file) {
  auto loaded = LoadYaml(text, file);
  if (!loaded.ok()) return loaded.status();
  const YAML::Node root = *loaded;
  try {
    if (!root.IsMap()) return Err(file, "expected schedules: and escalation_policies:");
    VIGIL_RETURN_IF_ERROR(
        CheckKeys(root, file + ": ", {"schedules", "escalation_policies", "severities"}));
    OnCallConfig c;
    if (root["schedules"].IsDefined()) {
      const YAML::Node list = root["schedules"];
      if (!list.IsSequence()) return Err(file + ": schedules", "expected a list");
      for (size_t i = 0; i < list.size(); ++i) {
        const YAML::Node n = list[i];
        const std::string where = file + ": schedules[" + std::to_string(i) + "]";
        if (!n.IsMap()) return Err(where, "expected a mapping");
        VIGIL_RETURN_IF_ERROR(CheckKeys(n, where, {"name", "layers", "overrides", "time_zone"}));
        Schedule s;
        if (!Scalar(n, "name")) return Err(where + ".name", "required");
        s.name = n["name"].Scalar();
        if (n["time_zone"].IsDefined()) {
          auto zone = TimeZone::Load(Scalar(n, "time_zone") ? n["time_zone"].Scalar() : "");
          if (!zone.ok()) return Err(where + ".time_zone", zone.status().message());
          s.zone = std::move(*zone);
        }
        if (!n["layers"].IsDefined() || !n["layers"].IsSequence() || n["layers"].size() == 0) {
          return Err(where + ".layers", "expected a non-empty list");
        }
        for (size_t j = 0; j < n["layers"].size(); ++j) {
          const YAML::Node ln = n["layers"][j];
          const std::string lw = where + ".layers[" + std::to_string(j) + "]";
          if (!ln.IsMap()) return Err(lw, "expected a mapping");
          VIGIL_RETURN_IF_ERROR(CheckKeys(ln, lw, {"name", "start", "rotation", "members"}));
          Layer l;
          l.name = Scalar(ln, "name") ? ln["name"].Scalar() : "layer" + std::to_string(j + 1);
          auto start = Time(ln, "start", lw, s.zone.get());
          if (!start.ok()) return start.status();
          l.start_ms = *start;
          if (Scalar(ln, "rotation")) {
            auto d = ParseDuration(ln["rotation"].Scalar(), std::chrono::hours(1));
            if (!d.ok() || d->count() <= 0) {
              return Err(lw + ".rotation", "expected a positive duration such as 1w or 24h");
            }
            l.rotation = *d;
          }
          if (!ln["members"].IsDefined() || !ln["members"].IsSequence() ||
              ln["members"].size() == 0) {
            return Err(lw + ".members", "expected a non-empty list of people");
          }
          for (const auto& m : ln["members"]) l.members.push_back(m.Scalar());
          s.layers.push_back(std::move(l));
        }
        if (n["overrides"].IsDefined()) {
          for (size_t j = 0; j < n["overrides"].size(); ++j) {
            const YAML::Node on = n["overrides"][j];
            const std::string ow = where + ".overrides[" + std::to_string(j) + "]";
            if (!on.IsMap()) return Err(ow, "expected a mapping");
            VIGIL_RETURN_IF_ERROR(CheckKeys(on, ow, {"user", "start", "end"}));
            Override o;
            if (!Scalar(on, "user")) return Err(ow + ".user", "required");
            o.user = on["user"].Scalar();
            auto st = Time(on, "start", ow, s.zone.get());
            if (!st.ok()) return st.status();
            auto en = Time(on, "end", ow, s.zone.get());
            if (!en.ok()) return en.status();
            if (*en <= *st) return Err(ow + ".end", "must be after start");
            o.start_ms = *st;
            o.end_ms = *en;
            s.overrides.push_back(std::move(o));
          }
        }
        if (c.FindSchedule(s.name)) return Err(where + ".name", "duplicate '" + s.name + "'");
        c.schedules.push_back(std::move(s));
      }
    }
    if (root["escalation_policies"].IsDefined()) {
      const YAML::Node list = root["escalation_policies"];
      if (!list.IsSequence()) return Err(file + ": escalation_policies", "expected a list");
      for (size_t i = 0; i < list.size(); ++i) {
        const YAML::Node n = list[i];
        const std::string where = file + ": escalation_policies[" + std::to_string(i) + "]";
        if (!n.IsMap()) return Err(where, "expected a mapping");
        VIGIL_RETURN_IF_ERROR(CheckKeys(n, where, {"name", "levels"}));
        EscalationPolicy p;
        if (!Scalar(n, "name")) return Err(where + ".name", "required");
        p.name = n["name"].Scalar();
        if (!n["levels"].IsDefined() || !n["levels"].IsSequence() || n["levels"].size() == 0) {
          return Err(where + ".levels", "expected a non-empty list");
        }
        for (size_t j = 0; j < n["levels"].size(); ++j) {
          const YAML::Node ln = n["levels"][j];
          const std::string lw = where + ".levels[" + std::to_string(j) + "]";
          if (!ln.IsMap()) return Err(lw, "expected a mapping");
          VIGIL_RETURN_IF_ERROR(CheckKeys(ln, lw, {"delay", "targets"}));
          EscalationLevel level;
          if (Scalar(ln, "delay")) {
            auto d = ParseDuration(ln["delay"].Scalar(), std::chrono::minutes(1));
            if (!d.ok() || d->count() < 0) return Err(lw + ".delay", "expected a duration");
            level.delay = *d;
          }
          if (!ln["targets"].IsDefined() || !ln["targets"].IsSequence() ||
              ln["targets"].size() == 0) {
            return Err(lw + ".targets", "expected a list of schedule:NAME or user:NAME");
          }
          for (size_t k = 0; k < ln["targets"].size(); ++k) {
            auto t =
                ParseTarget(ln["targets"][k].Scalar(), lw + ".targets[" + std::to_string(k) + "]");
            if (!t.ok()) return t.status();
            level.targets.push_back(*t);
          }
          if (!p.levels.empty() && level.delay < p.levels.back().delay) {
            return Err(lw + ".delay", "levels must not go back in time");
          }
          p.levels.push_back(std::move(level));
        }
        c.policies.push_back(std::move(p));
      }
    }
    if (const YAML::Node sevs = root["severities"]; sevs.IsDefined()) {
      if (!sevs.IsMap()) return Err(file + ": severities", "expected a mapping SEV1..SEV4");
      for (const auto& kv : sevs) {
        const std::string name = kv.first.Scalar();
        const std::string where = file + ": severities." + name;
        if (!c.severities.count(name)) return Err(where, "expected SEV1, SEV2, SEV3 or SEV4");
        const YAML::Node n = kv.second;
        if (!n.IsMap()) return Err(where, "expected a mapping");
        VIGIL_RETURN_IF_ERROR(CheckKeys(n, where, {"respond", "escalate", "channels"}));
        SeverityPolicy& p = c.severities[name];
        auto minutes = [&](const char* key) -> Result<std::optional<int>> {
          if (Scalar(n, key) && (n[key].Scalar() == "none" || n[key].Scalar() == "never")) {
            return std::optional<int>();
          }
          auto d = Scalar(n, key) ? ParseDuration(n[key].Scalar(), std::chrono::minutes(1))
                                  : Result<std::chrono::milliseconds>(InvalidArgument(""));
          if (!d.ok() || d->count() <= 0 || d->count() % 60'000 != 0) {
            return Err(where + "." + key, "expected whole minutes such as 15m (or none)");
          }
          return std::optional<int>(static_cast<int>(d->count() / 60'000));
        };
        if (n["respond"].IsDefined()) {
          auto m = minutes("respond");
          if (!m.ok()) return m.status();
          if (!*m) return Err(where + ".respond", "a response time is required");
          p.respond_minutes = **m;
        }
        if (n["escalate"].IsDefined()) {
          auto m = minutes("escalate");
          if (!m.ok()) return m.status();
          p.escalate_minutes = *m;
        }
        if (n["channels"].IsDefined()) {
          if (!n["channels"].IsSequence()) {
            return Err(where + ".channels", "expected a list of pager, chat, email, ticket");
          }
          p.channels.clear();
          for (const auto& ch : n["channels"]) {
            const std::string v = ch.Scalar();
            if (v != "pager" && v != "chat" && v != "email" && v != "ticket") {
              return Err(where + ".channels",
                         "unknown channel '" + v + "' (expected pager, chat, email, ticket)");
            }
            p.channels.push_back(v);
          }
        }
      }
    }
    for (const auto& p : c.policies) {
      for (const auto& l : p.levels) {
        for (const auto& t : l.targets) {
          if (t.kind == "schedule" && !c.FindSchedule(t.name)) {
            return Err(file + ": escalation_policies " + p.name,
                       "unknown schedule '" + t.name + "'");
          }
        }
      }
    }
    if (!c.FindPolicy("default")) {
      c.policies.push_back(Runbook000Ladder(c.schedules.empty() ? "" : c.schedules[0].name));
    }
    return c;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ": " + e.what());
  }
}

Result<OnCallConfig> LoadOnCallFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return NotFound(file.string() + ": cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseOnCallText(ss.str(), file.string());
}

}  // namespace vigil::oncall
