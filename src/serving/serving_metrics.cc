#include "serving/serving_metrics.h"

#include <prometheus/text_serializer.h>

#include "core/version.h"

namespace vigil {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBuckets;
}

namespace {

const prometheus::Histogram::BucketBoundaries& BatchBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {1,  2,  4,   8,   16,
                                                                   32, 64, 128, 256, 512};
  return kBuckets;
}

const char* CategoryName(size_t i) {
  static constexpr const char* kNames[] = {"validation", "backend", "timeout", "overload"};
  return kNames[i];
}

}  // namespace

ServingMetrics::ServingMetrics(std::string environment)
    : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::Labels constant;
  if (!environment.empty()) constant["environment"] = environment;
  auto& r = *registry_;
  requests_total_ = &prometheus::BuildCounter()
                         .Name("model_serving_requests_total")
                         .Help("Inference requests answered, by model, version and HTTP code")
                         .Labels(constant)
                         .Register(r);
  request_duration_ = &prometheus::BuildHistogram()
                           .Name("model_serving_request_duration_seconds")
                           .Help("Time from request parsed to response ready, seconds")
                           .Labels(constant)
                           .Register(r);
  batch_size_ = &prometheus::BuildHistogram()
                     .Name("model_serving_batch_size")
                     .Help("Rows per batch run on the backend")
                     .Labels(constant)
                     .Register(r);
  queue_size_ = &prometheus::BuildGauge()
                     .Name("model_serving_queue_size")
                     .Help("Requests waiting in the model version's batch queue")
                     .Labels(constant)
                     .Register(r);
  inference_total_ = &prometheus::BuildCounter()
                          .Name("ml_inference_total")
                          .Help("Inferences by model, version and status (success|error)")
                          .Labels(constant)
                          .Register(r);
  inference_errors_ = &prometheus::BuildCounter()
                           .Name("ml_inference_errors_total")
                           .Help(
                               "Failed inferences by category (validation, backend, timeout, "
                               "overload)")
                           .Labels(constant)
                           .Register(r);
  inference_latency_ = &prometheus::BuildHistogram()
                            .Name("ml_inference_latency_seconds")
                            .Help("Time from enqueue to model output (queue + compute), seconds")
                            .Labels(constant)
                            .Register(r);
  loading_duration_ = &prometheus::BuildHistogram()
                           .Name("ml_model_loading_duration_seconds")
                           .Help("Time to load a model version, seconds")
                           .Labels(constant)
                           .Register(r);
  load_failures_ = &prometheus::BuildCounter()
                        .Name("ml_model_load_failures_total")
                        .Help("Model version loads that failed")
                        .Labels(constant)
                        .Register(r);
  build_info_ = &prometheus::BuildGauge()
                     .Name("vigil_build_info")
                     .Help("Vigil build information (always 1)")
                     .Labels(constant)
                     .Register(r);
  build_info_->Add({{"version", kVersion}}).Set(1);
  version_info_ =
      &prometheus::BuildGauge()
           .Name("ml_model_version_info")
           .Help("1 for each alias (production, previous, ...) and the version it names")
           .Labels(constant)
           .Register(r);
  breaker_state_ = &prometheus::BuildGauge()
                        .Name("ml_circuit_breaker_state")
                        .Help("Circuit breaker per model version: 0 closed, 1 open, 2 half-open")
                        .Labels(constant)
                        .Register(r);
  rollout_percent_ =
      &prometheus::BuildGauge()
           .Name("ml_rollout_traffic_percent")
           .Help("Share of unversioned traffic sent to a rollout's candidate (0 while paused)")
           .Labels(constant)
           .Register(r);
  rollout_step_ = &prometheus::BuildGauge()
                       .Name("ml_rollout_step")
                       .Help("Current step (1-based) of a gradual rollout")
                       .Labels(constant)
                       .Register(r);
  ab_requests_ = &prometheus::BuildCounter()
                      .Name("ml_ab_requests_total")
                      .Help("Requests of an A/B test by variant (A production, B candidate)")
                      .Labels(constant)
                      .Register(r);
  ab_latency_ = &prometheus::BuildHistogram()
                     .Name("ml_ab_latency_seconds")
                     .Help("Enqueue-to-output time of an A/B test's requests by variant, seconds")
                     .Labels(constant)
                     .Register(r);
  shadow_predictions_ = &prometheus::BuildCounter()
                             .Name("ml_shadow_predictions_total")
                             .Help(
                                 "Rows a shadow candidate answered, compared with production "
                                 "(result: agree, disagree, error)")
                             .Labels(constant)
                             .Register(r);
  shadow_latency_ = &prometheus::BuildHistogram()
                         .Name("ml_shadow_latency_seconds")
                         .Help("A shadow candidate's enqueue-to-output time, seconds")
                         .Labels(constant)
                         .Register(r);
  rollbacks_ = &prometheus::BuildCounter()
                    .Name("ml_rollback_total")
                    .Help("Rollbacks of a model's production version")
                    .Labels(constant)
                    .Register(r);
}

