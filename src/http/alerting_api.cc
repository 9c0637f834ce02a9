// The alerting endpoints of the Api (docs/alerting.md).
#include <ctime>

#include "alerting/alert_service.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/strings.h"
#include "http/api.h"
#include "http/api_internal.h"
#include "incidents/incident_manager.h"
#include "oncall/schedule.h"

namespace vigil::http {
namespace {

void WriteMap(JsonWriter& w, const std::map<std::string, std::string>& m) {
  w.StartObject();
  for (const auto& [k, v] : m) {
    w.Key(k.c_str());
    WriteStr(w, v);
  }
  w.EndObject();
}

void WriteSilence(JsonWriter& w, const alerting::Silence& s) {
  w.StartObject();
  w.Key("id");
  WriteStr(w, s.id);
  w.Key("matchers");
  w.StartArray();
  for (const auto& m : s.matchers) WriteStr(w, m.ToString());
  w.EndArray();
  w.Key("startsAt");
  WriteStr(w, IsoMs(s.starts_ms));
  w.Key("endsAt");
  WriteStr(w, IsoMs(s.ends_ms));
  w.Key("createdBy");
  WriteStr(w, s.created_by);
  w.Key("comment");
  WriteStr(w, s.comment);
  w.EndObject();
}

}  // namespace

void Api::ListAlerts(std::unique_ptr<Call>& c) {
  if (!alerts_) return ReplyError(c, FailedPrecondition("alerting is not enabled"));
  const std::string state = QueryValue(c->query, "state").value_or("");
  if (!state.empty() && state != "pending" && state != "firing" && state != "resolved" &&
      state != "active") {
    return ReplyError(c, InvalidArgument("state: expected pending, firing, active or resolved, "
                                         "got '" +
                                         state + "'"));
  }
  const std::string model = QueryValue(c->query, "model").value_or("");
  const auto alerts = alerts_->Alerts();
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("alerts");
          w.StartArray();
          for (const auto& a : alerts) {
            const std::string_view s = alerting::AlertStateName(a.state);
            if (state == "active" ? a.state == alerting::AlertState::kResolved
                                  : (!state.empty() && s != state)) {
              continue;
            }
            if (!model.empty() && (!a.labels.count("model") || a.labels.at("model") != model)) {
              continue;
            }
            w.StartObject();
            w.Key("fingerprint");
            WriteStr(w, a.fingerprint);
            w.Key("name");
            WriteStr(w, a.name);
            w.Key("state");
            WriteStr(w, s);
            w.Key("labels");
            WriteMap(w, a.labels);
            w.Key("annotations");
            WriteMap(w, a.annotations);
            w.Key("condition");
            WriteStr(w, a.condition);
            w.Key("value");
            WriteDouble(w, a.value);
            w.Key("active_since");
            WriteStr(w, IsoMs(a.active_since_ms));
            w.Key("fired_at");
            if (a.fired_at_ms) {
              WriteStr(w, IsoMs(a.fired_at_ms));
            } else {
              w.Null();
            }
            w.Key("resolved_at");
            if (a.resolved_at_ms) {
              WriteStr(w, IsoMs(a.resolved_at_ms));
            } else {
              w.Null();
            }
            w.Key("source");
            WriteStr(w, a.source);
            w.Key("silenced_by");
            w.StartArray();
            for (const auto& id : a.silenced_by) WriteStr(w, id);
            w.EndArray();
            w.Key("inhibited_by");
            w.StartArray();
            for (const auto& fp : a.inhibited_by) WriteStr(w, fp);
            w.EndArray();
            w.Key("acknowledged_by");
            if (a.acknowledged_by.empty()) {
              w.Null();
            } else {
              WriteStr(w, a.acknowledged_by);
            }
            w.EndObject();
          }
          w.EndArray();
          w.EndObject();
        }));
}

void Api::AckAlert(std::unique_ptr<Call>& c) {
  if (!alerts_) return ReplyError(c, FailedPrecondition("alerting is not enabled"));
  const std::string fp(c->params.Get("fingerprint"));
  const std::string who = Actor(c->req);
  auto a = alerts_->Acknowledge(fp, who);
  if (!a.ok()) return ReplyError(c, a.status());
  // Acknowledging the alert acknowledges its incident: escalation stops there.
  std::string incident;
  if (incidents_) {
    if (auto id = incidents_->IncidentForAlert(fp)) {
      incidents_->Acknowledge(*id, who).ok();
      incident = *id;
    }
  }
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("fingerprint");
          WriteStr(w, fp);
          w.Key("acknowledged_by");
          WriteStr(w, a->acknowledged_by);
          w.Key("incident");
          if (incident.empty()) {
            w.Null();
          } else {
            WriteStr(w, incident);
          }
          w.EndObject();
        }));
}

