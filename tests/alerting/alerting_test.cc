#include <gtest/gtest.h>

#include "alerting/alert_codec.h"
#include "alerting/evaluator.h"
#include "alerting/rule.h"
#include "alerting/silence.h"

namespace vigil::alerting {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Values set by the test, per model.
class FakeSource final : public SignalSource {
 public:
  std::vector<SignalValue> Read(const AlertRule& rule) override {
    std::vector<SignalValue> out;
    for (const auto& [model, v] : values) {
      if (rule.model.empty() || rule.model == model) out.push_back({{{"model", model}}, v});
    }
    return out;
  }
  std::map<std::string, double> values;
};

AlertRule AccuracyRule() {
  AlertRule r;
  r.name = "ModelAccuracyLow";
  r.signal = Signal::kAccuracy;
  r.comparator = Comparator::kLess;
  r.threshold = 0.9;
  r.for_duration = seconds(60);
  r.severity = "critical";
  r.labels["team"] = "ml";
  return r;
}

TEST(AlertEvaluator, PendingThenFiringAfterForThenResolved) {
  ManualClock clock;
  AlertEvaluator ev(clock);
  FakeSource src;
  std::vector<AlertRule> rules = {AccuracyRule()};
  src.values["iris"] = 0.95;
  EXPECT_TRUE(ev.Evaluate(rules, src, 1000).empty());
  EXPECT_TRUE(ev.Snapshot().empty());

  src.values["iris"] = 0.7;
  EXPECT_TRUE(ev.Evaluate(rules, src, 2000).empty());
  auto snap = ev.Snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].state, AlertState::kPending);
  EXPECT_EQ(snap[0].labels.at("alertname"), "ModelAccuracyLow");
  EXPECT_EQ(snap[0].labels.at("model"), "iris");
  EXPECT_EQ(snap[0].labels.at("severity"), "critical");
  EXPECT_EQ(snap[0].labels.at("team"), "ml");
  EXPECT_EQ(snap[0].condition, "accuracy < 0.9");
  const std::string fp = snap[0].fingerprint;

  clock.Advance(seconds(59));
  EXPECT_TRUE(ev.Evaluate(rules, src, 61000).empty());
  clock.Advance(seconds(1));
  auto t = ev.Evaluate(rules, src, 62000);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, AlertState::kPending);
  EXPECT_EQ(t[0].alert.state, AlertState::kFiring);
  EXPECT_EQ(t[0].alert.fingerprint, fp);  // the same alert, moved on
  EXPECT_EQ(t[0].alert.active_since_ms, 2000);
  EXPECT_EQ(t[0].alert.fired_at_ms, 62000);
  EXPECT_DOUBLE_EQ(t[0].alert.value, 0.7);
  EXPECT_TRUE(ev.Evaluate(rules, src, 63000).empty());  // firing stays firing, once

  src.values["iris"] = 0.93;
  t = ev.Evaluate(rules, src, 70000);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].alert.state, AlertState::kResolved);
  EXPECT_EQ(t[0].alert.resolved_at_ms, 70000);
  snap = ev.Snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].state, AlertState::kResolved);
}

TEST(AlertEvaluator, PendingThatClearsIsForgottenAndSeriesAreSeparate) {
  ManualClock clock;
  AlertEvaluator ev(clock);
  FakeSource src;
  std::vector<AlertRule> rules = {AccuracyRule()};
  src.values["iris"] = 0.5;
  src.values["fraud"] = 0.5;
  ev.Evaluate(rules, src, 0);
  EXPECT_EQ(ev.Snapshot().size(), 2u);
  src.values["iris"] = 0.99;
  clock.Advance(seconds(120));
  auto t = ev.Evaluate(rules, src, 120000);
  ASSERT_EQ(t.size(), 1u);  // only fraud fires; iris was pending and is dropped
  EXPECT_EQ(t[0].alert.labels.at("model"), "fraud");
  // A series that disappears (the model was unloaded) resolves.
  src.values.erase("fraud");
  t = ev.Evaluate(rules, src, 130000);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].alert.state, AlertState::kResolved);
  EXPECT_NE(Fingerprint({{"a", "bc"}}), Fingerprint({{"ab", "c"}}));
}

TEST(AlertEvaluator, ZeroForFiresAtOnce) {
  ManualClock clock;
  AlertEvaluator ev(clock);
  FakeSource src;
  AlertRule r = AccuracyRule();
  r.for_duration = milliseconds(0);
  src.values["iris"] = 0.1;
  auto t = ev.Evaluate({r}, src, 5);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].alert.state, AlertState::kFiring);
}

