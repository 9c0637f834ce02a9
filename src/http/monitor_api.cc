// The monitoring endpoints of the Api: drift, data quality, performance from delayed
// labels, feedback and training/serving skew (DESIGN.md §5, the monitoring issue).
#include <cmath>

#include "core/duration.h"
#include "core/strings.h"
#include "http/api.h"
#include "http/api_internal.h"
#include "monitor/drift_json.h"
#include "monitor/monitor.h"

namespace vigil::http {
namespace {

// ?window=24h (any duration; a bare number is seconds). 0 = the model's default.
Result<std::chrono::milliseconds> WindowParam(const std::string& query) {
  auto w = QueryValue(query, "window");
  if (!w || w->empty()) return std::chrono::milliseconds(0);
  auto d = ParseDuration(*w, std::chrono::seconds(1));
  if (!d.ok()) return InvalidArgument("window: " + d.status().message());
  if (d->count() <= 0)
    return InvalidArgument("window: expected a positive duration, got '" + *w + "'");
  return *d;
}

double Rate(uint64_t n, uint64_t of) {
  return of ? static_cast<double>(n) / static_cast<double>(of) : 0.0;
}

// The JSON number or string at `key` (a label may be either).
struct LabelValue {
  std::optional<std::string> text;
  std::optional<double> number;
};

}  // namespace

Result<Api::MonitoredVersion> Api::MonitoredFromPath(Call& c) {
  if (!monitor_) return FailedPrecondition("monitoring is not enabled on this server");
  c.model = std::string(c.params.Get("model"));
  auto table = models_.Snapshot();
  auto it = table->find(c.model);
  if (it == table->end() || !it->second->config) {
    return NotFound("unknown model '" + c.model + "'");
  }
  const ModelSnapshot& m = *it->second;
  MonitoredVersion out;
  out.config = m.config;
  auto v = ParseVersion(QueryValue(c.query, "version").value_or(""));
  if (!v.ok()) return v.status();
  if (*v) {
    out.version = **v;
    bool known = m.ready.count(out.version) > 0;
    for (const auto& vs : m.versions) known = known || vs.version == out.version;
    if (!known) {
      return NotFound("model '" + c.model + "' has no version " + std::to_string(out.version));
    }
  } else if (m.default_version) {
    out.version = *m.default_version;
  } else {
    return FailedPrecondition("model '" + c.model +
                              "' has no production version; name one with ?version=");
  }
  c.version = std::to_string(out.version);
  return out;
}

void Api::Drift(std::unique_ptr<Call>& c) {
  auto mv = MonitoredFromPath(*c);
  if (!mv.ok()) return ReplyError(c, mv.status());
  auto window = WindowParam(c->query);
  if (!window.ok()) return ReplyError(c, window.status());
  auto r = monitor_->Drift(mv->config, mv->version, *window);
  if (!r.ok()) return ReplyError(c, r.status());
  const auto& rep = r->report;
  const int64_t window_ms =
      window->count() > 0 ? window->count() : mv->config->monitor.drift.window.count();
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("model");
          WriteStr(w, c->model);
          w.Key("version");
          WriteStr(w, std::to_string(mv->version));
          w.Key("window_seconds");
          WriteDouble(w, static_cast<double>(window_ms) / 1000.0);
          w.Key("from");
          WriteStr(w, IsoMs(r->from_ms));
          w.Key("to");
          WriteStr(w, IsoMs(r->to_ms));
          w.Key("rows");
          w.Int64(r->rows);
          w.Key("reference");
          WriteStr(w, r->reference);
          w.Key("dataset_drift");
          w.Bool(rep.dataset_drift);
          w.Key("drift_share");
          WriteDouble(w, rep.drift_share);
          w.Key("dataset_drift_share");
          WriteDouble(w, rep.dataset_drift_share);
          w.Key("drifted_features");
          w.Int(rep.drifted_features);
          w.Key("evaluated_features");
          w.Int(rep.evaluated_features);
          w.Key("correction");
          WriteStr(w, rep.correction);
          w.Key("features");
          w.StartArray();
          for (const auto& f : rep.features) monitor::WriteFeatureDrift(w, f);
          w.EndArray();
          w.Key("prediction");
          if (rep.prediction) {
            monitor::WriteFeatureDrift(w, *rep.prediction);
          } else {
            w.Null();
          }
          w.Key("monitor_memory_bytes");
          w.Uint64(r->memory_bytes);
          w.EndObject();
        }));
}

