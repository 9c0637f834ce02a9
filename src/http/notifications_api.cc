// /api/v1/notifications: the outbox (what was sent, what waits for a retry, what failed)
// and the configured channels; POST .../test queues a test message to one channel.
#include "core/clock.h"
#include "core/strings.h"
#include "http/api_internal.h"
#include "notify/notifier.h"

namespace vigil::http {

void Api::ListNotifications(std::unique_ptr<Call>& c) {
  if (!notifier_) return ReplyError(c, FailedPrecondition("notifications are not enabled"));
  const std::string state = QueryValue(c->query, "state").value_or("");
  if (!state.empty() && state != "pending" && state != "sent" && state != "failed") {
    return ReplyError(
        c, InvalidArgument("state: expected pending, sent or failed, got '" + state + "'"));
  }
  auto limit = ParseLimit(c->query, 100);
  if (!limit.ok()) return ReplyError(c, limit.status());
  auto rows = models_.store().ListNotifications(state, *limit);
  if (!rows.ok()) return ReplyError(c, rows.status());
  const notify::NotifyConfig& cfg = notifier_->config();
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          // Channel URLs and keys are secrets (a Slack webhook URL is a credential): only
          // names, types and routes are shown.
          w.Key("channels");
          w.StartArray();
          for (const auto& ch : cfg.channels) {
            w.StartObject();
            w.Key("name");
            WriteStr(w, ch.name);
            w.Key("type");
            WriteStr(w, notify::ChannelTypeName(ch.type));
            w.Key("routes");
            w.StartArray();
            for (const auto& r : ch.routes) WriteStr(w, r);
            w.EndArray();
            w.EndObject();
          }
          w.EndArray();
          w.Key("notifications");
          w.StartArray();
          for (const NotificationRecord& m : *rows) {
            w.StartObject();
            w.Key("id");
            w.Int64(m.id);
            w.Key("channel");
            WriteStr(w, m.channel);
            w.Key("event");
            WriteStr(w, m.event);
            w.Key("subject");
            WriteStr(w, m.subject);
            w.Key("dedup_key");
            WriteStr(w, m.dedup_key);
            w.Key("state");
            WriteStr(w, m.state);
            w.Key("attempts");
            w.Int64(m.attempts);
            WriteMs(w, "created", m.created_ms);
            WriteMs(w, "next_attempt", m.state == "pending" ? m.next_attempt_ms : 0);
            WriteMs(w, "sent", m.sent_ms);
            w.Key("last_error");
            if (m.last_error.empty()) {
              w.Null();
            } else {
              WriteStr(w, m.last_error);
            }
            w.Key("body");
            WriteStr(w, m.body);
            w.EndObject();
          }
          w.EndArray();
          w.EndObject();
        }));
}

void Api::TestNotification(std::unique_ptr<Call>& c) {
  if (!notifier_) return ReplyError(c, FailedPrecondition("notifications are not enabled"));
  rapidjson::Document doc;
  if (Status st = ParseOptionalObject(c->req.body(), doc); !st.ok()) return ReplyError(c, st);
  const std::string channel = OptionalString(doc, "channel");
  if (channel.empty()) return ReplyError(c, InvalidArgument("channel: required"));
  const notify::Channel* ch = notifier_->config().Find(channel);
  if (!ch) return ReplyError(c, NotFound("unknown channel '" + channel + "'"));
  notify::Message m;
  m.event = "trigger";
  m.dedup_key = "vigil/test/" + channel;
  m.subject = "test";
  m.routes = ch->routes;
  m.title = "Vigil test notification for " + channel;
  m.text = OptionalString(doc, "text");
  if (m.text.empty()) m.text = "Sent by " + Actor(c->req) + " to check the channel.";
  m.severity = "info";
  m.source = "vigil";
  m.at_ms = now_ms_ ? now_ms_() : UnixMillis();
  notify::NotifyConfig only;
  only.channels.push_back(*ch);
  auto rows = notify::Notifier::PlanFor(only, m);
  if (Status st = models_.store().EnqueueNotifications(rows); !st.ok()) return ReplyError(c, st);
  notifier_->Queued(rows.size());
  Reply(c, 202, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("queued");
          w.Int64(static_cast<int64_t>(rows.size()));
          w.Key("channel");
          WriteStr(w, channel);
          w.EndObject();
        }));
}

}  // namespace vigil::http
