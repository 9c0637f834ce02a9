// Drift: compares current data with a reference, per feature, and decides.
//
// Two paths share the same methods and verdict rules:
//  - binned: a live window's counts in the reference profile's bins (the server);
//    bounded memory, with the approximation error documented in docs/monitoring.md;
//  - samples: raw values on both sides (offline `vigil drift --reference --current`),
//    exactly SciPy's statistics.
//
// Methods: ks (two-sample Kolmogorov-Smirnov; drift when p < p_value), chisquare
// (categorical; drift when p < p_value), psi (population stability index over ~10
// reference-quantile bins; drift when >= threshold, bands 0.1 / 0.25), wasserstein
// (normalised by the reference's std; drift when >= threshold), jensenshannon (distance,
// natural log; drift when >= threshold). `auto` picks a statistical test for windows up
// to small_window rows (ks, chisquare) and a distance above it (wasserstein,
// jensenshannon), because on large windows every p-value is tiny and every feature would
// "drift". P-values are corrected for multiple testing across features (bh by default).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "monitor/profile.h"
#include "serving/model_config.h"

namespace vigil::monitor {

struct FeatureDrift {
  std::string feature;
  std::string method;    // the method used (never "auto")
  double score = 0;      // p-value (ks, chisquare) or distance
  double statistic = 0;  // the test statistic (ks: D; chisquare: chi^2; else = score)
  double threshold = 0;  // drift when p < threshold (tests) or score >= threshold
  bool is_test = false;  // score is a p-value
  bool drifted = false;
  bool evaluated = false;  // false: too few rows, or no reference
  std::string note;        // why not evaluated, or the PSI band
  uint64_t reference_rows = 0, current_rows = 0;
};

struct DriftReport {
  std::vector<FeatureDrift> features;
  std::optional<FeatureDrift> prediction;
  int drifted_features = 0;
  int evaluated_features = 0;
  double drift_share = 0;  // drifted / evaluated
  bool dataset_drift = false;
  double dataset_drift_share = 0.5;  // the configured share
  std::string correction;
};

// Resolves "auto" and the default threshold for a feature.
struct MethodChoice {
  std::string method;
  double threshold = 0;
  bool is_test = false;
};
MethodChoice ChooseMethod(const DriftConfig& config, const FeatureMonitorConfig* feature,
                          FeatureKind kind, uint64_t current_rows);

// Binned: `current` holds counts in `reference`'s bins; below_sum / above_sum are the sums
// of the current values that fell below / above the reference's range (numeric only),
// which make the Wasserstein distance exact outside that range.
FeatureDrift DriftOfBins(const FeatureProfile& reference, std::span<const double> current,
                         double below_sum, double above_sum, const DriftConfig& config,
                         const FeatureMonitorConfig* feature);

// Samples: numeric values (NaN = missing, ignored), or category texts when `categorical`.
FeatureDrift DriftOfNumericSamples(const std::string& name, std::span<const double> reference,
                                   std::span<const double> current, const DriftConfig& config,
                                   const FeatureMonitorConfig* feature);
FeatureDrift DriftOfCategoricalSamples(const std::string& name,
                                       std::span<const std::string> reference,
                                       std::span<const std::string> current,
                                       const DriftConfig& config,
                                       const FeatureMonitorConfig* feature);

// The columnar batch path: `columns[i]` holds the current values of
// reference.features[i] (NaN = missing); each is counted into the reference's bins (via
// BinIndex) and judged like a live window. O(rows x features), no sorting.
DriftReport DriftOfColumns(const Profile& reference,
                           std::span<const std::span<const float>> columns,
                           const DriftConfig& config);

// Applies the multiple-testing correction to the test p-values of `report.features`,
// sets verdicts and the dataset-level share. The prediction is judged on its own.
void FinishReport(DriftReport& report, const DriftConfig& config);

// Groups fine bins into about `groups` bins of equal reference mass (the PSI/JS bins);
// returns the first fine bin of each group.
std::vector<size_t> GroupBins(std::span<const double> reference_counts, int groups = 10);

// Binned approximations used by DriftOfBins, exposed for tests: the largest CDF gap at bin
// edges, and the Wasserstein-1 distance with mass spread evenly inside each interior bin
// (exact in the open bins below and above the reference, from the values' sums there).
double BinnedKsStatistic(std::span<const double> reference, std::span<const double> current);
double BinnedWasserstein(const FeatureProfile& reference, std::span<const double> current,
                         double below_sum, double above_sum);

}  // namespace vigil::monitor
