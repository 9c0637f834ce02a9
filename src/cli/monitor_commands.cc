#include "cli/monitor_commands.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "backends/model_instance.h"
#include "cli/http_client.h"
#include "core/strings.h"
#include "monitor/dataset.h"
#include "monitor/drift.h"
#include "monitor/drift_json.h"
#include "monitor/profile_builder.h"
#include "serving/model_config.h"
#include "serving/model_repository.h"

namespace vigil::cli {
namespace {

constexpr int kUsageError = 2;
constexpr int kServerError = 1;

int Fail(int code, const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return code;
}

int FailStatus(const Status& st) {
  return Fail(st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound
                  ? kUsageError
                  : kServerError,
              st.message());
}

// Fetches JSON from the server; prints the error and sets `code` when it fails.
bool Fetch(const ServerTarget& s, const std::string& method, const std::string& path,
           const std::string& body, rapidjson::Document& doc, int& code) {
  auto reply = HttpCall(s.url, method, path, body, s.token);
  if (!reply.ok()) {
    code = Fail(kServerError, reply.status().message());
    return false;
  }
  if (reply->status >= 400) {
    std::string msg = reply->body;
    rapidjson::Document err;
    err.Parse(reply->body.c_str());
    if (!err.HasParseError() && err.IsObject() && err.HasMember("error") &&
        err["error"].IsString()) {
      msg = err["error"].GetString();
    }
    code = Fail(reply->status < 500 ? kUsageError : kServerError,
                "server answered " + std::to_string(reply->status) + ": " + msg);
    return false;
  }
  doc.Parse(reply->body.c_str());
  if (doc.HasParseError() || !doc.IsObject()) {
    code = Fail(kServerError, "unexpected answer from the server");
    return false;
  }
  return true;
}

void PrintJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 2);
  v.Accept(w);
  std::cout << sb.GetString() << "\n";
}

std::string Query(int64_t version, const std::string& window) {
  std::string q;
  if (version > 0) q += "version=" + std::to_string(version);
  if (!window.empty()) q += std::string(q.empty() ? "" : "&") + "window=" + window;
  return q.empty() ? "" : "?" + q;
}

std::string Num(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "-" : "inf";
  char buf[32];
  if (v != 0 && (std::fabs(v) < 1e-3 || std::fabs(v) >= 1e6)) {
    std::snprintf(buf, sizeof buf, "%.3e", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", v);
  }
  return buf;
}

monitor::FeatureDrift DriftFromJson(const rapidjson::Value& f) {
  monitor::FeatureDrift d;
  d.feature = f["feature"].GetString();
  d.method = f["method"].GetString();
  d.evaluated = f["evaluated"].GetBool();
  d.score = f["score"].IsNumber() ? f["score"].GetDouble() : NAN;
  d.threshold = f["threshold"].GetDouble();
  d.is_test = std::string(f["score_kind"].GetString()) == "p_value";
  d.drifted = f["drifted"].GetBool();
  d.current_rows = f["current_rows"].GetUint64();
  d.reference_rows = f["reference_rows"].GetUint64();
  if (f.HasMember("note")) d.note = f["note"].GetString();
  return d;
}

void PrintDriftRow(const monitor::FeatureDrift& d) {
  std::string verdict = !d.evaluated ? "n/a" : (d.drifted ? "DRIFT" : "ok");
  std::string threshold = (d.is_test ? "p < " : ">= ") + Num(d.threshold);
  std::printf("%-24s %-14s %12s %12s  %-6s %s\n", d.feature.c_str(), d.method.c_str(),
              d.evaluated ? Num(d.score).c_str() : "-", threshold.c_str(), verdict.c_str(),
              d.evaluated && d.method != "psi" ? "" : d.note.c_str());
}

void PrintDriftTable(const monitor::DriftReport& r) {
  std::printf("%-24s %-14s %12s %12s  %-6s %s\n", "FEATURE", "METHOD", "SCORE", "THRESHOLD",
              "VERDICT", "NOTE");
  for (const auto& f : r.features) PrintDriftRow(f);
  if (r.prediction) PrintDriftRow(*r.prediction);
  std::printf(
      "dataset drift: %s (%d of %d evaluated features drifted, share %s; threshold %s; "
      "p-values corrected: %s)\n",
      r.dataset_drift ? "YES" : "no", r.drifted_features, r.evaluated_features,
      Num(r.drift_share).c_str(), Num(r.dataset_drift_share).c_str(), r.correction.c_str());
}

}  // namespace

