#include "serving/rollout_policy.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

using std::chrono::milliseconds;

VariantStats Stats(double success, double error, std::vector<double> cumulative) {
  VariantStats s;
  s.success = success;
  s.error = error;
  s.bounds = {0.001, 0.01, 0.1, 1e9};
  s.cumulative = std::move(cumulative);
  return s;
}

GradualPlan Plan() {
  GradualPlan p;
  p.steps = {10, 50, 100};
  p.hold = milliseconds(1000);
  p.min_requests = 10;
  return p;
}

}  // namespace

TEST(GradualPlan, SerializeParseRoundTripAndValidation) {
  auto p = GradualPlan::Parse(Plan().Serialize());
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->steps, (std::vector<double>{10, 50, 100}));
  EXPECT_EQ(p->hold, milliseconds(1000));
  EXPECT_EQ(p->min_requests, 10);
  EXPECT_EQ(GradualPlan::Parse("steps=5,25")->steps.back(), 100);  // always ends at 100
  EXPECT_FALSE(GradualPlan::Parse("steps=50,25").ok());
  EXPECT_FALSE(GradualPlan::Parse("steps=5;bogus=1").ok());
}

TEST(EvaluateStep, WaitsForHoldAndTrafficThenAdvancesThenPromotes) {
  const auto healthy = Stats(100, 0, {50, 100, 100, 100});
  EXPECT_EQ(EvaluateStep(Plan(), 0, milliseconds(999), healthy, healthy).kind,
            StepDecision::Kind::kWait);
  EXPECT_EQ(EvaluateStep(Plan(), 0, milliseconds(1000), Stats(5, 0, {5, 5, 5, 5}), healthy).kind,
            StepDecision::Kind::kWait);  // too few requests to judge
  EXPECT_EQ(EvaluateStep(Plan(), 0, milliseconds(1000), healthy, healthy).kind,
            StepDecision::Kind::kAdvance);
  EXPECT_EQ(EvaluateStep(Plan(), 2, milliseconds(1000), healthy, healthy).kind,
            StepDecision::Kind::kPromote);
}

TEST(EvaluateStep, ErrorRateGuardrailAbortsAtOnce) {
  const auto production = Stats(100, 1, {50, 101, 101, 101});
  const auto failing = Stats(80, 20, {50, 100, 100, 100});
  auto d = EvaluateStep(Plan(), 1, milliseconds(0), failing, production);
  EXPECT_EQ(d.kind, StepDecision::Kind::kAbort);
  EXPECT_NE(d.reason.find("guardrail: error rate 0.2000 > production 0.0099"), std::string::npos);
}

TEST(EvaluateStep, DisagreementGuardrail) {
  const auto production = Stats(100, 0, {50, 100, 100, 100});
  auto candidate = Stats(100, 0, {50, 100, 100, 100});
  candidate.agree = 80;
  candidate.disagree = 20;
  auto d = EvaluateStep(Plan(), 0, milliseconds(0), candidate, production);
  EXPECT_EQ(d.kind, StepDecision::Kind::kAbort);
  EXPECT_NE(d.reason.find("disagreement with production 0.2000 > 0.1000"), std::string::npos);
  candidate.agree = 95;
  candidate.disagree = 5;
  EXPECT_EQ(EvaluateStep(Plan(), 0, milliseconds(0), candidate, production).kind,
            StepDecision::Kind::kWait);
}

TEST(EvaluateStep, AccuracyGuardrailNeedsLabelsOnBothSides) {
  GradualPlan plan = Plan();
  plan.min_labels = 10;
  plan.max_accuracy_drop = 0.05;
  VariantStats cand = Stats(50, 0, {50, 50, 50, 50});
  VariantStats prod = Stats(50, 0, {50, 50, 50, 50});
  cand.labelled = 20;
  cand.correct = 14;  // 0.70
  prod.labelled = 9;  // too few labels on production's side: no verdict yet
  prod.correct = 9;
  EXPECT_EQ(EvaluateStep(plan, 0, milliseconds(0), cand, prod).kind, StepDecision::Kind::kWait);
  prod.labelled = 20;
  prod.correct = 19;  // 0.95
  StepDecision d = EvaluateStep(plan, 0, milliseconds(0), cand, prod);
  EXPECT_EQ(d.kind, StepDecision::Kind::kAbort);
  EXPECT_NE(d.reason.find("guardrail: accuracy 0.7000 < production 0.9500 - 0.0500"),
            std::string::npos);
  cand.correct = 18;  // 0.90: within the allowed drop
  EXPECT_EQ(EvaluateStep(plan, 0, milliseconds(0), cand, prod).kind, StepDecision::Kind::kWait);
  auto parsed = GradualPlan::Parse(plan.Serialize());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->min_labels, 10);
  EXPECT_DOUBLE_EQ(parsed->max_accuracy_drop, 0.05);
}

TEST(EvaluateStep, LatencyGuardrail) {
  const auto production = Stats(100, 0, {96, 100, 100, 100});  // p95 1 ms
  const auto slow = Stats(100, 0, {0, 10, 100, 100});          // p95 100 ms
  auto d = EvaluateStep(Plan(), 0, milliseconds(0), slow, production);
  EXPECT_EQ(d.kind, StepDecision::Kind::kAbort);
  EXPECT_NE(d.reason.find("p95 latency 100.0 ms"), std::string::npos);
}

TEST(VariantStats, SinceSubtractsAStepStart) {
  const auto start = Stats(10, 1, {5, 10, 11, 11});
  const auto now = Stats(30, 1, {20, 30, 31, 31});
  const auto d = now.Since(start);
  EXPECT_EQ(d.success, 20);
  EXPECT_EQ(d.error, 0);
  EXPECT_EQ(d.cumulative, (std::vector<double>{15, 20, 20, 20}));
  EXPECT_EQ(d.p95_seconds(), 0.01);
}

}  // namespace vigil
