#include "incidents/incident_manager.h"
#include "incidents/runbook_actions.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <filesystem>

namespace vigil::incidents {
namespace {

class IncidentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil_incidents_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    auto s = OpenSqliteStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    manager_ = std::make_unique<IncidentManager>(*store_, registry_, "", [this] { return now_; });
  }
  void TearDown() override {
    manager_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  alerting::AlertTransition Alert(alerting::AlertState state, const std::string& severity,
                                  const std::string& fp = "fp1") {
    alerting::AlertTransition t;
    t.alert.fingerprint = fp;
    t.alert.name = "ModelAccuracyLow";
    t.alert.labels = {{"alertname", "ModelAccuracyLow"}, {"model", "iris"}, {"severity", severity}};
    t.alert.annotations["summary"] = "iris: accuracy below 90 %";
    t.alert.condition = "accuracy < 0.9";
    t.alert.value = 0.5;
    t.alert.state = state;
    t.alert.active_since_ms = 1'000'000;
    t.alert.fired_at_ms = 1'060'000;
    return t;
  }

  std::filesystem::path dir_;
  prometheus::Registry registry_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IncidentManager> manager_;
  int64_t now_ = 1'000'000;
};

TEST(Severity, ParsesAndMapsAlerts) {
  EXPECT_EQ(ParseSeverity("2"), "SEV2");
  EXPECT_EQ(ParseSeverity("sev1"), "SEV1");
  EXPECT_EQ(ParseSeverity("SEV-3"), "SEV3");
  EXPECT_FALSE(ParseSeverity("SEV5"));
  EXPECT_FALSE(ParseSeverity("high"));
  EXPECT_EQ(PolicyFor("SEV1").respond_minutes, 5);
  EXPECT_EQ(PolicyFor("SEV1").escalate_minutes, 15);
  EXPECT_EQ(PolicyFor("SEV2").escalate_minutes, 30);
  EXPECT_EQ(PolicyFor("SEV3").respond_minutes, 60);
  EXPECT_FALSE(PolicyFor("SEV4").escalate_minutes);
  alerting::Alert a;
  a.labels = {{"severity", "critical"}};
  EXPECT_EQ(SeverityForAlert(a), "SEV2");
  a.labels["severity"] = "warning";
  EXPECT_EQ(SeverityForAlert(a), "SEV3");
  a.labels["sev"] = "1";
  EXPECT_EQ(SeverityForAlert(a), "SEV1");
}

TEST_F(IncidentsTest, DeclareUpdateAcknowledgeResolveAndTheTimeline) {
  auto bad = manager_->Declare({"t", "", "SEV9", "", "ann"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto r = manager_->Declare({"Fraud model slow", "p95 over 1 s", "2", "fraud", "ann"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->id.size(), 12u);
  EXPECT_EQ(r->id.rfind("INC-", 0), 0u);
  EXPECT_EQ(r->severity, "SEV2");
  EXPECT_EQ(r->status, "investigating");
  ASSERT_EQ(r->timeline.size(), 1u);
  EXPECT_NE(r->timeline[0].text.find("respond within 15 min"), std::string::npos);

  now_ += 120'000;
  r = manager_->Acknowledge(r->id, "bob");
  EXPECT_EQ(r->acknowledged_ms, now_);
  EXPECT_EQ(r->responders, std::vector<std::string>{"bob"});
  now_ += 60'000;
  IncidentUpdate u;
  u.author = "bob";
  u.status = "identified";
  u.commander = "ann";
  u.note = "v2 deployed 30 min ago";
  r = manager_->Apply(r->id, u);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->commander, "ann");
  IncidentUpdate bad_status;
  bad_status.status = "done";
  EXPECT_EQ(manager_->Apply(r->id, bad_status).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Apply("INC-00000000", u).status().code(), StatusCode::kNotFound);
  now_ += 300'000;
  IncidentUpdate done;
  done.author = "bob";
  done.status = "resolved";
  done.action = "rolled back to v1";
  r = manager_->Apply(r->id, done);
  EXPECT_EQ(r->resolved_ms, now_);
  EXPECT_EQ(r->mitigated_ms, now_);
  std::vector<std::string> kinds;
  for (const auto& e : r->timeline) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"declared", "ack", "status", "role", "note", "status",
                                             "action"}));
  auto f = manager_->Figures();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->total, 1);
  EXPECT_EQ(f->open, 0);
  EXPECT_DOUBLE_EQ(*f->mtta, 120);
  EXPECT_DOUBLE_EQ(*f->mttr, 480);

  // Reopening clears the resolution.
  IncidentUpdate reopen;
  reopen.status = "investigating";
  r = manager_->Apply(r->id, reopen);
  EXPECT_EQ(r->resolved_ms, 0);
  EXPECT_EQ(manager_->List("open", 10)->size(), 1u);
  EXPECT_EQ(manager_->List("bogus", 10).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IncidentsTest, AlertsDeclareJoinAndResolveAutomaticIncidents) {
  now_ = 1'065'000;
  manager_->OnAlert(Alert(alerting::AlertState::kFiring, "critical"));
  auto list = manager_->List("open", 10);
  ASSERT_EQ(list->size(), 1u);
  auto r = manager_->Get((*list)[0].id);
  EXPECT_TRUE(r->automatic);
  EXPECT_EQ(r->severity, "SEV2");
  EXPECT_EQ(r->service, "iris");
  EXPECT_EQ(r->title, "iris: accuracy below 90 %");
  EXPECT_EQ(r->started_ms, 1'000'000);
  EXPECT_EQ(r->detected_ms, 1'060'000);
  EXPECT_EQ(r->declared_ms, 1'065'000);

  // A second alert on the same model joins it; a more severe one raises its severity.
  now_ = 1'070'000;
  manager_->OnAlert(Alert(alerting::AlertState::kFiring, "warning", "fp2"));
  EXPECT_EQ(manager_->List("", 10)->size(), 1u);
  auto sev1 = Alert(alerting::AlertState::kFiring, "critical", "fp3");
  sev1.alert.labels["sev"] = "1";
  manager_->OnAlert(sev1);
  EXPECT_EQ(manager_->Get(r->id)->severity, "SEV1");
  sev1.alert.state = alerting::AlertState::kResolved;
  manager_->OnAlert(sev1);
  now_ = 1'200'000;
  manager_->OnAlert(Alert(alerting::AlertState::kResolved, "critical"));
  EXPECT_EQ(manager_->Get(r->id)->status, "investigating");  // fp2 still firing
  now_ = 1'300'000;
  manager_->OnAlert(Alert(alerting::AlertState::kResolved, "warning", "fp2"));
  r = manager_->Get(r->id);
  EXPECT_EQ(r->status, "resolved");
  EXPECT_EQ(r->resolved_ms, 1'300'000);
  EXPECT_EQ(r->alerts, (std::vector<std::string>{"fp1", "fp2", "fp3"}));
  auto f = manager_->Figures();
  EXPECT_DOUBLE_EQ(*f->mttd, 60);
  EXPECT_DOUBLE_EQ(*f->mttr, 300);

  const std::string md = PostmortemMarkdown(*r);
  EXPECT_NE(md.find("# Incident Postmortem: iris: accuracy below 90 %"), std::string::npos);
  EXPECT_NE(md.find("**Incident ID**: " + r->id), std::string::npos);
  EXPECT_NE(md.find("**Severity**: SEV-1"), std::string::npos);
  EXPECT_NE(md.find("**Duration**: 5 minutes 0 seconds"), std::string::npos);
  EXPECT_NE(md.find("| Time | Event |"), std::string::npos);
  EXPECT_NE(md.find("Alert firing: ModelAccuracyLow on iris"), std::string::npos);
  EXPECT_NE(md.find("- **Time to detect**: 1 minutes 0 seconds"), std::string::npos);
  EXPECT_NE(md.find("## Root Cause\n[Detailed explanation"), std::string::npos);
  EXPECT_NE(md.find("## Action Items"), std::string::npos);
}

