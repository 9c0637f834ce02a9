// The incident endpoints of the Api (docs/incidents.md).
#include <cmath>

#include "alerting/alert_service.h"
#include "core/duration.h"
#include "core/strings.h"
#include "http/api.h"
#include "http/api_internal.h"
#include "incidents/escalation.h"
#include "incidents/handoff.h"
#include "incidents/incident_manager.h"
#include "oncall/schedule.h"

namespace vigil::http {
namespace {

void WriteSeconds(JsonWriter& w, const char* key, std::optional<double> s) {
  w.Key(key);
  if (s) {
    WriteDouble(w, *s);
  } else {
    w.Null();
  }
}

void WriteStrings(JsonWriter& w, const std::vector<std::string>& v) {
  w.StartArray();
  for (const auto& s : v) WriteStr(w, s);
  w.EndArray();
}

void WriteIncident(JsonWriter& w, const IncidentRecord& r, bool timeline) {
  using incidents::Seconds;
  w.StartObject();
  w.Key("id");
  WriteStr(w, r.id);
  w.Key("title");
  WriteStr(w, r.title);
  w.Key("description");
  WriteStr(w, r.description);
  w.Key("severity");
  WriteStr(w, r.severity);
  w.Key("status");
  WriteStr(w, r.status);
  w.Key("service");
  WriteStr(w, r.service);
  w.Key("created_by");
  WriteStr(w, r.created_by);
  w.Key("automatic");
  w.Bool(r.automatic);
  w.Key("roles");
  w.StartObject();
  w.Key("incident_commander");
  WriteStr(w, r.commander);
  w.Key("communications_lead");
  WriteStr(w, r.communications_lead);
  w.Key("technical_lead");
  WriteStr(w, r.technical_lead);
  w.EndObject();
  w.Key("responders");
  WriteStrings(w, r.responders);
  w.Key("alerts");
  WriteStrings(w, r.alerts);
  w.Key("milestones");
  w.StartObject();
  WriteMs(w, "started", r.started_ms);
  WriteMs(w, "detected", r.detected_ms);
  WriteMs(w, "declared", r.declared_ms);
  WriteMs(w, "acknowledged", r.acknowledged_ms);
  WriteMs(w, "mitigated", r.mitigated_ms);
  WriteMs(w, "resolved", r.resolved_ms);
  w.EndObject();
  w.Key("metrics");
  w.StartObject();
  WriteSeconds(w, "time_to_detect_seconds", Seconds(r.started_ms, r.detected_ms));
  WriteSeconds(w, "time_to_acknowledge_seconds", Seconds(r.declared_ms, r.acknowledged_ms));
  WriteSeconds(w, "time_to_mitigate_seconds", Seconds(r.started_ms, r.mitigated_ms));
  WriteSeconds(w, "time_to_resolve_seconds", Seconds(r.started_ms, r.resolved_ms));
  w.EndObject();
  const incidents::SeverityPolicy& p = incidents::PolicyFor(r.severity);
  w.Key("policy");
  w.StartObject();
  w.Key("respond_minutes");
  w.Int(p.respond_minutes);
  w.Key("escalate_minutes");
  if (p.escalate_minutes) {
    w.Int(*p.escalate_minutes);
  } else {
    w.Null();
  }
  w.Key("channels");
  WriteStrings(w, p.channels);
  w.EndObject();
  if (timeline) {
    w.Key("timeline");
    w.StartArray();
    for (const auto& e : r.timeline) {
      w.StartObject();
      WriteMs(w, "at", e.at_ms);
      w.Key("kind");
      WriteStr(w, e.kind);
      w.Key("author");
      WriteStr(w, e.author);
      w.Key("text");
      WriteStr(w, e.text);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

std::string IncidentJson(const IncidentRecord& r) {
  return Render([&](JsonWriter& w) { WriteIncident(w, r, true); });
}

// An optional string field; InvalidArgument when present but not a string.
Status StringField(const rapidjson::Document& doc, const char* key,
                   std::optional<std::string>& out) {
  if (!doc.HasMember(key)) return Status::Ok();
  if (!doc[key].IsString()) return InvalidArgument(std::string(key) + ": expected a string");
  out = doc[key].GetString();
  return Status::Ok();
}

}  // namespace

Result<incidents::IncidentManager*> Api::IncidentsOrError() {
  if (!incidents_) return FailedPrecondition("incidents are not enabled on this server");
  return incidents_;
}

void Api::DeclareIncident(std::unique_ptr<Call>& c) {
  auto m = IncidentsOrError();
  if (!m.ok()) return ReplyError(c, m.status());
  rapidjson::Document doc;
  Status st = ParseJson(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  incidents::DeclareRequest req;
  req.title = OptionalString(doc, "title");
  req.description = OptionalString(doc, "description");
  req.service = OptionalString(doc, "service");
  req.author = Actor(c->req);
  if (doc.HasMember("severity")) {
    const auto& s = doc["severity"];
    req.severity = s.IsString() ? s.GetString() : (s.IsInt() ? std::to_string(s.GetInt()) : "?");
  } else {
    req.severity = "SEV3";
  }
  if (req.title.empty()) return ReplyError(c, InvalidArgument("title: required (a string)"));
  auto r = (*m)->Declare(req);
  if (!r.ok()) return ReplyError(c, r.status());
  Reply(c, 201, IncidentJson(*r));
}

void Api::ListIncidents(std::unique_ptr<Call>& c) {
  auto m = IncidentsOrError();
  if (!m.ok()) return ReplyError(c, m.status());
  auto limit = ParseLimit(c->query, 100);
  if (!limit.ok()) return ReplyError(c, limit.status());
  auto list = (*m)->List(QueryValue(c->query, "status").value_or(""), *limit);
  if (!list.ok()) return ReplyError(c, list.status());
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("incidents");
          w.StartArray();
          for (const auto& r : *list) WriteIncident(w, r, false);
          w.EndArray();
          w.EndObject();
        }));
}

void Api::IncidentFigures(std::unique_ptr<Call>& c) {
  auto m = IncidentsOrError();
  if (!m.ok()) return ReplyError(c, m.status());
  auto f = (*m)->Figures();
  if (!f.ok()) return ReplyError(c, f.status());
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("total");
          w.Int64(f->total);
          w.Key("open");
          w.Int64(f->open);
          WriteSeconds(w, "mttd_seconds", f->mttd);
          WriteSeconds(w, "mtta_seconds", f->mtta);
          WriteSeconds(w, "mttr_seconds", f->mttr);
          WriteSeconds(w, "mtbf_seconds", f->mtbf);
          w.EndObject();
        }));
}

