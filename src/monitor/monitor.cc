#include "monitor/monitor.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/clock.h"
#include "core/logging.h"

namespace vigil::monitor {
namespace {

constexpr auto kWriteEvery = std::chrono::milliseconds(250);
constexpr size_t kWriteBatch = 4096;
constexpr auto kPruneEvery = std::chrono::seconds(60);

std::vector<std::string> OutputLabels(const ModelConfig& c) {
  return c.outputs.empty() ? std::vector<std::string>() : c.outputs[0].labels;
}

}  // namespace

PredictionKey MakePredictionKey(const std::string& prediction_id, const std::string& request_id,
                                int64_t row) {
  PredictionKey k;
  if (prediction_id.empty()) {
    k.request_id = request_id;
    k.row = row;
    return k;
  }
  k.prediction_id = prediction_id;
  const size_t colon = prediction_id.rfind(':');
  if (colon == std::string::npos) return k;
  int64_t r = 0;
  auto [end, ec] = std::from_chars(prediction_id.data() + colon + 1,
                                   prediction_id.data() + prediction_id.size(), r);
  if (ec == std::errc() && end == prediction_id.data() + prediction_id.size() && r >= 0) {
    k.prediction_id = prediction_id.substr(0, colon);
    k.row = r;
  }
  return k;
}

Result<std::vector<std::optional<StoredPrediction>>> Monitor::FindPredictions(
    const std::vector<PredictionKey>& keys) {
  if (!store_) return FailedPrecondition("the prediction store is not open");
  Flush();
  return store_->Find(keys);
}

struct Monitor::Metrics {
  prometheus::Family<prometheus::Counter>* validation_errors;
  prometheus::Family<prometheus::Gauge>* drift_score;
  prometheus::Family<prometheus::Gauge>* drift_detected;
  prometheus::Family<prometheus::Gauge>* dataset_drift_share;
  prometheus::Family<prometheus::Gauge>* prediction_drift_score;
  prometheus::Family<prometheus::Gauge>* accuracy;
  prometheus::Family<prometheus::Gauge>* performance;
  prometheus::Family<prometheus::Counter>* labels;
  prometheus::Family<prometheus::Gauge>* memory;
  prometheus::Family<prometheus::Counter>* rows;
  prometheus::Counter* dropped;
  uint64_t dropped_reported = 0;
};

struct Monitor::VersionState {
  std::mutex mu;
  std::string model;
  int64_t version = 0;
  std::shared_ptr<const ModelConfig> config;
  std::vector<std::weak_ptr<const ModelConfig>> retired;  // configs replaced by reloads
  std::unique_ptr<InputValidator> validator;              // counts nothing: the hot path's does
  std::unique_ptr<LiveWindow> window;
  std::shared_ptr<const Profile> reference;
  std::filesystem::path reference_path;
  std::filesystem::file_time_type reference_mtime{};
  std::string reference_error;
  std::unique_ptr<PerformanceTracker> performance;
  bool performance_loaded = false;
  // Drift gauges: feature -> (method, series), so a method switch removes the old one.
  std::map<std::string, std::pair<std::string, prometheus::Gauge*>> drift_series;
  std::map<std::string, prometheus::Gauge*> detected_series;
  prometheus::Gauge* share = nullptr;
  prometheus::Gauge* memory = nullptr;
  prometheus::Counter* rows = nullptr;
  prometheus::Counter* labels = nullptr;
  prometheus::Gauge* accuracy = nullptr;
  std::map<std::string, prometheus::Gauge*> performance_series;

