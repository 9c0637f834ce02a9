#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <filesystem>

#include "incidents/escalation.h"
#include "oncall/schedule.h"
#include "oncall/time_zone.h"

namespace vigil::oncall {
namespace {

constexpr int64_t kHour = 3600'000;

const char* kConfig = R"(
schedules:
  - name: primary
    layers:
      - name: weekly
        start: 2026-01-05T09:00:00Z
        rotation: 168h
        members: [alice, bob, carol]
    overrides:
      - {user: dave, start: 2026-01-13T00:00:00Z, end: 2026-01-14T00:00:00Z}
escalation_policies:
  - name: default
    levels:
      - {delay: 0m, targets: [schedule:primary]}
      - {delay: 15m, targets: [user:ml-team]}
      - {delay: 30m, targets: [user:ml-engineering-manager]}
      - {delay: 60m, targets: [user:vp-ai-ml]}
)";

TEST(Schedule, RotatesAtHandoffAndOverridesWin) {
  auto c = ParseOnCallText(kConfig, "oncall.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const Schedule& s = *c->FindSchedule("primary");
  const int64_t start = *ParseTime("2026-01-05T09:00:00Z");
  EXPECT_EQ(s.OnCallAt(start - 1), "");  // before the first handoff
  EXPECT_EQ(s.OnCallAt(start), "alice");
  EXPECT_EQ(s.OnCallAt(start + 168 * kHour - 1), "alice");
  EXPECT_EQ(s.OnCallAt(start + 168 * kHour), "bob");  // the handoff, 09:00 UTC a week on
  EXPECT_EQ(s.OnCallAt(start + 3 * 168 * kHour), "alice");
  EXPECT_EQ(s.ShiftEndsAt(start + kHour), start + 168 * kHour);
  EXPECT_EQ(s.OnCallAt(*ParseTime("2026-01-13T12:00:00Z")), "dave");
  EXPECT_EQ(s.ShiftEndsAt(*ParseTime("2026-01-13T12:00:00Z")), *ParseTime("2026-01-14T00:00:00Z"));
  EXPECT_EQ(*ParseTime("2026-01-05T11:00:00+02:00"), start);
  EXPECT_EQ(c->Resolve({"schedule", "primary"}, start), std::vector<std::string>{"alice"});
  EXPECT_EQ(c->Resolve({"user", "vp-ai-ml"}, start), std::vector<std::string>{"vp-ai-ml"});
}

TEST(Schedule, ErrorsNameTheField) {
  auto bad = [](const std::string& text) {
    auto r = ParseOnCallText(text, "oncall.yaml");
    EXPECT_FALSE(r.ok()) << text;
    return r.status().message();
  };
  EXPECT_NE(bad("schedules: [{name: a, layers: [{start: yesterday, members: [x]}]}]")
                .find("schedules[0].layers[0].start"),
            std::string::npos);
  EXPECT_NE(bad("schedules: [{name: a, layers: [{start: 2026-01-01T00:00:00Z, members: []}]}]")
                .find("members"),
            std::string::npos);
  EXPECT_NE(bad("escalation_policies: [{name: p, levels: [{targets: [schedule:none]}]}]")
                .find("unknown schedule 'none'"),
            std::string::npos);
  EXPECT_NE(bad("escalation_policies: [{name: p, levels: [{targets: [team:x]}]}]")
                .find("schedule:NAME or user:NAME"),
            std::string::npos);
  EXPECT_NE(bad("schedules: [{name: a, layers: [{start: 2026-01-01T00:00:00Z, members: [x], "
                "rotaton: 1h}]}]")
                .find("did you mean 'rotation'"),
            std::string::npos);
  // Without a default policy, runbook 000's ladder is added.
  auto c = ParseOnCallText("schedules: []\n", "oncall.yaml");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->FindPolicy("default"));
  EXPECT_EQ(c->FindPolicy("default")->levels.size(), 4u);
  EXPECT_EQ(c->FindPolicy("default")->levels[3].delay, std::chrono::minutes(60));
}

int64_t At(const char* text) { return *ParseTime(text); }

TEST(TimeZone, OffsetsFollowZoneinfoAndItsFooterRule) {
  struct Case {
    const char* zone;
    const char* at;
    double hours;
  };
  // Expected values from Python's zoneinfo; 2050 is past the files' transition tables, so
  // it exercises the POSIX rule (Sydney's is the southern hemisphere's).
  const Case cases[] = {{"Europe/Berlin", "2026-01-15T12:00:00Z", 1},
                        {"Europe/Berlin", "2026-07-01T12:00:00Z", 2},
                        {"Europe/Berlin", "2050-07-01T12:00:00Z", 2},
                        {"Europe/Berlin", "2050-12-01T12:00:00Z", 1},
                        {"America/New_York", "2026-07-01T12:00:00Z", -4},
                        {"Australia/Sydney", "2026-01-15T12:00:00Z", 11},
                        {"Australia/Sydney", "2026-07-01T12:00:00Z", 10},
                        {"Australia/Sydney", "2050-01-15T12:00:00Z", 11},
                        {"Australia/Sydney", "2050-07-01T12:00:00Z", 10},
                        {"UTC", "2026-07-01T12:00:00Z", 0}};
  for (const Case& c : cases) {
    auto tz = TimeZone::Load(c.zone);
    ASSERT_TRUE(tz.ok()) << tz.status().message();
    EXPECT_EQ((*tz)->OffsetMs(At(c.at)), static_cast<int64_t>(c.hours * 3'600'000))
        << c.zone << " " << c.at;
  }
  auto berlin = *TimeZone::Load("Europe/Berlin");
  // 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z.
  EXPECT_EQ(berlin->OffsetMs(At("2026-03-29T00:59:59Z")), 3'600'000);
  EXPECT_EQ(berlin->OffsetMs(At("2026-03-29T01:00:00Z")), 7'200'000);
  const int64_t h = 3'600'000;
  EXPECT_EQ(berlin->FromLocal(At("2026-03-29T09:00:00Z")), At("2026-03-29T07:00:00Z"));
  EXPECT_EQ(berlin->FromLocal(At("2026-03-29T02:30:00Z")), At("2026-03-29T01:30:00Z"));  // skipped
  EXPECT_EQ(berlin->FromLocal(At("2026-10-25T02:30:00Z")), At("2026-10-25T00:30:00Z"));  // twice
  EXPECT_EQ(berlin->ToLocal(At("2026-10-25T01:30:00Z")), At("2026-10-25T02:30:00Z"));
  EXPECT_EQ(berlin->ToLocal(At("2026-01-01T00:00:00Z")), At("2026-01-01T00:00:00Z") + h);

  EXPECT_FALSE(TimeZone::Load("Mars/Olympus").ok());
  EXPECT_FALSE(TimeZone::Load("../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::FromTzif("x", "not a tzif file at all, not at all, not at all").ok());
}

TEST(Schedule, WholeDayRotationsHandOffAtLocalTimeAcrossDst) {
  auto c = ParseOnCallText(R"(
schedules:
  - name: berlin
    time_zone: Europe/Berlin
    layers:
      - {start: 2026-03-23T09:00:00, rotation: 168h, members: [alice, bob]}
    overrides:
      - {user: carol, start: 2026-04-10T18:00:00, end: 2026-04-11T09:00:00}
)",
                           "oncall.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const Schedule& s = c->schedules[0];
  EXPECT_EQ(s.layers[0].start_ms, At("2026-03-23T08:00:00Z"));  // 09:00 CET
  EXPECT_EQ(s.OnCallAt(At("2026-03-23T08:00:00Z")), "alice");
  // DST began on the 29th: the handoff stays at 09:00 local, now 07:00Z (not 08:00Z).
  EXPECT_EQ(s.ShiftEndsAt(At("2026-03-25T12:00:00Z")), At("2026-03-30T07:00:00Z"));
  EXPECT_EQ(s.OnCallAt(At("2026-03-30T06:59:00Z")), "alice");
  EXPECT_EQ(s.OnCallAt(At("2026-03-30T07:00:00Z")), "bob");
  EXPECT_EQ(s.OnCallAt(At("2026-04-10T16:30:00Z")), "carol");  // 18:30 CEST
  EXPECT_EQ(s.ShiftEndsAt(At("2026-04-10T16:30:00Z")), At("2026-04-11T07:00:00Z"));

  auto bad = ParseOnCallText(
      "schedules: [{name: a, time_zone: Europe/Nowhere, layers: [{start: 2026-01-01T00:00:00Z, "
      "members: [x]}]}]",
      "oncall.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("schedules[0].time_zone: time zone 'Europe/Nowhere'"),
            std::string::npos);
}

TEST(Schedule, TheShippedExampleLoads) {
  auto c = LoadOnCallFile(std::string(VIGIL_EXAMPLES_DIR) + "/../oncall/oncall.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->schedules.size(), 1u);
  EXPECT_EQ(c->schedules[0].zone->name(), "Europe/Berlin");
  EXPECT_EQ(c->FindPolicy("default")->levels.size(), 4u);
}

TEST(Schedule, SeverityPoliciesAreConfigurable) {
  auto c = ParseOnCallText(R"(
severities:
  SEV2: {respond: 10m, channels: [pager, chat, email]}
  SEV4: {escalate: 1h}
)",
                           "oncall.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->severities.at("SEV2").respond_minutes, 10);
  EXPECT_EQ(c->severities.at("SEV2").escalate_minutes, 30);  // kept from the lecture
  EXPECT_EQ(c->severities.at("SEV2").channels,
            (std::vector<std::string>{"pager", "chat", "email"}));
  EXPECT_EQ(c->severities.at("SEV4").escalate_minutes, 60);
  EXPECT_EQ(c->severities.at("SEV1").respond_minutes, 5);
  incidents::SetSeverityPolicies(c->severities);
  EXPECT_EQ(incidents::PolicyFor("SEV2").respond_minutes, 10);
  incidents::SetSeverityPolicies(DefaultSeverityPolicies());
  EXPECT_EQ(incidents::PolicyFor("SEV2").respond_minutes, 15);

  auto bad = [](const std::string& text) {
    auto r = ParseOnCallText(text, "oncall.yaml");
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(bad("severities: {SEV5: {respond: 1m}}").find("severities.SEV5"), std::string::npos);
  EXPECT_NE(bad("severities: {SEV1: {respond: soon}}").find("severities.SEV1.respond"),
            std::string::npos);
  EXPECT_NE(bad("severities: {SEV1: {channels: [sms]}}").find("unknown channel 'sms'"),
            std::string::npos);
  EXPECT_NE(bad("severities: {SEV1: {respnd: 5m}}").find("did you mean 'respond'"),
            std::string::npos);
}

TEST(Escalator, PagesTheOnCallThenClimbsUntilAcknowledged) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vigil_escalator_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = OpenSqliteStore(dir);
  ASSERT_TRUE(store.ok());
  prometheus::Registry registry;
  int64_t now = *ParseTime("2026-01-06T10:00:00Z");
  auto clock = [&] { return now; };
  incidents::IncidentManager incidents(**store, registry, "", clock);
  auto config = ParseOnCallText(kConfig, "oncall.yaml");
  incidents::Escalator escalator(incidents, *config, clock);
  auto sev2 = incidents.Declare({"Accuracy below 90 %", "", "SEV2", "iris", "vigil"});
  auto sev3 = incidents.Declare({"Drift", "", "SEV3", "fraud", "vigil"});
  ASSERT_TRUE(sev2.ok() && sev3.ok());
  EXPECT_EQ(escalator.Tick(), 2);  // level 0 of both, at once
  EXPECT_EQ(escalator.Tick(), 0);  // never twice
  auto pages = [&](const std::string& id) {
    std::vector<std::string> out;
    auto r = incidents.Get(id);  // (a range-for over Get(id)->timeline would dangle)
    for (const auto& e : r->timeline) {
      if (e.kind == "page") out.push_back(e.text);
    }
    return out;
  };
  EXPECT_EQ(pages(sev2->id),
            std::vector<std::string>{"Level 0: notified alice (SEV2, pager, chat)"});
  now += 14 * 60'000;
  EXPECT_EQ(escalator.Tick(), 0);
  now += 60'000;                   // 15 min
  EXPECT_EQ(escalator.Tick(), 1);  // SEV2 escalates; SEV3 stays at level 0
  EXPECT_EQ(pages(sev2->id).back(), "Level 1: escalated to ml-team (SEV2, pager, chat)");
  EXPECT_EQ(pages(sev3->id).size(), 1u);
  bool sla = false;
  auto after = incidents.Get(sev2->id);
  for (const auto& e : after->timeline) sla = sla || e.kind == "sla";
  EXPECT_TRUE(sla);  // 15 min unacknowledged: SEV2's response SLA
  incidents.Acknowledge(sev2->id, "alice").ok();
  now += 60 * 60'000;
  EXPECT_EQ(escalator.Tick(), 0);  // acknowledged: no more pages
  EXPECT_EQ(pages(sev2->id).size(), 2u);
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::oncall
