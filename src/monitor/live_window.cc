#include "monitor/live_window.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace vigil::monitor {

void FeatureCounts::Merge(const FeatureCounts& o) {
  if (bins.size() < o.bins.size()) bins.resize(o.bins.size(), 0.0);
  for (size_t i = 0; i < o.bins.size(); ++i) bins[i] += o.bins[i];
  rows += o.rows;
  missing += o.missing;
  out_of_range += o.out_of_range;
  unknown_category += o.unknown_category;
  sum += o.sum;
  below_sum += o.below_sum;
  above_sum += o.above_sum;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
}

LiveWindow::LiveWindow(const InputValidator& validator, std::shared_ptr<const Profile> reference,
                       std::vector<std::string> prediction_labels, int64_t bucket_ms,
                       int64_t retention_ms)
    : validator_(validator),
      reference_(std::move(reference)),
      labels_(std::move(prediction_labels)),
      bucket_ms_(std::max<int64_t>(bucket_ms, 1)),
      retention_ms_(std::max(retention_ms, bucket_ms_)) {
  const auto& rules = validator_.rules();
  ref_index_.assign(rules.size(), -1);
  category_bins_.resize(rules.size());
  bin_index_.resize(rules.size());
  if (!reference_) return;
  for (size_t i = 0; i < rules.size(); ++i) {
    for (size_t j = 0; j < reference_->features.size(); ++j) {
      if (reference_->features[j].name != rules[i].name) continue;
      ref_index_[i] = static_cast<int>(j);
      const FeatureProfile& f = reference_->features[j];
      if (f.kind == FeatureKind::kNumeric) bin_index_[i] = std::make_unique<BinIndex>(f.edges);
      if (f.kind == FeatureKind::kCategorical) {
        for (size_t c = 0; c + 1 < f.categories.size(); ++c) {
          double v = 0;
          const std::string& t = f.categories[c];
          auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
          if (ec == std::errc() && end == t.data() + t.size()) category_bins_[i].emplace_back(v, c);
        }
        std::sort(category_bins_[i].begin(), category_bins_[i].end());
      }
    }
  }
  if (reference_->prediction && reference_->prediction->kind == FeatureKind::kNumeric) {
    prediction_index_ = std::make_unique<BinIndex>(reference_->prediction->edges);
  }
  if (reference_->prediction && reference_->prediction->kind == FeatureKind::kCategorical) {
    for (const auto& l : labels_) label_bins_.push_back(reference_->prediction->CategoryOf(l));
  }
}

FeatureCounts LiveWindow::EmptyCounts(const FeatureProfile* ref) const {
  FeatureCounts c;
  if (ref) c.bins.assign(ref->bins(), 0.0);
  return c;
}

LiveWindow::Bucket& LiveWindow::Current(int64_t now_ms) {
  const int64_t start = now_ms - (now_ms % bucket_ms_ + bucket_ms_) % bucket_ms_;
  if (!buckets_.empty() && buckets_.back().start_ms == start) return buckets_.back();
  while (!buckets_.empty() && buckets_.front().start_ms <= start - retention_ms_) {
    buckets_.pop_front();
  }
  Bucket b;
  b.start_ms = start;
  const auto& rules = validator_.rules();
  b.features.reserve(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    b.features.push_back(
        EmptyCounts(ref_index_[i] >= 0 ? &reference_->features[ref_index_[i]] : nullptr));
  }
  b.prediction =
      EmptyCounts(reference_ && reference_->prediction ? &*reference_->prediction : nullptr);
  buckets_.push_back(std::move(b));
  return buckets_.back();
}

void LiveWindow::AddRow(int64_t now_ms, const float* features, size_t n_features,
                        const float* outputs, size_t n_outputs) {
  Bucket& b = Current(now_ms);
  ++b.rows;
  const size_t n = std::min(n_features, b.features.size());
  for (size_t i = 0; i < n; ++i) {
    FeatureCounts& c = b.features[i];
    const double v = features[i];
    ++c.rows;
    if (std::isnan(v)) {
      ++c.missing;
      continue;
    }
    c.sum += v;
    c.min = std::min(c.min, v);
    c.max = std::max(c.max, v);
    if (auto reason = validator_.Classify(i, v)) {
      if (*reason == ValidationReason::kOutOfRange) ++c.out_of_range;
      if (*reason == ValidationReason::kUnknownCategory) ++c.unknown_category;
    }
    if (c.bins.empty()) continue;
    const FeatureProfile& f = reference_->features[ref_index_[i]];
    if (f.kind == FeatureKind::kNumeric) {
      const size_t bin = (*bin_index_[i])(v);
      c.bins[bin] += 1;
      if (bin == 0) c.below_sum += v;
      if (bin + 1 == c.bins.size()) c.above_sum += v;
    } else {
      const auto& cats = category_bins_[i];
      auto it = std::lower_bound(cats.begin(), cats.end(), std::make_pair(v, size_t{0}));
      c.bins[it != cats.end() && it->first == v ? it->second : f.categories.size() - 1] += 1;
    }
  }
  if (n_outputs == 0) return;
  FeatureCounts& p = b.prediction;
  ++p.rows;
  double value = outputs[0];
  size_t label = 0;
  if (!labels_.empty()) {
    label = static_cast<size_t>(std::max_element(outputs, outputs + n_outputs) - outputs);
    value = static_cast<double>(label);
  }
  if (std::isnan(value)) {
    ++p.missing;
    return;
  }
  p.sum += value;
  p.min = std::min(p.min, value);
  p.max = std::max(p.max, value);
  if (p.bins.empty()) return;
  const FeatureProfile& f = *reference_->prediction;
  if (f.kind == FeatureKind::kNumeric) {
    const size_t bin = (*prediction_index_)(value);
    p.bins[bin] += 1;
    if (bin == 0) p.below_sum += value;
    if (bin + 1 == p.bins.size()) p.above_sum += value;
  } else if (label < label_bins_.size()) {
    p.bins[label_bins_[label]] += 1;
  } else {
    p.bins[f.categories.size() - 1] += 1;
  }
}

WindowCounts LiveWindow::Window(int64_t now_ms, int64_t window_ms) const {
  WindowCounts w;
  const auto& rules = validator_.rules();
  for (size_t i = 0; i < rules.size(); ++i) {
    w.features.push_back(
        EmptyCounts(ref_index_[i] >= 0 ? &reference_->features[ref_index_[i]] : nullptr));
  }
  w.prediction =
      EmptyCounts(reference_ && reference_->prediction ? &*reference_->prediction : nullptr);
  w.to_ms = now_ms;
  w.from_ms = now_ms;
  for (const Bucket& b : buckets_) {
    if (b.start_ms + bucket_ms_ <= now_ms - window_ms || b.start_ms > now_ms) continue;
    w.from_ms = std::min(w.from_ms, b.start_ms);
    w.rows += b.rows;
    for (size_t i = 0; i < b.features.size(); ++i) w.features[i].Merge(b.features[i]);
    w.prediction.Merge(b.prediction);
  }
  return w;
}

size_t LiveWindow::MemoryBytes() const {
  size_t per_bucket = sizeof(Bucket);
  if (!buckets_.empty()) {
    for (const auto& f : buckets_.front().features) {
      per_bucket += sizeof(FeatureCounts) + f.bins.capacity() * sizeof(double);
    }
    per_bucket += buckets_.front().prediction.bins.capacity() * sizeof(double);
  }
  return sizeof(*this) + buckets_.size() * per_bucket;
}

}  // namespace vigil::monitor