void Api::Quality(std::unique_ptr<Call>& c) {
  auto mv = MonitoredFromPath(*c);
  if (!mv.ok()) return ReplyError(c, mv.status());
  auto window = WindowParam(c->query);
  if (!window.ok()) return ReplyError(c, window.status());
  auto q = monitor_->Quality(mv->config, mv->version, *window);
  if (!q.ok()) return ReplyError(c, q.status());
  const int64_t window_ms =
      window->count() > 0 ? window->count() : mv->config->monitor.drift.window.count();
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("model");
          WriteStr(w, c->model);
          w.Key("version");
          WriteStr(w, std::to_string(mv->version));
          w.Key("validation");
          WriteStr(w, q->validation);
          w.Key("window_seconds");
          WriteDouble(w, static_cast<double>(window_ms) / 1000.0);
          w.Key("rows");
          w.Int64(q->rows);
          w.Key("features");
          w.StartArray();
          for (const auto& f : q->features) {
            w.StartObject();
            w.Key("feature");
            WriteStr(w, f.feature);
            w.Key("rows");
            w.Uint64(f.rows);
            w.Key("missing");
            w.Uint64(f.missing);
            w.Key("missing_rate");
            WriteDouble(w, Rate(f.missing, f.rows));
            w.Key("out_of_range");
            w.Uint64(f.out_of_range);
            w.Key("out_of_range_rate");
            WriteDouble(w, Rate(f.out_of_range, f.rows));
            w.Key("unknown_category");
            w.Uint64(f.unknown_category);
            w.Key("unknown_category_rate");
            WriteDouble(w, Rate(f.unknown_category, f.rows));
            w.Key("mean");
            WriteDouble(w, f.mean);
            w.Key("min");
            WriteDouble(w, f.min);
            w.Key("max");
            WriteDouble(w, f.max);
            w.EndObject();
          }
          w.EndArray();
          w.EndObject();
        }));
}

void Api::Performance(std::unique_ptr<Call>& c) {
  auto mv = MonitoredFromPath(*c);
  if (!mv.ok()) return ReplyError(c, mv.status());
  auto p = monitor_->Performance(mv->config, mv->version);
  if (!p.ok()) return ReplyError(c, p.status());
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("model");
          WriteStr(w, c->model);
          w.Key("version");
          WriteStr(w, std::to_string(mv->version));
          w.Key("task");
          WriteStr(w, p->classification ? "classification" : "regression");
          w.Key("labelled");
          w.Int64(p->count);
          w.Key("window");
          w.Int64(p->window);
          auto metric = [&](const char* key, double v) {
            w.Key(key);
            if (p->count > 0) {
              WriteDouble(w, v);
            } else {
              w.Null();
            }
          };
          if (p->classification) {
            metric("accuracy", p->accuracy);
            metric("precision", p->precision);
            metric("recall", p->recall);
            metric("f1", p->f1);
            w.Key("classes");
            w.StartArray();
            for (const auto& k : p->classes) {
              w.StartObject();
              w.Key("label");
              WriteStr(w, k.label);
              w.Key("precision");
              WriteDouble(w, k.precision);
              w.Key("recall");
              WriteDouble(w, k.recall);
              w.Key("f1");
              WriteDouble(w, k.f1);
              w.Key("support");
              w.Int64(k.support);
              w.EndObject();
            }
            w.EndArray();
            w.Key("confusion_matrix");
            w.StartObject();
            w.Key("labels");
            w.StartArray();
            for (const auto& l : p->labels) WriteStr(w, l);
            w.EndArray();
            w.Key("rows_are");
            WriteStr(w, "actual");
            w.Key("matrix");
            w.StartArray();
            for (const auto& row : p->confusion) {
              w.StartArray();
              for (int64_t n : row) w.Int64(n);
              w.EndArray();
            }
            w.EndArray();
            w.EndObject();
          } else {
            metric("mae", p->mae);
            metric("rmse", p->rmse);
          }
          w.EndObject();
        }));
}

