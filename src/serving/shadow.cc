#include "serving/shadow.h"

#include <cmath>

namespace vigil {

void ShadowComparison::SetPrimary(std::optional<Tensor> first_output) {
  std::lock_guard lock(mu_);
  primary_ = std::move(first_output);
  primary_done_ = true;
  if (shadow_done_) CompareLocked();
}

void ShadowComparison::SetShadow(std::optional<Tensor> first_output) {
  std::lock_guard lock(mu_);
  shadow_ = std::move(first_output);
  shadow_done_ = true;
  if (primary_done_) CompareLocked();
}

void ShadowComparison::CompareLocked() {
  if (!metrics_) return;
  if (!primary_) return;  // production failed: nothing to compare against
  if (!shadow_ || shadow_->shape != primary_->shape || shadow_->shape.empty()) {
    metrics_->error->Increment();
    return;
  }
  const int64_t rows = primary_->shape[0];
  const int64_t cols = rows > 0 ? primary_->elements() / rows : 0;
  int64_t agree = 0;
  for (int64_t r = 0; r < rows; ++r) {
    bool same = true;
    if (classifier_) {
      auto argmax = [&](const Tensor& t) {
        int64_t best = 0;
        for (int64_t j = 1; j < cols; ++j) {
          if (t.AsDouble(r * cols + j) > t.AsDouble(r * cols + best)) best = j;
        }
        return best;
      };
      same = argmax(*primary_) == argmax(*shadow_);
    } else {
      for (int64_t j = 0; j < cols && same; ++j) {
        const double a = primary_->AsDouble(r * cols + j), b = shadow_->AsDouble(r * cols + j);
        same = std::fabs(a - b) <= 1e-4 * std::max(1.0, std::fabs(a));
      }
    }
    agree += same ? 1 : 0;
  }
  metrics_->agree->Increment(static_cast<double>(agree));
  metrics_->disagree->Increment(static_cast<double>(rows - agree));
}

}  // namespace vigil
