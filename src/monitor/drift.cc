#include "monitor/drift.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>

#include "monitor/stats.h"

namespace vigil::monitor {
namespace {

constexpr double kDistanceThreshold = 0.1;  // wasserstein (normed), jensenshannon, psi

double Sum(std::span<const double> v) { return std::accumulate(v.begin(), v.end(), 0.0); }

std::vector<double> Regroup(std::span<const double> counts, const std::vector<size_t>& starts) {
  std::vector<double> out(starts.size(), 0.0);
  for (size_t g = 0; g < starts.size(); ++g) {
    const size_t end = g + 1 < starts.size() ? starts[g + 1] : counts.size();
    for (size_t i = starts[g]; i < end; ++i) out[g] += counts[i];
  }
  return out;
}

// Drops bins empty on both sides (they carry no information and break chi-square).
void DropEmpty(std::vector<double>& ref, std::vector<double>& cur) {
  size_t w = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (ref[i] == 0 && cur[i] == 0) continue;
    ref[w] = ref[i];
    cur[w] = cur[i];
    ++w;
  }
  ref.resize(w);
  cur.resize(w);
}

// Chi-square goodness of fit of `cur` against `ref`'s proportions; reference bins that
// are empty get the PSI epsilon so that a new category is a finite, large statistic.
std::pair<double, double> ChiSquareOfCounts(std::vector<double> ref, std::vector<double> cur) {
  DropEmpty(ref, cur);
  if (ref.size() < 2) return {0.0, 1.0};
  // A category the reference never saw gets a small expected share (PSI's epsilon) rather
  // than an infinite statistic: one odd value must not read as certain drift.
  const double total = Sum(ref);
  for (size_t i = 0; i < ref.size(); ++i) {
    if (ref[i] == 0) ref[i] = kPsiDefaultEpsilon * total;
  }
  auto r = ChiSquareDriftTest(ref, cur);
  if (!r.ok()) return {0.0, 1.0};
  return {r->statistic, r->p_value};
}

double JsOfCounts(std::vector<double> ref, std::vector<double> cur) {
  DropEmpty(ref, cur);
  if (ref.empty()) return 0.0;
  auto r = JensenShannonDistance(ref, cur);
  return r.ok() ? *r : 0.0;
}

double PsiOfCounts(const std::vector<double>& ref, const std::vector<double>& cur) {
  auto r = PopulationStabilityIndex(ref, cur);
  return r.ok() ? *r : 0.0;
}

std::string PsiBand(double psi) {
  if (psi < kPsiModerateShift) return "psi: no significant shift (< 0.1)";
  if (psi < kPsiMajorShift) return "psi: moderate shift (0.1-0.25)";
  return "psi: significant shift (>= 0.25)";
}

void Judge(FeatureDrift& d) {
  d.evaluated = true;
  d.drifted = d.is_test ? d.score < d.threshold : d.score >= d.threshold;
  if (d.method == "psi") d.note = PsiBand(d.score);
}

}  // namespace

MethodChoice ChooseMethod(const DriftConfig& config, const FeatureMonitorConfig* feature,
                          FeatureKind kind, uint64_t current_rows) {
  std::string m = feature && !feature->drift_method.empty() ? feature->drift_method : config.method;
  const bool categorical = kind == FeatureKind::kCategorical;
  if (m == "auto") {
    const bool small = current_rows <= static_cast<uint64_t>(config.small_window);
    m = categorical ? (small ? "chisquare" : "jensenshannon") : (small ? "ks" : "wasserstein");
  }
  // Methods that need an order do not apply to categories.
  if (categorical && (m == "ks" || m == "wasserstein")) m = "chisquare";
  MethodChoice c;
  c.method = m;
  c.is_test = m == "ks" || m == "chisquare";
  std::optional<double> threshold =
      feature && feature->drift_threshold ? feature->drift_threshold : config.threshold;
  // A model-wide threshold is for the model-wide method; `auto` mixes kinds, so its
  // threshold only applies to distances and tests keep p_value.
  if (config.method == "auto" && !(feature && feature->drift_threshold)) threshold.reset();
  c.threshold = threshold.value_or(c.is_test ? config.p_value : kDistanceThreshold);
  return c;
}

std::vector<size_t> GroupBins(std::span<const double> ref, int groups) {
  std::vector<size_t> starts;
  const size_t n = ref.size();
  if (n < 3) {
    for (size_t i = 0; i < n; ++i) starts.push_back(i);
    return starts;
  }
  starts.push_back(0);  // below the reference's minimum
  starts.push_back(1);
  const double total = Sum(ref.subspan(1, n - 2));
  const double target = total / std::max(groups, 1);
  double cum = 0;
  int g = 1;
  for (size_t i = 1; i + 1 < n; ++i) {
    cum += ref[i];
    if (total > 0 && cum >= target * g - 1e-9 && i + 2 < n) {
      starts.push_back(i + 1);
      while (cum >= target * g - 1e-9) ++g;
    }
  }
  starts.push_back(n - 1);  // above the reference's maximum
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  return starts;
}