int ProfileBuild(const ProfileBuildArgs& a) {
  if (a.repository.empty()) {
    return Fail(kUsageError, "--model-repository: required (or VIGIL_MODEL_REPOSITORY)");
  }
  const std::filesystem::path model_dir = std::filesystem::path(a.repository) / a.model;
  auto config = ParseModelConfig(model_dir / "config.yaml", a.model, ModelDefaults{});
  if (!config.ok()) return FailStatus(config.status());
  std::cerr << "reading " << a.data << "\n";
  auto data = monitor::ReadDataset(a.data);
  if (!data.ok()) return FailStatus(data.status());
  std::cerr << "read " << data->rows << " rows x " << data->columns.size() << " columns\n";
  std::unique_ptr<ModelInstance> instance;
  int64_t version = a.version;
  if (a.predictions) {
    if (version == 0) {
      if (config->production_version) {
        version = *config->production_version;
      } else {
        auto scan = ScanModel(a.repository, a.model);
        if (!scan.ok()) return FailStatus(scan.status());
        if (scan->versions.empty()) {
          return Fail(kUsageError, model_dir.string() +
                                       ": no version folders to compute predictions with "
                                       "(use --no-predictions)");
        }
        version = scan->versions.back();
      }
    }
    LoadOptions opts;
    opts.version_dir = model_dir / std::to_string(version);
    if (config->outputs[0].shape.size() == 2) opts.output_columns = config->outputs[0].shape[1];
    std::cerr << "loading " << a.model << ":" << version << " (" << config->backend << ")\n";
    auto loaded = LoadModelInstance(config->backend, opts);
    if (!loaded.ok()) return FailStatus(loaded.status());
    instance = std::move(*loaded);
  }
  monitor::ProfileBuildOptions opts;
  opts.bins = a.bins;
  opts.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  auto profile = monitor::BuildReferenceProfile(*config, *data, instance.get(), version, opts);
  if (!profile.ok()) return FailStatus(profile.status().WithPrefix(a.data));
  profile->source = std::filesystem::path(a.data).filename().string();
  {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    profile->created_at = buf;
  }
  const std::filesystem::path out =
      a.output.empty() ? model_dir / "reference.json" : std::filesystem::path(a.output);
  Status st = monitor::SaveProfile(*profile, out);
  if (!st.ok()) return Fail(kServerError, st.message());
  std::cout << "wrote " << out.string() << " (" << profile->features.size() << " features"
            << (profile->prediction ? " + predictions" : "") << ", " << profile->rows << " rows)\n";
  return 0;
}