class FakeActions final : public ModelActions {
 public:
  std::optional<Deployment> LastDeployment(const std::string&) override { return last; }
  Result<std::string> Rollback(const std::string& model, const std::string& actor,
                               const std::string& reason) override {
    rollbacks.push_back(model + "|" + actor + "|" + reason);
    return std::string("2 -> 1");
  }
  std::optional<Deployment> last;
  std::vector<std::string> rollbacks;
};

TEST_F(IncidentsTest, RunbookRollsBackOnlyAfterARecentDeploymentAndOnlyInAutoMode) {
  FakeActions actions;
  auto config = std::make_shared<ModelConfig>();
  config->name = "iris";
  config->actions.rollback = ActionMode::kAuto;
  int64_t now_s = 10'000;
  RunbookActions runbook(
      actions, *manager_, [&](const std::string&) { return config; }, [&] { return now_s; });
  runbook.SetMetrics([](const std::string& model) { return model + " production v1, fine"; });
  auto fire = [&](const std::string& fp) {
    auto t = Alert(alerting::AlertState::kFiring, "critical", fp);
    t.alert.signal = "accuracy";
    manager_->OnAlert(t);
    runbook.OnAlert(t);
    return *manager_->IncidentForAlert(fp);
  };
  // Promoted 3 minutes ago: roll back.
  actions.last = ModelActions::Deployment{now_s - 180, "promote", 1, 2};
  std::string id = fire("a1");
  ASSERT_EQ(actions.rollbacks.size(), 1u);
  EXPECT_NE(
      actions.rollbacks[0].find("iris|vigil|automatic rollback: ModelAccuracyLow fired 3 min"),
      std::string::npos);
  auto r = manager_->Get(id);
  EXPECT_EQ(r->timeline.back().kind, "action");
  EXPECT_NE(r->timeline.back().text.find("Rolled back iris 2 -> 1"), std::string::npos);
  // actions.verify_after (5 min) later, the metrics go into the timeline.
  EXPECT_EQ(runbook.Verify(), 0);
  now_s += 299;
  EXPECT_EQ(runbook.Verify(), 0);
  now_s += 1;
  EXPECT_EQ(runbook.Verify(), 1);
  EXPECT_EQ(runbook.Verify(), 0);
  r = manager_->Get(id);
  EXPECT_EQ(r->timeline.back().kind, "verify");
  EXPECT_EQ(r->timeline.back().text, "After the rollback, 5 min on: iris production v1, fine");
  // The same incident is triaged once.
  auto again = Alert(alerting::AlertState::kFiring, "critical", "a2");
  again.alert.signal = "accuracy";
  manager_->OnAlert(again);
  runbook.OnAlert(again);
  EXPECT_EQ(actions.rollbacks.size(), 1u);
  IncidentUpdate close;
  close.status = "resolved";
  manager_->Apply(id, close).ok();

  // Promoted two hours ago: no rollback, the drift investigation instead.
  actions.last = ModelActions::Deployment{now_s - 7200, "promote", 1, 2};
  id = fire("b1");
  EXPECT_EQ(actions.rollbacks.size(), 1u);
  EXPECT_NE(manager_->Get(id)->timeline.back().text.find("vigil drift iris --window 24h"),
            std::string::npos);
  manager_->Apply(id, close).ok();

  // Suggest mode writes the command and does nothing.
  config->actions.rollback = ActionMode::kSuggest;
  actions.last = ModelActions::Deployment{now_s - 60, "promote", 1, 2};
  id = fire("c1");
  EXPECT_EQ(actions.rollbacks.size(), 1u);
  EXPECT_NE(manager_->Get(id)->timeline.back().text.find("Suggested (actions.rollback: suggest): "
                                                         "vigil rollback iris"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil::incidents
