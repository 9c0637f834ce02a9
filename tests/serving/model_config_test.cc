#include "serving/model_config.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

const char* kIris = R"(
backend: torchscript
inputs:
  - {name: input, dtype: FP32, shape: [-1, 4], features: [a, b, c, d],
     ranges: [[4, 8], [2, 4.5], [1, 7], [0.1, 2.5]]}
outputs:
  - {name: probabilities, dtype: FP32, shape: [-1, 3], labels: [x, y, z]}
batching: {max_batch_size: 32, max_queue_delay_ms: 2.5, max_queue_size: 100}
versions: all
production_version: 1
request_timeout: 2s
)";

Result<ModelConfig> Parse(const std::string& text) {
  return ParseModelConfigText(text, "models/iris/config.yaml", "iris", ModelDefaults{});
}

std::string ErrorOf(const std::string& text) {
  auto r = Parse(text);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

}  // namespace

TEST(ParseModelConfig, ReadsEveryField) {
  auto c = Parse(kIris);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->backend, "torchscript");
  ASSERT_EQ(c->inputs.size(), 1u);
  EXPECT_EQ(c->inputs[0].shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ(c->inputs[0].features.size(), 4u);
  EXPECT_EQ(c->inputs[0].ranges[1].second, 4.5);
  EXPECT_EQ(c->outputs[0].labels[2], "z");
  EXPECT_EQ(c->batching.max_batch_size, 32);
  EXPECT_EQ(c->batching.max_queue_delay, std::chrono::microseconds(2500));
  EXPECT_EQ(c->batching.max_queue_size, 100);
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kAll);
  EXPECT_EQ(c->production_version, 1);
  EXPECT_EQ(c->request_timeout, std::chrono::milliseconds(2000));
}

TEST(ParseModelConfig, DefaultsComeFromProcessDefaults) {
  ModelDefaults d;
  d.batching.max_batch_size = 7;
  d.batching.max_queue_delay = std::chrono::milliseconds(9);
  auto c = ParseModelConfigText(R"(
backend: xgboost
inputs: [{name: f, dtype: FP32, shape: [-1, 3]}]
outputs: [{name: p, dtype: FP32, shape: [-1, 2]}]
)",
                                "f.yaml", "m", d);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->batching.max_batch_size, 7);
  EXPECT_EQ(c->batching.max_queue_delay, std::chrono::milliseconds(9));
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kLatest);
}

TEST(ParseModelConfig, ErrorsNameFileFieldAndExpectation) {
  std::string text = kIris;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  EXPECT_EQ(ErrorOf(replace("dtype: FP32, shape: [-1, 4]", "dtype: FLOAT, shape: [-1, 4]")),
            "models/iris/config.yaml: inputs[0].dtype: expected one of BOOL, INT32, INT64, FP32, "
            "FP64, got 'FLOAT'");
  EXPECT_NE(ErrorOf(replace("shape: [-1, 4]", "shape: [-1, x]"))
                .find("inputs[0].shape[1]: expected an integer"),
            std::string::npos);
  EXPECT_NE(ErrorOf(replace("backend: torchscript", "bakend: torchscript"))
                .find("bakend: unknown key (did you mean 'backend'?)"),
            std::string::npos);
  EXPECT_NE(ErrorOf(replace("backend: torchscript", "backend: tensorflow"))
                .find("backend: expected one of torchscript, xgboost"),
            std::string::npos);
  EXPECT_NE(ErrorOf(replace("labels: [x, y, z]", "labels: [x, y]")).find("outputs[0].labels"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(replace("max_batch_size: 32", "max_batch_size: 0")).find("batching.max_batch_size"),
      std::string::npos);
  EXPECT_NE(ErrorOf("backend: [").find("not valid YAML"), std::string::npos);
  EXPECT_NE(ErrorOf("- a\n- b\n").find("expected a mapping"), std::string::npos);
}

TEST(ParseModelConfig, BreakerFallbackWarmupAndSmokeTests) {
  std::string text = std::string(kIris) + R"(
circuit_breaker: {failure_threshold: 3, recovery_timeout: 30, half_open_max_calls: 2}
fallback: iris:1
warmup: {requests: 7}
smoke_tests:
  - {input: [5.1, 3.5, 1.4, 0.2], expect_label: x}
  - {input: [1, 2, 3, 4], expect_range: [0, 1]}
)";
  auto c = Parse(text);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->circuit_breaker.failure_threshold, 3);
  EXPECT_EQ(c->circuit_breaker.recovery_timeout, std::chrono::seconds(30));  // bare = seconds
  EXPECT_EQ(c->circuit_breaker.half_open_max_calls, 2);
  EXPECT_EQ(c->fallback_model, "iris");
  EXPECT_EQ(c->fallback_version, 1);
  EXPECT_EQ(c->warmup_requests, 7);
  ASSERT_EQ(c->smoke_tests.size(), 2u);
  EXPECT_EQ(c->smoke_tests[0].expect_label, "x");
  EXPECT_EQ(c->smoke_tests[1].expect_range->second, 1.0);
  EXPECT_NE(ErrorOf(std::string(kIris) + "fallback: iris\n").find("expected another model"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kIris) + "smoke_tests: [{input: [1, 2], expect_label: x}]\n")
                .find("smoke_tests[0].input: expected a list of 4 numbers"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kIris) + "smoke_tests: [{input: [1, 2, 3, 4], expect_label: q}]\n")
                .find("'q' is not one of outputs[0].labels"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kIris) + "circuit_breaker: {failure_treshold: 3}\n")
                .find("did you mean 'failure_threshold'"),
            std::string::npos);
}

TEST(ParseModelConfig, XGBoostNeedsOneFp32Input) {
  auto e = ErrorOf(R"(
backend: xgboost
inputs: [{name: f, dtype: INT32, shape: [-1, 3]}]
outputs: [{name: p, dtype: FP32, shape: [-1, 2]}]
)");
  EXPECT_NE(e.find("inputs[0].dtype: the xgboost backend expects FP32"), std::string::npos);
}

}  // namespace vigil
