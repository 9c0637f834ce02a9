#include "cli/incident_commands.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/http_client.h"

namespace vigil::cli {
namespace {

constexpr int kUsageError = 2;
constexpr int kServerError = 1;

// Calls the server; prints the error (and returns its exit code) or parses the body.
int Call(const ServerTarget& s, const std::string& method, const std::string& path,
         const std::string& body, rapidjson::Document& doc, std::string* raw = nullptr) {
  auto reply = HttpCall(s.url, method, path, body, s.token);
  if (!reply.ok()) {
    std::cerr << "error: " << reply.status().message() << "\n";
    return kServerError;
  }
  if (reply->status >= 400) {
    rapidjson::Document err;
    err.Parse(reply->body.c_str());
    const std::string msg =
        !err.HasParseError() && err.IsObject() && err.HasMember("error") && err["error"].IsString()
            ? err["error"].GetString()
            : reply->body;
    std::cerr << "error: server answered " << reply->status << ": " << msg << "\n";
    return reply->status < 500 ? kUsageError : kServerError;
  }
  if (raw) {
    *raw = reply->body;
    return 0;
  }
  doc.Parse(reply->body.c_str());
  if (doc.HasParseError()) {
    std::cerr << "error: unexpected answer from the server\n";
    return kServerError;
  }
  return 0;
}

void Pretty(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 2);
  v.Accept(w);
  std::cout << sb.GetString() << "\n";
}

const char* Str(const rapidjson::Value& v, const char* key) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "-";
}

void PrintIncident(const rapidjson::Value& r) {
  std::printf("%s  %s  %s  %s\n", Str(r, "id"), Str(r, "severity"), Str(r, "status"),
              Str(r, "title"));
  if (*Str(r, "service") && std::string(Str(r, "service")) != "-") {
    std::printf("  service: %s\n", Str(r, "service"));
  }
  const auto& m = r["milestones"];
  for (const char* k :
       {"started", "detected", "declared", "acknowledged", "mitigated", "resolved"}) {
    if (m[k].IsString()) std::printf("  %-13s %s\n", k, m[k].GetString());
  }
  const auto& f = r["metrics"];
  for (const char* k : {"time_to_detect_seconds", "time_to_acknowledge_seconds",
                        "time_to_mitigate_seconds", "time_to_resolve_seconds"}) {
    if (f[k].IsNumber()) std::printf("  %-28s %.1f\n", k, f[k].GetDouble());
  }
  if (r.HasMember("timeline")) {
    std::printf("  timeline:\n");
    for (const auto& e : r["timeline"].GetArray()) {
      std::printf("    %s  %-9s %s (%s)\n", Str(e, "at"), Str(e, "kind"), Str(e, "text"),
                  Str(e, "author"));
    }
  }
}

std::string UpdateBody(const IncidentArgs& a) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  for (auto [key, value] :
       {std::pair{"status", &a.status}, std::pair{"note", &a.note}, std::pair{"action", &a.action},
        std::pair{"severity", &a.severity}, std::pair{"incident_commander", &a.commander},
        std::pair{"communications_lead", &a.communications_lead},
        std::pair{"technical_lead", &a.technical_lead}, std::pair{"responder", &a.responder}}) {
    if (value->empty()) continue;
    w.Key(key);
    w.String(value->c_str());
  }
  w.EndObject();
  return sb.GetString();
}

}  // namespace

int IncidentDeclare(const IncidentArgs& a, const ServerTarget& server) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("title");
  w.String(a.title.c_str());
  w.Key("description");
  w.String(a.description.c_str());
  w.Key("severity");
  w.String(a.severity.c_str());
  if (!a.service.empty()) {
    w.Key("service");
    w.String(a.service.c_str());
  }
  w.EndObject();
  rapidjson::Document doc;
  if (int rc = Call(server, "POST", "/api/v1/incidents", sb.GetString(), doc)) return rc;
  if (a.json) {
    Pretty(doc);
  } else {
    PrintIncident(doc);
  }
  return 0;
}

int IncidentList(const IncidentArgs& a, const ServerTarget& server) {
  rapidjson::Document doc;
  const std::string q = a.status.empty() ? "" : "?status=" + a.status;
  if (int rc = Call(server, "GET", "/api/v1/incidents" + q, "", doc)) return rc;
  if (a.json) {
    Pretty(doc);
    return 0;
  }
  std::printf("%-13s %-5s %-14s %-10s %-21s %s\n", "ID", "SEV", "STATUS", "SERVICE", "DECLARED",
              "TITLE");
  for (const auto& r : doc["incidents"].GetArray()) {
    std::printf("%-13s %-5s %-14s %-10s %-21s %s\n", Str(r, "id"), Str(r, "severity"),
                Str(r, "status"), Str(r, "service"), Str(r["milestones"], "declared"),
                Str(r, "title"));
  }
  return 0;
}

int IncidentShow(const IncidentArgs& a, const ServerTarget& server) {
  rapidjson::Document doc;
  if (int rc = Call(server, "GET", "/api/v1/incidents/" + a.id, "", doc)) return rc;
  if (a.json) {
    Pretty(doc);
  } else {
    PrintIncident(doc);
  }
  return 0;
}

