#include "alerting/rule.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "core/duration.h"
#include "core/strings.h"
#include "core/yaml_fields.h"

namespace vigil::alerting {
namespace {

struct SignalSpec {
  Signal signal;
  std::string_view name;
};
constexpr SignalSpec kSignals[] = {
    {Signal::kErrorRate, "error_rate"},
    {Signal::kLatency, "latency"},
    {Signal::kRequestRate, "request_rate"},
    {Signal::kAccuracy, "accuracy"},
    {Signal::kDriftShare, "drift_share"},
    {Signal::kBreakerOpen, "breaker_open"},
    {Signal::kLoadFailure, "load_failure"},
    {Signal::kQueueSaturation, "queue_saturation"},
    {Signal::kAvailabilityBurn, "availability_burn"},
    {Signal::kLatencyBurn, "latency_burn"},
    {Signal::kServiceHealth, "service_health"},
    {Signal::kMonitorDropRate, "monitor_drop_rate"},
    {Signal::kNotificationsFailed, "notifications_failed"},
    {Signal::kNotificationBacklog, "notification_backlog_seconds"},
};

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

AlertRule Rule(const ModelConfig& c, std::string name, Signal signal, Comparator cmp,
               double threshold, std::string severity, std::string summary) {
  AlertRule r;
  r.name = std::move(name);
  r.signal = signal;
  r.model = c.name;
  r.window = c.slo.window;
  r.for_duration = c.slo.for_duration;
  r.comparator = cmp;
  r.threshold = threshold;
  r.severity = std::move(severity);
  r.annotations["summary"] = std::move(summary);
  r.builtin = true;
  return r;
}

class Ctx {
 public:
  explicit Ctx(std::string where) : where_(std::move(where)) {}
  Status Error(const std::string& field, const std::string& msg) const {
    return InvalidArgument(where_ + (field.empty() ? "" : "." + field) + ": " + msg);
  }