TEST(AlertRules, BuiltinsFollowTheModelsSlo) {
  ModelConfig c;
  c.name = "iris";
  TensorSpec out;
  out.labels = {"a", "b"};
  c.outputs.push_back(out);
  c.slo.accuracy_min = 0.85;
  auto rules = BuiltinRules(c);
  std::map<std::string, AlertRule> by;
  for (const auto& r : rules) by[r.name] = r;
  ASSERT_TRUE(by.count("ModelAccuracyLow"));
  EXPECT_DOUBLE_EQ(by["ModelAccuracyLow"].threshold, 0.85);
  EXPECT_EQ(by["ModelAccuracyLow"].severity, "critical");
  EXPECT_DOUBLE_EQ(by["ModelHighLatency"].threshold, 0.2);  // runbook 000's 200 ms
  EXPECT_DOUBLE_EQ(by["ModelHighErrorRate"].threshold, 0.01);
  EXPECT_TRUE(by.count("ModelCircuitBreakerOpen"));
  // Multiwindow burn rates: 14.4x over 1 h and 5 m, 6x over 6 h and 30 m, 1x over 3 d, 6 h.
  ASSERT_TRUE(by.count("ModelErrorBudgetBurnFast"));
  EXPECT_DOUBLE_EQ(by["ModelErrorBudgetBurnFast"].threshold, 14.4);
  EXPECT_EQ(by["ModelErrorBudgetBurnFast"].window, std::chrono::hours(1));
  EXPECT_EQ(by["ModelErrorBudgetBurnFast"].short_window, std::chrono::minutes(5));
  EXPECT_DOUBLE_EQ(by["ModelErrorBudgetBurnFast"].objective, 0.99);
  EXPECT_DOUBLE_EQ(by["ModelLatencyBudgetBurnSlow"].threshold, 6);
  EXPECT_EQ(by["ModelLatencyBudgetBurnSlow"].short_window, std::chrono::minutes(30));
  EXPECT_EQ(by["ModelErrorBudgetBurnTicket"].window, std::chrono::hours(72));
  EXPECT_EQ(by["ModelErrorBudgetBurnTicket"].severity, "info");
  EXPECT_TRUE(by.count("ModelDataDrift"));
  for (const auto& r : rules) EXPECT_EQ(r.model, "iris");
  c.outputs[0].labels.clear();  // a regressor has no accuracy rule
  for (const auto& r : BuiltinRules(c)) EXPECT_NE(r.name, "ModelAccuracyLow");
}

TEST(AlertRules, CustomRulesParseAndErrorsNameTheField) {
  auto rules = ParseRulesText(R"(
rules:
  - name: IrisSlow
    signal: latency
    aggregation: p99
    model: iris
    window: 10m
    comparator: ">="
    threshold: 0.15
    for: 2m
    severity: warning
    labels: {team: ml}
    annotations: {summary: "iris p99 over 150 ms", runbook_url: "https://runbooks/iris"}
)",
                              "rules.yaml");
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  ASSERT_EQ(rules->size(), 1u);
  const AlertRule& r = (*rules)[0];
  EXPECT_EQ(r.signal, Signal::kLatency);
  EXPECT_DOUBLE_EQ(r.quantile, 0.99);
  EXPECT_EQ(r.window, std::chrono::minutes(10));
  EXPECT_EQ(r.for_duration, std::chrono::minutes(2));
  EXPECT_EQ(r.comparator, Comparator::kGreaterEqual);
  EXPECT_EQ(r.annotations.at("runbook_url"), "https://runbooks/iris");

  auto bad = [](const std::string& rule) {
    auto r = ParseRulesText("rules:\n  - " + rule + "\n", "rules.yaml");
    EXPECT_FALSE(r.ok()) << rule;
    return r.status().message();
  };
  EXPECT_NE(bad("{name: A, signal: nope, threshold: 1}").find("rules[0].signal: expected one of"),
            std::string::npos);
  EXPECT_NE(bad("{name: A, signal: accuracy}").find("rules[0].threshold"), std::string::npos);
  EXPECT_NE(bad("{name: A, signal: accuracy, threshold: 1, comparator: '=>'}").find("comparator"),
            std::string::npos);
  EXPECT_NE(bad("{name: A, signal: accuracy, threshold: 1, severty: info}")
                .find("did you mean 'severity'"),
            std::string::npos);
  EXPECT_NE(bad("{name: A, signal: accuracy, threshold: 1, labels: {severity: x}}")
                .find("labels.severity"),
            std::string::npos);
  EXPECT_NE(bad("{name: A, signal: error_rate, threshold: 1, aggregation: p99}")
                .find("only the latency signal"),
            std::string::npos);
}

TEST(AlertRules, TheServiceWatchesItsOwnHealth) {
  auto rules = ServiceRules();
  std::map<std::string, AlertRule> by_name;
  for (const auto& r : rules) {
    EXPECT_TRUE(IsServiceSignal(r.signal)) << r.name;
    EXPECT_TRUE(r.model.empty()) << r.name;
    by_name[r.name] = r;
  }
  ASSERT_EQ(by_name.size(), 5u);
  const AlertRule& down = by_name.at("VigilServiceUnhealthy");
  EXPECT_EQ(down.signal, Signal::kServiceHealth);
  EXPECT_EQ(down.threshold, 2);
  EXPECT_EQ(down.labels.at("sev"), "SEV1");  // DESIGN 9.8: down with no fallback
  EXPECT_EQ(by_name.at("VigilServiceDegraded").for_duration, std::chrono::minutes(5));
  EXPECT_EQ(by_name.at("VigilNotificationsDelayed").threshold, 300);
  EXPECT_FALSE(IsServiceSignal(Signal::kAccuracy));

  auto custom = ParseRulesText(
      "rules:\n  - {name: Backlog, signal: notification_backlog_seconds, threshold: 60}\n",
      "rules.yaml");
  ASSERT_TRUE(custom.ok()) << custom.status().message();
  EXPECT_EQ((*custom)[0].signal, Signal::kNotificationBacklog);
  auto bad = ParseRulesText(
      "rules:\n  - {name: A, signal: service_health, model: iris, threshold: 1}\n", "rules.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rules[0].model: 'service_health' is about the service"),
            std::string::npos);
}