void Api::GetIncident(std::unique_ptr<Call>& c) {
  auto m = IncidentsOrError();
  if (!m.ok()) return ReplyError(c, m.status());
  auto r = (*m)->Get(std::string(c->params.Get("id")));
  if (!r.ok()) return ReplyError(c, r.status());
  Reply(c, 200, IncidentJson(*r));
}

void Api::IncidentPostmortem(std::unique_ptr<Call>& c) {
  auto m = IncidentsOrError();
  if (!m.ok()) return ReplyError(c, m.status());
  auto r = (*m)->Get(std::string(c->params.Get("id")));
  if (!r.ok()) return ReplyError(c, r.status());
  Reply(c, 200, incidents::PostmortemMarkdown(*r), "text/markdown; charset=utf-8");
}

void Api::IncidentAction(std::unique_ptr<Call>& c) {
  auto m = IncidentsOrError();
  if (!m.ok()) return ReplyError(c, m.status());
  const std::string id(c->params.Get("id"));
  const std::string action(c->params.Get("action"));
  rapidjson::Document doc;
  Status st = ParseOptionalObject(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  if (!doc.IsObject()) return ReplyError(c, InvalidArgument("expected a JSON object"));
  Result<IncidentRecord> r = NotFound("");
  if (action == "ack") {
    r = (*m)->Acknowledge(id, Actor(c->req));
  } else if (action == "update") {
    incidents::IncidentUpdate u;
    u.author = Actor(c->req);
    for (auto [key, field] :
         {std::pair{"status", &u.status}, std::pair{"severity", &u.severity},
          std::pair{"incident_commander", &u.commander},
          std::pair{"communications_lead", &u.communications_lead},
          std::pair{"technical_lead", &u.technical_lead}, std::pair{"responder", &u.add_responder},
          std::pair{"note", &u.note}, std::pair{"action", &u.action}}) {
      st = StringField(doc, key, *field);
      if (!st.ok()) return ReplyError(c, st);
    }
    if (doc.HasMember("severity") && doc["severity"].IsInt()) {
      u.severity = std::to_string(doc["severity"].GetInt());
    }
    for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
      static const std::vector<std::string_view> kKeys = {"status",
                                                          "severity",
                                                          "incident_commander",
                                                          "communications_lead",
                                                          "technical_lead",
                                                          "responder",
                                                          "note",
                                                          "action"};
      const std::string key(it->name.GetString(), it->name.GetStringLength());
      if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
        const std::string hint = ClosestMatch(key, kKeys);
        return ReplyError(c,
                          InvalidArgument(key + ": unknown field" +
                                          (hint.empty() ? "" : " (did you mean '" + hint + "'?)")));
      }
    }
    r = (*m)->Apply(id, u);
  } else {
    return ReplyError(c, NotFound("unknown incident action '" + action + "' (ack, update)"));
  }
  if (!r.ok()) return ReplyError(c, r.status());
  Reply(c, 200, IncidentJson(*r));
}

