// PerformanceTracker: rolling quality of one model version from delayed labels.
//
// Keeps the latest `window` labelled predictions (count-based, so the figure moves as
// soon as labels arrive however late they are) and derives accuracy, per-class and macro
// precision/recall/F1 and the confusion matrix (classifiers), or MAE/RMSE (regressors).
//
// Not thread-safe: the monitor guards it with its version's mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
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

  // Classification: label indexes. Regression: values.
  void AddClass(size_t predicted, size_t actual);
  void AddValue(double predicted, double actual);

  PerformanceReport Report() const;
  size_t size() const { return entries_.size(); }
  bool classification() const { return !labels_.empty(); }
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  struct Entry {
    double predicted, actual;
  };
  void Push(Entry e);

  std::vector<std::string> labels_;
  size_t window_;
  std::deque<Entry> entries_;  // oldest first
};

}  // namespace vigil::monitor