TEST(AlertCodec, RoundTripsWhatARestartNeeds) {
  Alert a;
  a.fingerprint = "00000000000000aa";
  a.name = "ModelAccuracyLow";
  a.signal = "accuracy";
  a.labels = {{"alertname", "ModelAccuracyLow"}, {"model", "iris"}, {"note", "a \"quote\""}};
  a.annotations = {{"summary", "iris: accuracy below 90 %"}};
  a.state = AlertState::kFiring;
  a.value = 0.5;
  a.threshold = 0.9;
  a.condition = "accuracy < 0.9";
  a.active_since_ms = 1000;
  a.fired_at_ms = 2000;
  a.source = "api";
  a.ends_at_ms = 9000;
  a.acknowledged_by = "bob";
  a.acknowledged_ms = 3000;
  auto b = DecodeAlert(EncodeAlert(a));
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->fingerprint, a.fingerprint);
  EXPECT_EQ(b->labels, a.labels);
  EXPECT_EQ(b->annotations, a.annotations);
  EXPECT_EQ(b->state, AlertState::kFiring);
  EXPECT_EQ(b->value, 0);  // read again at the first evaluation
  EXPECT_EQ(b->threshold, 0.9);
  EXPECT_EQ(b->condition, a.condition);
  EXPECT_EQ(b->fired_at_ms, 2000);
  EXPECT_EQ(b->ends_at_ms, 9000);
  EXPECT_EQ(b->source, "api");
  EXPECT_EQ(b->acknowledged_by, "bob");
  EXPECT_FALSE(DecodeAlert("{}").ok());
  EXPECT_FALSE(DecodeAlert("nope").ok());
}

TEST(AlertRules, SloSectionIsValidated) {
  ModelDefaults d;
  const std::string base =
      "backend: torchscript\ninputs: [{name: x, shape: [-1, 1]}]\n"
      "outputs: [{name: y, shape: [-1, 2], labels: [a, b]}]\n";
  auto ok = ParseModelConfigText(base + "slo: {accuracy_min: 0.8, window: 1m, for: 0s}\n", "c.yaml",
                                 "m", d);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_DOUBLE_EQ(ok->slo.accuracy_min, 0.8);
  EXPECT_EQ(ok->slo.for_duration, milliseconds(0));
  auto bad = ParseModelConfigText(base + "slo: {accuracy_min: 2}\n", "c.yaml", "m", d);
  EXPECT_NE(bad.status().message().find("slo.accuracy_min: expected a number in [0, 1]"),
            std::string::npos);
  auto typo = ParseModelConfigText(base + "slo: {latency_p95: 2}\n", "c.yaml", "m", d);
  EXPECT_NE(typo.status().message().find("did you mean 'latency_p95_ms'"), std::string::npos);
}

TEST(Silences, MatchersFollowAlertmanager) {
  auto eq = ParseMatcher("alertname=ModelAccuracyLow");
  auto ne = ParseMatcher("severity!=info");
  auto re = ParseMatcher("model=~ir.*");
  auto nre = ParseMatcher("team!~ml-.*");
  ASSERT_TRUE(eq.ok() && ne.ok() && re.ok() && nre.ok());
  std::map<std::string, std::string> labels = {
      {"alertname", "ModelAccuracyLow"}, {"model", "iris"}, {"severity", "critical"}};
  EXPECT_TRUE(eq->Matches(labels));
  EXPECT_TRUE(ne->Matches(labels));
  EXPECT_TRUE(re->Matches(labels));
  EXPECT_TRUE(nre->Matches(labels));  // no team label: "" does not match ml-.*
  labels["model"] = "xiris";
  EXPECT_FALSE(re->Matches(labels));  // anchored
  EXPECT_EQ(re->ToString(), "model=~ir.*");
  EXPECT_FALSE(ParseMatcher("model=~(").ok());
  EXPECT_FALSE(ParseMatcher("=x").ok());
  EXPECT_FALSE(ParseMatcher("model").ok());

  Silence s;
  s.matchers = {*eq, *re};
  s.starts_ms = 100;
  s.ends_ms = 200;
  labels["model"] = "iris";
  EXPECT_TRUE(s.Matches(labels));
  EXPECT_TRUE(s.ActiveAt(100));
  EXPECT_FALSE(s.ActiveAt(200));
  labels["alertname"] = "Other";
  EXPECT_FALSE(s.Matches(labels));
}

}  // namespace
}  // namespace vigil::alerting