void Api::Feedback(std::unique_ptr<Call>& c) {
  if (!monitor_) return ReplyError(c, FailedPrecondition("monitoring is not enabled"));
  rapidjson::Document doc;
  Status st = ParseJson(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  std::vector<const rapidjson::Value*> raw;
  std::string prefix;
  if (doc.HasMember("feedback")) {
    const auto& list = doc["feedback"];
    if (!list.IsArray() || list.Empty()) {
      return ReplyError(c, InvalidArgument("feedback: expected a non-empty array of "
                                           "{prediction_id | id, label}"));
    }
    if (list.Size() > 100000) {
      return ReplyError(c, InvalidArgument("feedback: at most 100000 items per request"));
    }
    for (const auto& v : list.GetArray()) raw.push_back(&v);
    prefix = "feedback";
  } else {
    raw.push_back(&doc);
  }
  std::vector<monitor::FeedbackItem> items;
  for (size_t i = 0; i < raw.size(); ++i) {
    const rapidjson::Value& v = *raw[i];
    const std::string where = prefix.empty() ? "" : prefix + "[" + std::to_string(i) + "].";
    if (!v.IsObject()) return ReplyError(c, InvalidArgument(where + ": expected an object"));
    monitor::FeedbackItem item;
    auto pid = v.FindMember("prediction_id");
    auto id = v.FindMember("id");
    if (pid != v.MemberEnd()) {
      if (!pid->value.IsString() || pid->value.GetStringLength() == 0) {
        return ReplyError(c, InvalidArgument(where + "prediction_id: expected a non-empty string"));
      }
      item.prediction_id = pid->value.GetString();
    } else if (id != v.MemberEnd()) {
      if (!id->value.IsString() || id->value.GetStringLength() == 0) {
        return ReplyError(c, InvalidArgument(where + "id: expected the request's id as a string"));
      }
      item.request_id = id->value.GetString();
      if (auto row = v.FindMember("row"); row != v.MemberEnd()) {
        if (!row->value.IsInt64() || row->value.GetInt64() < 0) {
          return ReplyError(c, InvalidArgument(where + "row: expected a non-negative integer"));
        }
        item.row = row->value.GetInt64();
      }
    } else {
      return ReplyError(c, InvalidArgument(where + "prediction_id: missing (or id with row)"));
    }
    auto label = v.FindMember("label");
    if (label == v.MemberEnd()) {
      return ReplyError(c, InvalidArgument(where + "label: missing"));
    }
    if (label->value.IsString()) {
      item.label = std::string(label->value.GetString(), label->value.GetStringLength());
    } else if (label->value.IsNumber() && std::isfinite(label->value.GetDouble())) {
      item.value = label->value.GetDouble();
    } else {
      return ReplyError(c, InvalidArgument(where + "label: expected a class label (string), a "
                                                   "class index or a number"));
    }
    items.push_back(std::move(item));
  }
  auto r = monitor_->Feedback(items, [this](const std::string& model) {
    auto table = models_.Snapshot();
    auto it = table->find(model);
    return it == table->end() ? std::shared_ptr<const ModelConfig>() : it->second->config;
  });
  if (!r.ok()) return ReplyError(c, r.status());
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("accepted");
          w.Int64(r->accepted);
          w.Key("versions");
          w.StartObject();
          for (const auto& [key, n] : r->by_version) {
            w.Key(key.c_str());
            w.Int64(n);
          }
          w.EndObject();
          w.EndObject();
        }));
}

