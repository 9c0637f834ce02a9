// The alerting endpoints of the Api (docs/alerting.md).
#include "alerting/alert_service.h"
#include "core/strings.h"
#include "http/api.h"
#include "http/api_internal.h"

namespace vigil::http {
namespace {

std::string IsoMs(int64_t ms) {
  return Iso8601(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

void WriteMap(JsonWriter& w, const std::map<std::string, std::string>& m) {
  w.StartObject();
  for (const auto& [k, v] : m) {
    w.Key(k.c_str());
    WriteStr(w, v);
  }
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
            w.EndObject();
          }
          w.EndArray();
          w.EndObject();
        }));
}

}  // namespace vigil::http
