// PerformanceTracker: rolling quality of one model version from delayed labels.
//
// Keeps the latest `window` labelled predictions (count-based, so the figure moves as
// soon as labels arrive however late they are; a row labelled again is corrected in place,
// not counted twice) and derives accuracy, per-class and macro
// precision/recall/F1 and the confusion matrix (classifiers), or MAE/RMSE (regressors).
//
// Not thread-safe: the monitor guards it with its version's mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vigil::monitor {

struct ClassMetrics {
  std::string label;
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;  // labelled rows whose true class is this one
};

struct PerformanceReport {
  bool classification = true;
  int64_t count = 0;  // labelled rows in the window
  int64_t window = 0;
  // Classification.
  double accuracy = 0;
  double precision = 0, recall = 0, f1 = 0;  // macro averages over classes with support
  std::vector<ClassMetrics> classes;
  std::vector<std::string> labels;
  std::vector<std::vector<int64_t>> confusion;  // [actual][predicted]
  // Regression.
  double mae = 0, rmse = 0;
};

class PerformanceTracker {
 public:
  // `labels`: the classifier's labels; empty for a regressor.
  PerformanceTracker(std::vector<std::string> labels, size_t window);

  // Classification: label indexes. Regression: values. `key` names the row
  // ("prediction_id:row"): a key already in the window has its label replaced, and the
  // label it had is returned; nullopt when the row is new (or `key` is empty).
  std::optional<double> AddClass(size_t predicted, size_t actual, std::string_view key = {});
  std::optional<double> AddValue(double predicted, double actual, std::string_view key = {});

  PerformanceReport Report() const;
  size_t size() const { return entries_.size(); }
  bool classification() const { return !labels_.empty(); }
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  struct Entry {
    double predicted, actual;
    std::string key;
  };
  std::optional<double> Push(Entry e);

  std::vector<std::string> labels_;
  size_t window_;
  std::deque<Entry> entries_;  // oldest first
  uint64_t first_seq_ = 0;     // sequence number of entries_.front()
  std::unordered_map<std::string, uint64_t> by_key_;
};

}  // namespace vigil::monitor