void Api::ListSilences(std::unique_ptr<Call>& c) {
  if (!alerts_) return ReplyError(c, FailedPrecondition("alerting is not enabled"));
  const auto silences = alerts_->Silences();
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("silences");
          w.StartArray();
          for (const auto& s : silences) WriteSilence(w, s);
          w.EndArray();
          w.EndObject();
        }));
}

void Api::AddSilence(std::unique_ptr<Call>& c) {
  if (!alerts_) return ReplyError(c, FailedPrecondition("alerting is not enabled"));
  rapidjson::Document doc;
  Status st = ParseJson(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  alerting::Silence s;
  if (!doc.HasMember("matchers") || !doc["matchers"].IsArray() || doc["matchers"].Empty()) {
    return ReplyError(c, InvalidArgument("matchers: expected a non-empty array of \"name=value\" "
                                         "strings or {name, value, isRegex, isEqual} objects"));
  }
  for (const auto& m : doc["matchers"].GetArray()) {
    Result<alerting::Matcher> parsed = InvalidArgument("matchers: bad entry");
    if (m.IsString()) {
      parsed = alerting::ParseMatcher(m.GetString());
    } else if (m.IsObject() && m.HasMember("name") && m["name"].IsString() &&
               m.HasMember("value") && m["value"].IsString()) {
      const bool regex = m.HasMember("isRegex") && m["isRegex"].IsBool() && m["isRegex"].GetBool();
      const bool equal =
          !m.HasMember("isEqual") || !m["isEqual"].IsBool() || m["isEqual"].GetBool();
      parsed = alerting::MakeMatcher(m["name"].GetString(), m["value"].GetString(), equal, regex);
    }
    if (!parsed.ok()) return ReplyError(c, parsed.status());
    s.matchers.push_back(std::move(*parsed));
  }
  const int64_t now = UnixMillis();
  s.starts_ms = now;
  if (doc.HasMember("startsAt")) {
    auto t =
        doc["startsAt"].IsString() ? oncall::ParseTime(doc["startsAt"].GetString()) : std::nullopt;
    if (!t) return ReplyError(c, InvalidArgument("startsAt: expected an RFC 3339 time"));
    s.starts_ms = *t;
  }
  if (doc.HasMember("endsAt")) {
    auto t = doc["endsAt"].IsString() ? oncall::ParseTime(doc["endsAt"].GetString()) : std::nullopt;
    if (!t) return ReplyError(c, InvalidArgument("endsAt: expected an RFC 3339 time"));
    s.ends_ms = *t;
  } else if (doc.HasMember("duration")) {
    auto d = doc["duration"].IsString()
                 ? ParseDuration(doc["duration"].GetString())
                 : Result<std::chrono::milliseconds>(InvalidArgument("expected a string"));
    if (!d.ok() || d->count() <= 0) {
      return ReplyError(c, InvalidArgument("duration: expected a positive duration such as 2h"));
    }
    s.ends_ms = s.starts_ms + d->count();
  } else {
    return ReplyError(c, InvalidArgument("endsAt or duration: one is required"));
  }
  s.created_by = OptionalString(doc, "createdBy");
  if (s.created_by.empty()) s.created_by = Actor(c->req);
  s.comment = OptionalString(doc, "comment");
  auto added = alerts_->AddSilence(std::move(s));
  if (!added.ok()) return ReplyError(c, added.status());
  Reply(c, 201, Render([&](JsonWriter& w) { WriteSilence(w, *added); }));
}

void Api::ExpireSilence(std::unique_ptr<Call>& c) {
  if (!alerts_) return ReplyError(c, FailedPrecondition("alerting is not enabled"));
  const std::string id(c->params.Get("id"));
  Status st = alerts_->ExpireSilence(id, Actor(c->req));
  if (!st.ok()) {
    return ReplyError(c, st.code() == StatusCode::kFailedPrecondition
                             ? Status(StatusCode::kAlreadyExists, st.message())
                             : st);
  }
  Reply(c, 200, "{\"id\":" + JsonQuote(id) + ",\"expired\":true}");
}

namespace {

constexpr int64_t kResolveTimeoutMs = 5 * 60'000;

// Alerts pushed from outside (Alertmanager's webhook, or any client through
// POST /api/v1/alerts): labels with an alertname, annotations, startsAt, endsAt, status.
// Without `status` (POST /api/v1/alerts), an endsAt at or before now means resolved.
Result<std::vector<alerting::Alert>> ParseExternalAlerts(const rapidjson::Value& list,
                                                         const std::string& prefix,
                                                         bool status_required, int64_t now) {
  std::vector<alerting::Alert> alerts;
  rapidjson::SizeType i = 0;
  for (const auto& a : list.GetArray()) {
    const std::string where = prefix + "[" + std::to_string(i++) + "]";
    if (!a.IsObject()) return InvalidArgument(where + ": expected an object");
    alerting::Alert out;
    std::optional<int64_t> starts, ends;
    if (a.HasMember("startsAt") && a["startsAt"].IsString()) {
      starts = oncall::ParseTime(a["startsAt"].GetString());
      if (!starts) return InvalidArgument(where + ".startsAt: expected an RFC 3339 time");
    }
    if (a.HasMember("endsAt") && a["endsAt"].IsString()) {
      ends = oncall::ParseTime(a["endsAt"].GetString());
      if (!ends) return InvalidArgument(where + ".endsAt: expected an RFC 3339 time");
      if (*ends <= 0) ends.reset();  // Alertmanager's "0001-01-01T00:00:00Z": not ended
    }
    std::string status =
        a.HasMember("status") && a["status"].IsString() ? a["status"].GetString() : "";
    if (status.empty() && !status_required) status = ends && *ends <= now ? "resolved" : "firing";
    if (status != "firing" && status != "resolved") {
      return InvalidArgument(where + ".status: expected firing or resolved");
    }
    out.state =
        status == "firing" ? alerting::AlertState::kFiring : alerting::AlertState::kResolved;
    if (!a.HasMember("labels") || !a["labels"].IsObject()) {
      return InvalidArgument(where + ".labels: expected an object");
    }
    for (const auto& m : a["labels"].GetObject()) {
      if (!m.value.IsString()) {
        return InvalidArgument(where + ".labels." + m.name.GetString() + ": expected a string");
      }
      out.labels[m.name.GetString()] = m.value.GetString();
    }
    if (!out.labels.count("alertname") || out.labels["alertname"].empty()) {
      return InvalidArgument(where + ".labels.alertname: required");
    }
    if (a.HasMember("annotations") && a["annotations"].IsObject()) {
      for (const auto& m : a["annotations"].GetObject()) {
        if (m.value.IsString()) out.annotations[m.name.GetString()] = m.value.GetString();
      }
    }
    out.name = out.labels["alertname"];
    out.signal = "external";
    out.condition = out.annotations.count("summary") ? out.annotations["summary"] : out.name;
    out.fingerprint = a.HasMember("fingerprint") && a["fingerprint"].IsString() &&
                              a["fingerprint"].GetStringLength() > 0
                          ? a["fingerprint"].GetString()
                          : alerting::Fingerprint(out.labels);
    out.active_since_ms = starts && *starts > 0 ? *starts : now;
    out.fired_at_ms = out.active_since_ms;
    if (out.state == alerting::AlertState::kResolved) out.resolved_at_ms = ends ? *ends : now;
    // Pushed through the API, a firing alert lasts until its endsAt, or kResolveTimeout
    // unless sent again (Alertmanager's resolve_timeout); Alertmanager itself says when.
    if (!status_required && out.state == alerting::AlertState::kFiring) {
      out.ends_at_ms = ends ? *ends : now + kResolveTimeoutMs;
    }
    alerts.push_back(std::move(out));
  }
  return alerts;
}

}  // namespace

void Api::AlertmanagerWebhook(std::unique_ptr<Call>& c) {
  if (!alerts_) return ReplyError(c, FailedPrecondition("alerting is not enabled"));
  rapidjson::Document doc;
  Status st = ParseJson(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  if (!doc.HasMember("version") || !doc["version"].IsString() ||
      std::string(doc["version"].GetString()) != "4") {
    return ReplyError(c,
                      InvalidArgument("version: expected \"4\" (Alertmanager's webhook format)"));
  }
  if (!doc.HasMember("alerts") || !doc["alerts"].IsArray()) {
    return ReplyError(c, InvalidArgument("alerts: expected an array"));
  }
  auto alerts =
      ParseExternalAlerts(doc["alerts"], "alerts", true, now_ms_ ? now_ms_() : UnixMillis());
  if (!alerts.ok()) return ReplyError(c, alerts.status());
  const size_t n = alerts->size();
  alerts_->Ingest(std::move(*alerts), "alertmanager");
  Reply(c, 200, "{\"received\":" + std::to_string(n) + "}");
}

void Api::PostAlerts(std::unique_ptr<Call>& c) {
  if (!alerts_) return ReplyError(c, FailedPrecondition("alerting is not enabled"));
  rapidjson::Document doc;
  Status st = ParseJsonValue(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  // Alertmanager's API v2 body is a bare array; {"alerts": [...]} is accepted too.
  const bool wrapped = doc.IsObject() && doc.HasMember("alerts");
  const rapidjson::Value& list = wrapped ? doc["alerts"] : doc;
  if (!list.IsArray()) {
    return ReplyError(c, InvalidArgument("expected an array of alerts (or {\"alerts\": [...]}) "
                                         "with labels.alertname"));
  }
  auto alerts =
      ParseExternalAlerts(list, wrapped ? "alerts" : "", false, now_ms_ ? now_ms_() : UnixMillis());
  if (!alerts.ok()) return ReplyError(c, alerts.status());
  const size_t n = alerts->size();
  alerts_->Ingest(std::move(*alerts), "api");
  Reply(c, 200, "{\"received\":" + std::to_string(n) + "}");
}

}  // namespace vigil::http
