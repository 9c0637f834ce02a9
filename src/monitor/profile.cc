#include "monitor/profile.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace vigil::monitor {
namespace {

constexpr int kFormatVersion = 1;

// numpy.percentile's default ("linear") interpolation on sorted data.
double Percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void WriteFeature(Writer& w, const FeatureProfile& f) {
  w.StartObject();
  w.Key("name");
  w.String(f.name.c_str());
  w.Key("kind");
  w.String(f.kind == FeatureKind::kNumeric ? "numeric" : "categorical");
  w.Key("count");
  w.Uint64(f.count);
  w.Key("missing");
  w.Uint64(f.missing);
  if (f.kind == FeatureKind::kNumeric) {
    w.Key("mean");
    w.Double(f.mean);
    w.Key("std");
    w.Double(f.std);
    w.Key("min");
    w.Double(f.min);
    w.Key("max");
    w.Double(f.max);
    w.Key("edges");
    w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
    w.StartArray();
    for (double e : f.edges) w.Double(e);
    w.EndArray();
  } else {
    w.Key("categories");
    w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
    w.StartArray();
    for (const auto& c : f.categories) w.String(c.c_str());
    w.EndArray();
  }
  w.Key("counts");
  w.StartArray();
  for (double c : f.counts) w.Double(c);
  w.EndArray();
  w.SetFormatOptions(rapidjson::kFormatDefault);
  w.EndObject();
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Status Error(const std::string& where, const std::string& msg) const {
    return InvalidArgument(file_ + ": " + where + ": " + msg);
  }

  Result<double> Num(const rapidjson::Value& o, const char* key, const std::string& where) const {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsNumber()) {
      return Error(where + "." + key, "expected a number");
    }
    return it->value.GetDouble();
  }

  Result<std::vector<double>> Nums(const rapidjson::Value& o, const char* key,
                                   const std::string& where) const {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsArray()) {
      return Error(where + "." + key, "expected an array of numbers");
    }
    std::vector<double> out;
    for (const auto& v : it->value.GetArray()) {
      if (!v.IsNumber()) return Error(where + "." + key, "expected an array of numbers");
      out.push_back(v.GetDouble());
    }
    return out;
  }

  Result<FeatureProfile> Feature(const rapidjson::Value& o, const std::string& where) const {
    if (!o.IsObject()) return Error(where, "expected an object");
    FeatureProfile f;
    auto name = o.FindMember("name");
    if (name == o.MemberEnd() || !name->value.IsString()) {
      return Error(where + ".name", "expected a string");
    }
    f.name = name->value.GetString();
    auto kind = o.FindMember("kind");
    const std::string k =
        kind != o.MemberEnd() && kind->value.IsString() ? kind->value.GetString() : "";
    if (k != "numeric" && k != "categorical") {
      return Error(where + ".kind", "expected 'numeric' or 'categorical'");
    }
    f.kind = k == "numeric" ? FeatureKind::kNumeric : FeatureKind::kCategorical;
    auto count = Num(o, "count", where);
    auto missing = Num(o, "missing", where);
    auto counts = Nums(o, "counts", where);
    if (!count.ok()) return count.status();
    if (!missing.ok()) return missing.status();
    if (!counts.ok()) return counts.status();
    f.count = static_cast<uint64_t>(*count);
    f.missing = static_cast<uint64_t>(*missing);
    f.counts = std::move(*counts);
    if (f.kind == FeatureKind::kNumeric) {
      for (auto [key, dst] : {std::pair{"mean", &f.mean}, std::pair{"std", &f.std},
                              std::pair{"min", &f.min}, std::pair{"max", &f.max}}) {
        auto v = Num(o, key, where);
        if (!v.ok()) return v.status();
        *dst = *v;
      }
      auto edges = Nums(o, "edges", where);
      if (!edges.ok()) return edges.status();
      f.edges = std::move(*edges);
      if (f.edges.empty() || !std::is_sorted(f.edges.begin(), f.edges.end())) {
        return Error(where + ".edges", "expected an ascending, non-empty array");
      }
      if (f.counts.size() != f.edges.size() + 1) {
        return Error(where + ".counts", "expected " + std::to_string(f.edges.size() + 1) +
                                            " bins (edges + 1), got " +
                                            std::to_string(f.counts.size()));
      }
    } else {
      auto cats = o.FindMember("categories");
      if (cats == o.MemberEnd() || !cats->value.IsArray()) {
        return Error(where + ".categories", "expected an array of strings");
      }
      for (const auto& c : cats->value.GetArray()) {
        if (!c.IsString()) return Error(where + ".categories", "expected an array of strings");
        f.categories.emplace_back(c.GetString(), c.GetStringLength());
      }
      if (f.categories.empty() || f.categories.back() != kOtherCategory) {
        return Error(where + ".categories",
                     "expected the last category to be '" + std::string(kOtherCategory) + "'");
      }
      if (f.counts.size() != f.categories.size()) {
        return Error(where + ".counts", "expected one count per category");
      }
    }
    for (double c : f.counts) {
      if (!(c >= 0)) return Error(where + ".counts", "counts must be non-negative");
    }
    return f;
  }

 private:
  std::string file_;
};

}  // namespace

