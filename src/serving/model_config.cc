#include "serving/model_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "core/duration.h"
#include "core/strings.h"

namespace vigil {
namespace {

constexpr std::string_view kDriftMethods = "auto, ks, psi, wasserstein, jensenshannon, chisquare";

bool IsDriftMethodName(std::string_view m) {
  return m == "auto" || m == "ks" || m == "psi" || m == "wasserstein" || m == "jensenshannon" ||
         m == "chisquare";
}

// Parsing context: builds "file: field: message" errors.
class Ctx {
 public:
  explicit Ctx(std::string file) : file_(std::move(file)) {}

  Status Error(const std::string& field, const std::string& msg) const {
    return InvalidArgument(file_ + ": " + field + ": " + msg);
  }

  static std::string Describe(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) return "nothing";
    if (n.IsScalar()) return "'" + n.Scalar() + "'";
    if (n.IsSequence()) return "a list";
    return "a mapping";
  }

  Status CheckKeys(const YAML::Node& map, const std::string& field,
                   const std::vector<std::string_view>& known) const {
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      bool found = false;
      for (auto k : known) found = found || k == key;
      if (found) continue;
      std::string where = field.empty() ? key : field + "." + key;
      std::string hint = ClosestMatch(key, known);
      std::string msg = "unknown key";
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      std::string all;
      for (auto k : known) all += (all.empty() ? "" : ", ") + std::string(k);
      return Error(where, msg + "; known keys: " + all);
    }
    return Status::Ok();
  }

  Result<std::string> String(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar() || n.Scalar().empty()) {
      return Error(field, "expected a non-empty string, got " + Describe(n));
    }
    return n.Scalar();
  }

  Result<int64_t> Int(const YAML::Node& n, const std::string& field, int64_t min,
                      int64_t max) const {
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v)) {
      return Error(field, "expected an integer, got " + Describe(n));
    }
    if (v < min || v > max) {
      return Error(field, "expected an integer in [" + std::to_string(min) + ", " +
                              std::to_string(max) + "], got " + std::to_string(v));
    }
    return v;
  }

  Result<double> Number(const YAML::Node& n, const std::string& field) const {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) {
      return Error(field, "expected a number, got " + Describe(n));
    }
    return v;
  }

  Result<std::chrono::milliseconds> Dur(const YAML::Node& n, const std::string& field,
                                        std::chrono::milliseconds bare_unit) const {
    if (!n.IsScalar()) return Error(field, "expected a duration, got " + Describe(n));
    auto d = ParseDuration(n.Scalar(), bare_unit);
    if (!d.ok()) return Error(field, d.status().message());
    return d.value();
  }

  Result<std::vector<std::string>> Strings(const YAML::Node& n, const std::string& field) const {
    if (!n.IsSequence()) return Error(field, "expected a list of strings, got " + Describe(n));
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (size_t i = 0; i < n.size(); ++i) {
      auto s = String(n[i], field + "[" + std::to_string(i) + "]");
      if (!s.ok()) return s.status();
      if (!seen.insert(*s).second) {
        return Error(field + "[" + std::to_string(i) + "]", "duplicate name '" + *s + "'");
      }
      out.push_back(*s);
    }
    return out;
  }

 private:
  std::string file_;
};

