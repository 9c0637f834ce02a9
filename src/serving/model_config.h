// ModelConfig: what <repo>/<model>/config.yaml declares (DESIGN.md §4).
//
// ParseModelConfig never throws: every problem is an InvalidArgument whose message
// names the file, the field and what was expected, e.g.
//   "models/iris/config.yaml: inputs[0].dtype: expected one of BOOL, INT32, INT64,
//    FP32, FP64, got 'FLOAT'".
// Unknown keys are errors naming the closest known key (DESIGN.md §9.5).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "serving/circuit_breaker.h"

namespace vigil {

struct TensorSpec {
  std::string name;
  DataType dtype = DataType::kFp32;
  std::vector<int64_t> shape;                     // shape[0] == -1: the batch dimension
  std::vector<std::string> features;              // inputs: names of the last dimension
  std::vector<std::pair<double, double>> ranges;  // inputs: per-feature [min, max]
  std::vector<std::string> labels;                // outputs: class labels

  // Elements per row (product of the dimensions after the batch one).
  int64_t row_elements() const;
};

struct BatchingConfig {
  int max_batch_size = 64;
  // 0: a batch runs as soon as the worker is free; requests that arrive while it runs
  // form the next batch. >0: also wait up to this long for a fuller batch.
  std::chrono::microseconds max_queue_delay{0};
  int max_queue_size = 1024;
};

// Which versions of a model are served.
struct VersionPolicy {
  enum class Kind { kLatest, kAll, kSpecific } kind = Kind::kLatest;
  std::vector<int64_t> versions;  // kSpecific
};

// Process-wide defaults a model's config overrides (from flags/env: MAX_BATCH_SIZE,
// BATCH_TIMEOUT_MS, ...).
struct ModelDefaults {
  BatchingConfig batching;
  std::chrono::milliseconds request_timeout{10'000};
  int threads = 1;
  std::string device = "cpu";
};

// A check run before a version takes traffic: one input row and what must come out.
struct SmokeTest {
  std::vector<double> input;                              // one row of the (single) input
  std::string expect_label;                               // the classifier's label, or ""
  std::optional<std::pair<double, double>> expect_range;  // every value of the first output
};

// monitor: validation of inputs and drift detection (the monitoring issue).
enum class ValidationMode { kOff, kFlag, kReject };
std::string_view ValidationModeName(ValidationMode m);

// monitor.features.<name>: what one input feature may hold and how it drifts.
struct FeatureMonitorConfig {
  std::string name;
  bool categorical = false;
  std::vector<double> categories;                  // allowed values (categorical)
  std::optional<std::pair<double, double>> range;  // overrides inputs[].ranges
  bool allow_missing = false;                      // missing values are not violations
  std::string drift_method;                        // "" = the model's drift.method
  std::optional<double> drift_threshold;
};

struct DriftConfig {
  // auto | ks | psi | wasserstein | jensenshannon | chisquare
  std::string method = "auto";
  std::optional<double> threshold;  // for `method` (defaults per method)
  int64_t small_window = 1000;      // auto: tests up to this many rows, distances above
  double p_value = 0.05;            // significance of ks / chisquare
  std::string correction = "bh";    // bh | bonferroni | none
  double dataset_drift_share = 0.5;
  std::chrono::milliseconds window{std::chrono::hours(1)};  // default window
  int64_t min_samples = 30;                                 // fewer rows in a window: no verdict
};

struct MonitorConfig {
  bool enabled = true;
  ValidationMode validation = ValidationMode::kFlag;
  std::vector<FeatureMonitorConfig> features;  // only those configured
  DriftConfig drift;
  std::chrono::milliseconds bucket{std::chrono::minutes(5)};  // live window granularity
  std::chrono::milliseconds retention{std::chrono::hours(24)};
  int64_t accuracy_window = 1000;  // latest labelled predictions per version
  std::chrono::milliseconds predictions_retention{std::chrono::hours(24 * 7)};
  int64_t max_stored_predictions = 1'000'000;  // per model

  const FeatureMonitorConfig* Find(std::string_view feature) const;
};

// slo: the service levels the built-in alert rules hold the model to (DESIGN.md §4).
struct SloConfig {
  double latency_p95_ms = 200;      // runbook 000: p95 < 200 ms
  double error_rate = 0.01;         // errors / requests
  double accuracy_min = 0.90;       // runbook 001: accuracy > 90 %
  double queue_saturation = 0.9;    // queue depth / max_queue_size
  double availability = 0.99;       // SLO objective: share of requests without error
  double latency_objective = 0.99;  // SLO objective: share under latency_p95_ms
  std::chrono::milliseconds window{std::chrono::minutes(5)};
  std::chrono::milliseconds for_duration{std::chrono::minutes(1)};
};

// actions: what Vigil does on its own when an alert fires (the runbooks' first steps).
enum class ActionMode { kOff, kSuggest, kAuto };
std::string_view ActionModeName(ActionMode m);
struct ActionsConfig {
  // A quality alert (accuracy, error rate, drift) shortly after a deployment: roll back
  // to `previous`. Otherwise the incident gets the drift investigation's commands.
  ActionMode rollback = ActionMode::kSuggest;
  std::chrono::milliseconds recent_deploy{std::chrono::hours(1)};
  // How long after an action (a rollback, the breaker's fallback) the model's metrics are
  // read back into the incident's timeline: did it help?
  std::chrono::milliseconds verify_after{std::chrono::minutes(5)};
};

struct ModelConfig {
  std::string name;
  std::string backend;  // torchscript | xgboost
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  BatchingConfig batching;
  VersionPolicy version_policy;
  std::optional<int64_t> production_version;
  // When set (e.g. "accuracy"), promote requires the candidate's recorded metric to be
  // >= the production version's (runbook 001's retraining gate); --force overrides.
  std::string promotion_gate;
  BreakerPolicy circuit_breaker;  // per version
  int warmup_requests = 2;        // synthetic one-row requests before taking traffic
  std::vector<SmokeTest> smoke_tests;
  // fallback: MODEL[:VERSION] answers while this model's breaker is open or it is not ready.
  std::string fallback_model;
  std::optional<int64_t> fallback_version;
  std::chrono::milliseconds request_timeout{10'000};
  int threads = 1;  // intra-op threads per model instance
  std::string device = "cpu";
  MonitorConfig monitor;
  SloConfig slo;
  ActionsConfig actions;

  const TensorSpec* FindInput(std::string_view n) const;
  const TensorSpec* FindOutput(std::string_view n) const;
};

// Parses the YAML text of a config; `file` is used for error messages only.
Result<ModelConfig> ParseModelConfigText(const std::string& text, const std::string& file,
                                         const std::string& model_name,
                                         const ModelDefaults& defaults);

Result<ModelConfig> ParseModelConfig(const std::filesystem::path& file,
                                     const std::string& model_name, const ModelDefaults& defaults);

}  // namespace vigil