size_t FeatureProfile::BinOf(double v) const {
  if (v < edges.front()) return 0;
  if (v > edges.back()) return edges.size();
  size_t i = static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
  return std::min(i, edges.size() - 1);
}

size_t FeatureProfile::CategoryOf(std::string_view value) const {
  const auto end = categories.end() - 1;  // the last one is "other"
  auto it = std::lower_bound(categories.begin(), end, value,
                             [](const std::string& a, std::string_view b) { return a < b; });
  if (it != end && *it == value) return static_cast<size_t>(it - categories.begin());
  return categories.size() - 1;
}

BinIndex::BinIndex(const std::vector<double>& edges) : edges_(edges), n_(edges.size()) {
  lo_ = edges_.front();
  hi_ = edges_.back();
  // 16 grid cells per bin: a value's cell rarely holds an edge, so the lookup's finishing
  // steps are almost always predictable.
  const size_t cells = std::max<size_t>(64, n_ * 16);
  scale_ = hi_ > lo_ ? static_cast<double>(cells) / (hi_ - lo_) : 0.0;
  start_.assign(cells, 0);
  // Cell c starts from the edges <= the previous cell's lower bound: an underestimate for
  // every value the cell can receive, however (v - lo) * scale rounds.
  size_t i = 0;
  for (size_t c = 2; c < cells && scale_ > 0; ++c) {
    const double previous_bound = lo_ + static_cast<double>(c - 1) / scale_;
    while (i < n_ && edges_[i] <= previous_bound) ++i;
    start_[c] = static_cast<uint32_t>(i);
  }
  edges_.resize(n_ + 3, std::numeric_limits<double>::infinity());
}

void BinIndex::Count(std::span<const float> values, std::vector<double>& counts, double& below_sum,
                     double& above_sum, uint64_t& missing) const {
  // Four interleaved integer histograms: consecutive values in the same bin do not wait on
  // each other's increments.
  const size_t bins = n_ + 1;
  std::vector<uint32_t> lanes(4 * bins, 0);
  double below = 0, above = 0;
  uint64_t nan = 0;
  size_t k = 0;
  auto one = [&](float x, size_t lane) {
    if (std::isnan(x)) {
      ++nan;
      return;
    }
    const size_t b = (*this)(x);
    ++lanes[lane * bins + b];
    below += b == 0 ? x : 0.0;
    above += b == n_ ? x : 0.0;
  };
  for (; k + 4 <= values.size(); k += 4) {
    one(values[k], 0);
    one(values[k + 1], 1);
    one(values[k + 2], 2);
    one(values[k + 3], 3);
  }
  for (; k < values.size(); ++k) one(values[k], 0);
  counts.resize(bins, 0.0);
  for (size_t b = 0; b < bins; ++b) {
    counts[b] +=
        static_cast<double>(lanes[b]) + lanes[bins + b] + lanes[2 * bins + b] + lanes[3 * bins + b];
  }
  below_sum += below;
  above_sum += above;
  missing += nan;
}

