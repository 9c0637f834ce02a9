// LiveWindow: what one model version received and predicted recently, in time buckets.
//
// Every feature is counted into its reference profile's bins (numeric: the reference's
// percentile edges; categorical: its categories), so memory is bounded by
// buckets × features × bins whatever the traffic: retention / bucket buckets at most,
// created only when rows arrive. A window query merges the buckets that start within it.
// Without a reference profile only the data-quality counts are kept.
//
// Not thread-safe: the monitor guards each LiveWindow with its version's mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "monitor/input_validation.h"
#include "monitor/profile.h"

namespace vigil::monitor {

struct FeatureCounts {
  std::vector<double> bins;  // the reference's bins (empty without a reference)
  uint64_t rows = 0;         // values seen, missing included
  uint64_t missing = 0;
  uint64_t out_of_range = 0;
  uint64_t unknown_category = 0;
  double sum = 0;
  double below_sum = 0, above_sum = 0;  // values outside the reference's range (numeric)
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();

  uint64_t present() const { return rows - missing; }
  void Merge(const FeatureCounts& o);
};

// The merged counts of a window.
struct WindowCounts {
  int64_t rows = 0;
  int64_t from_ms = 0, to_ms = 0;       // the buckets' span
  std::vector<FeatureCounts> features;  // in the validator's rule order
  FeatureCounts prediction;
};

class LiveWindow {
 public:
  // `rules`: the input features (name order of the rows added). `reference` may be null.
  // `prediction_labels`: the classifier's labels (empty for a regressor).
  LiveWindow(const InputValidator& validator, std::shared_ptr<const Profile> reference,
             std::vector<std::string> prediction_labels, int64_t bucket_ms, int64_t retention_ms);

  // One row: its features (rule order; NaN = missing) and its first output row.
  void AddRow(int64_t now_ms, const float* features, size_t n_features, const float* outputs,
              size_t n_outputs);

  // Merges the buckets that start after now - window.
  WindowCounts Window(int64_t now_ms, int64_t window_ms) const;

  const Profile* reference() const { return reference_.get(); }
  // Index of each rule's feature in the reference (-1: not profiled).
  const std::vector<int>& reference_index() const { return ref_index_; }
  size_t bucket_count() const { return buckets_.size(); }
  size_t MemoryBytes() const;

 private:
  struct Bucket {
    int64_t start_ms = 0;
    int64_t rows = 0;
    std::vector<FeatureCounts> features;
    FeatureCounts prediction;
  };
  Bucket& Current(int64_t now_ms);
  FeatureCounts EmptyCounts(const FeatureProfile* ref) const;

  const InputValidator& validator_;
  std::shared_ptr<const Profile> reference_;
  std::vector<std::string> labels_;
  int64_t bucket_ms_, retention_ms_;
  std::vector<int> ref_index_;
  // Categorical features: the category values as numbers, and their bins.
  std::vector<std::vector<std::pair<double, size_t>>> category_bins_;
  std::vector<std::unique_ptr<BinIndex>> bin_index_;  // numeric features (null otherwise)
  std::unique_ptr<BinIndex> prediction_index_;        // a numeric prediction
  std::vector<size_t> label_bins_;                    // prediction label index -> bin
  std::deque<Bucket> buckets_;                        // oldest first
};

}  // namespace vigil::monitor