double BinnedKsStatistic(std::span<const double> ref, std::span<const double> cur) {
  const double nr = Sum(ref), nc = Sum(cur);
  if (nr <= 0 || nc <= 0) return 0.0;
  double fr = 0, fc = 0, d = 0;
  for (size_t i = 0; i < ref.size() && i < cur.size(); ++i) {
    fr += ref[i] / nr;
    fc += cur[i] / nc;
    d = std::max(d, std::fabs(fr - fc));
  }
  return d;
}

double BinnedWasserstein(const FeatureProfile& reference, std::span<const double> cur,
                         double below_sum, double above_sum) {
  std::span<const double> ref = reference.counts;
  const double nr = Sum(ref), nc = Sum(cur);
  if (nr <= 0 || nc <= 0 || cur.size() != ref.size()) return 0.0;
  const auto& e = reference.edges;
  const size_t k = e.size();  // bins: 0 (below) .. k (above)
  // Outside the reference's range its CDF is 0 (below) or 1 (above), so the area between
  // the CDFs there is E[(e0 - X)+] and E[(X - ek)+] of the current values: exact from sums.
  double area = 0;
  if (cur[0] > 0) area += (cur[0] * e.front() - below_sum) / nc;
  if (cur[k] > 0) area += (above_sum - cur[k] * e.back()) / nc;
  double fr = 0, fc = cur[0] / nc;
  for (size_t i = 1; i < k; ++i) {
    const double w = e[i] - e[i - 1];
    const double d0 = fr - fc;
    fr += ref[i] / nr;
    fc += cur[i] / nc;
    const double d1 = fr - fc;
    if (w <= 0 || !std::isfinite(w)) continue;
    // Both CDFs are linear inside the bin, so their gap is too: integrate |gap| exactly.
    if ((d0 >= 0) == (d1 >= 0)) {
      area += w * (std::fabs(d0) + std::fabs(d1)) / 2;
    } else {
      area += w * (d0 * d0 + d1 * d1) / (2 * (std::fabs(d0) + std::fabs(d1)));
    }
  }
  return area;
}

FeatureDrift DriftOfBins(const FeatureProfile& reference, std::span<const double> current,
                         double below_sum, double above_sum, const DriftConfig& config,
                         const FeatureMonitorConfig* feature) {
  FeatureDrift d;
  d.feature = reference.name;
  d.reference_rows = static_cast<uint64_t>(Sum(reference.counts));
  d.current_rows = static_cast<uint64_t>(Sum(current));
  const MethodChoice m = ChooseMethod(config, feature, reference.kind, d.current_rows);
  d.method = m.method;
  d.threshold = m.threshold;
  d.is_test = m.is_test;
  if (d.current_rows < static_cast<uint64_t>(config.min_samples) || d.reference_rows == 0) {
    d.note = "not enough data (" + std::to_string(d.current_rows) + " rows, need " +
             std::to_string(config.min_samples) + ")";
    return d;
  }
  const std::vector<double> ref(reference.counts.begin(), reference.counts.end());
  const std::vector<double> cur(current.begin(), current.end());
  const bool numeric = reference.kind == FeatureKind::kNumeric;
  const std::vector<size_t> groups = numeric ? GroupBins(ref) : [&] {
    std::vector<size_t> all(ref.size());
    std::iota(all.begin(), all.end(), size_t{0});
    return all;
  }();
  if (m.method == "ks") {
    d.statistic = BinnedKsStatistic(ref, cur);
    // Binned windows are large on the reference side, where SciPy uses the asymptotic
    // distribution with n = round(n_ref * n_cur / (n_ref + n_cur)).
    const double n = static_cast<double>(d.reference_rows), m = static_cast<double>(d.current_rows);
    d.score = KolmogorovSf(std::llround(n * m / (n + m)), d.statistic);
  } else if (m.method == "wasserstein") {
    const double w = BinnedWasserstein(reference, cur, below_sum, above_sum);
    d.statistic = w;
    d.score = w / std::max(reference.std, kWassersteinNormMinStd);
  } else if (m.method == "psi") {
    d.score = d.statistic = PsiOfCounts(Regroup(ref, groups), Regroup(cur, groups));
  } else if (m.method == "jensenshannon") {
    d.score = d.statistic = JsOfCounts(Regroup(ref, groups), Regroup(cur, groups));
  } else {  // chisquare
    auto [stat, p] = ChiSquareOfCounts(Regroup(ref, groups), Regroup(cur, groups));
    d.statistic = stat;
    d.score = p;
  }
  Judge(d);
  return d;
}

