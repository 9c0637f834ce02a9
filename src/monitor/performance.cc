#include "monitor/performance.h"

#include <cmath>

namespace vigil::monitor {

PerformanceTracker::PerformanceTracker(std::vector<std::string> labels, size_t window)
    : labels_(std::move(labels)), window_(window == 0 ? 1 : window) {}

std::optional<double> PerformanceTracker::Push(Entry e) {
  if (!e.key.empty()) {
    auto it = by_key_.find(e.key);
    if (it != by_key_.end()) {
      Entry& old = entries_[static_cast<size_t>(it->second - first_seq_)];
      const double before = old.actual;
      old.predicted = e.predicted;
      old.actual = e.actual;
      return before;
    }
    by_key_.emplace(e.key, first_seq_ + entries_.size());
  }
  entries_.push_back(std::move(e));
  while (entries_.size() > window_) {
    if (!entries_.front().key.empty()) by_key_.erase(entries_.front().key);
    entries_.pop_front();
    ++first_seq_;
  }
  return std::nullopt;
}

std::optional<double> PerformanceTracker::AddClass(size_t predicted, size_t actual,
                                                   std::string_view key) {
  return Push({static_cast<double>(predicted), static_cast<double>(actual), std::string(key)});
}

std::optional<double> PerformanceTracker::AddValue(double predicted, double actual,
                                                   std::string_view key) {
  return Push({predicted, actual, std::string(key)});
}

PerformanceReport PerformanceTracker::Report() const {
  PerformanceReport r;
  r.classification = classification();
  r.count = static_cast<int64_t>(entries_.size());
  r.window = static_cast<int64_t>(window_);
  if (!r.classification) {
    double abs = 0, sq = 0;
    for (const Entry& e : entries_) {
      const double d = e.predicted - e.actual;
      abs += std::fabs(d);
      sq += d * d;
    }
    if (r.count > 0) {
      r.mae = abs / static_cast<double>(r.count);
      r.rmse = std::sqrt(sq / static_cast<double>(r.count));
    }
    return r;
  }
  const size_t k = labels_.size();
  r.labels = labels_;
  r.confusion.assign(k, std::vector<int64_t>(k, 0));
  int64_t correct = 0;
  for (const Entry& e : entries_) {
    const auto p = static_cast<size_t>(e.predicted), a = static_cast<size_t>(e.actual);
    if (p >= k || a >= k) continue;
    ++r.confusion[a][p];
    if (p == a) ++correct;
  }
  r.accuracy = r.count ? static_cast<double>(correct) / static_cast<double>(r.count) : 0.0;
  int with_support = 0;
  for (size_t c = 0; c < k; ++c) {
    ClassMetrics m;
    m.label = labels_[c];
    int64_t predicted = 0;
    for (size_t a = 0; a < k; ++a) predicted += r.confusion[a][c];
    for (size_t p = 0; p < k; ++p) m.support += r.confusion[c][p];
    const double tp = static_cast<double>(r.confusion[c][c]);
    m.precision = predicted ? tp / static_cast<double>(predicted) : 0.0;
    m.recall = m.support ? tp / static_cast<double>(m.support) : 0.0;
    m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
    if (m.support > 0) {
      ++with_support;
      r.precision += m.precision;
      r.recall += m.recall;
      r.f1 += m.f1;
    }
    r.classes.push_back(std::move(m));
  }
  if (with_support > 0) {
    r.precision /= with_support;
    r.recall /= with_support;
    r.f1 /= with_support;
  }
  return r;
}

}  // namespace vigil::monitor