Result<TensorSpec> ParseTensorSpec(const Ctx& ctx, const YAML::Node& n, const std::string& field,
                                   bool is_input) {
  if (!n.IsMap()) return ctx.Error(field, "expected a mapping, got " + Ctx::Describe(n));
  static const std::vector<std::string_view> kInputKeys = {"name", "dtype", "shape", "features",
                                                           "ranges"};
  static const std::vector<std::string_view> kOutputKeys = {"name", "dtype", "shape", "labels"};
  VIGIL_RETURN_IF_ERROR(ctx.CheckKeys(n, field, is_input ? kInputKeys : kOutputKeys));
  TensorSpec spec;
  auto name = ctx.String(n["name"], field + ".name");
  if (!name.ok()) return name.status();
  spec.name = *name;

  const YAML::Node dt = n["dtype"];
  if (!dt.IsDefined()) {
    spec.dtype = DataType::kFp32;
  } else {
    auto parsed = dt.IsScalar() ? ParseDataType(dt.Scalar()) : std::nullopt;
    if (!parsed) {
      return ctx.Error(field + ".dtype",
                       "expected one of BOOL, INT32, INT64, FP32, FP64, got " + Ctx::Describe(dt));
    }
    spec.dtype = *parsed;
  }

  const YAML::Node shape = n["shape"];
  if (!shape.IsSequence() || shape.size() == 0) {
    return ctx.Error(field + ".shape",
                     "expected a list of integers such as [-1, 4] (-1 = batch dimension), got " +
                         Ctx::Describe(shape));
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    auto d = ctx.Int(shape[i], field + ".shape[" + std::to_string(i) + "]", -1, 1 << 24);
    if (!d.ok()) return d.status();
    if (*d == 0 || (*d == -1 && i != 0)) {
      return ctx.Error(field + ".shape[" + std::to_string(i) + "]",
                       "expected a positive size (-1 only for the first, batch dimension), got " +
                           std::to_string(*d));
    }
    spec.shape.push_back(*d);
  }
  if (spec.shape[0] != -1) {
    return ctx.Error(field + ".shape[0]",
                     "expected -1 (the batch dimension), got " + std::to_string(spec.shape[0]));
  }

  if (n["features"].IsDefined()) {
    auto f = ctx.Strings(n["features"], field + ".features");
    if (!f.ok()) return f.status();
    spec.features = std::move(*f);
    if (spec.shape.size() != 2 || static_cast<int64_t>(spec.features.size()) != spec.shape[1]) {
      return ctx.Error(field + ".features",
                       "expected " +
                           (spec.shape.size() == 2 ? std::to_string(spec.shape[1])
                                                   : std::string("shape [-1, N] and N")) +
                           " names (one per column of shape " + ShapeToString(spec.shape) +
                           "), got " + std::to_string(spec.features.size()));
    }
  }
  if (n["ranges"].IsDefined()) {
    const YAML::Node r = n["ranges"];
    const std::string rf = field + ".ranges";
    if (!r.IsSequence() || spec.shape.size() != 2 ||
        static_cast<int64_t>(r.size()) != spec.shape[1]) {
      return ctx.Error(
          rf, "expected one [min, max] pair per column of shape " + ShapeToString(spec.shape));
    }
    for (size_t i = 0; i < r.size(); ++i) {
      const std::string f = rf + "[" + std::to_string(i) + "]";
      if (!r[i].IsSequence() || r[i].size() != 2) {
        return ctx.Error(f, "expected [min, max], got " + Ctx::Describe(r[i]));
      }
      auto lo = ctx.Number(r[i][0], f + "[0]");
      if (!lo.ok()) return lo.status();
      auto hi = ctx.Number(r[i][1], f + "[1]");
      if (!hi.ok()) return hi.status();
      if (*lo > *hi) return ctx.Error(f, "expected min <= max");
      spec.ranges.emplace_back(*lo, *hi);
    }
  }
  if (n["labels"].IsDefined()) {
    auto l = ctx.Strings(n["labels"], field + ".labels");
    if (!l.ok()) return l.status();
    spec.labels = std::move(*l);
    if (spec.shape.size() != 2 || (static_cast<int64_t>(spec.labels.size()) != spec.shape[1])) {
      return ctx.Error(field + ".labels", "expected one label per column of shape " +
                                              ShapeToString(spec.shape) + ", got " +
                                              std::to_string(spec.labels.size()));
    }
  }
  return spec;
}

Result<std::vector<TensorSpec>> ParseTensorSpecs(const Ctx& ctx, const YAML::Node& n,
                                                 const std::string& field, bool is_input) {
  if (!n.IsSequence() || n.size() == 0) {
    return ctx.Error(field, "expected a non-empty list of tensors, got " + Ctx::Describe(n));
  }
  std::vector<TensorSpec> out;
  std::set<std::string> names;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    auto spec = ParseTensorSpec(ctx, n[i], f, is_input);
    if (!spec.ok()) return spec.status();
    if (!names.insert(spec->name).second) {
      return ctx.Error(f + ".name", "duplicate tensor name '" + spec->name + "'");
    }
    out.push_back(std::move(*spec));
  }
  return out;
}

