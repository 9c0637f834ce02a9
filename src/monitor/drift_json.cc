#include "monitor/drift_json.h"

#include <cmath>

namespace vigil::monitor {
namespace {

void NumberOrNull(rapidjson::Writer<rapidjson::StringBuffer>& w, bool present, double v) {
  if (present && std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();
  }
}

}  // namespace

void WriteFeatureDrift(rapidjson::Writer<rapidjson::StringBuffer>& w, const FeatureDrift& d) {
  w.StartObject();
  w.Key("feature");
  w.String(d.feature.data(), static_cast<rapidjson::SizeType>(d.feature.size()));
  w.Key("method");
  w.String(d.method.data(), static_cast<rapidjson::SizeType>(d.method.size()));
  w.Key("evaluated");
  w.Bool(d.evaluated);
  w.Key("score");
  NumberOrNull(w, d.evaluated, d.score);
  w.Key("score_kind");
  w.String(d.is_test ? "p_value" : "distance");
  w.Key("statistic");
  NumberOrNull(w, d.evaluated, d.statistic);
  w.Key("threshold");
  NumberOrNull(w, true, d.threshold);
  w.Key("drifted");
  w.Bool(d.drifted);
  w.Key("reference_rows");
  w.Uint64(d.reference_rows);
  w.Key("current_rows");
  w.Uint64(d.current_rows);
  if (!d.note.empty()) {
    w.Key("note");
    w.String(d.note.data(), static_cast<rapidjson::SizeType>(d.note.size()));
  }
  w.EndObject();
}

}  // namespace vigil::monitor