  std::map<std::string, std::string> Labels() const {
    return {{"model", model}, {"version", std::to_string(version)}};
  }
};

Monitor::Monitor(MonitorOptions options, PredictionStore* store, prometheus::Registry& registry)
    : options_(std::move(options)),
      store_(store),
      metrics_(std::make_unique<Metrics>()),
      tap_(options_.tap_capacity) {
  std::map<std::string, std::string> constant;
  if (!options_.environment.empty()) constant["environment"] = options_.environment;
  Metrics& m = *metrics_;
  m.validation_errors = &prometheus::BuildCounter()
                             .Name("ml_input_validation_errors_total")
                             .Help("Input values that broke the model's data-quality rules")
                             .Labels(constant)
                             .Register(registry);
  m.drift_score = &prometheus::BuildGauge()
                       .Name("ml_feature_drift_score")
                       .Help(
                           "Drift of a feature against the reference profile (p-value for "
                           "ks/chisquare, distance otherwise)")
                       .Labels(constant)
                       .Register(registry);
  m.drift_detected = &prometheus::BuildGauge()
                          .Name("ml_feature_drift_detected")
                          .Help("1 when the feature drifted in the model's drift window")
                          .Labels(constant)
                          .Register(registry);
  m.dataset_drift_share = &prometheus::BuildGauge()
                               .Name("ml_dataset_drift_share")
                               .Help("Share of evaluated features that drifted")
                               .Labels(constant)
                               .Register(registry);
  m.prediction_drift_score = &prometheus::BuildGauge()
                                  .Name("ml_prediction_drift_score")
                                  .Help("Drift of the predictions against the reference")
                                  .Labels(constant)
                                  .Register(registry);
  m.accuracy = &prometheus::BuildGauge()
                    .Name("ml_model_accuracy")
                    .Help("Accuracy over the latest labelled predictions (delayed labels)")
                    .Labels(constant)
                    .Register(registry);
  m.performance = &prometheus::BuildGauge()
                       .Name("ml_model_performance")
                       .Help(
                           "precision, recall, f1 (macro) or mae, rmse over the latest "
                           "labelled predictions")
                       .Labels(constant)
                       .Register(registry);
  m.labels = &prometheus::BuildCounter()
                  .Name("ml_feedback_labels_total")
                  .Help("Labels received through the feedback API")
                  .Labels(constant)
                  .Register(registry);
  m.memory = &prometheus::BuildGauge()
                  .Name("ml_monitor_memory_bytes")
                  .Help("Memory held by the monitor's live windows")
                  .Labels(constant)
                  .Register(registry);
  m.rows = &prometheus::BuildCounter()
                .Name("ml_monitor_rows_total")
                .Help("Served rows the monitor profiled")
                .Labels(constant)
                .Register(registry);
  m.dropped = &prometheus::BuildCounter()
                   .Name("ml_monitor_samples_dropped_total")
                   .Help("Served requests not profiled because the monitor's tap was full")
                   .Labels(constant)
                   .Register(registry)
                   .Add({});
  validators_.store(std::make_shared<const ValidatorMap>());
  last_write_ = last_refresh_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { Run(); });
}

Monitor::~Monitor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const InputValidator> Monitor::ValidatorFor(
    const std::shared_ptr<const ModelConfig>& config) {
  {
    auto map = validators_.load(std::memory_order_acquire);
    auto it = map->find(config.get());
    if (it != map->end()) return it->second.second;
  }
  std::lock_guard lock(validators_mu_);
  auto current = validators_.load(std::memory_order_acquire);
  if (auto it = current->find(config.get()); it != current->end()) return it->second.second;
  auto next = std::make_shared<ValidatorMap>();
  for (const auto& [key, entry] : *current) {
    if (entry.first.use_count() > 1) next->emplace(key, entry);  // still in use elsewhere
  }
  auto v = std::make_shared<const InputValidator>(*config, metrics_->validation_errors);
  next->emplace(config.get(), std::make_pair(config, v));
  validators_.store(std::move(next), std::memory_order_release);
  return v;
}

Status Monitor::Validate(const std::shared_ptr<const ModelConfig>& config,
                         const std::vector<Tensor>& inputs, int64_t rows,
                         std::shared_ptr<const InputValidator>* out) {
  auto validator = ValidatorFor(config);
  if (out) *out = validator;
  if (!config->monitor.enabled || config->monitor.validation == ValidationMode::kOff) {
    return Status::Ok();
  }
  auto v = validator->Check(inputs, rows);
  if (v &&
      (validator->mode() == ValidationMode::kReject || v->reason == ValidationReason::kMissing)) {
    return InvalidArgument("input validation failed: " + validator->Describe(*v));
  }
  return Status::Ok();
}

void Monitor::CountSchemaError(const std::string& model) {
  metrics_->validation_errors
      ->Add({{"model", model}, {"feature", "_request"}, {"reason", "schema"}})
      .Increment();
}

void Monitor::Tap(TapSample&& sample) {
  if (!sample.config || !sample.config->monitor.enabled) return;
  tap_.TryPush(std::move(sample));
}