Status ParseBatching(const Ctx& ctx, const YAML::Node& n, BatchingConfig& b) {
  if (!n.IsMap()) return ctx.Error("batching", "expected a mapping, got " + Ctx::Describe(n));
  VIGIL_RETURN_IF_ERROR(
      ctx.CheckKeys(n, "batching", {"max_batch_size", "max_queue_delay_ms", "max_queue_size"}));
  if (n["max_batch_size"].IsDefined()) {
    auto v = ctx.Int(n["max_batch_size"], "batching.max_batch_size", 1, 65536);
    if (!v.ok()) return v.status();
    b.max_batch_size = static_cast<int>(*v);
  }
  if (n["max_queue_delay_ms"].IsDefined()) {
    auto v = ctx.Number(n["max_queue_delay_ms"], "batching.max_queue_delay_ms");
    if (!v.ok()) return v.status();
    if (*v < 0 || *v > 60'000) {
      return ctx.Error("batching.max_queue_delay_ms",
                       "expected a number of milliseconds in [0, 60000]");
    }
    b.max_queue_delay = std::chrono::microseconds(static_cast<int64_t>(*v * 1000));
  }
  if (n["max_queue_size"].IsDefined()) {
    auto v = ctx.Int(n["max_queue_size"], "batching.max_queue_size", 1, 1 << 22);
    if (!v.ok()) return v.status();
    b.max_queue_size = static_cast<int>(*v);
  }
  return Status::Ok();
}

Status ParseVersions(const Ctx& ctx, const YAML::Node& n, VersionPolicy& p) {
  if (n.IsScalar() && n.Scalar() == "latest") {
    p.kind = VersionPolicy::Kind::kLatest;
    return Status::Ok();
  }
  if (n.IsScalar() && n.Scalar() == "all") {
    p.kind = VersionPolicy::Kind::kAll;
    return Status::Ok();
  }
  if (n.IsSequence() && n.size() > 0) {
    p.kind = VersionPolicy::Kind::kSpecific;
    for (size_t i = 0; i < n.size(); ++i) {
      auto v = ctx.Int(n[i], "versions[" + std::to_string(i) + "]", 1, INT64_MAX);
      if (!v.ok()) return v.status();
      p.versions.push_back(*v);
    }
    return Status::Ok();
  }
  return ctx.Error(
      "versions", "expected 'latest', 'all' or a list of version numbers, got " + Ctx::Describe(n));
}

}  // namespace

int64_t TensorSpec::row_elements() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

const TensorSpec* ModelConfig::FindInput(std::string_view n) const {
  for (const auto& s : inputs) {
    if (s.name == n) return &s;
  }
  return nullptr;
}

const TensorSpec* ModelConfig::FindOutput(std::string_view n) const {
  for (const auto& s : outputs) {
    if (s.name == n) return &s;
  }
  return nullptr;
}

