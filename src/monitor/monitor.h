// Monitor: data quality, drift and delayed-label accuracy per model version.
//
// The hot path calls Validate() (rule checks, counters; no lock, no allocation unless it
// fails) and Tap() (a bounded lock-free queue; a full queue drops and counts, never
// waits). The monitor's own thread drains the tap into per-version live windows and the
// prediction store, and refreshes the drift gauges every `interval`. Admin calls (drift,
// quality, feedback, performance) come from HTTP threads and take the version's mutex.
//
// Reference profiles are read from the model repository:
// <repo>/<model>/<version>/reference.json, else <repo>/<model>/reference.json; an edited
// file is picked up on the next evaluation.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "monitor/drift.h"
#include "monitor/input_validation.h"
#include "monitor/live_window.h"
#include "monitor/performance.h"
#include "monitor/tap.h"
#include "serving/model_config.h"
#include "serving/quality_signals.h"
#include "store/prediction_store.h"

namespace prometheus {
class Registry;
class Gauge;
}  // namespace prometheus

namespace vigil::monitor {

struct TapSample {
  std::shared_ptr<const ModelConfig> config;
  int64_t version = 0;
  int64_t rows = 0;
  int64_t unix_ms = 0;
  std::vector<float> features;  // rows x features (the validator's rule order)
  std::vector<float> outputs;   // rows x the first output's width
  std::string prediction_id;
  std::string request_id;  // the client's OIP id, "" when none
};

struct MonitorOptions {
  std::filesystem::path repository;
  size_t tap_capacity = 16384;
  std::chrono::milliseconds interval{10'000};  // drift gauges refresh
  std::string environment;                     // label on every series when set
};

struct QualityFeature {
  std::string feature;
  uint64_t rows = 0, missing = 0, out_of_range = 0, unknown_category = 0;
  double mean = 0, min = 0, max = 0;  // present values
};

struct QualityReport {
  std::string validation;  // off | flag | reject
  int64_t rows = 0;
  int64_t from_ms = 0, to_ms = 0;
  std::vector<QualityFeature> features;
};

struct DriftResult {
  DriftReport report;
  int64_t rows = 0;
  int64_t from_ms = 0, to_ms = 0;
  std::string reference;  // the profile file used
  size_t memory_bytes = 0;
};

// One label for one served row.
struct FeedbackItem {
  std::string prediction_id;  // "<id>" or "<id>:<row>"
  std::string request_id;     // the client's OIP id (with `row`)
  int64_t row = 0;
  std::optional<std::string> label;  // classifiers (a label, or a class index as text)
  std::optional<double> value;       // regressors, or a class index
};

struct FeedbackResult {
  int64_t accepted = 0;
  std::map<std::string, int64_t> by_version;  // "model:version" -> labels
};

// A prediction id "<id>:<row>" (a bare id is row 0), or the client's request id and row.
PredictionKey MakePredictionKey(const std::string& prediction_id, const std::string& request_id,
                                int64_t row);

class Monitor final : public QualitySignals {
 public:
  // `store` (nullable: predictions are then not kept) must outlive the monitor.
  Monitor(MonitorOptions options, PredictionStore* store, prometheus::Registry& registry);
  ~Monitor() override;
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Hot path. The validator of a config (built once per config, then lock-free).
  std::shared_ptr<const InputValidator> ValidatorFor(
      const std::shared_ptr<const ModelConfig>& config);
  // Checks `inputs` against the config's rules: InvalidArgument naming row, feature and
  // reason in reject mode; counts (and serves) in flag mode.
  // `validator` (nullable) receives the config's validator for the caller's further use.
  Status Validate(const std::shared_ptr<const ModelConfig>& config,
                  const std::vector<Tensor>& inputs, int64_t rows,
                  std::shared_ptr<const InputValidator>* validator = nullptr);
  // Counts a request refused before any feature could be read (wrong dtype or shape, not
  // a tensor): ml_input_validation_errors_total{feature="_request", reason="schema"}.
  void CountSchemaError(const std::string& model);
  // Hands a served request to the monitor; drops it (counted) when the tap is full.
  void Tap(TapSample&& sample);

  // Waits until every sample tapped before the call is in the windows and the store.
  void Flush();

  // Admin. `window` 0 = the model's configured drift window.
  Result<DriftResult> Drift(const std::shared_ptr<const ModelConfig>& config, int64_t version,
                            std::chrono::milliseconds window);
  Result<QualityReport> Quality(const std::shared_ptr<const ModelConfig>& config, int64_t version,
                                std::chrono::milliseconds window);
  Result<PerformanceReport> Performance(const std::shared_ptr<const ModelConfig>& config,
                                        int64_t version);
  // All or nothing: unknown ids (NotFound) and bad labels (InvalidArgument) are listed
  // and nothing of the batch is stored. `configs` resolves a model's current config.
  Result<FeedbackResult> Feedback(
      const std::vector<FeedbackItem>& items,
      const std::function<std::shared_ptr<const ModelConfig>(const std::string&)>& configs);

  // The stored rows (features, prediction) for `keys`, nullopt for unknown ones.
  Result<std::vector<std::optional<StoredPrediction>>> FindPredictions(
      const std::vector<PredictionKey>& keys);

  uint64_t dropped() const { return tap_.dropped(); }

  // QualitySignals: labels received (and correct ones) per version since start.
  LabelCounts Labels(const std::string& model, int64_t version) const override;

 private:
  struct VersionState;
  struct Metrics;

  VersionState& StateFor(const std::shared_ptr<const ModelConfig>& config, int64_t version);
  VersionState* FindState(const std::string& model, int64_t version);
  void Run();
  void Process(TapSample& s);
  void WritePending();
  void RefreshGauges();
  void UpdateAccuracyGauges(VersionState& st);
  // Loads (or reloads, when the file changed) the version's reference profile.
  void RefreshReference(VersionState& st);

  MonitorOptions options_;
  PredictionStore* store_;
  std::unique_ptr<Metrics> metrics_;
  TapQueue<TapSample> tap_;

  // Validators by config, published RCU-style for the hot path.
  using ValidatorMap =
      std::map<const ModelConfig*, std::pair<std::shared_ptr<const ModelConfig>,
                                             std::shared_ptr<const InputValidator>>>;
  std::atomic<std::shared_ptr<const ValidatorMap>> validators_;
  std::mutex validators_mu_;

  std::mutex states_mu_;  // guards states_ (the map, not the states)
  std::map<std::pair<std::string, int64_t>, std::unique_ptr<VersionState>> states_;

  mutable std::mutex label_counts_mu_;
  std::map<std::pair<std::string, int64_t>, LabelCounts> label_counts_;

  std::vector<StoredPrediction> pending_;  // monitor thread only
  std::chrono::steady_clock::time_point last_write_, last_refresh_;

  std::mutex mu_;  // flush handshake
  std::condition_variable cv_;
  size_t flush_target_ = 0;  // a Flush() waits for the tap up to here
  size_t written_upto_ = 0;  // samples processed and stored
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace vigil::monitor