void Monitor::Flush() {
  std::unique_lock lock(mu_);
  const size_t target = tap_.pushed();
  flush_target_ = std::max(flush_target_, target);
  cv_.notify_all();
  // Bounded: a stuck store must not hang an HTTP thread forever.
  cv_.wait_for(lock, std::chrono::seconds(10), [&] { return written_upto_ >= target || stop_; });
}

Monitor::VersionState* Monitor::FindState(const std::string& model, int64_t version) {
  std::lock_guard lock(states_mu_);
  auto it = states_.find({model, version});
  return it == states_.end() ? nullptr : it->second.get();
}

Monitor::VersionState& Monitor::StateFor(const std::shared_ptr<const ModelConfig>& config,
                                         int64_t version) {
  VersionState* st = nullptr;
  {
    std::lock_guard lock(states_mu_);
    auto& slot = states_[{config->name, version}];
    if (!slot) {
      slot = std::make_unique<VersionState>();
      slot->model = config->name;
      slot->version = version;
    }
    st = slot.get();
  }
  std::lock_guard lock(st->mu);
  // Samples tapped before a reload still carry the old config: they must not reset the
  // window back and forth. A config seen before (and still alive) is an old one.
  for (const auto& old : st->retired) {
    if (auto o = old.lock(); o && o == config) return *st;
  }
  if (st->config != config) {
    if (st->config) st->retired.push_back(st->config);
    if (st->retired.size() > 8) st->retired.erase(st->retired.begin());
    // A new config (reload): its rules and bins may differ, so the window restarts.
    st->config = config;
    st->validator = std::make_unique<InputValidator>(*config, nullptr);
    st->window.reset();
    st->reference.reset();
    st->reference_mtime = {};
    st->performance.reset();
    st->performance_loaded = false;
    const auto labels = st->Labels();
    st->share = &metrics_->dataset_drift_share->Add(labels);
    st->memory = &metrics_->memory->Add(labels);
    st->rows = &metrics_->rows->Add(labels);
    st->labels = &metrics_->labels->Add(labels);
  }
  if (!st->window) RefreshReference(*st);
  return *st;
}

void Monitor::RefreshReference(VersionState& st) {
  const std::filesystem::path dir = options_.repository / st.model;
  std::filesystem::path file = dir / std::to_string(st.version) / "reference.json";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) file = dir / "reference.json";
  auto mtime = std::filesystem::last_write_time(file, ec);
  const bool exists = !ec;
  if (st.window && file == st.reference_path && (!exists || mtime == st.reference_mtime)) return;
  st.reference_path = file;
  st.reference.reset();
  st.reference_error.clear();
  if (exists) {
    auto p = LoadProfile(file);
    if (p.ok()) {
      st.reference = std::make_shared<const Profile>(std::move(*p));
      st.reference_mtime = mtime;
    } else {
      st.reference_error = p.status().message();
      LogWarn("monitor: reference profile not used",
              {{"model", st.model}, {"error", st.reference_error}});
    }
  } else {
    st.reference_error = "no reference profile (looked for " +
                         (dir / std::to_string(st.version) / "reference.json").string() + " and " +
                         (dir / "reference.json").string() +
                         "); build one with: vigil profile build " + st.model + " --data TRAIN.csv";
  }
  const MonitorConfig& mc = st.config->monitor;
  st.window = std::make_unique<LiveWindow>(*st.validator, st.reference, OutputLabels(*st.config),
                                           mc.bucket.count(), mc.retention.count());
}

void Monitor::Process(TapSample& s) {
  if (s.rows <= 0) return;
  VersionState& st = StateFor(s.config, s.version);
  const size_t rows = static_cast<size_t>(s.rows);
  const size_t nf = s.features.size() / rows;
  const size_t no = s.outputs.size() / rows;
  static const std::vector<std::string> kNoLabels;
  const std::vector<std::string>& labels =
      s.config->outputs.empty() ? kNoLabels : s.config->outputs[0].labels;
  {
    std::lock_guard lock(st.mu);
    for (size_t r = 0; r < rows; ++r) {
      st.window->AddRow(s.unix_ms, s.features.data() + r * nf, nf,
                        no ? s.outputs.data() + r * no : nullptr, no);
    }
    st.rows->Increment(static_cast<double>(rows));
  }
  if (!store_ || s.config->monitor.max_stored_predictions <= 0) return;
  for (size_t r = 0; r < rows; ++r) {
    StoredPrediction p;
    // One-row requests (the common case) hand their buffers over instead of copying.
    p.prediction_id = rows == 1 ? std::move(s.prediction_id) : s.prediction_id;
    p.row = static_cast<int64_t>(r);
    p.model = s.config->name;
    p.version = s.version;
    p.created_ms = s.unix_ms;
    p.request_id = rows == 1 ? std::move(s.request_id) : s.request_id;
    if (no > 0) {
      const float* out = s.outputs.data() + r * no;
      if (!labels.empty()) {
        const size_t best = static_cast<size_t>(std::max_element(out, out + no) - out);
        p.label = best < labels.size() ? labels[best] : std::to_string(best);
        p.value = out[best];
      } else {
        p.value = out[0];
      }
    }
    if (rows == 1) {
      p.features = std::move(s.features);
    } else {
      p.features.assign(s.features.begin() + static_cast<std::ptrdiff_t>(r * nf),
                        s.features.begin() + static_cast<std::ptrdiff_t>((r + 1) * nf));
    }
    pending_.push_back(std::move(p));
  }
}