 private:
  std::string where_;
};

Result<std::map<std::string, std::string>> StringMap(const YAML::Node& n, const Ctx& ctx,
                                                     const std::string& field) {
  std::map<std::string, std::string> out;
  if (!n.IsDefined()) return out;
  if (!n.IsMap()) return ctx.Error(field, "expected a mapping of strings");
  for (const auto& kv : n) {
    if (!kv.second.IsScalar())
      return ctx.Error(field + "." + kv.first.Scalar(), "expected a string");
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

Result<AlertRule> ParseRule(const YAML::Node& n, const Ctx& ctx) {
  if (!n.IsMap()) return ctx.Error("", "expected a mapping");
  static const std::vector<std::string_view> kKeys = {"name",        "signal",
                                                      "model",       "window",
                                                      "aggregation", "comparator",
                                                      "threshold",   "for",
                                                      "severity",    "labels",
                                                      "annotations", "short_window",
                                                      "objective",   "latency_threshold_ms"};
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    bool known = false;
    for (auto k : kKeys) known = known || k == key;
    if (!known) {
      const std::string hint = ClosestMatch(key, kKeys);
      return ctx.Error(key,
                       "unknown key" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
  }
  AlertRule r;
  auto scalar = [&](const char* key) { return n[key].IsDefined() && n[key].IsScalar(); };
  if (!scalar("name") || n["name"].Scalar().empty()) {
    return ctx.Error("name", "expected the alert's name");
  }
  r.name = n["name"].Scalar();
  if (!scalar("signal")) return ctx.Error("signal", "expected one of the signals");
  const std::string sig = n["signal"].Scalar();
  bool found = false;
  std::string all;
  for (const auto& s : kSignals) {
    all += (all.empty() ? "" : ", ") + std::string(s.name);
    if (s.name == sig) {
      r.signal = s.signal;
      found = true;
    }
  }
  if (!found) return ctx.Error("signal", "expected one of " + all + ", got '" + sig + "'");
  if (n["model"].IsDefined()) {
    if (!scalar("model")) return ctx.Error("model", "expected a model name");
    if (IsServiceSignal(r.signal)) {
      return ctx.Error("model", "'" + sig + "' is about the service, not a model: leave model out");
    }
    r.model = n["model"].Scalar();
  }
  for (auto [key, dst] : {std::pair{"window", &r.window}, std::pair{"for", &r.for_duration},
                          std::pair{"short_window", &r.short_window}}) {
    if (!n[key].IsDefined()) continue;
    if (!scalar(key)) return ctx.Error(key, "expected a duration such as 5m");
    auto d = ParseDuration(n[key].Scalar(), std::chrono::seconds(1));
    if (!d.ok()) return ctx.Error(key, d.status().message());
    if (d->count() < 0 || (std::string(key) == "window" && d->count() == 0)) {
      return ctx.Error(key, "expected a positive duration");
    }
    *dst = *d;
  }
  if (n["aggregation"].IsDefined()) {
    const std::string a = scalar("aggregation") ? n["aggregation"].Scalar() : "";
    if (r.signal != Signal::kLatency) {
      return ctx.Error("aggregation", "only the latency signal takes one (p50, p90, p95, p99)");
    }
    if (a == "p50") {
      r.quantile = 0.5;
    } else if (a == "p90") {
      r.quantile = 0.9;
    } else if (a == "p95") {
      r.quantile = 0.95;
    } else if (a == "p99") {
      r.quantile = 0.99;
    } else {
      return ctx.Error("aggregation", "expected p50, p90, p95 or p99, got '" + a + "'");
    }
  }
  if (n["comparator"].IsDefined()) {
    const std::string c = scalar("comparator") ? n["comparator"].Scalar() : "";
    static const std::pair<const char*, Comparator> kCmp[] = {
        {">", Comparator::kGreater}, {">=", Comparator::kGreaterEqual},
        {"<", Comparator::kLess},    {"<=", Comparator::kLessEqual},
        {"==", Comparator::kEqual},  {"!=", Comparator::kNotEqual}};
    bool ok = false;
    for (const auto& [text, cmp] : kCmp) {
      if (c == text) {
        r.comparator = cmp;
        ok = true;
      }
    }
    if (!ok) return ctx.Error("comparator", "expected >, >=, <, <=, == or !=, got '" + c + "'");
  }
  for (auto [key, dst, lo, hi] :
       {std::tuple{"objective", &r.objective, 0.0, 0.99999},
        std::tuple{"latency_threshold_ms", &r.latency_threshold_s, 0.0, 1e9}}) {
    if (!n[key].IsDefined()) continue;
    double v = 0;
    if (!scalar(key) || !YAML::convert<double>::decode(n[key], v) || v <= lo || v > hi) {
      return ctx.Error(key, "expected a number in (" + Fmt(lo) + ", " + Fmt(hi) + "]");
    }
    *dst = std::string(key) == "latency_threshold_ms" ? v / 1000.0 : v;
  }
  double threshold = 0;
  if (!scalar("threshold") || !YAML::convert<double>::decode(n["threshold"], threshold)) {
    return ctx.Error("threshold", "expected a number");
  }
  r.threshold = threshold;
  if (n["severity"].IsDefined()) {
    const std::string s = scalar("severity") ? n["severity"].Scalar() : "";
    if (s != "critical" && s != "warning" && s != "info") {
      return ctx.Error("severity", "expected critical, warning or info, got '" + s + "'");
    }
    r.severity = s;
  }
  auto labels = StringMap(n["labels"], ctx, "labels");
  if (!labels.ok()) return labels.status();
  r.labels = std::move(*labels);
  for (const char* reserved : {"alertname", "model", "severity"}) {
    if (r.labels.count(reserved)) {
      return ctx.Error(std::string("labels.") + reserved, "is set by Vigil; use the rule's field");
    }
  }
  auto annotations = StringMap(n["annotations"], ctx, "annotations");
  if (!annotations.ok()) return annotations.status();
  r.annotations = std::move(*annotations);
  return r;
}

}  // namespace

std::string_view SignalName(Signal s) {
  for (const auto& spec : kSignals) {
    if (spec.signal == s) return spec.name;
  }
  return "unknown";
}

std::string_view ComparatorText(Comparator c) {
  switch (c) {
    case Comparator::kGreater:
      return ">";
    case Comparator::kGreaterEqual:
      return ">=";
    case Comparator::kLess:
      return "<";
    case Comparator::kLessEqual:
      return "<=";
    case Comparator::kEqual:
      return "==";
    case Comparator::kNotEqual:
      return "!=";
  }
  return ">";
}

bool Compare(double v, Comparator c, double t) {
  switch (c) {
    case Comparator::kGreater:
      return v > t;
    case Comparator::kGreaterEqual:
      return v >= t;
    case Comparator::kLess:
      return v < t;
    case Comparator::kLessEqual:
      return v <= t;
    case Comparator::kEqual:
      return v == t;
    case Comparator::kNotEqual:
      return v != t;
  }
  return false;
}

bool IsServiceSignal(Signal s) {
  return s == Signal::kServiceHealth || s == Signal::kMonitorDropRate ||
         s == Signal::kNotificationsFailed || s == Signal::kNotificationBacklog;
}

std::vector<AlertRule> ServiceRules() {
  using std::chrono::minutes;
  struct Spec {
    const char* name;
    Signal signal;
    Comparator cmp;
    double threshold;
    std::chrono::milliseconds window, for_duration;
    const char* severity;
    const char* summary;
  };
  const Spec specs[] = {
      {"VigilServiceUnhealthy", Signal::kServiceHealth, Comparator::kGreaterEqual, 2, minutes(1),
       minutes(1), "critical", "Vigil serves no model: every model is down"},
      {"VigilServiceDegraded", Signal::kServiceHealth, Comparator::kGreaterEqual, 1, minutes(1),
       minutes(5), "warning", "Vigil is degraded: a model is not ready"},
      {"VigilMonitorDroppingSamples", Signal::kMonitorDropRate, Comparator::kGreater, 0,
       minutes(10), minutes(10), "warning",
       "the monitor is dropping samples (drift and quality see part of the traffic)"},
      {"VigilNotificationsFailing", Signal::kNotificationsFailed, Comparator::kGreater, 0,
       minutes(15), minutes(0), "warning",
       "notifications were given up on (see vigil notifications list --state failed)"},
      {"VigilNotificationsDelayed", Signal::kNotificationBacklog, Comparator::kGreater, 300,
       minutes(1), minutes(0), "warning",
       "a notification has waited over 5 minutes (a receiver is failing)"},
  };
  std::vector<AlertRule> rules;
  for (const Spec& sp : specs) {
    AlertRule r;
    r.name = sp.name;
    r.signal = sp.signal;
    r.comparator = sp.cmp;
    r.threshold = sp.threshold;
    r.window = sp.window;
    r.for_duration = sp.for_duration;
    r.severity = sp.severity;
    r.annotations["summary"] = sp.summary;
    r.annotations["runbook_url"] = std::string("docs/alerting.md#") + sp.name;
    r.builtin = true;
    // DESIGN §9.8: the service down with no fallback is SEV1.
    if (r.name == "VigilServiceUnhealthy") r.labels["sev"] = "SEV1";
    rules.push_back(std::move(r));
  }
  return rules;
}

AlertRule LoadFailureRule(const std::string& model) {
  AlertRule r;
  r.name = "ModelLoadFailure";
  r.signal = Signal::kLoadFailure;
  r.model = model;
  r.comparator = Comparator::kGreaterEqual;
  r.threshold = 1;
  r.severity = "critical";
  r.for_duration = std::chrono::milliseconds(0);
  r.annotations["summary"] = model + ": a version or its config failed to load";
  r.annotations["runbook_url"] = "docs/alerting.md#ModelLoadFailure";
  r.builtin = true;
  return r;
}

std::vector<AlertRule> BuiltinRules(const ModelConfig& c) {
  const SloConfig& slo = c.slo;
  std::vector<AlertRule> rules;
  rules.push_back(Rule(c, "ModelHighErrorRate", Signal::kErrorRate, Comparator::kGreater,
                       slo.error_rate, "critical",
                       c.name + ": error rate above " + Fmt(slo.error_rate * 100) + " %"));
  rules.push_back(Rule(c, "ModelHighLatency", Signal::kLatency, Comparator::kGreater,
                       slo.latency_p95_ms / 1000.0, "warning",
                       c.name + ": p95 latency above " + Fmt(slo.latency_p95_ms) + " ms"));
  if (!c.outputs.empty() && !c.outputs[0].labels.empty()) {
    AlertRule acc =
        Rule(c, "ModelAccuracyLow", Signal::kAccuracy, Comparator::kLess, slo.accuracy_min,
             "critical", c.name + ": accuracy below " + Fmt(slo.accuracy_min * 100) + " %");
    rules.push_back(std::move(acc));
  }
  if (c.monitor.enabled) {
    AlertRule drift =
        Rule(c, "ModelDataDrift", Signal::kDriftShare, Comparator::kGreaterEqual,
             c.monitor.drift.dataset_drift_share, "warning",
             c.name + ": input drift in at least " +
                 Fmt(c.monitor.drift.dataset_drift_share * 100) + " % of the features");
    drift.window = c.monitor.drift.window;
    rules.push_back(std::move(drift));
  }
  AlertRule breaker =
      Rule(c, "ModelCircuitBreakerOpen", Signal::kBreakerOpen, Comparator::kGreaterEqual, 1,
           "critical", c.name + ": circuit breaker open");
  breaker.for_duration = std::chrono::milliseconds(0);
  rules.push_back(std::move(breaker));
  rules.push_back(LoadFailureRule(c.name));
  rules.push_back(
      Rule(c, "ModelQueueSaturated", Signal::kQueueSaturation, Comparator::kGreaterEqual,
           slo.queue_saturation, "warning",
           c.name + ": batch queue over " + Fmt(slo.queue_saturation * 100) + " % full"));
  // Multiwindow burn rates (the SRE workbook): page at 14.4x over 1 h and 5 m, page at 6x
  // over 6 h and 30 m, ticket at 1x over 3 d and 6 h; for availability and latency.
  using std::chrono::hours;
  using std::chrono::minutes;
  struct Burn {
    const char* suffix;
    double factor;
    std::chrono::milliseconds window, short_window;
    const char* severity;
  };
  const Burn burns[] = {{"Fast", 14.4, hours(1), minutes(5), "critical"},
                        {"Slow", 6, hours(6), minutes(30), "critical"},
                        {"Ticket", 1, hours(72), hours(6), "info"}};
  for (const Burn& b : burns) {
    for (bool latency : {false, true}) {
      std::string name = latency ? "ModelLatencyBudgetBurn" : "ModelErrorBudgetBurn";
      name += b.suffix;
      const double window_h = std::chrono::duration<double, std::ratio<3600>>(b.window).count();
      AlertRule r = Rule(c, name, latency ? Signal::kLatencyBurn : Signal::kAvailabilityBurn,
                         Comparator::kGreater, b.factor, b.severity,
                         c.name + ": " + (latency ? "latency" : "error") + " budget burning " +
                             Fmt(b.factor) + "x over " + Fmt(window_h) + " h");
      r.window = b.window;
      r.short_window = b.short_window;
      r.for_duration = std::chrono::milliseconds(0);
      r.objective = latency ? slo.latency_objective : slo.availability;
      r.latency_threshold_s = slo.latency_p95_ms / 1000.0;
      rules.push_back(std::move(r));
    }
  }
  for (auto& r : rules) {
    r.annotations["runbook_url"] = "docs/alerting.md#" + r.name;
  }
  return rules;
}

Result<std::vector<AlertRule>> ParseRulesText(const std::string& text, const std::string& file) {
  auto loaded = LoadYaml(text, file);
  if (!loaded.ok()) return loaded.status();
  const YAML::Node root = *loaded;
  try {
    if (!root.IsMap() || !root["rules"].IsSequence()) {
      return InvalidArgument(file + ": expected `rules:` with a list of rules");
    }
    for (const auto& kv : root) {
      if (kv.first.Scalar() != "rules") {
        return InvalidArgument(file + ": " + kv.first.Scalar() + ": unknown key (expected rules)");
      }
    }
    std::vector<AlertRule> out;
    std::set<std::string> names;
    for (size_t i = 0; i < root["rules"].size(); ++i) {
      auto r = ParseRule(root["rules"][i], Ctx(file + ": rules[" + std::to_string(i) + "]"));
      if (!r.ok()) return r.status();
      if (!names.insert(r->name + "\n" + r->model).second) {
        return InvalidArgument(file + ": rules[" + std::to_string(i) + "].name: duplicate rule '" +
                               r->name + "'");
      }
      out.push_back(std::move(*r));
    }
    return out;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ": " + e.what());
  }
}

Result<std::vector<AlertRule>> LoadRulesFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return NotFound(file.string() + ": cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseRulesText(ss.str(), file.string());
}

}  // namespace vigil::alerting
