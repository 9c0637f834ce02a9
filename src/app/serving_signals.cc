#include "app/serving_signals.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <cmath>
#include <limits>

namespace vigil {
namespace {

using alerting::Signal;
using alerting::SignalValue;

// Samples older than this are never needed (the longest window a rule may use).
constexpr auto kKeep = std::chrono::hours(73);  // the 3-day ticket burn window
constexpr size_t kMaxSamples = 20000;

}  // namespace

double HistogramQuantile(double q, const std::vector<double>& bounds,
                         const std::vector<double>& cumulative) {
  if (cumulative.empty() || cumulative.back() <= 0) return std::numeric_limits<double>::quiet_NaN();
  const double rank = q * cumulative.back();
  double prev_bound = 0, prev_count = 0;
  for (size_t i = 0; i < cumulative.size(); ++i) {
    if (cumulative[i] >= rank) {
      if (!std::isfinite(bounds[i])) return prev_bound;
      const double in_bucket = cumulative[i] - prev_count;
      if (in_bucket <= 0) return bounds[i];
      return prev_bound + (bounds[i] - prev_bound) * (rank - prev_count) / in_bucket;
    }
    prev_bound = bounds[i];
    prev_count = cumulative[i];
  }
  return prev_bound;
}

ServingSignals::ServingSignals(const Clock& clock, ModelManager& models, monitor::Monitor* monitor)
    : clock_(clock), models_(models), monitor_(monitor) {}

void ServingSignals::SampleAll() {
  const TimePoint now = clock_.Now();
  if (now == last_sample_ && !history_.empty()) return;
  last_sample_ = now;
  auto table = models_.Snapshot();
  for (const auto& [name, snap] : *table) {
    Sample s;
    s.at = now;
    for (const auto& [version, lv] : snap->ready) {
      s.success += lv->metrics->success->Value();
      s.error += lv->metrics->error->Value();
      const auto collected = lv->metrics->inference_latency->Collect();
      const auto& buckets = collected.histogram.bucket;
      if (s.bounds.empty()) {
        for (const auto& b : buckets) s.bounds.push_back(b.upper_bound);
        s.cumulative.assign(buckets.size(), 0.0);
      }
      for (size_t i = 0; i < buckets.size() && i < s.cumulative.size(); ++i) {
        s.cumulative[i] += static_cast<double>(buckets[i].cumulative_count);
      }
    }
    auto& h = history_[name];
    h.push_back(std::move(s));
    while (h.size() > kMaxSamples || (h.size() > 1 && now - h.front().at > kKeep)) {
      h.pop_front();
    }
  }
  for (auto it = history_.begin(); it != history_.end();) {
    it = table->count(it->first) ? std::next(it) : history_.erase(it);
  }
}

std::pair<const ServingSignals::Sample*, const ServingSignals::Sample*> ServingSignals::Span(
    const std::string& model, std::chrono::milliseconds window) const {
  auto it = history_.find(model);
  if (it == history_.end() || it->second.empty()) return {nullptr, nullptr};
  const auto& h = it->second;
  const Sample* newest = &h.back();
  const Sample* start = &h.front();
  for (auto s = h.rbegin(); s != h.rend(); ++s) {
    if (newest->at - s->at >= window) {
      start = &*s;
      break;
    }
  }
  return {newest, start};
}

std::vector<SignalValue> ServingSignals::ReadService(const alerting::AlertRule& rule) {
  SignalValue v;
  v.labels["service"] = "vigil";
  if (rule.signal == Signal::kServiceHealth) {
    size_t ready = 0, total = 0;
    for (const auto& [name, m] : *models_.Snapshot()) {
      if (m->unloaded) continue;
      ++total;
      ready += m->is_ready() ? 1 : 0;
    }
    v.value = total > 0 && ready == 0 ? 2 : ready < total ? 1 : 0;  // as /health says
    return {v};
  }
  if (!stats_) return {};
  const TimePoint now = clock_.Now();
  if (service_history_.empty() || service_history_.back().first != now) {
    service_history_.emplace_back(now, stats_());
    while (service_history_.size() > kMaxSamples ||
           (service_history_.size() > 1 && now - service_history_.front().first > kKeep)) {
      service_history_.pop_front();
    }
  }
  const auto& [newest_at, newest] = service_history_.back();
  if (rule.signal == Signal::kNotificationBacklog) {
    if (!newest.notification_backlog_s) return {};
    v.value = *newest.notification_backlog_s;
    return {v};
  }
  // Windowed counters: the newest sample against the one at or before `window` ago.
  const std::pair<TimePoint, ServiceStats>* start = &service_history_.front();
  for (auto it = service_history_.rbegin(); it != service_history_.rend(); ++it) {
    if (newest_at - it->first >= rule.window) {
      start = &*it;
      break;
    }
  }
  if (rule.signal == Signal::kNotificationsFailed) {
    v.value = newest.notifications_failed - start->second.notifications_failed;
    return {v};
  }
  const double secs = std::chrono::duration<double>(newest_at - start->first).count();
  if (secs <= 0) return {};
  v.value = (newest.monitor_dropped - start->second.monitor_dropped) / secs;
  return {v};
}

std::vector<SignalValue> ServingSignals::Read(const alerting::AlertRule& rule) {
  if (alerting::IsServiceSignal(rule.signal)) return ReadService(rule);
  SampleAll();
  std::vector<SignalValue> out;
  auto table = models_.Snapshot();
  for (const auto& [name, snap] : *table) {
    if (!rule.model.empty() && rule.model != name) continue;
    if (snap->unloaded) continue;
    SignalValue v;
    v.labels["model"] = name;
    const LoadedVersion* production = nullptr;
    if (snap->default_version) {
      auto it = snap->ready.find(*snap->default_version);
      if (it != snap->ready.end()) production = it->second.get();
    }
    // Version-specific signals name the production version (an alert about version 2
    // resolves once production is back on 1); request signals cover the whole model.
    const bool per_version =
        rule.signal == Signal::kAccuracy || rule.signal == Signal::kDriftShare ||
        rule.signal == Signal::kBreakerOpen || rule.signal == Signal::kQueueSaturation;
    if (production && per_version) v.labels["version"] = std::to_string(production->version);
    switch (rule.signal) {
      case Signal::kErrorRate:
      case Signal::kRequestRate:
      case Signal::kLatency: {
        auto [newest, start] = Span(name, rule.window);
        if (!newest || newest == start) continue;
        const double requests = (newest->success + newest->error) - (start->success + start->error);
        if (requests <= 0) continue;
        if (rule.signal == Signal::kErrorRate) {
          v.value = (newest->error - start->error) / requests;
        } else if (rule.signal == Signal::kRequestRate) {
          const double secs = std::chrono::duration<double>(newest->at - start->at).count();
          if (secs <= 0) continue;
          v.value = requests / secs;
        } else {
          std::vector<double> delta = newest->cumulative;
          for (size_t i = 0; i < delta.size() && i < start->cumulative.size(); ++i) {
            delta[i] -= start->cumulative[i];
          }
          v.value = HistogramQuantile(rule.quantile, newest->bounds, delta);
          if (std::isnan(v.value)) continue;
        }
        break;
      }
      case Signal::kAvailabilityBurn:
      case Signal::kLatencyBurn: {
        // The smaller of the two windows' burn rates: both must burn for the alert.
        double burn = std::numeric_limits<double>::infinity();
        bool ok = true;
        for (auto window : {rule.window, rule.short_window}) {
          auto [newest, start] = Span(name, window);
          if (!newest || newest == start) {
            ok = false;
            break;
          }
          const double requests =
              (newest->success + newest->error) - (start->success + start->error);
          if (requests <= 0) {
            ok = false;
            break;
          }
          double bad = 0;
          if (rule.signal == Signal::kAvailabilityBurn) {
            bad = newest->error - start->error;
          } else {
            // Observations above the threshold: total minus the largest bucket <= it.
            double total = 0, good = 0;
            for (size_t i = 0; i < newest->bounds.size(); ++i) {
              const double d = newest->cumulative[i] -
                               (i < start->cumulative.size() ? start->cumulative[i] : 0.0);
              if (newest->bounds[i] <= rule.latency_threshold_s + 1e-12) good = d;
              total = d;
            }
            bad = total - good;
            if (total <= 0) {
              ok = false;
              break;
            }
            burn = std::min(burn, (bad / total) / (1 - rule.objective));
            continue;
          }
          burn = std::min(burn, (bad / requests) / (1 - rule.objective));
        }
        if (!ok || !std::isfinite(burn)) continue;
        v.value = burn;
        break;
      }
      case Signal::kAccuracy: {
        if (!monitor_ || !production || !snap->config) continue;
        auto perf = monitor_->Performance(snap->config, production->version);
        if (!perf.ok() || !perf->classification || perf->count < kMinLabels) continue;
        v.value = perf->accuracy;
        break;
      }
      case Signal::kDriftShare: {
        if (!monitor_ || !production || !snap->config) continue;
        auto drift = monitor_->Drift(snap->config, production->version, rule.window);
        if (!drift.ok() || drift->report.evaluated_features == 0) continue;
        v.value = drift->report.drift_share;
        break;
      }
      case Signal::kBreakerOpen:
        if (!production) continue;
        v.value = production->breaker->state() == BreakerState::kClosed ? 0 : 1;
        break;
      case Signal::kLoadFailure: {
        bool failed = !snap->last_error.empty();
        for (const auto& vs : snap->versions) failed = failed || vs.state == VersionState::kFailed;
        v.value = failed ? 1 : 0;
        break;
      }
      case Signal::kQueueSaturation: {
        if (!production) continue;
        const double cap = static_cast<double>(production->config->batching.max_queue_size);
        v.value = cap > 0 ? static_cast<double>(production->batcher->queue_size()) / cap : 0;
        break;
      }
      case Signal::kServiceHealth:
      case Signal::kMonitorDropRate:
      case Signal::kNotificationsFailed:
      case Signal::kNotificationBacklog:
        continue;  // ReadService's
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::string DescribeModelNow(ServingSignals& signals, const std::string& model) {
  auto read = [&](Signal signal) -> std::optional<SignalValue> {
    alerting::AlertRule r;
    r.signal = signal;
    r.model = model;
    r.window = std::chrono::minutes(5);
    r.quantile = 0.95;
    auto v = signals.Read(r);
    if (v.empty()) return std::nullopt;
    return v.front();
  };
  char buf[64];
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (auto b = read(Signal::kBreakerOpen)) {
    add("production v" + b->labels["version"]);
  }
  if (auto e = read(Signal::kErrorRate)) {
    std::snprintf(buf, sizeof buf, "error rate %.2f %% (5m)", e->value * 100);
    add(buf);
  } else {
    add("no requests in the last 5m");
  }
  if (auto l = read(Signal::kLatency)) {
    std::snprintf(buf, sizeof buf, "p95 %.1f ms (5m)", l->value * 1000);
    add(buf);
  }
  if (auto a = read(Signal::kAccuracy)) {
    std::snprintf(buf, sizeof buf, "accuracy %.1f %%", a->value * 100);
    add(buf);
  } else {
    add("accuracy not known yet (fewer than " + std::to_string(ServingSignals::kMinLabels) +
        " labels for this version)");
  }
  if (auto b = read(Signal::kBreakerOpen)) add(b->value > 0 ? "breaker open" : "breaker closed");
  return model + " " + out;
}

}  // namespace vigil