void Monitor::WritePending() {
  last_write_ = std::chrono::steady_clock::now();
  if (pending_.empty() || !store_) return;
  Status st = store_->Append(pending_);
  if (!st.ok()) LogWarn("monitor: predictions not stored", {{"error", st.message()}});
  pending_.clear();
}

void Monitor::Run() {
  auto last_prune = std::chrono::steady_clock::now();
  TapSample s;
  for (;;) {
    size_t n = 0;
    while (tap_.TryPop(s)) {
      Process(s);
      s = TapSample();
      if (++n % kWriteBatch == 0) WritePending();
    }
    const auto now = std::chrono::steady_clock::now();
    size_t target;
    bool stop;
    {
      std::lock_guard lock(mu_);
      target = flush_target_;
      stop = stop_;
    }
    const bool flush_wanted = tap_.popped() < target || written_upto_ < target;
    if (pending_.size() >= kWriteBatch || now - last_write_ >= kWriteEvery || flush_wanted ||
        stop) {
      WritePending();
      std::lock_guard lock(mu_);
      written_upto_ = tap_.popped();
      cv_.notify_all();
    }
    if (stop) return;
    if (now - last_refresh_ >= options_.interval) {
      last_refresh_ = now;
      RefreshGauges();
    }
    if (store_ && now - last_prune >= kPruneEvery) {
      last_prune = now;
      std::vector<std::pair<std::string, std::shared_ptr<const ModelConfig>>> models;
      {
        std::lock_guard lock(states_mu_);
        for (auto& [key, st] : states_) {
          std::lock_guard slock(st->mu);
          if (st->config) models.emplace_back(key.first, st->config);
        }
      }
      for (const auto& [model, config] : models) {
        const int64_t before = UnixMillis() - config->monitor.predictions_retention.count();
        Status st = store_->Prune(model, before, config->monitor.max_stored_predictions);
        if (!st.ok()) LogWarn("monitor: pruning failed", {{"error", st.message()}});
      }
    }
    if (n == 0) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(20),
                   [&] { return stop_ || flush_target_ > written_upto_; });
    }
  }
}

namespace {

DriftResult ComputeDrift(const InputValidator& validator, const LiveWindow& window,
                         const ModelConfig& config, int64_t now_ms, int64_t window_ms) {
  DriftResult out;
  const Profile& ref = *window.reference();
  WindowCounts w = window.Window(now_ms, window_ms);
  out.rows = w.rows;
  out.from_ms = w.from_ms;
  out.to_ms = w.to_ms;
  const auto& rules = validator.rules();
  const auto& index = window.reference_index();
  for (size_t i = 0; i < rules.size(); ++i) {
    if (index[i] < 0) {
      FeatureDrift d;
      d.feature = rules[i].name;
      d.note = "not in the reference profile";
      out.report.features.push_back(std::move(d));
      continue;
    }
    const FeatureCounts& c = w.features[i];
    out.report.features.push_back(DriftOfBins(ref.features[static_cast<size_t>(index[i])], c.bins,
                                              c.below_sum, c.above_sum, config.monitor.drift,
                                              config.monitor.Find(rules[i].name)));
  }
  if (ref.prediction) {
    out.report.prediction = DriftOfBins(*ref.prediction, w.prediction.bins, w.prediction.below_sum,
                                        w.prediction.above_sum, config.monitor.drift, nullptr);
    out.report.prediction->feature = "prediction";
  }
  FinishReport(out.report, config.monitor.drift);
  out.memory_bytes = window.MemoryBytes();
  return out;
}

}  // namespace