const FeatureProfile* Profile::Find(std::string_view name) const {
  for (const auto& f : features) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string CategoryText(double v) {
  char buf[32];
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 1e15) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    return std::string(buf, end);
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

FeatureProfile BuildNumericProfile(std::string name, std::span<const double> values, int bins) {
  FeatureProfile f;
  f.name = std::move(name);
  f.kind = FeatureKind::kNumeric;
  std::vector<double> sorted;
  sorted.reserve(values.size());
  for (double v : values) {
    if (std::isnan(v)) {
      ++f.missing;
    } else {
      sorted.push_back(v);
    }
  }
  f.count = sorted.size();
  if (sorted.empty()) {
    f.edges = {0.0, 0.0};
    f.counts.assign(3, 0.0);
    return f;
  }
  std::sort(sorted.begin(), sorted.end());
  double sum = 0;
  for (double v : sorted) sum += v;
  f.mean = sum / static_cast<double>(sorted.size());
  double ss = 0;
  for (double v : sorted) ss += (v - f.mean) * (v - f.mean);
  f.std = std::sqrt(ss / static_cast<double>(sorted.size()));
  f.min = sorted.front();
  f.max = sorted.back();
  bins = std::max(bins, 1);
  for (int i = 0; i <= bins; ++i) {
    const double e = Percentile(sorted, static_cast<double>(i) / bins);
    if (f.edges.empty() || e > f.edges.back()) f.edges.push_back(e);
  }
  if (f.edges.size() == 1) f.edges.push_back(f.edges[0]);  // a constant feature: [v, v]
  f.counts.assign(f.edges.size() + 1, 0.0);
  for (double v : sorted) f.counts[f.BinOf(v)] += 1;
  return f;
}

FeatureProfile BuildCategoricalProfile(std::string name, std::span<const std::string> values,
                                       std::span<const std::string> allowed) {
  FeatureProfile f;
  f.name = std::move(name);
  f.kind = FeatureKind::kCategorical;
  std::map<std::string, double> counts;
  for (const auto& a : allowed) counts[a] = 0;
  double other = 0;
  for (const auto& v : values) {
    if (v.empty()) {
      ++f.missing;
      continue;
    }
    ++f.count;
    if (allowed.empty() || counts.count(v)) {
      counts[v] += 1;
    } else {
      other += 1;
    }
  }
  for (auto& [k, c] : counts) {
    f.categories.push_back(k);
    f.counts.push_back(c);
  }
  f.categories.emplace_back(kOtherCategory);
  f.counts.push_back(other);
  return f;
}

std::string ProfileToJson(const Profile& p) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("format_version");
  w.Int(kFormatVersion);
  w.Key("model");
  w.String(p.model.c_str());
  w.Key("version");
  w.Int64(p.version);
  w.Key("rows");
  w.Int64(p.rows);
  w.Key("source");
  w.String(p.source.c_str());
  w.Key("created_at");
  w.String(p.created_at.c_str());
  w.Key("features");
  w.StartArray();
  for (const auto& f : p.features) WriteFeature(w, f);
  w.EndArray();
  if (p.prediction) {
    w.Key("prediction");
    WriteFeature(w, *p.prediction);
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

Result<Profile> ProfileFromJson(const std::string& text, const std::string& file) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str(), text.size());
  if (doc.HasParseError()) {
    return InvalidArgument(file + ": invalid JSON at offset " +
                           std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  Reader r(file);
  if (!doc.IsObject()) return r.Error("(root)", "expected an object");
  auto fv = doc.FindMember("format_version");
  if (fv == doc.MemberEnd() || !fv->value.IsInt() || fv->value.GetInt() != kFormatVersion) {
    return r.Error("format_version", "expected " + std::to_string(kFormatVersion));
  }
  Profile p;
  if (auto m = doc.FindMember("model"); m != doc.MemberEnd() && m->value.IsString()) {
    p.model = m->value.GetString();
  }
  if (auto m = doc.FindMember("version"); m != doc.MemberEnd() && m->value.IsInt64()) {
    p.version = m->value.GetInt64();
  }
  if (auto m = doc.FindMember("rows"); m != doc.MemberEnd() && m->value.IsInt64()) {
    p.rows = m->value.GetInt64();
  }
  if (auto m = doc.FindMember("source"); m != doc.MemberEnd() && m->value.IsString()) {
    p.source = m->value.GetString();
  }
  if (auto m = doc.FindMember("created_at"); m != doc.MemberEnd() && m->value.IsString()) {
    p.created_at = m->value.GetString();
  }
  auto feats = doc.FindMember("features");
  if (feats == doc.MemberEnd() || !feats->value.IsArray()) {
    return r.Error("features", "expected an array");
  }
  for (rapidjson::SizeType i = 0; i < feats->value.Size(); ++i) {
    auto f = r.Feature(feats->value[i], "features[" + std::to_string(i) + "]");
    if (!f.ok()) return f.status();
    p.features.push_back(std::move(*f));
  }
  if (auto m = doc.FindMember("prediction"); m != doc.MemberEnd()) {
    auto f = r.Feature(m->value, "prediction");
    if (!f.ok()) return f.status();
    p.prediction = std::move(*f);
  }
  return p;
}

Result<Profile> LoadProfile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return NotFound(file.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ProfileFromJson(ss.str(), file.string());
}

Status SaveProfile(const Profile& p, const std::filesystem::path& file) {
  // Write-then-rename: a reader (the server) never sees half a file.
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return InvalidArgument(tmp.string() + ": cannot write");
    out << ProfileToJson(p);
    if (!out.flush()) return Internal(tmp.string() + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) return Internal(file.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace vigil::monitor