FeatureDrift DriftOfNumericSamples(const std::string& name, std::span<const double> reference,
                                   std::span<const double> current, const DriftConfig& config,
                                   const FeatureMonitorConfig* feature) {
  std::vector<double> ref, cur;
  for (double v : reference) {
    if (!std::isnan(v)) ref.push_back(v);
  }
  for (double v : current) {
    if (!std::isnan(v)) cur.push_back(v);
  }
  FeatureDrift d;
  d.feature = name;
  d.reference_rows = ref.size();
  d.current_rows = cur.size();
  const MethodChoice m = ChooseMethod(config, feature, FeatureKind::kNumeric, cur.size());
  d.method = m.method;
  d.threshold = m.threshold;
  d.is_test = m.is_test;
  if (cur.size() < static_cast<size_t>(config.min_samples) || ref.empty()) {
    d.note = "not enough data (" + std::to_string(cur.size()) + " rows, need " +
             std::to_string(config.min_samples) + ")";
    return d;
  }
  std::sort(ref.begin(), ref.end());
  std::sort(cur.begin(), cur.end());
  if (m.method == "ks") {
    auto r = KolmogorovSmirnovTestSorted(ref, cur);
    if (r.ok()) {
      d.statistic = r->statistic;
      d.score = r->p_value;
    }
  } else if (m.method == "wasserstein") {
    auto n = NormedWassersteinDistanceSorted(ref, cur);
    d.statistic = n.ok() ? n->distance : 0.0;
    d.score = n.ok() ? n->normed : 0.0;
  } else {
    // psi, jensenshannon, chisquare: on the reference's decile bins, like the server.
    const FeatureProfile prof = BuildNumericProfile(name, ref, 10);
    std::vector<double> counts(prof.bins(), 0.0);
    for (double v : cur) counts[prof.BinOf(v)] += 1;
    if (m.method == "psi") {
      d.score = d.statistic = PsiOfCounts(prof.counts, counts);
    } else if (m.method == "jensenshannon") {
      d.score = d.statistic = JsOfCounts(prof.counts, counts);
    } else {
      auto [stat, p] = ChiSquareOfCounts(prof.counts, counts);
      d.statistic = stat;
      d.score = p;
    }
  }
  Judge(d);
  return d;
}

FeatureDrift DriftOfCategoricalSamples(const std::string& name,
                                       std::span<const std::string> reference,
                                       std::span<const std::string> current,
                                       const DriftConfig& config,
                                       const FeatureMonitorConfig* feature) {
  const FeatureProfile prof = BuildCategoricalProfile(name, reference);
  std::vector<double> counts(prof.bins(), 0.0);
  uint64_t n = 0;
  for (const auto& v : current) {
    if (v.empty()) continue;
    counts[prof.CategoryOf(v)] += 1;
    ++n;
  }
  return DriftOfBins(prof, counts, 0, 0, config, feature);
}

DriftReport DriftOfColumns(const Profile& reference,
                           std::span<const std::span<const float>> columns,
                           const DriftConfig& config) {
  DriftReport report;
  std::vector<double> counts;
  for (size_t i = 0; i < reference.features.size() && i < columns.size(); ++i) {
    const FeatureProfile& f = reference.features[i];
    counts.assign(f.bins(), 0.0);
    double below = 0, above = 0;
    if (f.kind == FeatureKind::kNumeric) {
      uint64_t missing = 0;
      BinIndex(f.edges).Count(columns[i], counts, below, above, missing);
    } else {
      // Categories are numeric codes here (the column is numeric).
      std::vector<std::pair<double, size_t>> codes;
      for (size_t c = 0; c + 1 < f.categories.size(); ++c) {
        codes.emplace_back(std::strtod(f.categories[c].c_str(), nullptr), c);
      }
      std::sort(codes.begin(), codes.end());
      for (float x : columns[i]) {
        if (std::isnan(x)) continue;
        auto it = std::lower_bound(codes.begin(), codes.end(),
                                   std::make_pair(static_cast<double>(x), size_t{0}));
        counts[it != codes.end() && it->first == x ? it->second : f.bins() - 1] += 1;
      }
    }
    report.features.push_back(DriftOfBins(f, counts, below, above, config, nullptr));
  }
  FinishReport(report, config);
  return report;
}

void FinishReport(DriftReport& report, const DriftConfig& config) {
  report.correction = config.correction;
  report.dataset_drift_share = config.dataset_drift_share;
  std::vector<size_t> tests;
  std::vector<double> p;
  for (size_t i = 0; i < report.features.size(); ++i) {
    const FeatureDrift& f = report.features[i];
    if (f.evaluated && f.is_test) {
      tests.push_back(i);
      p.push_back(f.score);
    }
  }
  if (!p.empty() && config.correction != "none") {
    auto adjusted = config.correction == "bonferroni" ? Bonferroni(p) : BenjaminiHochberg(p);
    if (adjusted.ok()) {
      for (size_t j = 0; j < tests.size(); ++j) {
        FeatureDrift& f = report.features[tests[j]];
        f.score = (*adjusted)[j];
        f.drifted = f.score < f.threshold;
      }
    }
  }
  report.drifted_features = 0;
  report.evaluated_features = 0;
  for (const auto& f : report.features) {
    if (!f.evaluated) continue;
    ++report.evaluated_features;
    if (f.drifted) ++report.drifted_features;
  }
  report.drift_share = report.evaluated_features
                           ? static_cast<double>(report.drifted_features) /
                                 static_cast<double>(report.evaluated_features)
                           : 0.0;
  report.dataset_drift =
      report.evaluated_features > 0 && report.drift_share >= config.dataset_drift_share;
}

}  // namespace vigil::monitor