int Drift(const DriftArgs& a, const ServerTarget& server) {
  const bool offline = !a.reference.empty() || !a.current.empty();
  if (offline) {
    if (a.reference.empty() || a.current.empty()) {
      return Fail(kUsageError, "offline drift needs both --reference and --current");
    }
    auto ref = monitor::ReadDataset(a.reference);
    if (!ref.ok()) return FailStatus(ref.status());
    auto cur = monitor::ReadDataset(a.current);
    if (!cur.ok()) return FailStatus(cur.status());
    DriftConfig cfg;
    cfg.method = a.method;
    cfg.correction = a.correction;
    if (a.threshold > 0) cfg.threshold = a.threshold;
    monitor::DriftReport report;
    for (const auto& rc : ref->columns) {
      const monitor::Column* cc = cur->Find(rc.name);
      if (!cc) continue;
      const bool numeric = rc.non_numeric == 0 && cc->non_numeric == 0;
      report.features.push_back(
          numeric ? monitor::DriftOfNumericSamples(rc.name, rc.values, cc->values, cfg, nullptr)
                  : monitor::DriftOfCategoricalSamples(rc.name, rc.texts, cc->texts, cfg, nullptr));
    }
    if (report.features.empty()) {
      return Fail(kUsageError, a.reference + " and " + a.current + " share no column");
    }
    monitor::FinishReport(report, cfg);
    if (a.json) {
      rapidjson::StringBuffer sb;
      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      w.StartObject();
      w.Key("reference");
      w.String(a.reference.c_str());
      w.Key("current");
      w.String(a.current.c_str());
      w.Key("dataset_drift");
      w.Bool(report.dataset_drift);
      w.Key("drift_share");
      w.Double(report.drift_share);
      w.Key("features");
      w.StartArray();
      for (const auto& f : report.features) monitor::WriteFeatureDrift(w, f);
      w.EndArray();
      w.EndObject();
      rapidjson::Document doc;
      doc.Parse(sb.GetString());
      PrintJson(doc);
    } else {
      std::printf("reference %s (%lld rows), current %s (%lld rows)\n", a.reference.c_str(),
                  static_cast<long long>(ref->rows), a.current.c_str(),
                  static_cast<long long>(cur->rows));
      PrintDriftTable(report);
    }
    return 0;
  }
  if (a.model.empty()) {
    return Fail(kUsageError, "MODEL: required (or --reference and --current for offline drift)");
  }
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "GET", "/api/v1/models/" + a.model + "/drift" + Query(a.version, a.window), "",
             doc, code)) {
    return code;
  }
  if (a.json) {
    PrintJson(doc);
    return 0;
  }
  monitor::DriftReport r;
  for (const auto& f : doc["features"].GetArray()) r.features.push_back(DriftFromJson(f));
  if (doc["prediction"].IsObject()) r.prediction = DriftFromJson(doc["prediction"]);
  r.dataset_drift = doc["dataset_drift"].GetBool();
  r.drifted_features = doc["drifted_features"].GetInt();
  r.evaluated_features = doc["evaluated_features"].GetInt();
  r.drift_share = doc["drift_share"].GetDouble();
  r.dataset_drift_share = doc["dataset_drift_share"].GetDouble();
  r.correction = doc["correction"].GetString();
  std::printf("%s:%s  window %ss  rows %lld  (%s .. %s)\n", a.model.c_str(),
              doc["version"].GetString(), Num(doc["window_seconds"].GetDouble()).c_str(),
              static_cast<long long>(doc["rows"].GetInt64()), doc["from"].GetString(),
              doc["to"].GetString());
  PrintDriftTable(r);
  return 0;
}

int Quality(const std::string& model, int64_t version, const std::string& window, bool json,
            const ServerTarget& server) {
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "GET", "/api/v1/models/" + model + "/quality" + Query(version, window), "",
             doc, code)) {
    return code;
  }
  if (json) {
    PrintJson(doc);
    return 0;
  }
  std::printf("%s:%s  validation %s  rows %lld\n", model.c_str(), doc["version"].GetString(),
              doc["validation"].GetString(), static_cast<long long>(doc["rows"].GetInt64()));
  std::printf("%-24s %10s %10s %12s %12s %12s\n", "FEATURE", "ROWS", "MISSING", "OUT_OF_RANGE",
              "UNKNOWN_CAT", "MEAN");
  for (const auto& f : doc["features"].GetArray()) {
    std::printf(
        "%-24s %10llu %10s %12s %12s %12s\n", f["feature"].GetString(),
        static_cast<unsigned long long>(f["rows"].GetUint64()),
        Num(f["missing_rate"].GetDouble()).c_str(), Num(f["out_of_range_rate"].GetDouble()).c_str(),
        Num(f["unknown_category_rate"].GetDouble()).c_str(), Num(f["mean"].GetDouble()).c_str());
  }
  return 0;
}