Result<DriftResult> Monitor::Drift(const std::shared_ptr<const ModelConfig>& config,
                                   int64_t version, std::chrono::milliseconds window) {
  Flush();
  VersionState& st = StateFor(config, version);
  std::lock_guard lock(st.mu);
  RefreshReference(st);
  if (!st.reference) return NotFound(config->name + ": " + st.reference_error);
  const int64_t w = window.count() > 0 ? window.count() : config->monitor.drift.window.count();
  DriftResult r = ComputeDrift(*st.validator, *st.window, *config, UnixMillis(), w);
  r.reference = st.reference_path.string();
  return r;
}

Result<QualityReport> Monitor::Quality(const std::shared_ptr<const ModelConfig>& config,
                                       int64_t version, std::chrono::milliseconds window) {
  Flush();
  VersionState& st = StateFor(config, version);
  std::lock_guard lock(st.mu);
  const int64_t w = window.count() > 0 ? window.count() : config->monitor.drift.window.count();
  WindowCounts c = st.window->Window(UnixMillis(), w);
  QualityReport q;
  q.validation = std::string(ValidationModeName(st.validator->mode()));
  if (!config->monitor.enabled) q.validation = "off";
  q.rows = c.rows;
  q.from_ms = c.from_ms;
  q.to_ms = c.to_ms;
  const auto& rules = st.validator->rules();
  for (size_t i = 0; i < rules.size(); ++i) {
    const FeatureCounts& f = c.features[i];
    QualityFeature qf;
    qf.feature = rules[i].name;
    qf.rows = f.rows;
    qf.missing = f.missing;
    qf.out_of_range = f.out_of_range;
    qf.unknown_category = f.unknown_category;
    if (f.present() > 0) {
      qf.mean = f.sum / static_cast<double>(f.present());
      qf.min = f.min;
      qf.max = f.max;
    }
    q.features.push_back(std::move(qf));
  }
  return q;
}

namespace {

std::string RowKey(const LabelRecord& r) { return r.prediction_id + ":" + std::to_string(r.row); }

}  // namespace

Result<PerformanceReport> Monitor::Performance(const std::shared_ptr<const ModelConfig>& config,
                                               int64_t version) {
  VersionState& st = StateFor(config, version);
  std::lock_guard lock(st.mu);
  if (!st.performance_loaded) {
    st.performance = std::make_unique<PerformanceTracker>(
        OutputLabels(*config), static_cast<size_t>(config->monitor.accuracy_window));
    st.performance_loaded = true;
    if (store_) {
      auto rows = store_->RecentLabels(config->name, version,
                                       static_cast<size_t>(config->monitor.accuracy_window));
      if (!rows.ok()) return rows.status();
      const auto& labels = st.performance->labels();
      for (auto it = rows->rbegin(); it != rows->rend(); ++it) {  // oldest first
        if (st.performance->classification()) {
          auto p = std::find(labels.begin(), labels.end(), it->predicted_label);
          auto a = std::find(labels.begin(), labels.end(), it->label);
          if (p == labels.end() || a == labels.end()) continue;
          st.performance->AddClass(static_cast<size_t>(p - labels.begin()),
                                   static_cast<size_t>(a - labels.begin()), RowKey(*it));
        } else {
          st.performance->AddValue(it->predicted_value, it->value, RowKey(*it));
        }
      }
    }
  }
  return st.performance->Report();
}

void Monitor::UpdateAccuracyGauges(VersionState& st) {
  if (!st.performance) return;
  const PerformanceReport r = st.performance->Report();
  if (r.count == 0) return;
  const auto labels = st.Labels();
  auto set = [&](const std::string& metric, double v) {
    auto& g = st.performance_series[metric];
    if (!g) {
      auto l = labels;
      l["metric"] = metric;
      g = &metrics_->performance->Add(l);
    }
    g->Set(v);
  };
  if (r.classification) {
    if (!st.accuracy) st.accuracy = &metrics_->accuracy->Add(labels);
    st.accuracy->Set(r.accuracy);
    set("precision", r.precision);
    set("recall", r.recall);
    set("f1", r.f1);
  } else {
    set("mae", r.mae);
    set("rmse", r.rmse);
  }
}