void Api::OnCall(std::unique_ptr<Call>& c) {
  if (!escalator_ || !now_ms_) return ReplyError(c, FailedPrecondition("on-call is not enabled"));
  int64_t at = now_ms_();
  if (auto t = QueryValue(c->query, "at")) {
    auto parsed = oncall::ParseTime(*t);
    if (!parsed) {
      return ReplyError(c, InvalidArgument("at: expected a time such as 2026-11-23T09:00:00Z, "
                                           "got '" +
                                           *t + "'"));
    }
    at = *parsed;
  }
  const oncall::OnCallConfig& cfg = escalator_->config();
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          WriteMs(w, "at", at);
          w.Key("schedules");
          w.StartArray();
          for (const auto& s : cfg.schedules) {
            w.StartObject();
            w.Key("name");
            WriteStr(w, s.name);
            w.Key("on_call");
            const std::string who = s.OnCallAt(at);
            if (who.empty()) {
              w.Null();
            } else {
              WriteStr(w, who);
            }
            WriteMs(w, "shift_ends", s.ShiftEndsAt(at));
            w.EndObject();
          }
          w.EndArray();
          w.Key("escalation_policies");
          w.StartArray();
          for (const auto& p : cfg.policies) {
            w.StartObject();
            w.Key("name");
            WriteStr(w, p.name);
            w.Key("levels");
            w.StartArray();
            for (const auto& l : p.levels) {
              w.StartObject();
              w.Key("delay_minutes");
              WriteDouble(w, static_cast<double>(l.delay.count()) / 60000.0);
              w.Key("targets");
              w.StartArray();
              for (const auto& t : l.targets) WriteStr(w, t.kind + ":" + t.name);
              w.EndArray();
              w.Key("now");
              std::vector<std::string> people;
              for (const auto& t : l.targets) {
                for (const auto& p2 : cfg.Resolve(t, at)) people.push_back(p2);
              }
              WriteStrings(w, people);
              w.EndObject();
            }
            w.EndArray();
            w.EndObject();
          }
          w.EndArray();
          w.EndObject();
        }));
}

void Api::AdvanceTestClock(std::unique_ptr<Call>& c) {
  if (!advance_clock_) {
    return ReplyError(c, NotFound("the test clock is off (start vigil serve --test-clock)"));
  }
  rapidjson::Document doc;
  Status st = ParseJson(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  if (!doc.HasMember("advance") || !doc["advance"].IsString()) {
    return ReplyError(c, InvalidArgument("advance: expected a duration such as \"15m\""));
  }
  auto d = ParseDuration(doc["advance"].GetString());
  if (!d.ok() || d->count() < 0) {
    return ReplyError(c, InvalidArgument("advance: expected a duration such as 15m (0s runs "
                                         "the alert evaluation and escalations now)"));
  }
  advance_clock_(d->count());
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          WriteMs(w, "now", now_ms_ ? now_ms_() : 0);
          w.EndObject();
        }));
}

void Api::Handoff(std::unique_ptr<Call>& c) {
  if (!incidents_ || !escalator_ || !now_ms_) {
    return ReplyError(c, FailedPrecondition("incidents are not enabled"));
  }
  incidents::HandoffInput in;
  in.now_ms = now_ms_();
  if (auto h = QueryValue(c->query, "lookback")) {
    auto d = ParseDuration(*h, std::chrono::hours(1));
    if (!d.ok() || d->count() <= 0) {
      return ReplyError(c, InvalidArgument("lookback: expected a positive duration such as 12h"));
    }
    in.lookback_ms = d->count();
  }
  in.oncall = &escalator_->config();
  auto list = incidents_->List("", 200);
  if (!list.ok()) return ReplyError(c, list.status());
  for (const auto& r : *list) {
    if (r.status != "resolved" || r.resolved_ms >= in.now_ms - in.lookback_ms) {
      auto full = incidents_->Get(r.id);
      if (full.ok()) in.incidents.push_back(std::move(*full));
    }
  }
  if (alerts_) {
    in.alerts = alerts_->Alerts();
    in.silences = alerts_->Silences();
  }
  Reply(c, 200, incidents::HandoffMarkdown(in), "text/markdown; charset=utf-8");
}

}  // namespace vigil::http