int IncidentUpdate(const IncidentArgs& a, const ServerTarget& server) {
  const std::string body = UpdateBody(a);
  if (body == "{}") {
    std::cerr << "error: nothing to update (give --status, --note, --action, --severity, "
                 "--commander, --comms-lead, --tech-lead or --responder)\n";
    return kUsageError;
  }
  rapidjson::Document doc;
  if (int rc = Call(server, "POST", "/api/v1/incidents/" + a.id + "/update", body, doc)) return rc;
  PrintIncident(doc);
  return 0;
}

int IncidentAck(const IncidentArgs& a, const ServerTarget& server) {
  rapidjson::Document doc;
  if (int rc = Call(server, "POST", "/api/v1/incidents/" + a.id + "/ack", "{}", doc)) return rc;
  PrintIncident(doc);
  return 0;
}

int IncidentPostmortem(const IncidentArgs& a, const ServerTarget& server) {
  rapidjson::Document doc;
  std::string markdown;
  if (int rc =
          Call(server, "GET", "/api/v1/incidents/" + a.id + "/postmortem", "", doc, &markdown)) {
    return rc;
  }
  if (a.output.empty()) {
    std::cout << markdown;
    return 0;
  }
  std::ofstream out(a.output, std::ios::binary | std::ios::trunc);
  if (!(out << markdown)) {
    std::cerr << "error: -o: cannot write " << a.output << "\n";
    return kServerError;
  }
  std::cerr << "wrote " << a.output << "\n";
  return 0;
}

int IncidentMetrics(const ServerTarget& server) {
  rapidjson::Document doc;
  if (int rc = Call(server, "GET", "/api/v1/incidents/metrics", "", doc)) return rc;
  Pretty(doc);
  return 0;
}

int OnCallWho(const std::string& at, bool json, const ServerTarget& server) {
  rapidjson::Document doc;
  if (int rc = Call(server, "GET", "/api/v1/oncall" + (at.empty() ? "" : "?at=" + at), "", doc)) {
    return rc;
  }
  if (json) {
    Pretty(doc);
    return 0;
  }
  std::printf("on call at %s\n", Str(doc, "at"));
  for (const auto& s : doc["schedules"].GetArray()) {
    std::printf("  %-20s %-20s until %s\n", Str(s, "name"),
                s["on_call"].IsString() ? s["on_call"].GetString() : "(nobody)",
                Str(s, "shift_ends"));
  }
  for (const auto& p : doc["escalation_policies"].GetArray()) {
    std::printf("escalation policy %s\n", Str(p, "name"));
    for (const auto& l : p["levels"].GetArray()) {
      std::string people;
      for (const auto& x : l["now"].GetArray()) {
        people += (people.empty() ? "" : ", ") + std::string(x.GetString());
      }
      std::printf("  after %4.0f min: %s\n", l["delay_minutes"].GetDouble(),
                  people.empty() ? "(nobody)" : people.c_str());
    }
  }
  return 0;
}

int OnCallHandoff(const std::string& lookback, const std::string& output,
                  const ServerTarget& server) {
  rapidjson::Document doc;
  std::string markdown;
  if (int rc = Call(server, "GET",
                    "/api/v1/oncall/handoff" + (lookback.empty() ? "" : "?lookback=" + lookback),
                    "", doc, &markdown)) {
    return rc;
  }
  if (output.empty()) {
    std::cout << markdown;
    return 0;
  }
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  if (!(out << markdown)) {
    std::cerr << "error: -o: cannot write " << output << "\n";
    return kServerError;
  }
  std::cerr << "wrote " << output << "\n";
  return 0;
}

}  // namespace vigil::cli

namespace vigil::cli {

int NotificationsList(const std::string& state, bool json, const ServerTarget& server) {
  rapidjson::Document doc;
  const std::string path = "/api/v1/notifications" + (state.empty() ? "" : "?state=" + state);
  if (int rc = Call(server, "GET", path, "", doc)) return rc;
  if (json) {
    Pretty(doc);
    return 0;
  }
  std::printf("channels:");
  for (const auto& c : doc["channels"].GetArray()) {
    std::printf(" %s (%s)", Str(c, "name"), Str(c, "type"));
  }
  std::printf("%s\n", doc["channels"].Empty() ? " none configured" : "");
  std::printf("%-6s %-8s %-14s %-12s %-26s %8s  %s\n", "ID", "STATE", "CHANNEL", "EVENT", "SUBJECT",
              "ATTEMPTS", "LAST ERROR");
  for (const auto& m : doc["notifications"].GetArray()) {
    std::printf("%-6lld %-8s %-14s %-12s %-26s %8lld  %s\n",
                static_cast<long long>(m["id"].GetInt64()), Str(m, "state"), Str(m, "channel"),
                Str(m, "event"), Str(m, "subject"),
                static_cast<long long>(m["attempts"].GetInt64()),
                m["last_error"].IsString() ? m["last_error"].GetString() : "");
  }
  return 0;
}

int NotificationsTest(const std::string& channel, const std::string& text,
                      const ServerTarget& server) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("channel");
  w.String(channel.c_str());
  w.Key("text");
  w.String(text.c_str());
  w.EndObject();
  rapidjson::Document doc;
  if (int rc = Call(server, "POST", "/api/v1/notifications/test", sb.GetString(), doc)) return rc;
  std::printf("queued a test message for %s (see `vigil notifications list`)\n", channel.c_str());
  return 0;
}

}  // namespace vigil::cli
