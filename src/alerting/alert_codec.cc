#include "alerting/alert_codec.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace vigil::alerting {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void Map(Writer& w, const char* key, const std::map<std::string, std::string>& m) {
  w.Key(key);
  w.StartObject();
  for (const auto& [k, v] : m) Str(w, k.c_str(), v);
  w.EndObject();
}

std::string GetStr(const rapidjson::Value& o, const char* key) {
  return o.HasMember(key) && o[key].IsString() ? o[key].GetString() : "";
}

int64_t GetInt(const rapidjson::Value& o, const char* key) {
  return o.HasMember(key) && o[key].IsInt64() ? o[key].GetInt64() : 0;
}

std::map<std::string, std::string> GetMap(const rapidjson::Value& o, const char* key) {
  std::map<std::string, std::string> out;
  if (!o.HasMember(key) || !o[key].IsObject()) return out;
  for (const auto& m : o[key].GetObject()) {
    if (m.value.IsString()) out[m.name.GetString()] = m.value.GetString();
  }
  return out;
}

}  // namespace

std::string EncodeAlert(const Alert& a) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(w, "fingerprint", a.fingerprint);
  Str(w, "name", a.name);
  Str(w, "signal", a.signal);
  Map(w, "labels", a.labels);
  Map(w, "annotations", a.annotations);
  Str(w, "state", std::string(AlertStateName(a.state)));
  w.Key("threshold");
  w.Double(a.threshold);
  Str(w, "condition", a.condition);
  const std::pair<const char*, int64_t> times[] = {{"active_since_ms", a.active_since_ms},
                                                   {"fired_at_ms", a.fired_at_ms},
                                                   {"ends_at_ms", a.ends_at_ms},
                                                   {"acknowledged_ms", a.acknowledged_ms}};
  for (const auto& [k, v] : times) {
    w.Key(k);
    w.Int64(v);
  }
  Str(w, "source", a.source);
  Str(w, "acknowledged_by", a.acknowledged_by);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<Alert> DecodeAlert(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("stored alert: not JSON");
  Alert a;
  a.fingerprint = GetStr(d, "fingerprint");
  a.name = GetStr(d, "name");
  if (a.fingerprint.empty() || a.name.empty()) {
    return InvalidArgument("stored alert: no fingerprint or name");
  }
  a.signal = GetStr(d, "signal");
  a.labels = GetMap(d, "labels");
  a.annotations = GetMap(d, "annotations");
  const std::string state = GetStr(d, "state");
  a.state = state == "pending"    ? AlertState::kPending
            : state == "resolved" ? AlertState::kResolved
                                  : AlertState::kFiring;
  a.threshold =
      d.HasMember("threshold") && d["threshold"].IsNumber() ? d["threshold"].GetDouble() : 0.0;
  a.condition = GetStr(d, "condition");
  a.active_since_ms = GetInt(d, "active_since_ms");
  a.fired_at_ms = GetInt(d, "fired_at_ms");
  a.ends_at_ms = GetInt(d, "ends_at_ms");
  a.acknowledged_ms = GetInt(d, "acknowledged_ms");
  a.source = GetStr(d, "source");
  if (a.source.empty()) a.source = "vigil";
  a.acknowledged_by = GetStr(d, "acknowledged_by");
  return a;
}

}  // namespace vigil::alerting