int Performance(const std::string& model, int64_t version, bool json, const ServerTarget& server) {
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "GET", "/api/v1/models/" + model + "/performance" + Query(version, ""), "",
             doc, code)) {
    return code;
  }
  if (json) {
    PrintJson(doc);
    return 0;
  }
  std::printf("%s:%s  %s  labelled %lld (window %lld)\n", model.c_str(), doc["version"].GetString(),
              doc["task"].GetString(), static_cast<long long>(doc["labelled"].GetInt64()),
              static_cast<long long>(doc["window"].GetInt64()));
  for (const char* k : {"accuracy", "precision", "recall", "f1", "mae", "rmse"}) {
    if (doc.HasMember(k)) {
      std::printf("  %-10s %s\n", k, doc[k].IsNumber() ? Num(doc[k].GetDouble()).c_str() : "-");
    }
  }
  if (doc.HasMember("confusion_matrix")) {
    const auto& cm = doc["confusion_matrix"];
    std::printf("confusion matrix (rows: actual, columns: predicted)\n%-14s", "");
    for (const auto& l : cm["labels"].GetArray()) std::printf(" %12s", l.GetString());
    std::printf("\n");
    rapidjson::SizeType i = 0;
    for (const auto& row : cm["matrix"].GetArray()) {
      std::printf("%-14s", cm["labels"][i++].GetString());
      for (const auto& n : row.GetArray())
        std::printf(" %12lld", static_cast<long long>(n.GetInt64()));
      std::printf("\n");
    }
  }
  return 0;
}

int Feedback(const FeedbackArgs& a, const ServerTarget& server) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("feedback");
  w.StartArray();
  auto write_label = [&](const std::string& label) {
    w.Key("label");
    double v = 0;
    const char* end = nullptr;
    if (!label.empty()) {
      char* e = nullptr;
      v = std::strtod(label.c_str(), &e);
      end = e;
    }
    if (end && *end == '\0') {
      w.Double(v);
    } else {
      w.String(label.c_str());
    }
  };
  size_t n = 0;
  if (!a.file.empty()) {
    auto data = monitor::ReadDataset(a.file);
    if (!data.ok()) return FailStatus(data.status());
    const monitor::Column* pid = data->Find("prediction_id");
    const monitor::Column* id = data->Find("id");
    const monitor::Column* row = data->Find("row");
    const monitor::Column* label = data->Find("label");
    if (!label) return Fail(kUsageError, a.file + ": no 'label' column");
    if (!pid && !id) return Fail(kUsageError, a.file + ": no 'prediction_id' or 'id' column");
    for (int64_t i = 0; i < data->rows; ++i) {
      const size_t k = static_cast<size_t>(i);
      w.StartObject();
      if (pid) {
        w.Key("prediction_id");
        w.String(pid->texts[k].c_str());
      } else {
        w.Key("id");
        w.String(id->texts[k].c_str());
        if (row && !std::isnan(row->values[k])) {
          w.Key("row");
          w.Int64(static_cast<int64_t>(row->values[k]));
        }
      }
      write_label(label->texts[k]);
      w.EndObject();
      ++n;
    }
  } else {
    if (a.prediction_id.empty() || a.label.empty()) {
      return Fail(kUsageError, "give PREDICTION_ID LABEL, or --file FILE");
    }
    w.StartObject();
    w.Key("prediction_id");
    w.String(a.prediction_id.c_str());
    write_label(a.label);
    w.EndObject();
    n = 1;
  }
  w.EndArray();
  w.EndObject();
  if (n == 0) return Fail(kUsageError, a.file + ": no rows");
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "POST", "/api/v1/feedback", sb.GetString(), doc, code)) return code;
  PrintJson(doc);
  return 0;
}

