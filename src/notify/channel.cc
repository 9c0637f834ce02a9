#include "notify/channel.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <sstream>

#include "core/clock.h"
#include "core/duration.h"
#include "core/yaml_fields.h"

namespace vigil::notify {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// `s` escaped for the inside of a JSON string.
std::string Escaped(std::string_view s) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  Str(w, s);
  std::string out(buf.GetString(), buf.GetSize());
  return out.substr(1, out.size() - 2);
}

std::string IsoTime(int64_t ms) { return FormatUnixMillis(ms); }

std::string MessageJson(const Message& m) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  const std::pair<const char*, const std::string*> fields[] = {
      {"event", &m.event},     {"dedup_key", &m.dedup_key},
      {"subject", &m.subject}, {"title", &m.title},
      {"text", &m.text},       {"severity", &m.severity},
      {"source", &m.source},   {"link", &m.link}};
  for (const auto& [k, v] : fields) {
    w.Key(k);
    Str(w, *v);
  }
  w.Key("at");
  Str(w, IsoTime(m.at_ms));
  w.Key("routes");
  w.StartArray();
  for (const auto& r : m.routes) Str(w, r);
  w.EndArray();
  w.Key("details");
  w.StartObject();
  for (const auto& [k, v] : m.details) {
    w.Key(k.c_str());
    Str(w, v);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string SlackBody(const Message& m) {
  std::string_view icon = ":information_source:";
  if (m.event == "trigger") icon = ":rotating_light:";
  if (m.event == "acknowledge") icon = ":eyes:";
  if (m.event == "resolve") icon = ":white_check_mark:";
  std::string text = std::string(icon) + " *" + m.title + "*";
  if (!m.text.empty()) text += "\n" + m.text;
  if (!m.link.empty()) text += "\n<" + m.link + "|" + m.subject + " in Vigil>";
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("text");
  Str(w, text);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string PagerDutyBody(const Channel& c, const Message& m) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("routing_key");
  Str(w, c.routing_key);
  w.Key("event_action");
  Str(w, m.event);
  w.Key("dedup_key");
  Str(w, m.dedup_key);
  if (m.event == "trigger") {
    w.Key("payload");
    w.StartObject();
    w.Key("summary");
    Str(w, m.title.substr(0, 1024));  // PagerDuty's limit
    w.Key("source");
    Str(w, m.source.empty() ? "vigil" : m.source);
    w.Key("severity");
    Str(w, m.severity.empty() ? "error" : m.severity);
    w.Key("timestamp");
    Str(w, IsoTime(m.at_ms));
    w.Key("component");
    Str(w, m.source);
    w.Key("group");
    Str(w, m.subject);
    w.Key("custom_details");
    w.StartObject();
    w.Key("text");
    Str(w, m.text);
    for (const auto& [k, v] : m.details) {
      w.Key(k.c_str());
      Str(w, v);
    }
    w.EndObject();
    w.EndObject();
    w.Key("client");
    Str(w, "Vigil");
    if (!m.link.empty()) {
      w.Key("client_url");
      Str(w, m.link);
      w.Key("links");
      w.StartArray();
      w.StartObject();
      w.Key("href");
      Str(w, m.link);
      w.Key("text");
      Str(w, m.subject + " in Vigil");
      w.EndObject();
      w.EndArray();
    }
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// RFC 2047 for a header that is not plain ASCII.
std::string HeaderText(const std::string& text) {
  bool ascii = true;
  for (unsigned char c : text) ascii = ascii && c >= 0x20 && c < 0x7f;
  if (ascii) return text;
  std::string b64(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  b64.resize(static_cast<size_t>(n));
  return "=?UTF-8?B?" + b64 + "?=";
}

std::string EmailMessage(const Channel& c, const Message& m) {
  std::string to;
  for (const auto& r : c.to) to += (to.empty() ? "" : ", ") + r;
  std::string subject = m.title;
  if (m.event == "resolve" && subject.rfind("Resolved", 0) != 0) subject = "[RESOLVED] " + subject;
  std::string out = "From: " + c.from + "\r\nTo: " + to + "\r\nSubject: " + HeaderText(subject) +
                    "\r\nDate: " + FormatUnixMillis(m.at_ms) +
                    "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8"
                    "\r\nContent-Transfer-Encoding: 8bit\r\nX-Vigil-Dedup-Key: " +
                    m.dedup_key + "\r\nX-Vigil-Event: " + m.event + "\r\n\r\n";
  std::string body = m.title + "\n\n" + m.text + "\n";
  if (!m.link.empty()) body += "\n" + m.link + "\n";
  body += "\nSeverity: " + m.severity + "\nSource: " + m.source + "\n";
  // CRLF line ends; dot-stuffing (RFC 5321 4.5.2) is the sender's, at DATA.
  for (char ch : body) {
    if (ch == '\n') {
      out += "\r\n";
    } else if (ch != '\r') {
      out += ch;
    }
  }
  return out;
}

constexpr std::string_view kPlaceholders[] = {"event", "dedup_key", "subject", "title",
                                              "text",  "severity",  "source",  "link",
                                              "at",    "channel",   "json"};

// Replaces {{name}}: a message field escaped for a JSON string, or {{json}} the whole
// message as an object. InvalidArgument naming an unknown placeholder.
Result<std::string> Expand(const std::string& tmpl, const Channel& c, const Message& m) {
  std::string out;
  size_t pos = 0;
  while (pos < tmpl.size()) {
    const size_t open = tmpl.find("{{", pos);
    if (open == std::string::npos) {
      out += tmpl.substr(pos);
      break;
    }
    const size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) return InvalidArgument("body: '{{' without '}}'");
    out += tmpl.substr(pos, open - pos);
    std::string name = tmpl.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name == "json") {
      out += MessageJson(m);
    } else if (name == "event") {
      out += Escaped(m.event);
    } else if (name == "dedup_key") {
      out += Escaped(m.dedup_key);
    } else if (name == "subject") {
      out += Escaped(m.subject);
    } else if (name == "title") {
      out += Escaped(m.title);
    } else if (name == "text") {
      out += Escaped(m.text);
    } else if (name == "severity") {
      out += Escaped(m.severity);
    } else if (name == "source") {
      out += Escaped(m.source);
    } else if (name == "link") {
      out += Escaped(m.link);
    } else if (name == "at") {
      out += IsoTime(m.at_ms);
    } else if (name == "channel") {
      out += Escaped(c.name);
    } else {
      std::string known;
      for (auto k : kPlaceholders) known += (known.empty() ? "" : ", ") + std::string(k);
      return InvalidArgument("body: unknown placeholder {{" + name + "}} (known: " + known + ")");
    }
    pos = close + 2;
  }
  return out;
}

}  // namespace

std::string_view ChannelTypeName(ChannelType t) {
  switch (t) {
    case ChannelType::kSlack:
      return "slack";
    case ChannelType::kPagerDuty:
      return "pagerduty";
    case ChannelType::kWebhook:
      return "webhook";
    case ChannelType::kEmail:
      return "email";
  }
  return "webhook";
}

bool Channel::Takes(const Message& m) const {
  if (type == ChannelType::kPagerDuty && m.event == "info") return false;
  for (const auto& r : m.routes) {
    if (routes.count(r)) return true;
  }
  return false;
}

Result<std::string> Channel::Render(const Message& m) const {
  switch (type) {
    case ChannelType::kSlack:
      return SlackBody(m);
    case ChannelType::kPagerDuty:
      return PagerDutyBody(*this, m);
    case ChannelType::kWebhook:
      return body_template.empty() ? MessageJson(m) : Expand(body_template, *this, m);
    case ChannelType::kEmail:
      return EmailMessage(*this, m);
  }
  return InvalidArgument("unknown channel type");
}

const Channel* NotifyConfig::Find(std::string_view name) const {
  for (const Channel& c : channels) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {

constexpr std::string_view kRoutes[] = {"alerts", "pager", "chat", "email", "ticket"};

Result<std::chrono::milliseconds> Duration(const YAML::Node& n, const char* key,
                                           const std::string& where, bool allow_zero) {
  auto d = HasScalar(n, key) ? ParseDuration(n[key].Scalar(), std::chrono::seconds(1))
                             : Result<std::chrono::milliseconds>(InvalidArgument(""));
  if (!d.ok() || d->count() < 0 || (!allow_zero && d->count() == 0)) {
    return FieldError(where + "." + key, "expected a duration such as 30s, 5m or 4h");
  }
  return *d;
}

Result<std::vector<alerting::Matcher>> Matchers(const YAML::Node& n, const std::string& where) {
  if (!n.IsDefined() || !n.IsSequence() || n.size() == 0) {
    return FieldError(where, "expected a non-empty list of matchers such as alertname=X");
  }
  std::vector<alerting::Matcher> out;
  for (size_t i = 0; i < n.size(); ++i) {
    auto m = alerting::ParseMatcher(n[i].Scalar());
    if (!m.ok()) {
      return FieldError(where + "[" + std::to_string(i) + "]", m.status().message());
    }
    out.push_back(std::move(*m));
  }
  return out;
}

Result<Channel> ParseChannel(const YAML::Node& n, const std::string& where) {
  if (!n.IsMap()) return FieldError(where, "expected a mapping");
  VIGIL_RETURN_IF_ERROR(
      CheckYamlKeys(n, where,
                    {"name", "type", "url", "routing_key", "body", "headers", "routes", "timeout",
                     "from", "to", "starttls", "username", "password"}));
  Channel c;
  if (!HasScalar(n, "name") || n["name"].Scalar().empty()) {
    return FieldError(where + ".name", "required");
  }
  c.name = n["name"].Scalar();
  const std::string type = HasScalar(n, "type") ? n["type"].Scalar() : "";
  if (type == "slack") {
    c.type = ChannelType::kSlack;
    c.routes = {"alerts", "chat"};
  } else if (type == "pagerduty") {
    c.type = ChannelType::kPagerDuty;
    c.routes = {"pager"};
    c.url = "https://events.pagerduty.com/v2/enqueue";
  } else if (type == "webhook") {
    c.type = ChannelType::kWebhook;
    c.routes = {"alerts", "pager", "chat", "email", "ticket"};
  } else if (type == "email") {
    c.type = ChannelType::kEmail;
    c.routes = {"email"};
  } else {
    return FieldError(where + ".type",
                      "expected slack, pagerduty, webhook or email, got '" + type + "'");
  }
  if (HasScalar(n, "url")) c.url = n["url"].Scalar();
  if (c.type == ChannelType::kEmail) {
    if (c.url.rfind("smtp://", 0) != 0 && c.url.rfind("smtps://", 0) != 0) {
      return FieldError(where + ".url",
                        "expected smtp://HOST[:PORT] or smtps://HOST[:PORT], got '" + c.url + "'");
    }
    if (!HasScalar(n, "from") || n["from"].Scalar().find('@') == std::string::npos) {
      return FieldError(where + ".from", "required: the sender's address");
    }
    c.from = n["from"].Scalar();
    if (!n["to"].IsDefined() || !n["to"].IsSequence() || n["to"].size() == 0) {
      return FieldError(where + ".to", "expected a non-empty list of addresses");
    }
    for (const auto& r : n["to"]) {
      if (r.Scalar().find('@') == std::string::npos) {
        return FieldError(where + ".to", "'" + r.Scalar() + "' is not an e-mail address");
      }
      c.to.push_back(r.Scalar());
    }
    if (n["starttls"].IsDefined()) {
      const std::string v = HasScalar(n, "starttls") ? n["starttls"].Scalar() : "";
      if (v != "true" && v != "false")
        return FieldError(where + ".starttls", "expected true or false");
      c.starttls = v == "true";
    }
    if (HasScalar(n, "username")) c.username = n["username"].Scalar();
    if (HasScalar(n, "password")) c.password = n["password"].Scalar();
  } else if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0) {
    return FieldError(where + ".url", c.url.empty()
                                          ? "required (http:// or https://)"
                                          : "expected http:// or https://, got '" + c.url + "'");
  }
  if (c.type == ChannelType::kPagerDuty) {
    if (!HasScalar(n, "routing_key") || n["routing_key"].Scalar().empty()) {
      return FieldError(where + ".routing_key", "required (the integration key of a service)");
    }
    c.routing_key = n["routing_key"].Scalar();
  } else if (n["routing_key"].IsDefined()) {
    return FieldError(where + ".routing_key", "only for type pagerduty");
  }
  if (n["body"].IsDefined()) {
    if (c.type != ChannelType::kWebhook)
      return FieldError(where + ".body", "only for type webhook");
    c.body_template = n["body"].Scalar();
    // The template must give valid JSON for any message, quotes and newlines included.
    Message sample{"trigger", "k\"1", "INC-1\n",           {"pager"},      "t \"x\"", "a\nb",
                   "error",   "m\\",  "http://x/?a=\"b\"", {{"k", "v\""}}, 0};
    auto body = Expand(c.body_template, c, sample);
    if (!body.ok()) return FieldError(where + ".body", body.status().message().substr(6));
    rapidjson::Document doc;
    if (doc.Parse(body->c_str()).HasParseError()) {
      return FieldError(where + ".body",
                        "does not give valid JSON (put string placeholders inside quotes: "
                        "\"{{title}}\"; {{json}} without)");
    }
  }
  if (n["headers"].IsDefined()) {
    if (!n["headers"].IsMap()) return FieldError(where + ".headers", "expected a mapping");
    for (const auto& kv : n["headers"]) c.headers[kv.first.Scalar()] = kv.second.Scalar();
  }
  if (n["routes"].IsDefined()) {
    if (!n["routes"].IsSequence() || n["routes"].size() == 0) {
      return FieldError(where + ".routes",
                        "expected a non-empty list of alerts, pager, chat, "
                        "email, ticket");
    }
    c.routes.clear();
    for (const auto& r : n["routes"]) {
      bool known = false;
      for (auto k : kRoutes) known = known || k == r.Scalar();
      if (!known) {
        return FieldError(where + ".routes", "unknown route '" + r.Scalar() +
                                                 "' (expected alerts, pager, chat, email, ticket)");
      }
      c.routes.insert(r.Scalar());
    }
  }
  if (n["timeout"].IsDefined()) {
    auto d = Duration(n, "timeout", where, false);
    if (!d.ok()) return d.status();
    c.timeout = *d;
  }
  return c;
}

}  // namespace

Result<NotifyConfig> ParseNotifyText(const std::string& text, const std::string& file) {
  auto loaded = LoadYaml(text, file);
  if (!loaded.ok()) return loaded.status();
  const YAML::Node root = *loaded;
  try {
    NotifyConfig c;
    if (root.IsNull()) return c;
    if (!root.IsMap()) return FieldError(file, "expected channels:, route:, inhibit_rules:");
    VIGIL_RETURN_IF_ERROR(CheckYamlKeys(
        root, file + ": ", {"channels", "route", "inhibit_rules", "retry", "external_url"}));
    if (root["channels"].IsDefined()) {
      if (!root["channels"].IsSequence()) return FieldError(file + ": channels", "expected a list");
      for (size_t i = 0; i < root["channels"].size(); ++i) {
        const std::string where = file + ": channels[" + std::to_string(i) + "]";
        auto ch = ParseChannel(root["channels"][i], where);
        if (!ch.ok()) return ch.status();
        if (c.Find(ch->name)) return FieldError(where + ".name", "duplicate '" + ch->name + "'");
        c.channels.push_back(std::move(*ch));
      }
    }
    if (const YAML::Node r = root["route"]; r.IsDefined()) {
      const std::string where = file + ": route";
      if (!r.IsMap()) return FieldError(where, "expected a mapping");
      VIGIL_RETURN_IF_ERROR(
          CheckYamlKeys(r, where, {"group_by", "group_wait", "group_interval", "repeat_interval"}));
      if (r["group_by"].IsDefined()) {
        if (!r["group_by"].IsSequence()) return FieldError(where + ".group_by", "expected a list");
        c.grouping.group_by.clear();
        for (const auto& l : r["group_by"]) c.grouping.group_by.push_back(l.Scalar());
      }
      const std::pair<const char*, std::chrono::milliseconds*> durations[] = {
          {"group_wait", &c.grouping.group_wait},
          {"group_interval", &c.grouping.group_interval},
          {"repeat_interval", &c.grouping.repeat_interval}};
      for (const auto& [key, out] : durations) {
        if (!r[key].IsDefined()) continue;
        auto d = Duration(r, key, where, std::string_view(key) == "group_wait");
        if (!d.ok()) return d.status();
        *out = *d;
      }
    }
    if (const YAML::Node list = root["inhibit_rules"]; list.IsDefined()) {
      if (!list.IsSequence()) return FieldError(file + ": inhibit_rules", "expected a list");
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string where = file + ": inhibit_rules[" + std::to_string(i) + "]";
        const YAML::Node n = list[i];
        if (!n.IsMap()) return FieldError(where, "expected a mapping");
        VIGIL_RETURN_IF_ERROR(
            CheckYamlKeys(n, where, {"source_matchers", "target_matchers", "equal"}));
        alerting::InhibitRule rule;
        auto source = Matchers(n["source_matchers"], where + ".source_matchers");
        if (!source.ok()) return source.status();
        auto target = Matchers(n["target_matchers"], where + ".target_matchers");
        if (!target.ok()) return target.status();
        rule.source = std::move(*source);
        rule.target = std::move(*target);
        if (n["equal"].IsDefined()) {
          if (!n["equal"].IsSequence()) return FieldError(where + ".equal", "expected a list");
          for (const auto& l : n["equal"]) rule.equal.push_back(l.Scalar());
        }
        c.inhibit_rules.push_back(std::move(rule));
      }
    }
    if (const YAML::Node r = root["retry"]; r.IsDefined()) {
      const std::string where = file + ": retry";
      if (!r.IsMap()) return FieldError(where, "expected a mapping");
      VIGIL_RETURN_IF_ERROR(CheckYamlKeys(r, where, {"initial", "max", "give_up_after"}));
      const std::pair<const char*, std::chrono::milliseconds*> durations[] = {
          {"initial", &c.retry.initial},
          {"max", &c.retry.max},
          {"give_up_after", &c.retry.give_up_after}};
      for (const auto& [key, out] : durations) {
        if (!r[key].IsDefined()) continue;
        auto d = Duration(r, key, where, false);
        if (!d.ok()) return d.status();
        *out = *d;
      }
      if (c.retry.max < c.retry.initial) {
        return FieldError(where + ".max", "must not be shorter than initial");
      }
    }
    if (HasScalar(root, "external_url")) {
      c.external_url = root["external_url"].Scalar();
      while (!c.external_url.empty() && c.external_url.back() == '/') c.external_url.pop_back();
    }
    return c;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ": " + e.what());
  }
}

Result<NotifyConfig> LoadNotifyFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return NotFound("cannot read the notifications file " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseNotifyText(ss.str(), file.string());
}

}  // namespace vigil::notify