void ServingMetrics::SetAliases(const std::string& model,
                                const std::map<std::string, int64_t>& aliases) {
  std::lock_guard lock(mu_);
  auto& series = alias_series_[model];
  for (auto* g : series) version_info_->Remove(g);
  series.clear();
  for (const auto& [alias, version] : aliases) {
    auto& g = version_info_->Add(
        {{"model", model}, {"version", std::to_string(version)}, {"alias", alias}});
    g.Set(1);
    series.push_back(&g);
  }
}

ShadowMetrics& ServingMetrics::ForShadow(const std::string& model, const std::string& version) {
  std::lock_guard lock(mu_);
  auto& slot = shadows_[{model, version}];
  if (slot) return *slot;
  slot = std::make_unique<ShadowMetrics>();
  auto labels = [&](const char* result) {
    return prometheus::Labels{{"model", model}, {"version", version}, {"result", result}};
  };
  slot->agree = &shadow_predictions_->Add(labels("agree"));
  slot->disagree = &shadow_predictions_->Add(labels("disagree"));
  slot->error = &shadow_predictions_->Add(labels("error"));
  slot->latency = &shadow_latency_->Add({{"model", model}, {"version", version}}, LatencyBuckets());
  return *slot;
}

void ServingMetrics::RecordAbRequest(const std::string& model, const std::string& variant,
                                     const std::string& version, bool ok, double seconds) {
  // Family::Add returns the existing series for known labels (A/B is not the hot path's
  // default; the family lock is short).
  ab_requests_
      ->Add({{"model", model},
             {"variant", variant},
             {"version", version},
             {"status", ok ? "success" : "error"}})
      .Increment();
  ab_latency_->Add({{"model", model}, {"variant", variant}}, LatencyBuckets()).Observe(seconds);
}

void ServingMetrics::SetRollout(const std::string& model,
                                const std::optional<RolloutRecord>& rollout) {
  std::lock_guard lock(mu_);
  auto& series = rollout_series_[model];
  for (auto* g : series) {
    rollout_percent_->Remove(g);
    rollout_step_->Remove(g);
  }
  series.clear();
  if (!rollout) return;
  const std::string version = std::to_string(rollout->version);
  auto& g = rollout_percent_->Add(
      {{"model", model}, {"version", version}, {"strategy", rollout->strategy}});
  g.Set(rollout->state == "running" ? rollout->percent : 0);
  series.push_back(&g);
  if (rollout->strategy == "gradual") {
    auto& step = rollout_step_->Add({{"model", model}, {"version", version}});
    step.Set(static_cast<double>(rollout->step + 1));
    series.push_back(&step);
  }
}

void ServingMetrics::CountRollback(const std::string& model) {
  rollbacks_->Add({{"model", model}}).Increment();
}

VersionMetrics& ServingMetrics::ForVersion(const std::string& model, const std::string& version) {
  std::lock_guard lock(mu_);
  auto& slot = versions_[{model, version}];
  if (slot) return *slot;
  auto m = std::make_unique<VersionMetrics>();
  m->owner = this;
  m->model = model;
  m->version = version;
  const prometheus::Labels mv = {{"model", model}, {"version", version}};
  auto with = [&](const char* k, const char* v) {
    prometheus::Labels l = mv;
    l[k] = v;
    return l;
  };
  m->success = &inference_total_->Add(with("status", "success"));
  m->error = &inference_total_->Add(with("status", "error"));
  for (size_t i = 0; i < m->errors_by_category.size(); ++i) {
    m->errors_by_category[i] = &inference_errors_->Add(with("category", CategoryName(i)));
  }
  m->inference_latency = &inference_latency_->Add(mv, LatencyBuckets());
  m->request_duration = &request_duration_->Add(mv, LatencyBuckets());
  m->batch_size = &batch_size_->Add(mv, BatchBuckets());
  m->queue_size = &queue_size_->Add(mv);
  m->breaker_state = &breaker_state_->Add(mv);
  slot = std::move(m);
  return *slot;
}

prometheus::Counter& VersionMetrics::RequestsWithCode(int code) {
  size_t i =
      (code >= 0 && code < static_cast<int>(by_code_.size())) ? static_cast<size_t>(code) : 0;
  prometheus::Counter* c = by_code_[i].load(std::memory_order_acquire);
  if (c) return *c;
  // Family::Add is idempotent for equal labels, so racing threads get the same counter.
  c = &owner->requests_total_->Add(
      {{"model", model}, {"version", version}, {"code", std::to_string(code)}});
  by_code_[i].store(c, std::memory_order_release);
  return *c;
}

void VersionMetrics::RecordError(ErrorCategory category) {
  error->Increment();
  errors_by_category[static_cast<size_t>(category)]->Increment();
}

void ServingMetrics::ObserveLoad(const std::string& model, const std::string& version,
                                 double seconds, bool ok) {
  if (ok) {
    loading_duration_->Add({{"model", model}, {"version", version}}, LatencyBuckets())
        .Observe(seconds);
  } else {
    load_failures_->Add({{"model", model}, {"version", version}}).Increment();
  }
}

std::string ServingMetrics::Serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace vigil