Result<FeedbackResult> Monitor::Feedback(
    const std::vector<FeedbackItem>& items,
    const std::function<std::shared_ptr<const ModelConfig>(const std::string&)>& configs) {
  if (!store_) return FailedPrecondition("feedback needs the prediction store");
  if (items.empty()) return InvalidArgument("no feedback items");
  Flush();
  std::vector<PredictionKey> keys;
  for (const auto& it : items)
    keys.push_back(MakePredictionKey(it.prediction_id, it.request_id, it.row));
  auto found = store_->Find(keys);
  if (!found.ok()) return found.status();
  // The same row twice in one batch: the last label wins, the earlier ones are dropped.
  std::map<std::pair<std::string, int64_t>, size_t> last_for_row;
  for (size_t i = 0; i < items.size(); ++i) {
    if ((*found)[i]) last_for_row[{(*found)[i]->prediction_id, (*found)[i]->row}] = i;
  }
  std::vector<std::string> unknown, bad;
  struct Resolved {
    VersionState* state;
    std::shared_ptr<const ModelConfig> config;
    int64_t version = 0;
    size_t predicted = 0, actual = 0;
    double predicted_value = 0, actual_value = 0;
    bool classification = true;
  };
  std::vector<Resolved> resolved;
  std::vector<LabelRecord> records;
  const int64_t now = UnixMillis();
  for (size_t i = 0; i < items.size(); ++i) {
    const FeedbackItem& it = items[i];
    const std::string where = "feedback[" + std::to_string(i) + "]";
    const auto& p = (*found)[i];
    if (p && last_for_row[{p->prediction_id, p->row}] != i) continue;
    if (!p) {
      unknown.push_back(it.prediction_id.empty()
                            ? where + ": unknown id '" + it.request_id + "' row " +
                                  std::to_string(it.row)
                            : where + ": unknown prediction_id '" + it.prediction_id + "'");
      continue;
    }
    auto config = configs(p->model);
    if (!config) {
      unknown.push_back(where + ": model '" + p->model + "' is no longer served");
      continue;
    }
    const std::vector<std::string> labels = OutputLabels(*config);
    Resolved r;
    r.classification = !labels.empty();
    LabelRecord rec;
    rec.prediction_id = p->prediction_id;
    rec.row = p->row;
    rec.model = p->model;
    rec.version = p->version;
    rec.predicted_label = p->label;
    rec.predicted_value = p->value;
    rec.received_ms = now;
    if (r.classification) {
      std::optional<size_t> actual;
      if (it.label) {
        auto f = std::find(labels.begin(), labels.end(), *it.label);
        if (f != labels.end()) actual = static_cast<size_t>(f - labels.begin());
      } else if (it.value && *it.value >= 0 && *it.value == std::trunc(*it.value) &&
                 *it.value < static_cast<double>(labels.size())) {
        actual = static_cast<size_t>(*it.value);
      }
      if (!actual) {
        std::string all;
        for (const auto& l : labels) all += (all.empty() ? "" : ", ") + l;
        bad.push_back(where + ": label " +
                      (it.label ? "'" + *it.label + "'"
                                : (it.value ? std::to_string(*it.value) : "missing")) +
                      " is not one of " + config->name + "'s labels (" + all +
                      ") or a class index");
        continue;
      }
      auto pred = std::find(labels.begin(), labels.end(), p->label);
      r.predicted = static_cast<size_t>(pred - labels.begin());
      r.actual = *actual;
      rec.label = labels[*actual];
      rec.value = static_cast<double>(*actual);
    } else {
      if (!it.value) {
        bad.push_back(where + ": label must be a number for the regressor " + config->name);
        continue;
      }
      r.predicted_value = p->value;
      r.actual_value = *it.value;
      rec.value = *it.value;
    }
    r.state = &StateFor(config, p->version);
    r.config = config;
    r.version = p->version;
    resolved.push_back(r);
    records.push_back(std::move(rec));
  }
  auto limit = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 20; ++i) s += (i ? "; " : "") + v[i];
    if (v.size() > 20) s += "; and " + std::to_string(v.size() - 20) + " more";
    return s;
  };
  if (!bad.empty() || !unknown.empty()) {
    std::vector<std::string> all = bad;
    all.insert(all.end(), unknown.begin(), unknown.end());
    const std::string msg = "no feedback stored: " + limit(all);
    return bad.empty() ? NotFound(msg) : InvalidArgument(msg);
  }
  // Load each version's window of labels before adding new ones, so none counts twice.
  for (const auto& r : resolved) {
    auto perf = Performance(r.config, r.version);
    if (!perf.ok()) return perf.status();
  }
  VIGIL_RETURN_IF_ERROR(store_->PutLabels(records));
  FeedbackResult out;
  for (size_t i = 0; i < resolved.size(); ++i) {
    const auto& r = resolved[i];
    std::optional<double> before;  // the row's earlier label, when it had one in the window
    {
      std::lock_guard lock(r.state->mu);
      // A reload may have reset the window meanwhile: it reloads from the store, which
      // already holds this label, so there is nothing to add then.
      if (r.state->performance) {
        const std::string key = RowKey(records[i]);
        before = r.classification
                     ? r.state->performance->AddClass(r.predicted, r.actual, key)
                     : r.state->performance->AddValue(r.predicted_value, r.actual_value, key);
      }
    }
    {
      // Labels counted for rollout guardrails: a corrected label replaces its count.
      std::lock_guard lock(label_counts_mu_);
      LabelCounts& c = label_counts_[{r.state->model, r.state->version}];
      if (!before) c.labelled += 1;
      if (r.classification) {
        if (before && static_cast<size_t>(*before) == r.predicted) c.correct -= 1;
        if (r.predicted == r.actual) c.correct += 1;
      }
    }
    r.state->labels->Increment();
    ++out.accepted;
    ++out.by_version[r.state->model + ":" + std::to_string(r.state->version)];
  }
  for (const auto& [key, n] : out.by_version) {
    const size_t colon = key.rfind(':');
    if (VersionState* st = FindState(key.substr(0, colon), std::stoll(key.substr(colon + 1)))) {
      std::lock_guard lock(st->mu);
      UpdateAccuracyGauges(*st);
    }
  }
  return out;
}

