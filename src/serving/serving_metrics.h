// ServingMetrics: the Prometheus families of DESIGN.md §6, and per-version handles
// resolved once so the hot path only touches atomics (prometheus-cpp counters and
// gauges are lock-free; a histogram's Observe takes that histogram's own short lock).
//
// Thread-safe. Handles returned by ForVersion() live as long as the ServingMetrics.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "serving/inference.h"
#include "store/store.h"

namespace vigil {

class ServingMetrics;

// A shadow candidate's comparison counters (ml_shadow_predictions_total) and latency.
struct ShadowMetrics {
  prometheus::Counter* agree = nullptr;
  prometheus::Counter* disagree = nullptr;
  prometheus::Counter* error = nullptr;
  prometheus::Histogram* latency = nullptr;  // ml_shadow_latency_seconds
};

struct VersionMetrics {
  ServingMetrics* owner = nullptr;
  std::string model, version;
  prometheus::Counter* success = nullptr;                    // ml_inference_total{status="success"}
  prometheus::Counter* error = nullptr;                      // ml_inference_total{status="error"}
  std::array<prometheus::Counter*, 4> errors_by_category{};  // ml_inference_errors_total
  prometheus::Histogram* inference_latency = nullptr;        // ml_inference_latency_seconds
  prometheus::Histogram* request_duration = nullptr;  // model_serving_request_duration_seconds
  prometheus::Histogram* batch_size = nullptr;        // model_serving_batch_size
  prometheus::Gauge* queue_size = nullptr;            // model_serving_queue_size
  prometheus::Gauge* breaker_state =
      nullptr;  // ml_circuit_breaker_state: 0 closed, 1 open, 2 half-open

  // model_serving_requests_total{code}; resolved lazily per status code.
  prometheus::Counter& RequestsWithCode(int code);
  void RecordError(ErrorCategory category);

 private:
  friend class ServingMetrics;

  // A shadow candidate's comparison counters (ml_shadow_predictions_total) and latency.
  struct ShadowMetrics {
    prometheus::Counter* agree = nullptr;
    prometheus::Counter* disagree = nullptr;
    prometheus::Counter* error = nullptr;
    prometheus::Histogram* latency = nullptr;  // ml_shadow_latency_seconds
  };
  std::array<std::atomic<prometheus::Counter*>, 600> by_code_{};
};

class ServingMetrics {
 public:
  // `environment`, when non-empty, is added as a label to every series.
  explicit ServingMetrics(std::string environment);

  // Stable handles for (model, version); "" version for requests that resolved none.
  VersionMetrics& ForVersion(const std::string& model, const std::string& version);

  void ObserveLoad(const std::string& model, const std::string& version, double seconds, bool ok);

  // ml_model_version_info{model, version, alias} = 1 for each alias of `model`.
  void SetAliases(const std::string& model, const std::map<std::string, int64_t>& aliases);
  void CountRollback(const std::string& model);
  // ml_ab_requests_total{model, variant, version, status} and ml_ab_latency_seconds
  // {model, variant}: per-variant figures of an A/B test (A = production, B = candidate).
  void RecordAbRequest(const std::string& model, const std::string& variant,
                       const std::string& version, bool ok, double seconds);

  // Stable handles for a shadow candidate (model, version).
  ShadowMetrics& ForShadow(const std::string& model, const std::string& version);

  // ml_rollout_traffic_percent{model, version, strategy}; removed when there is none.
  void SetRollout(const std::string& model, const std::optional<RolloutRecord>& rollout);

  // The Prometheus text exposition of every family.
  std::string Serialize() const;

  prometheus::Registry& registry() { return *registry_; }

 private:
  friend struct VersionMetrics;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_total_;
  prometheus::Family<prometheus::Histogram>* request_duration_;
  prometheus::Family<prometheus::Histogram>* batch_size_;
  prometheus::Family<prometheus::Gauge>* queue_size_;
  prometheus::Family<prometheus::Counter>* inference_total_;
  prometheus::Family<prometheus::Counter>* inference_errors_;
  prometheus::Family<prometheus::Histogram>* inference_latency_;
  prometheus::Family<prometheus::Histogram>* loading_duration_;
  prometheus::Family<prometheus::Counter>* load_failures_;
  prometheus::Family<prometheus::Gauge>* build_info_;
  prometheus::Family<prometheus::Gauge>* version_info_;
  prometheus::Family<prometheus::Gauge>* breaker_state_;
  prometheus::Family<prometheus::Gauge>* rollout_percent_;
  prometheus::Family<prometheus::Counter>* shadow_predictions_;
  prometheus::Family<prometheus::Counter>* ab_requests_;
  prometheus::Family<prometheus::Histogram>* ab_latency_;
  prometheus::Family<prometheus::Histogram>* shadow_latency_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<ShadowMetrics>> shadows_;
  prometheus::Family<prometheus::Gauge>* rollout_step_;
  std::map<std::string, std::vector<prometheus::Gauge*>> rollout_series_;  // by model
  prometheus::Family<prometheus::Counter>* rollbacks_;

  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<VersionMetrics>> versions_;
  std::map<std::string, std::vector<prometheus::Gauge*>> alias_series_;  // by model
};

// Latency buckets (seconds): fine under 10 ms, 0.2 s for the runbooks' p95 SLO.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

}  // namespace vigil
