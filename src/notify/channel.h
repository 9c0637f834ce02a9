// Notification channels (DESIGN.md §2 notify/) and the configuration file that names them.
//
// A Message is what Vigil has to say (an incident paged, acknowledged or resolved; an alert
// group firing or resolved); a Channel turns it into one receiver's request body:
//   - slack:     Slack incoming-webhook JSON ({"text": ...} in mrkdwn).
//   - pagerduty: PagerDuty Events API v2 (trigger / acknowledge / resolve with routing_key,
//                dedup_key, payload.summary / source / severity).
//   - webhook:   a JSON body from a template with {{placeholders}}, default the whole
//                message as JSON.
//   - email:     a plain-text e-mail (RFC 5322) sent over SMTP (smtp:// with optional
//                STARTTLS and AUTH PLAIN, or smtps://).
// Immutable after loading; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alerting/grouping.h"
#include "alerting/inhibition.h"
#include "core/status.h"

namespace vigil::notify {

struct Message {
  std::string event;      // trigger | acknowledge | resolve | info
  std::string dedup_key;  // one per incident or alert group: receivers collapse on it
  std::string subject;    // INC-xxxxxxxx, or the alert group's key
  // Routes it may take: "alerts" (alert groups) or the incident severity's channels
  // ("pager", "chat", "email", "ticket").
  std::set<std::string> routes;
  std::string title;     // one line
  std::string text;      // the detail, may span lines
  std::string severity;  // PagerDuty's scale: critical | error | warning | info
  std::string source;    // the model, or "vigil"
  std::string link;      // where to read more (the incident in Vigil's API), may be empty
  std::map<std::string, std::string> details;
  int64_t at_ms = 0;
};

enum class ChannelType { kSlack, kPagerDuty, kWebhook, kEmail };
std::string_view ChannelTypeName(ChannelType t);

struct Channel {
  std::string name;
  ChannelType type = ChannelType::kWebhook;
  std::string url;
  std::string routing_key;    // pagerduty
  std::string body_template;  // webhook; "" = the message as JSON
  std::map<std::string, std::string> headers;
  std::set<std::string> routes;  // which messages it takes (see Message::routes)
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  // email: url is smtp://HOST[:PORT] (25) or smtps://HOST[:PORT] (465).
  std::string from;
  std::vector<std::string> to;
  bool starttls = false;
  std::string username, password;  // AUTH PLAIN when set

  // Whether this channel takes `m` (a route in common; PagerDuty takes no `info`).
  bool Takes(const Message& m) const;
  // The request body for `m`.
  Result<std::string> Render(const Message& m) const;
};

// Delivery retries: attempt n+1 waits initial * 2^(n-1), at most `max`; a message still
// undelivered `give_up_after` its creation is marked failed.
struct RetryPolicy {
  std::chrono::milliseconds initial{std::chrono::seconds(1)};
  std::chrono::milliseconds max{std::chrono::minutes(5)};
  std::chrono::milliseconds give_up_after{std::chrono::hours(24)};
};

struct NotifyConfig {
  std::vector<Channel> channels;
  RetryPolicy retry;
  alerting::GroupingConfig grouping;
  std::vector<alerting::InhibitRule> inhibit_rules;
  std::string external_url;  // base of links in messages, e.g. http://vigil.example:8000

  const Channel* Find(std::string_view name) const;
};

// The notifications file (YAML: channels, route, inhibit_rules, retry, external_url);
// errors name the field. Docs: docs/alerting.md "Notifications".
Result<NotifyConfig> ParseNotifyText(const std::string& text, const std::string& file);
Result<NotifyConfig> LoadNotifyFile(const std::filesystem::path& file);

}  // namespace vigil::notify