QualitySignals::LabelCounts Monitor::Labels(const std::string& model, int64_t version) const {
  std::lock_guard lock(label_counts_mu_);
  auto it = label_counts_.find({model, version});
  return it == label_counts_.end() ? LabelCounts{} : it->second;
}

void Monitor::RefreshGauges() {
  const uint64_t dropped = tap_.dropped();
  if (dropped > metrics_->dropped_reported) {
    metrics_->dropped->Increment(static_cast<double>(dropped - metrics_->dropped_reported));
    metrics_->dropped_reported = dropped;
  }
  std::vector<VersionState*> states;
  {
    std::lock_guard lock(states_mu_);
    for (auto& [key, st] : states_) states.push_back(st.get());
  }
  const int64_t now = UnixMillis();
  for (VersionState* st : states) {
    std::lock_guard lock(st->mu);
    if (!st->config) continue;
    RefreshReference(*st);
    st->memory->Set(static_cast<double>(st->window->MemoryBytes()));
    if (!st->reference) continue;
    DriftResult r = ComputeDrift(*st->validator, *st->window, *st->config, now,
                                 st->config->monitor.drift.window.count());
    const auto labels = st->Labels();
    for (const FeatureDrift& d : r.report.features) {
      if (!d.evaluated) continue;
      auto& [method, gauge] = st->drift_series[d.feature];
      if (method != d.method) {
        if (gauge) metrics_->drift_score->Remove(gauge);
        auto l = labels;
        l["feature"] = d.feature;
        l["method"] = d.method;
        gauge = &metrics_->drift_score->Add(l);
        method = d.method;
      }
      gauge->Set(d.score);
      auto& detected = st->detected_series[d.feature];
      if (!detected) {
        auto l = labels;
        l["feature"] = d.feature;
        detected = &metrics_->drift_detected->Add(l);
      }
      detected->Set(d.drifted ? 1 : 0);
    }
    if (r.report.prediction && r.report.prediction->evaluated) {
      const FeatureDrift& d = *r.report.prediction;
      auto& [method, gauge] = st->drift_series["\x01prediction"];
      if (method != d.method) {
        if (gauge) metrics_->prediction_drift_score->Remove(gauge);
        auto l = labels;
        l["method"] = d.method;
        gauge = &metrics_->prediction_drift_score->Add(l);
        method = d.method;
      }
      gauge->Set(d.score);
    }
    if (r.report.evaluated_features > 0) st->share->Set(r.report.drift_share);
  }
}

}  // namespace vigil::monitor
