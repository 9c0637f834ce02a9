// Profile: the distribution of a model's inputs and predictions, per feature.
//
// A reference profile is built once from training data (`vigil profile build`) and saved
// as JSON next to the model (<model>/reference.json, or <model>/<version>/reference.json
// for one version). Live windows count into the same fixed bins, so reference and live
// data are compared bin by bin with bounded memory (DESIGN.md §9.9).
//
// Numeric features: bin edges are the reference's percentiles (up to 100 bins, duplicate
// edges merged), plus an open bin below the reference minimum and one above its maximum.
// Categorical features: a count per category value, plus "other".
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::monitor {

inline constexpr int kDefaultBins = 100;
inline constexpr std::string_view kOtherCategory = "__other__";

enum class FeatureKind { kNumeric, kCategorical };

struct FeatureProfile {
  std::string name;
  FeatureKind kind = FeatureKind::kNumeric;
  uint64_t count = 0;    // values present
  uint64_t missing = 0;  // values missing (NaN, empty)
  // Numeric.
  double mean = 0, std = 0, min = 0, max = 0;  // std: population (ddof = 0)
  std::vector<double> edges;                   // ascending, distinct; >= 1 entry when count > 0
  // Categorical: `categories[i]` has `counts[i]`; the last category is kOtherCategory.
  std::vector<std::string> categories;
  // Numeric: edges.size() + 1 bins: [below min] [e0,e1) ... [e(k-2), e(k-1)] [above max].
  std::vector<double> counts;

  double missing_rate() const {
    const uint64_t total = count + missing;
    return total ? static_cast<double>(missing) / static_cast<double>(total) : 0.0;
  }
  size_t bins() const { return counts.size(); }

  // The bin of a value (numeric) — not for NaN.
  size_t BinOf(double v) const;
  // The bin of a category value (categorical), the "other" bin when unknown.
  size_t CategoryOf(std::string_view value) const;
};

// BinIndex: FeatureProfile::BinOf in a few nanoseconds, for the monitor thread and the
// columnar batch path. A uniform grid over [edges.front(), edges.back()] says where to start;
// at most a few comparisons finish. Immutable; thread-safe.
class BinIndex {
 public:
  explicit BinIndex(const std::vector<double>& edges);
  size_t operator()(double v) const {
    if (!(v >= lo_)) return 0;  // below the reference's minimum (NaN is the caller's job)
    if (v > hi_) return n_;
    size_t cell = static_cast<size_t>((v - lo_) * scale_);
    if (cell >= start_.size()) cell = start_.size() - 1;
    size_t i = start_[cell];
    // Most cells hold at most two edges: two branch-free steps (the edges are padded with
    // +inf), then a loop for the rare crowded cell.
    i += edges_[i] <= v;
    i += edges_[i] <= v;
    while (edges_[i] <= v) ++i;  // i = edges <= v
    return i < n_ ? i : n_ - 1;
  }

  // Adds the values' bins to `counts` (edges + 1 bins; NaN values are skipped and counted
  // in `missing`), and the sums of the values below / above the edges.
  void Count(std::span<const float> values, std::vector<double>& counts, double& below_sum,
             double& above_sum, uint64_t& missing) const;

 private:
  std::vector<double> edges_;  // the edges, then +inf padding
  size_t n_ = 0;               // the number of edges
  double lo_ = 0, hi_ = 0, scale_ = 0;
  std::vector<uint32_t> start_;  // per grid cell: edges <= the previous cell's lower bound
};

struct Profile {
  std::string model;
  int64_t version = 0;  // the version that produced `prediction`; 0 when none
  int64_t rows = 0;
  std::string source;      // the data file
  std::string created_at;  // ISO 8601 UTC
  std::vector<FeatureProfile> features;
  std::optional<FeatureProfile> prediction;

  const FeatureProfile* Find(std::string_view name) const;
};

// Builds a numeric profile of `values` (NaN = missing) with percentile edges.
FeatureProfile BuildNumericProfile(std::string name, std::span<const double> values,
                                   int bins = kDefaultBins);
// Builds a categorical profile. `allowed`, when not empty, lists the categories (others
// count as kOtherCategory); otherwise the distinct values seen are the categories.
FeatureProfile BuildCategoricalProfile(std::string name, std::span<const std::string> values,
                                       std::span<const std::string> allowed = {});

// A category's canonical text for a numeric value: integers without a decimal point
// ("1"), others in shortest round-trip form.
std::string CategoryText(double v);

std::string ProfileToJson(const Profile& p);
Result<Profile> ProfileFromJson(const std::string& text, const std::string& file);

Result<Profile> LoadProfile(const std::filesystem::path& file);
Status SaveProfile(const Profile& p, const std::filesystem::path& file);

}  // namespace vigil::monitor