namespace {

Status ParseDriftConfig(const Ctx& ctx, const YAML::Node& n, DriftConfig& d) {
  if (!n.IsMap()) return ctx.Error("monitor.drift", "expected a mapping, got " + Ctx::Describe(n));
  VIGIL_RETURN_IF_ERROR(
      ctx.CheckKeys(n, "monitor.drift",
                    {"method", "threshold", "small_window", "p_value", "correction",
                     "dataset_drift_share", "window", "min_samples"}));
  if (n["method"].IsDefined()) {
    auto m = ctx.String(n["method"], "monitor.drift.method");
    if (!m.ok()) return m.status();
    if (!IsDriftMethodName(*m)) {
      return ctx.Error("monitor.drift.method",
                       "expected one of " + std::string(kDriftMethods) + ", got '" + *m + "'");
    }
    d.method = *m;
  }
  if (n["threshold"].IsDefined()) {
    auto v = ctx.Number(n["threshold"], "monitor.drift.threshold");
    if (!v.ok()) return v.status();
    if (*v <= 0) return ctx.Error("monitor.drift.threshold", "expected a positive number");
    d.threshold = *v;
  }
  if (n["small_window"].IsDefined()) {
    auto v = ctx.Int(n["small_window"], "monitor.drift.small_window", 0, INT64_MAX);
    if (!v.ok()) return v.status();
    d.small_window = *v;
  }
  if (n["min_samples"].IsDefined()) {
    auto v = ctx.Int(n["min_samples"], "monitor.drift.min_samples", 1, INT64_MAX);
    if (!v.ok()) return v.status();
    d.min_samples = *v;
  }
  if (n["p_value"].IsDefined()) {
    auto v = ctx.Number(n["p_value"], "monitor.drift.p_value");
    if (!v.ok()) return v.status();
    if (*v <= 0 || *v >= 1)
      return ctx.Error("monitor.drift.p_value", "expected a number in (0, 1)");
    d.p_value = *v;
  }
  if (n["correction"].IsDefined()) {
    auto m = ctx.String(n["correction"], "monitor.drift.correction");
    if (!m.ok()) return m.status();
    if (*m != "bh" && *m != "bonferroni" && *m != "none") {
      return ctx.Error("monitor.drift.correction",
                       "expected one of bh, bonferroni, none, got '" + *m + "'");
    }
    d.correction = *m;
  }
  if (n["dataset_drift_share"].IsDefined()) {
    auto v = ctx.Number(n["dataset_drift_share"], "monitor.drift.dataset_drift_share");
    if (!v.ok()) return v.status();
    if (*v <= 0 || *v > 1) {
      return ctx.Error("monitor.drift.dataset_drift_share", "expected a number in (0, 1]");
    }
    d.dataset_drift_share = *v;
  }
  if (n["window"].IsDefined()) {
    auto w = ctx.Dur(n["window"], "monitor.drift.window", std::chrono::seconds(1));
    if (!w.ok()) return w.status();
    if (w->count() <= 0) return ctx.Error("monitor.drift.window", "expected a positive duration");
    d.window = *w;
  }
  return Status::Ok();
}

Status ParseFeatureMonitor(const Ctx& ctx, const YAML::Node& n, const std::string& field,
                           const ModelConfig& c, FeatureMonitorConfig& f) {
  if (!n.IsMap()) return ctx.Error(field, "expected a mapping, got " + Ctx::Describe(n));
  VIGIL_RETURN_IF_ERROR(ctx.CheckKeys(
      n, field, {"type", "categories", "range", "missing", "drift_method", "drift_threshold"}));
  bool known = false;
  for (const auto& in : c.inputs) {
    for (const auto& name : in.features) known = known || name == f.name;
  }
  if (!known) {
    std::vector<std::string_view> names;
    for (const auto& in : c.inputs)
      names.insert(names.end(), in.features.begin(), in.features.end());
    std::string hint = ClosestMatch(f.name, names);
    return ctx.Error(field, "no input declares a feature named '" + f.name + "'" +
                                (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  if (n["type"].IsDefined()) {
    auto t = ctx.String(n["type"], field + ".type");
    if (!t.ok()) return t.status();
    if (*t != "numeric" && *t != "categorical") {
      return ctx.Error(field + ".type", "expected numeric or categorical, got '" + *t + "'");
    }
    f.categorical = *t == "categorical";
  }
  if (n["categories"].IsDefined()) {
    const YAML::Node l = n["categories"];
    if (!l.IsSequence() || l.size() == 0) {
      return ctx.Error(field + ".categories", "expected a non-empty list of numbers");
    }
    for (size_t i = 0; i < l.size(); ++i) {
      auto v = ctx.Number(l[i], field + ".categories[" + std::to_string(i) + "]");
      if (!v.ok()) return v.status();
      f.categories.push_back(*v);
    }
    f.categorical = true;
  }
  if (n["range"].IsDefined()) {
    const YAML::Node r = n["range"];
    if (!r.IsSequence() || r.size() != 2) return ctx.Error(field + ".range", "expected [min, max]");
    auto lo = ctx.Number(r[0], field + ".range[0]");
    if (!lo.ok()) return lo.status();
    auto hi = ctx.Number(r[1], field + ".range[1]");
    if (!hi.ok()) return hi.status();
    if (*lo > *hi) return ctx.Error(field + ".range", "min is greater than max");
    f.range = std::make_pair(*lo, *hi);
  }
  if (n["missing"].IsDefined()) {
    auto m = ctx.String(n["missing"], field + ".missing");
    if (!m.ok()) return m.status();
    if (*m != "allow" && *m != "invalid") {
      return ctx.Error(field + ".missing", "expected allow or invalid, got '" + *m + "'");
    }
    f.allow_missing = *m == "allow";
  }
  if (n["drift_method"].IsDefined()) {
    auto m = ctx.String(n["drift_method"], field + ".drift_method");
    if (!m.ok()) return m.status();
    if (!IsDriftMethodName(*m)) {
      return ctx.Error(field + ".drift_method",
                       "expected one of " + std::string(kDriftMethods) + ", got '" + *m + "'");
    }
    f.drift_method = *m;
  }
  if (n["drift_threshold"].IsDefined()) {
    auto v = ctx.Number(n["drift_threshold"], field + ".drift_threshold");
    if (!v.ok()) return v.status();
    if (*v <= 0) return ctx.Error(field + ".drift_threshold", "expected a positive number");
    f.drift_threshold = *v;
  }
  return Status::Ok();
}

std::string CompactNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Status ParseSlo(const Ctx& ctx, const YAML::Node& n, SloConfig& slo) {
  if (!n.IsMap()) return ctx.Error("slo", "expected a mapping, got " + Ctx::Describe(n));
  VIGIL_RETURN_IF_ERROR(
      ctx.CheckKeys(n, "slo",
                    {"latency_p95_ms", "error_rate", "accuracy_min", "queue_saturation",
                     "availability", "latency_objective", "window", "for"}));
  struct Bound {
    const char* key;
    double* dst;
    double lo, hi;
  };
  for (const Bound& b :
       {Bound{"latency_p95_ms", &slo.latency_p95_ms, 0, 1e9},
        Bound{"error_rate", &slo.error_rate, 0, 1}, Bound{"accuracy_min", &slo.accuracy_min, 0, 1},
        Bound{"queue_saturation", &slo.queue_saturation, 0, 1},
        Bound{"availability", &slo.availability, 0, 0.99999},
        Bound{"latency_objective", &slo.latency_objective, 0, 0.99999}}) {
    if (!n[b.key].IsDefined()) continue;
    const std::string field = std::string("slo.") + b.key;
    auto v = ctx.Number(n[b.key], field);
    if (!v.ok()) return v.status();
    if (*v < b.lo || *v > b.hi) {
      return ctx.Error(field, "expected a number in [" + CompactNumber(b.lo) + ", " +
                                  CompactNumber(b.hi) + "], got " + CompactNumber(*v));
    }
    *b.dst = *v;
  }
  if (n["window"].IsDefined()) {
    auto d = ctx.Dur(n["window"], "slo.window", std::chrono::seconds(1));
    if (!d.ok()) return d.status();
    if (d->count() <= 0) return ctx.Error("slo.window", "expected a positive duration");
    slo.window = *d;
  }
  if (n["for"].IsDefined()) {
    auto d = ctx.Dur(n["for"], "slo.for", std::chrono::seconds(1));
    if (!d.ok()) return d.status();
    if (d->count() < 0) return ctx.Error("slo.for", "expected a duration >= 0");
    slo.for_duration = *d;
  }
  return Status::Ok();
}

Status ParseMonitor(const Ctx& ctx, const YAML::Node& n, ModelConfig& c) {
  if (!n.IsMap()) return ctx.Error("monitor", "expected a mapping, got " + Ctx::Describe(n));
  VIGIL_RETURN_IF_ERROR(
      ctx.CheckKeys(n, "monitor",
                    {"enabled", "validation", "features", "drift", "bucket", "retention",
                     "accuracy_window", "predictions_retention", "max_stored_predictions"}));
  MonitorConfig& m = c.monitor;
  if (n["enabled"].IsDefined()) {
    bool b = true;
    if (!n["enabled"].IsScalar() || !YAML::convert<bool>::decode(n["enabled"], b)) {
      return ctx.Error("monitor.enabled",
                       "expected true or false, got " + Ctx::Describe(n["enabled"]));
    }
    m.enabled = b;
  }
  if (n["validation"].IsDefined()) {
    auto v = ctx.String(n["validation"], "monitor.validation");
    if (!v.ok()) return v.status();
    if (*v == "off") {
      m.validation = ValidationMode::kOff;
    } else if (*v == "flag") {
      m.validation = ValidationMode::kFlag;
    } else if (*v == "reject") {
      m.validation = ValidationMode::kReject;
    } else {
      return ctx.Error("monitor.validation", "expected off, flag or reject, got '" + *v + "'");
    }
  }
  if (n["features"].IsDefined()) {
    const YAML::Node fs = n["features"];
    if (!fs.IsMap()) {
      return ctx.Error("monitor.features", "expected a mapping of feature name to settings");
    }
    for (const auto& kv : fs) {
      FeatureMonitorConfig f;
      f.name = kv.first.Scalar();
      VIGIL_RETURN_IF_ERROR(
          ParseFeatureMonitor(ctx, kv.second, "monitor.features." + f.name, c, f));
      m.features.push_back(std::move(f));
    }
  }
  if (n["drift"].IsDefined()) VIGIL_RETURN_IF_ERROR(ParseDriftConfig(ctx, n["drift"], m.drift));
  for (auto [key, dst] : {std::pair{"bucket", &m.bucket}, std::pair{"retention", &m.retention},
                          std::pair{"predictions_retention", &m.predictions_retention}}) {
    if (!n[key].IsDefined()) continue;
    const std::string field = std::string("monitor.") + key;
    auto d = ctx.Dur(n[key], field, std::chrono::seconds(1));
    if (!d.ok()) return d.status();
    if (d->count() <= 0) return ctx.Error(field, "expected a positive duration");
    *dst = *d;
  }
  if (m.retention < m.bucket) {
    return ctx.Error("monitor.retention", "must be at least monitor.bucket");
  }
  if (m.retention / m.bucket > 100000) {
    return ctx.Error("monitor.bucket",
                     "too small for the retention (at most 100000 buckets are kept)");
  }
  if (n["accuracy_window"].IsDefined()) {
    auto v = ctx.Int(n["accuracy_window"], "monitor.accuracy_window", 1, 10'000'000);
    if (!v.ok()) return v.status();
    m.accuracy_window = *v;
  }
  if (n["max_stored_predictions"].IsDefined()) {
    auto v = ctx.Int(n["max_stored_predictions"], "monitor.max_stored_predictions", 0, INT64_MAX);
    if (!v.ok()) return v.status();
    m.max_stored_predictions = *v;
  }
  return Status::Ok();
}

}  // namespace

std::string_view ActionModeName(ActionMode m) {
  switch (m) {
    case ActionMode::kOff:
      return "off";
    case ActionMode::kSuggest:
      return "suggest";
    case ActionMode::kAuto:
      return "auto";
  }
  return "off";
}

std::string_view ValidationModeName(ValidationMode m) {
  switch (m) {
    case ValidationMode::kOff:
      return "off";
    case ValidationMode::kFlag:
      return "flag";
    case ValidationMode::kReject:
      return "reject";
  }
  return "off";
}

const FeatureMonitorConfig* MonitorConfig::Find(std::string_view feature) const {
  for (const auto& f : features) {
    if (f.name == feature) return &f;
  }
  return nullptr;
}

Result<ModelConfig> ParseModelConfigText(const std::string& text, const std::string& file,
                                         const std::string& model_name,
                                         const ModelDefaults& defaults) {
  Ctx ctx(file);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ": not valid YAML: " + e.what());
  }
  if (!root.IsMap()) {
    return InvalidArgument(file + ": expected a mapping of settings at the top level, got " +
                           Ctx::Describe(root));
  }
  try {
    VIGIL_RETURN_IF_ERROR(
        ctx.CheckKeys(root, "",
                      {"backend", "inputs", "outputs", "batching", "versions", "production_version",
                       "promotion_gate", "circuit_breaker", "fallback", "warmup", "smoke_tests",
                       "request_timeout", "threads", "device", "monitor", "slo", "actions"}));
    ModelConfig c;
    c.name = model_name;
    c.batching = defaults.batching;
    c.request_timeout = defaults.request_timeout;
    c.threads = defaults.threads;
    c.device = defaults.device;

    auto backend = ctx.String(root["backend"], "backend");
    if (!backend.ok()) return backend.status();
    if (*backend != "torchscript" && *backend != "xgboost") {
      return ctx.Error("backend", "expected one of torchscript, xgboost, got '" + *backend + "'");
    }
    c.backend = *backend;

    auto inputs = ParseTensorSpecs(ctx, root["inputs"], "inputs", true);
    if (!inputs.ok()) return inputs.status();
    c.inputs = std::move(*inputs);
    auto outputs = ParseTensorSpecs(ctx, root["outputs"], "outputs", false);
    if (!outputs.ok()) return outputs.status();
    c.outputs = std::move(*outputs);

    if (c.backend == "xgboost") {
      if (c.inputs.size() != 1 || c.inputs[0].shape.size() != 2) {
        return ctx.Error("inputs",
                         "the xgboost backend expects exactly one input of shape [-1, N]");
      }
      if (c.inputs[0].dtype != DataType::kFp32) {
        return ctx.Error("inputs[0].dtype", "the xgboost backend expects FP32, got " +
                                                std::string(DataTypeName(c.inputs[0].dtype)));
      }
      if (c.outputs.size() != 1 || c.outputs[0].shape.size() != 2 ||
          c.outputs[0].dtype != DataType::kFp32) {
        return ctx.Error("outputs",
                         "the xgboost backend expects exactly one FP32 output of shape [-1, K]");
      }
    }

    if (root["batching"].IsDefined())
      VIGIL_RETURN_IF_ERROR(ParseBatching(ctx, root["batching"], c.batching));
    if (root["versions"].IsDefined())
      VIGIL_RETURN_IF_ERROR(ParseVersions(ctx, root["versions"], c.version_policy));
    if (root["production_version"].IsDefined()) {
      auto v = ctx.Int(root["production_version"], "production_version", 1, INT64_MAX);
      if (!v.ok()) return v.status();
      c.production_version = *v;
    }
    if (root["circuit_breaker"].IsDefined()) {
      const YAML::Node b = root["circuit_breaker"];
      if (!b.IsMap()) {
        return ctx.Error("circuit_breaker", "expected a mapping, got " + Ctx::Describe(b));
      }
      VIGIL_RETURN_IF_ERROR(ctx.CheckKeys(
          b, "circuit_breaker", {"failure_threshold", "recovery_timeout", "half_open_max_calls"}));
      if (b["failure_threshold"].IsDefined()) {
        auto v = ctx.Int(b["failure_threshold"], "circuit_breaker.failure_threshold", 1, 1000000);
        if (!v.ok()) return v.status();
        c.circuit_breaker.failure_threshold = static_cast<int>(*v);
      }
      if (b["recovery_timeout"].IsDefined()) {
        // Runbook 000 writes seconds: a bare number is seconds.
        auto d = ctx.Dur(b["recovery_timeout"], "circuit_breaker.recovery_timeout",
                         std::chrono::seconds(1));
        if (!d.ok()) return d.status();
        c.circuit_breaker.recovery_timeout = *d;
      }
      if (b["half_open_max_calls"].IsDefined()) {
        auto v = ctx.Int(b["half_open_max_calls"], "circuit_breaker.half_open_max_calls", 1, 10000);
        if (!v.ok()) return v.status();
        c.circuit_breaker.half_open_max_calls = static_cast<int>(*v);
      }
    }
    if (root["fallback"].IsDefined()) {
      auto f = ctx.String(root["fallback"], "fallback");
      if (!f.ok()) return f.status();
      const auto colon = f->find(':');
      c.fallback_model = f->substr(0, colon);
      if (colon != std::string::npos) {
        YAML::Node v(f->substr(colon + 1));
        auto version = ctx.Int(v, "fallback", 1, INT64_MAX);
        if (!version.ok()) {
          return ctx.Error("fallback", "expected MODEL or MODEL:VERSION, got '" + *f + "'");
        }
        c.fallback_version = *version;
      }
      if (c.fallback_model.empty() || (c.fallback_model == model_name && !c.fallback_version)) {
        return ctx.Error("fallback",
                         "expected another model (MODEL) or another version "
                         "(MODEL:VERSION), got '" +
                             *f + "'");
      }
    }
    if (root["warmup"].IsDefined()) {
      const YAML::Node w = root["warmup"];
      if (!w.IsMap()) return ctx.Error("warmup", "expected {requests: N}, got " + Ctx::Describe(w));
      VIGIL_RETURN_IF_ERROR(ctx.CheckKeys(w, "warmup", {"requests"}));
      auto n = ctx.Int(w["requests"], "warmup.requests", 0, 100000);
      if (!n.ok()) return n.status();
      c.warmup_requests = static_cast<int>(*n);
    }
    if (root["smoke_tests"].IsDefined()) {
      const YAML::Node list = root["smoke_tests"];
      if (!list.IsSequence()) {
        return ctx.Error("smoke_tests", "expected a list of {input, expect_label | expect_range}");
      }
      if (c.inputs.size() != 1) {
        return ctx.Error("smoke_tests", "smoke tests need a model with exactly one input");
      }
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string f = "smoke_tests[" + std::to_string(i) + "]";
        const YAML::Node t = list[i];
        if (!t.IsMap()) return ctx.Error(f, "expected a mapping, got " + Ctx::Describe(t));
        VIGIL_RETURN_IF_ERROR(ctx.CheckKeys(t, f, {"input", "expect_label", "expect_range"}));
        SmokeTest st;
        const YAML::Node in = t["input"];
        if (!in.IsSequence() || static_cast<int64_t>(in.size()) != c.inputs[0].row_elements()) {
          return ctx.Error(f + ".input", "expected a list of " +
                                             std::to_string(c.inputs[0].row_elements()) +
                                             " numbers (one row)");
        }
        for (size_t k = 0; k < in.size(); ++k) {
          auto v = ctx.Number(in[k], f + ".input[" + std::to_string(k) + "]");
          if (!v.ok()) return v.status();
          st.input.push_back(*v);
        }
        if (t["expect_label"].IsDefined()) {
          auto l = ctx.String(t["expect_label"], f + ".expect_label");
          if (!l.ok()) return l.status();
          const auto& labels = c.outputs[0].labels;
          if (std::find(labels.begin(), labels.end(), *l) == labels.end()) {
            return ctx.Error(f + ".expect_label", "'" + *l + "' is not one of outputs[0].labels");
          }
          st.expect_label = *l;
        }
        if (t["expect_range"].IsDefined()) {
          const YAML::Node r = t["expect_range"];
          if (!r.IsSequence() || r.size() != 2) {
            return ctx.Error(f + ".expect_range", "expected [min, max]");
          }
          auto lo = ctx.Number(r[0], f + ".expect_range[0]");
          if (!lo.ok()) return lo.status();
          auto hi = ctx.Number(r[1], f + ".expect_range[1]");
          if (!hi.ok()) return hi.status();
          st.expect_range = std::make_pair(*lo, *hi);
        }
        if (st.expect_label.empty() && !st.expect_range) {
          return ctx.Error(f, "expected expect_label or expect_range");
        }
        c.smoke_tests.push_back(std::move(st));
      }
    }
    if (root["promotion_gate"].IsDefined()) {
      auto g = ctx.String(root["promotion_gate"], "promotion_gate");
      if (!g.ok()) return g.status();
      c.promotion_gate = *g;
    }
    if (root["request_timeout"].IsDefined()) {
      auto d = ctx.Dur(root["request_timeout"], "request_timeout", std::chrono::milliseconds(1));
      if (!d.ok()) return d.status();
      if (d->count() <= 0) return ctx.Error("request_timeout", "expected a positive duration");
      c.request_timeout = *d;
    }
    if (root["threads"].IsDefined()) {
      auto v = ctx.Int(root["threads"], "threads", 1, 256);
      if (!v.ok()) return v.status();
      c.threads = static_cast<int>(*v);
    }
    if (root["device"].IsDefined()) {
      auto d = ctx.String(root["device"], "device");
      if (!d.ok()) return d.status();
      if (*d != "cpu" && d->rfind("cuda", 0) != 0) {
        return ctx.Error("device", "expected 'cpu' or 'cuda[:N]', got '" + *d + "'");
      }
      c.device = *d;
    }
    if (root["monitor"].IsDefined()) {
      VIGIL_RETURN_IF_ERROR(ParseMonitor(ctx, root["monitor"], c));
    }
    if (root["slo"].IsDefined()) VIGIL_RETURN_IF_ERROR(ParseSlo(ctx, root["slo"], c.slo));
    if (root["actions"].IsDefined()) {
      const YAML::Node a = root["actions"];
      if (!a.IsMap()) return ctx.Error("actions", "expected a mapping, got " + Ctx::Describe(a));
      VIGIL_RETURN_IF_ERROR(
          ctx.CheckKeys(a, "actions", {"rollback", "recent_deploy", "verify_after"}));
      if (a["rollback"].IsDefined()) {
        auto m = ctx.String(a["rollback"], "actions.rollback");
        if (!m.ok()) return m.status();
        if (*m == "auto") {
          c.actions.rollback = ActionMode::kAuto;
        } else if (*m == "suggest") {
          c.actions.rollback = ActionMode::kSuggest;
        } else if (*m == "off") {
          c.actions.rollback = ActionMode::kOff;
        } else {
          return ctx.Error("actions.rollback", "expected auto, suggest or off, got '" + *m + "'");
        }
      }
      if (a["recent_deploy"].IsDefined()) {
        auto d = ctx.Dur(a["recent_deploy"], "actions.recent_deploy", std::chrono::seconds(1));
        if (!d.ok()) return d.status();
        if (d->count() <= 0) {
          return ctx.Error("actions.recent_deploy", "expected a positive duration");
        }
        c.actions.recent_deploy = *d;
      }
      if (a["verify_after"].IsDefined()) {
        auto d = ctx.Dur(a["verify_after"], "actions.verify_after", std::chrono::seconds(1));
        if (!d.ok()) return d.status();
        if (d->count() < 0) return ctx.Error("actions.verify_after", "expected a duration");
        c.actions.verify_after = *d;
      }
    }
    return c;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ": " + e.what());
  }
}

Result<ModelConfig> ParseModelConfig(const std::filesystem::path& file,
                                     const std::string& model_name, const ModelDefaults& defaults) {
  std::ifstream in(file);
  if (!in) return NotFound(file.string() + ": cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseModelConfigText(ss.str(), file.string(), model_name, defaults);
}

}  // namespace vigil
