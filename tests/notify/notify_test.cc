#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include <deque>
#include <filesystem>

#include "alerting/grouping.h"
#include "alerting/inhibition.h"
#include "incidents/incident_manager.h"
#include "notify/channel.h"
#include "notify/messages.h"
#include "notify/notifier.h"

namespace vigil::notify {
namespace {

using namespace std::chrono_literals;

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

constexpr const char* kConfig = R"(
external_url: http://vigil.example:8000/
channels:
  - {name: ml-slack, type: slack, url: "http://127.0.0.1:9/slack"}
  - {name: pd, type: pagerduty, routing_key: R0UT1NG}
  - name: hook
    type: webhook
    url: http://127.0.0.1:9/hook
    headers: {Authorization: "Bearer x"}
    routes: [pager]
    body: '{"msg": "{{title}}", "what": "{{event}}", "all": {{json}}}'
route: {group_by: [model], group_wait: 0s, group_interval: 1m, repeat_interval: 1h}
inhibit_rules:
  - source_matchers: [alertname=ModelLoadFailed]
    target_matchers: [severity=~warning|critical]
    equal: [model]
retry: {initial: 2s, max: 10s, give_up_after: 1h}
)";

TEST(NotifyConfig, ParsesEverySection) {
  auto c = ParseNotifyText(kConfig, "n.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->channels.size(), 3u);
  EXPECT_EQ(c->external_url, "http://vigil.example:8000");
  EXPECT_EQ(c->channels[0].routes, (std::set<std::string>{"alerts", "chat"}));
  EXPECT_EQ(c->channels[1].url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(c->channels[1].routes, (std::set<std::string>{"pager"}));
  EXPECT_EQ(c->channels[2].headers.at("Authorization"), "Bearer x");
  EXPECT_EQ(c->grouping.group_by, (std::vector<std::string>{"model"}));
  EXPECT_EQ(c->grouping.group_wait, 0ms);
  EXPECT_EQ(c->grouping.repeat_interval, 1h);
  ASSERT_EQ(c->inhibit_rules.size(), 1u);
  EXPECT_EQ(c->inhibit_rules[0].equal, (std::vector<std::string>{"model"}));
  EXPECT_EQ(c->retry.initial, 2s);
  EXPECT_EQ(c->retry.give_up_after, 1h);
}

TEST(NotifyConfig, TheShippedExampleLoads) {
  auto c = LoadNotifyFile(std::string(VIGIL_EXAMPLES_DIR) + "/../oncall/notifications.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->channels.size(), 2u);
  EXPECT_EQ(c->inhibit_rules.size(), 1u);
}

TEST(NotifyConfig, DefaultsFollowAlertmanager) {
  auto c = ParseNotifyText("", "n.yaml");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->channels.empty());
  EXPECT_EQ(c->grouping.group_wait, 30s);
  EXPECT_EQ(c->grouping.group_interval, 5min);
  EXPECT_EQ(c->grouping.repeat_interval, 4h);
  EXPECT_EQ(c->grouping.group_by, (std::vector<std::string>{"alertname", "model"}));
}

TEST(NotifyConfig, ErrorsNameTheField) {
  auto err = [](const std::string& text) {
    auto c = ParseNotifyText(text, "n.yaml");
    EXPECT_FALSE(c.ok()) << text;
    return c.ok() ? std::string() : c.status().message();
  };
  EXPECT_NE(err("chanels: []").find("did you mean 'channels'"), std::string::npos);
  EXPECT_NE(err("channels: [{name: a, type: sms, url: http://x}]").find("channels[0].type"),
            std::string::npos);
  EXPECT_NE(err("channels: [{name: a, type: slack}]").find("channels[0].url: required"),
            std::string::npos);
  EXPECT_NE(err("channels: [{name: a, type: slack, url: ftp://x}]").find("http:// or https://"),
            std::string::npos);
  EXPECT_NE(err("channels: [{name: a, type: pagerduty}]").find("routing_key: required"),
            std::string::npos);
  EXPECT_NE(err("channels: [{name: a, type: webhook, url: 'http://x', body: '{\"a\": {{title}}}'}]")
                .find("does not give valid JSON"),
            std::string::npos);
  EXPECT_NE(err("channels: [{name: a, type: webhook, url: 'http://x', body: '\"{{nope}}\"'}]")
                .find("unknown placeholder {{nope}}"),
            std::string::npos);
  EXPECT_NE(err("channels: [{name: a, type: slack, url: 'http://x', routes: [sms]}]")
                .find("unknown route 'sms'"),
            std::string::npos);
  EXPECT_NE(err("channels: [{name: a, type: slack, url: 'http://x'}, "
                "{name: a, type: slack, url: 'http://y'}]")
                .find("duplicate 'a'"),
            std::string::npos);
  EXPECT_NE(err("route: {group_wait: soon}").find("route.group_wait"), std::string::npos);
  EXPECT_NE(err("inhibit_rules: [{source_matchers: ['a=~('], target_matchers: [b=c]}]")
                .find("inhibit_rules[0].source_matchers[0]"),
            std::string::npos);
  EXPECT_NE(err("retry: {initial: 1m, max: 1s}").find("retry.max"), std::string::npos);
}

Message Page() {
  Message m;
  m.event = "trigger";
  m.dedup_key = "vigil/INC-0badcafe";
  m.subject = "INC-0badcafe";
  m.routes = {"pager", "chat"};
  m.title = "[SEV2] INC-0badcafe: iris \"accuracy\" low";
  m.text = "Level 0: notified alice\nsecond line";
  m.severity = "error";
  m.source = "iris";
  m.link = "http://vigil.example:8000/api/v1/incidents/INC-0badcafe";
  m.details = {{"incident", "INC-0badcafe"}};
  m.at_ms = 1'795'000'000'000;
  return m;
}

TEST(Channels, RenderEachReceiversFormat) {
  auto c = ParseNotifyText(kConfig, "n.yaml");
  ASSERT_TRUE(c.ok());
  const Message m = Page();

  auto slack = c->channels[0].Render(m);
  ASSERT_TRUE(slack.ok());
  auto s = Json(*slack);
  const std::string text = s["text"].GetString();
  EXPECT_NE(text.find(":rotating_light: *[SEV2] INC-0badcafe: iris \"accuracy\" low*"),
            std::string::npos);
  EXPECT_NE(text.find("Level 0: notified alice\nsecond line"), std::string::npos);
  EXPECT_NE(text.find("<http://vigil.example:8000/api/v1/incidents/INC-0badcafe|"),
            std::string::npos);

  auto pd = Json(*c->channels[1].Render(m));
  EXPECT_STREQ(pd["routing_key"].GetString(), "R0UT1NG");
  EXPECT_STREQ(pd["event_action"].GetString(), "trigger");
  EXPECT_STREQ(pd["dedup_key"].GetString(), "vigil/INC-0badcafe");
  EXPECT_STREQ(pd["payload"]["summary"].GetString(), m.title.c_str());
  EXPECT_STREQ(pd["payload"]["source"].GetString(), "iris");
  EXPECT_STREQ(pd["payload"]["severity"].GetString(), "error");
  EXPECT_STREQ(pd["payload"]["custom_details"]["text"].GetString(), m.text.c_str());
  EXPECT_STREQ(pd["links"][0]["href"].GetString(), m.link.c_str());

  Message ack = m;
  ack.event = "acknowledge";
  auto pd_ack = Json(*c->channels[1].Render(ack));
  EXPECT_STREQ(pd_ack["event_action"].GetString(), "acknowledge");
  EXPECT_STREQ(pd_ack["dedup_key"].GetString(), "vigil/INC-0badcafe");
  EXPECT_FALSE(pd_ack.HasMember("payload"));  // PagerDuty wants none for acknowledge/resolve

  auto hook = Json(*c->channels[2].Render(m));
  EXPECT_EQ(std::string(hook["msg"].GetString()), m.title);
  EXPECT_STREQ(hook["what"].GetString(), "trigger");
  EXPECT_STREQ(hook["all"]["dedup_key"].GetString(), "vigil/INC-0badcafe");
  EXPECT_STREQ(hook["all"]["at"].GetString(), "2026-11-18T11:06:40Z");
}

TEST(Channels, EmailIsAPlainTextMessageWithItsHeaders) {
  auto c = ParseNotifyText(R"(
channels:
  - {name: mail, type: email, url: "smtp://relay:587", starttls: true, username: u, password: p,
     from: vigil@example.com, to: [a@example.com, b@example.com]}
)",
                           "n.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const Channel& mail = c->channels[0];
  EXPECT_EQ(mail.routes, (std::set<std::string>{"email"}));
  EXPECT_TRUE(mail.starttls);
  Message m = Page();
  m.routes = {"email"};
  EXPECT_TRUE(mail.Takes(m));
  m.title = "[SEV2] INC-0badcafe: Genauigkeit unter 90 % für iris";
  m.text = "line one\n.line starting with a dot";
  auto msg = mail.Render(m);
  ASSERT_TRUE(msg.ok());
  EXPECT_NE(msg->find("From: vigil@example.com\r\nTo: a@example.com, b@example.com\r\n"),
            std::string::npos);
  // Not ASCII: RFC 2047 encoded.
  EXPECT_NE(msg->find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(msg->find("X-Vigil-Dedup-Key: vigil/INC-0badcafe\r\n"), std::string::npos);
  EXPECT_NE(msg->find("\r\n\r\n[SEV2] INC-0badcafe"), std::string::npos);
  EXPECT_NE(msg->find("line one\r\n.line starting"), std::string::npos);  // stuffed when sent
  EXPECT_EQ(msg->find("\n.line", 0) - 1, msg->find("\r\n.line"));         // CRLF everywhere

  auto err = [](const std::string& ch) {
    auto r = ParseNotifyText("channels: [" + ch + "]", "n.yaml");
    EXPECT_FALSE(r.ok()) << ch;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(err("{name: m, type: email, url: 'http://x', from: a@b, to: [c@d]}").find("smtp://"),
            std::string::npos);
  EXPECT_NE(err("{name: m, type: email, url: 'smtp://x', to: [c@d]}").find("from: required"),
            std::string::npos);
  EXPECT_NE(err("{name: m, type: email, url: 'smtp://x', from: a@b, to: [nobody]}")
                .find("'nobody' is not an e-mail address"),
            std::string::npos);
  EXPECT_NE(err("{name: m, type: email, url: 'smtp://x', from: a@b, to: [c@d], starttls: maybe}")
                .find("starttls: expected true or false"),
            std::string::npos);
}

TEST(Channels, RoutesDecideWhoTakesAMessage) {
  auto c = ParseNotifyText(kConfig, "n.yaml");
  ASSERT_TRUE(c.ok());
  Message m = Page();
  EXPECT_TRUE(c->channels[0].Takes(m));  // chat
  EXPECT_TRUE(c->channels[1].Takes(m));  // pager
  m.routes = {"chat"};
  m.event = "info";
  EXPECT_TRUE(c->channels[0].Takes(m));
  EXPECT_FALSE(c->channels[1].Takes(m));  // PagerDuty has no "info" event
  EXPECT_FALSE(c->channels[2].Takes(m));  // the hook takes pager only
  m.routes = {"ticket"};
  EXPECT_FALSE(c->channels[0].Takes(m));
}

TEST(Backoff, DoublesUpToTheMaximum) {
  RetryPolicy r{1s, 10s, 1h};
  EXPECT_EQ(Backoff(r, 1), 1s);
  EXPECT_EQ(Backoff(r, 2), 2s);
  EXPECT_EQ(Backoff(r, 3), 4s);
  EXPECT_EQ(Backoff(r, 4), 8s);
  EXPECT_EQ(Backoff(r, 5), 10s);
  EXPECT_EQ(Backoff(r, 60), 10s);
}

// Answers from a script: each Post takes the next reply (an int status, or -1 for a
// transport error) and records what was sent.
class ScriptedSender final : public Sender {
 public:
  ScriptedSender(std::deque<int> replies, int otherwise)
      : replies_(std::move(replies)), otherwise_(otherwise) {}
  Result<PostReply> Post(const std::string& url, const std::map<std::string, std::string>& headers,
                         const std::string& body, std::chrono::milliseconds) override {
    posts.push_back({url, body});
    last_headers = headers;
    const int status = replies_.empty() ? otherwise_ : replies_.front();
    if (!replies_.empty()) replies_.pop_front();
    if (status < 0) return Unavailable("connection refused");
    return PostReply{status, status < 300 ? "ok" : "try later"};
  }
  Result<PostReply> Mail(const Channel& c, const std::string& message) override {
    return Post(c.url, {}, message, c.timeout);
  }
  std::vector<std::pair<std::string, std::string>> posts;
  std::map<std::string, std::string> last_headers;

 private:
  std::deque<int> replies_;
  int otherwise_;
};

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil_notify_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    Reopen();
    auto c = ParseNotifyText(kConfig, "n.yaml");
    ASSERT_TRUE(c.ok());
    config_ = std::move(*c);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto s = OpenSqliteStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  std::unique_ptr<Notifier> MakeNotifier(std::deque<int> replies, ScriptedSender** sender,
                                         int otherwise = 200) {
    auto s = std::make_unique<ScriptedSender>(std::move(replies), otherwise);
    *sender = s.get();
    return std::make_unique<Notifier>(*store_, config_, std::move(s), registry_, "",
                                      [this] { return now_; });
  }
  std::vector<NotificationRecord> All() { return *store_->ListNotifications("", 100); }

  std::filesystem::path dir_;
  prometheus::Registry registry_;
  std::unique_ptr<Store> store_;
  NotifyConfig config_;
  int64_t now_ = 1'000'000;
};

TEST_F(OutboxTest, RetriesWithBackoffUntilTheReceiverRecovers) {
  ScriptedSender* sender;
  auto n = MakeNotifier({503, -1, 429, 202}, &sender);
  Message m = Page();
  m.routes = {"pager"};  // pd and hook
  m.at_ms = now_;
  ASSERT_TRUE(n->Enqueue(m).ok());
  ASSERT_EQ(All().size(), 2u);

  EXPECT_EQ(n->DeliverDue(), 2);  // pd: 503, hook: refused
  auto rows = All();              // newest first: hook, pd
  EXPECT_EQ(rows[1].state, "pending");
  EXPECT_EQ(rows[1].attempts, 1);
  EXPECT_EQ(rows[1].next_attempt_ms, now_ + 2000);
  EXPECT_EQ(rows[1].last_error, "HTTP 503: try later");
  EXPECT_EQ(rows[0].last_error, "connection refused");
  EXPECT_EQ(n->DeliverDue(), 0);  // nothing due before the backoff passes

  now_ += 2000;
  EXPECT_EQ(n->DeliverDue(), 2);  // pd: 429 (retried), hook: 202 (sent)
  rows = All();
  EXPECT_EQ(rows[0].state, "sent");
  EXPECT_EQ(rows[0].sent_ms, now_);
  EXPECT_EQ(rows[1].next_attempt_ms, now_ + 4000);  // the second wait doubles

  now_ += 4000;
  EXPECT_EQ(n->DeliverDue(), 1);
  rows = All();
  EXPECT_EQ(rows[1].state, "sent");
  EXPECT_EQ(rows[1].attempts, 3);
  ASSERT_EQ(sender->posts.size(), 5u);
  EXPECT_EQ(sender->posts[0].first, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(sender->posts[0].second, sender->posts[4].second);  // the same body every time
  EXPECT_EQ(sender->last_headers.count("Authorization"), 0u);   // the pd channel's headers
}

TEST_F(OutboxTest, ClientErrorsFailAtOnceAndOldMessagesAreGivenUp) {
  ScriptedSender* sender;
  auto n = MakeNotifier({400}, &sender, 500);
  Message m = Page();
  m.routes = {"pager"};
  m.at_ms = now_;
  ASSERT_TRUE(n->Enqueue(m).ok());
  n->DeliverDue();
  auto rows = All();
  EXPECT_EQ(rows[1].state, "failed");  // pd: 400 is not worth repeating
  EXPECT_EQ(rows[1].last_error, "HTTP 400: try later");
  // The hook keeps failing with 500: retried until give_up_after (1 h) has passed.
  int attempts = 1;
  for (; attempts < 1000 && All()[0].state == "pending"; ++attempts) {
    now_ = All()[0].next_attempt_ms;
    n->DeliverDue();
  }
  rows = All();
  EXPECT_EQ(rows[0].state, "failed");
  EXPECT_NE(rows[0].last_error.find("gave up after"), std::string::npos);
  EXPECT_GT(rows[0].next_attempt_ms - rows[0].created_ms, 3'600'000);
  EXPECT_EQ(rows[0].attempts, attempts);  // 2 + 4 + 8 s, then every 10 s for an hour
  EXPECT_NEAR(attempts, 3 + 3600 / 10, 2);
}

TEST_F(OutboxTest, QueuedMessagesSurviveARestart) {
  {
    ScriptedSender* sender;
    auto n = MakeNotifier({-1}, &sender);
    Message m = Page();
    m.routes = {"chat"};  // ml-slack only
    m.at_ms = now_;
    ASSERT_TRUE(n->Enqueue(m).ok());
    n->DeliverDue();
    EXPECT_EQ(All()[0].state, "pending");
  }
  Reopen();  // the process is gone; the outbox is not
  ScriptedSender* sender;
  auto n = MakeNotifier({200}, &sender);
  now_ += 10'000;
  EXPECT_EQ(n->DeliverDue(), 1);
  EXPECT_EQ(All()[0].state, "sent");
  EXPECT_EQ(All()[0].attempts, 2);
  EXPECT_EQ(sender->posts[0].first, "http://127.0.0.1:9/slack");
}

TEST_F(OutboxTest, AnIncidentsPagesAckAndResolutionGoOutWithItsTimeline) {
  ScriptedSender* sender;
  auto n = MakeNotifier({}, &sender);
  IncidentNotifications outbox(*n);
  incidents::IncidentManager incidents(*store_, registry_, "", [this] { return now_; });
  incidents.SetOutbox(&outbox);
  auto inc = incidents.Declare({"iris accuracy", "labels say 60 %", "SEV2", "iris", "alice"});
  ASSERT_TRUE(inc.ok());
  EXPECT_TRUE(All().empty());  // declaring is not paging: the escalator pages level 0
  ASSERT_TRUE(incidents.Record(inc->id, "page", "vigil", "Level 0: notified bob").ok());
  ASSERT_TRUE(incidents.Acknowledge(inc->id, "bob").ok());
  incidents::IncidentUpdate action;
  action.action = "Rolled back iris 2 -> 1";
  action.author = "vigil";
  ASSERT_TRUE(incidents.Apply(inc->id, action).ok());
  incidents::IncidentUpdate resolve;
  resolve.status = "resolved";
  resolve.author = "bob";
  ASSERT_TRUE(incidents.Apply(inc->id, resolve).ok());

  auto rows = All();
  std::reverse(rows.begin(), rows.end());
  std::vector<std::string> seen;
  for (const auto& r : rows) seen.push_back(r.channel + ":" + r.event);
  // SEV2 = pager + chat: Slack (chat) and PagerDuty + the hook (pager); the action is
  // chat-only news.
  EXPECT_EQ(seen, (std::vector<std::string>{"ml-slack:trigger", "pd:trigger", "hook:trigger",
                                            "ml-slack:acknowledge", "pd:acknowledge",
                                            "hook:acknowledge", "ml-slack:info", "ml-slack:resolve",
                                            "pd:resolve", "hook:resolve"}));
  for (const auto& r : rows) EXPECT_EQ(r.dedup_key, "vigil/" + inc->id);
  auto page = Json(rows[1].body);
  EXPECT_EQ(std::string(page["payload"]["summary"].GetString()),
            "[SEV2] " + inc->id + ": iris accuracy");
  EXPECT_STREQ(page["payload"]["custom_details"]["text"].GetString(), "Level 0: notified bob");
  EXPECT_EQ(n->DeliverDue(), 10);
  EXPECT_EQ(store_->ListNotifications("sent", 100)->size(), 10u);
}

alerting::Alert Firing(const std::string& name, const std::string& model, const std::string& fp,
                       const std::string& severity = "critical") {
  alerting::Alert a;
  a.fingerprint = fp;
  a.name = name;
  a.labels = {{"alertname", name}, {"model", model}, {"severity", severity}};
  a.annotations["summary"] = model + ": " + name;
  a.state = alerting::AlertState::kFiring;
  a.condition = "x > 1";
  a.value = 2;
  return a;
}

TEST(Grouping, WaitsGroupsRepeatsAndStopsWhenAcknowledged) {
  alerting::AlertGrouper g({{"model"}, 30s, 5min, 4h});
  std::vector<alerting::Alert> alerts{Firing("ErrorRateHigh", "iris", "a")};
  EXPECT_TRUE(g.Flush(alerts, 0).empty());  // group_wait: more may come
  alerts.push_back(Firing("LatencyHigh", "iris", "b"));
  alerts.push_back(Firing("LatencyHigh", "fraud", "c"));
  EXPECT_TRUE(g.Flush(alerts, 29'999).empty());
  auto due = g.Flush(alerts, 30'000);  // iris: both alerts in one message; fraud still waits
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].key, "{model=\"iris\"}");
  EXPECT_EQ(due[0].firing.size(), 2u);
  EXPECT_FALSE(due[0].repeat);
  due = g.Flush(alerts, 60'000);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].key, "{model=\"fraud\"}");

  // Nothing changes: nothing is sent until repeat_interval.
  EXPECT_TRUE(g.Flush(alerts, 30'000 + 300'000).empty());
  due = g.Flush(alerts, 30'000 + 4 * 3'600'000);
  ASSERT_EQ(due.size(), 1u);  // iris's reminder (fraud's is due 30 s later)
  EXPECT_TRUE(due[0].repeat);

  // Acknowledged: no more reminders, but a resolution is still news.
  for (auto& a : alerts) a.acknowledged_by = "bob";
  EXPECT_TRUE(g.Flush(alerts, 30'000 + 9 * 3'600'000).empty());
  alerts[0].state = alerting::AlertState::kResolved;
  alerts[0].resolved_at_ms = 1;
  due = g.Flush(alerts, 30'000 + 10 * 3'600'000);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].firing.size(), 1u);
  ASSERT_EQ(due[0].resolved.size(), 1u);
  EXPECT_EQ(due[0].resolved[0].fingerprint, "a");
}

TEST(Grouping, ASilencedAlertLeavesQuietlyAndTheLastResolutionClosesTheGroup) {
  alerting::AlertGrouper g({{"alertname", "model"}, 0s, 1min, 4h});
  std::vector<alerting::Alert> alerts{Firing("A", "iris", "a")};
  ASSERT_EQ(g.Flush(alerts, 0).size(), 1u);
  alerts[0].silenced_by = {"SIL-1"};
  EXPECT_TRUE(g.Flush(alerts, 60'000).empty());  // silenced: no message at all
  alerts[0].silenced_by.clear();
  auto due = g.Flush(alerts, 120'000);  // back: news again (it joined the group)
  ASSERT_EQ(due.size(), 1u);
  alerts.clear();  // gone (resolved and forgotten)
  due = g.Flush(alerts, 180'000);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(due[0].firing.empty());
  EXPECT_EQ(due[0].resolved.size(), 1u);
  auto msg = AlertGroupMessage(due[0], "", 180'000);
  EXPECT_EQ(msg.event, "resolve");
  EXPECT_EQ(msg.title, "[RESOLVED] A iris");
  EXPECT_TRUE(g.Flush(alerts, 240'000).empty());
}

TEST(Grouping, GroupMessagesCarryAStableDedupKey) {
  alerting::AlertGroup group;
  group.key = "{alertname=\"A\", model=\"iris\"}";
  group.labels = {{"alertname", "A"}, {"model", "iris"}};
  group.firing = {Firing("A", "iris", "a", "warning")};
  auto m1 = AlertGroupMessage(group, "http://v", 5);
  EXPECT_EQ(m1.event, "trigger");
  EXPECT_EQ(m1.title, "[FIRING:1] A iris");
  EXPECT_EQ(m1.severity, "warning");
  EXPECT_EQ(m1.source, "iris");
  EXPECT_EQ(m1.text, "Firing: iris: A (x > 1, value 2)");
  EXPECT_EQ(m1.routes, (std::set<std::string>{"alerts"}));
  group.firing.clear();
  EXPECT_EQ(AlertGroupMessage(group, "", 6).dedup_key, m1.dedup_key);
}

TEST(Inhibition, ASourceAlertMutesTargetsThatShareTheEqualLabels) {
  auto rules = ParseNotifyText(kConfig, "n.yaml")->inhibit_rules;
  std::vector<alerting::Alert> alerts{
      Firing("ModelLoadFailed", "iris", "src"), Firing("LatencyHigh", "iris", "t1", "warning"),
      Firing("LatencyHigh", "fraud", "t2", "warning"), Firing("Info", "iris", "t3", "info")};
  EXPECT_EQ(alerting::InhibitedBy(alerts[1], alerts, rules), (std::vector<std::string>{"src"}));
  EXPECT_TRUE(alerting::InhibitedBy(alerts[2], alerts, rules).empty());  // another model
  EXPECT_TRUE(alerting::InhibitedBy(alerts[3], alerts, rules).empty());  // not a target
  EXPECT_TRUE(alerting::InhibitedBy(alerts[0], alerts, rules).empty());  // not itself
  alerts[0].state = alerting::AlertState::kPending;  // only a firing source inhibits
  EXPECT_TRUE(alerting::InhibitedBy(alerts[1], alerts, rules).empty());
}

}  // namespace
}  // namespace vigil::notify