void Api::Skew(std::unique_ptr<Call>& c) {
  auto mv = MonitoredFromPath(*c);
  if (!mv.ok()) return ReplyError(c, mv.status());
  rapidjson::Document doc;
  Status st = ParseJson(c->req.body(), doc);
  if (!st.ok()) return ReplyError(c, st);
  double tolerance = 1e-6;
  if (doc.HasMember("tolerance")) {
    if (!doc["tolerance"].IsNumber() || doc["tolerance"].GetDouble() < 0) {
      return ReplyError(c, InvalidArgument("tolerance: expected a non-negative number"));
    }
    tolerance = doc["tolerance"].GetDouble();
  }
  if (!doc.HasMember("rows") || !doc["rows"].IsArray() || doc["rows"].Empty()) {
    return ReplyError(c, InvalidArgument("rows: expected a non-empty array of "
                                         "{prediction_id | id, row, features: {name: value}}"));
  }
  const auto& rows = doc["rows"];
  auto validator = monitor_->ValidatorFor(mv->config);
  const auto& rules = validator->rules();
  std::vector<PredictionKey> keys;
  for (rapidjson::SizeType i = 0; i < rows.Size(); ++i) {
    const auto& r = rows[i];
    const std::string where = "rows[" + std::to_string(i) + "]";
    if (!r.IsObject()) return ReplyError(c, InvalidArgument(where + ": expected an object"));
    std::string pid, rid;
    int64_t row = 0;
    if (r.HasMember("prediction_id") && r["prediction_id"].IsString()) {
      pid = r["prediction_id"].GetString();
    } else if (r.HasMember("id") && r["id"].IsString()) {
      rid = r["id"].GetString();
    } else {
      return ReplyError(c, InvalidArgument(where + ": expected prediction_id or id (a string)"));
    }
    if (r.HasMember("row")) {
      if (!r["row"].IsInt64() || r["row"].GetInt64() < 0) {
        return ReplyError(c, InvalidArgument(where + ".row: expected a non-negative integer"));
      }
      row = r["row"].GetInt64();
    }
    if (!r.HasMember("features") || !r["features"].IsObject()) {
      return ReplyError(c, InvalidArgument(where + ".features: expected an object of name: value"));
    }
    keys.push_back(monitor::MakePredictionKey(pid, rid, row));
  }
  auto found = monitor_->FindPredictions(keys);
  if (!found.ok()) return ReplyError(c, found.status());
  struct Acc {
    uint64_t compared = 0, mismatches = 0;
    double sum_abs = 0, max_abs = 0;
  };
  std::vector<Acc> acc(rules.size());
  int64_t matched = 0;
  std::vector<std::string> unknown;
  std::vector<std::string> unknown_features;
  for (rapidjson::SizeType i = 0; i < rows.Size(); ++i) {
    const auto& p = (*found)[i];
    if (!p || p->model != c->model) {
      unknown.push_back(keys[i].prediction_id.empty() ? keys[i].request_id : keys[i].prediction_id);
      continue;
    }
    ++matched;
    const auto& feats = rows[i]["features"];
    for (auto m = feats.MemberBegin(); m != feats.MemberEnd(); ++m) {
      std::string_view name(m->name.GetString(), m->name.GetStringLength());
      size_t k = 0;
      while (k < rules.size() && rules[k].name != name) ++k;
      if (k == rules.size()) {
        if (unknown_features.size() < 20 &&
            std::find(unknown_features.begin(), unknown_features.end(), name) ==
                unknown_features.end()) {
          unknown_features.emplace_back(name);
        }
        continue;
      }
      if (k >= p->features.size()) continue;
      const double served = p->features[k];
      const bool offline_missing = !m->value.IsNumber();
      const double offline = offline_missing ? NAN : m->value.GetDouble();
      Acc& a = acc[k];
      ++a.compared;
      if (std::isnan(served) || offline_missing) {
        if (std::isnan(served) != offline_missing) ++a.mismatches;
        continue;
      }
      // Served features went through FP32: compare at that precision plus the tolerance.
      const double diff = std::fabs(served - static_cast<double>(static_cast<float>(offline)));
      a.sum_abs += diff;
      a.max_abs = std::max(a.max_abs, diff);
      if (diff > tolerance * std::max(1.0, std::fabs(offline))) ++a.mismatches;
    }
  }
  Reply(c, 200, Render([&](JsonWriter& w) {
          w.StartObject();
          w.Key("model");
          WriteStr(w, c->model);
          w.Key("rows");
          w.Uint(rows.Size());
          w.Key("matched");
          w.Int64(matched);
          w.Key("unknown");
          w.Uint64(unknown.size());
          w.Key("unknown_ids");
          w.StartArray();
          for (size_t i = 0; i < unknown.size() && i < 20; ++i) WriteStr(w, unknown[i]);
          w.EndArray();
          w.Key("tolerance");
          WriteDouble(w, tolerance);
          w.Key("features");
          w.StartArray();
          for (size_t k = 0; k < rules.size(); ++k) {
            if (acc[k].compared == 0) continue;
            w.StartObject();
            w.Key("feature");
            WriteStr(w, rules[k].name);
            w.Key("compared");
            w.Uint64(acc[k].compared);
            w.Key("mismatches");
            w.Uint64(acc[k].mismatches);
            w.Key("mismatch_rate");
            WriteDouble(w, Rate(acc[k].mismatches, acc[k].compared));
            w.Key("mean_abs_diff");
            WriteDouble(w, acc[k].sum_abs / static_cast<double>(acc[k].compared));
            w.Key("max_abs_diff");
            WriteDouble(w, acc[k].max_abs);
            w.EndObject();
          }
          w.EndArray();
          if (!unknown_features.empty()) {
            w.Key("ignored_columns");
            w.StartArray();
            for (const auto& f : unknown_features) WriteStr(w, f);
            w.EndArray();
          }
          w.EndObject();
        }));
}

}  // namespace vigil::http