int Skew(const SkewArgs& a, const ServerTarget& server) {
  auto data = monitor::ReadDataset(a.data);
  if (!data.ok()) return FailStatus(data.status());
  std::string id_col = a.id_column;
  if (id_col.empty()) id_col = data->Find("prediction_id") ? "prediction_id" : "id";
  const monitor::Column* ids = data->Find(id_col);
  if (!ids) {
    return Fail(kUsageError,
                a.data + ": no '" + id_col + "' column (name the id column with --id-column)");
  }
  const bool by_prediction = id_col == "prediction_id";
  const monitor::Column* row = data->Find("row");
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("tolerance");
  w.Double(a.tolerance);
  w.Key("rows");
  w.StartArray();
  for (int64_t i = 0; i < data->rows; ++i) {
    const size_t k = static_cast<size_t>(i);
    w.StartObject();
    w.Key(by_prediction ? "prediction_id" : "id");
    w.String(ids->texts[k].c_str());
    if (row && !std::isnan(row->values[k])) {
      w.Key("row");
      w.Int64(static_cast<int64_t>(row->values[k]));
    }
    w.Key("features");
    w.StartObject();
    for (const auto& c : data->columns) {
      if (&c == ids || &c == row || c.non_numeric > 0) continue;
      w.Key(c.name.c_str());
      if (std::isnan(c.values[k])) {
        w.Null();
      } else {
        w.Double(c.values[k]);
      }
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "POST", "/api/v1/models/" + a.model + "/skew", sb.GetString(), doc, code)) {
    return code;
  }
  if (a.json) {
    PrintJson(doc);
    return 0;
  }
  std::printf("%s: %lld offline rows, %lld matched served predictions, %lld unknown ids\n",
              a.model.c_str(), static_cast<long long>(doc["rows"].GetInt64()),
              static_cast<long long>(doc["matched"].GetInt64()),
              static_cast<long long>(doc["unknown"].GetInt64()));
  std::printf("%-24s %10s %10s %14s %14s %14s\n", "FEATURE", "COMPARED", "MISMATCH",
              "MISMATCH_RATE", "MEAN_ABS_DIFF", "MAX_ABS_DIFF");
  for (const auto& f : doc["features"].GetArray()) {
    std::printf("%-24s %10llu %10llu %14s %14s %14s\n", f["feature"].GetString(),
                static_cast<unsigned long long>(f["compared"].GetUint64()),
                static_cast<unsigned long long>(f["mismatches"].GetUint64()),
                Num(f["mismatch_rate"].GetDouble()).c_str(),
                Num(f["mean_abs_diff"].GetDouble()).c_str(),
                Num(f["max_abs_diff"].GetDouble()).c_str());
  }
  return 0;
}

int AlertsList(const std::string& state, const std::string& model, bool json,
               const ServerTarget& server) {
  std::string query;
  if (!state.empty()) query += "state=" + state;
  if (!model.empty()) query += std::string(query.empty() ? "" : "&") + "model=" + model;
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "GET", "/api/v1/alerts" + (query.empty() ? "" : "?" + query), "", doc, code)) {
    return code;
  }
  if (json) {
    PrintJson(doc);
    return 0;
  }
  std::printf("%-9s %-26s %-10s %-9s %-26s %12s  %s\n", "STATE", "ALERT", "MODEL", "SEVERITY",
              "CONDITION", "VALUE", "SINCE");
  for (const auto& a : doc["alerts"].GetArray()) {
    const auto& labels = a["labels"];
    std::printf("%-9s %-26s %-10s %-9s %-26s %12s  %s\n", a["state"].GetString(),
                a["name"].GetString(),
                labels.HasMember("model") ? labels["model"].GetString() : "-",
                labels.HasMember("severity") ? labels["severity"].GetString() : "-",
                a["condition"].GetString(), Num(a["value"].GetDouble()).c_str(),
                a["active_since"].GetString());
  }
  return 0;
}

int AlertsSilence(const std::vector<std::string>& matchers, const std::string& duration,
                  const std::string& comment, const ServerTarget& server) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("matchers");
  w.StartArray();
  for (const auto& m : matchers) w.String(m.c_str());
  w.EndArray();
  w.Key("duration");
  w.String(duration.c_str());
  w.Key("comment");
  w.String(comment.c_str());
  w.EndObject();
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "POST", "/api/v1/silences", sb.GetString(), doc, code)) return code;
  PrintJson(doc);
  return 0;
}

int AlertsSilences(const ServerTarget& server) {
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "GET", "/api/v1/silences", "", doc, code)) return code;
  PrintJson(doc);
  return 0;
}

int AlertsExpire(const std::string& id, const ServerTarget& server) {
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "DELETE", "/api/v1/silences/" + id, "", doc, code)) return code;
  PrintJson(doc);
  return 0;
}

int AlertsAck(const std::string& fingerprint, const ServerTarget& server) {
  rapidjson::Document doc;
  int code = 0;
  if (!Fetch(server, "POST", "/api/v1/alerts/" + fingerprint + "/ack", "{}", doc, code)) {
    return code;
  }
  PrintJson(doc);
  return 0;
}

}  // namespace vigil::cli
