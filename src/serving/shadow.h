// ShadowComparison: one production answer and the same request's answer from a shadow
// candidate, compared once both have arrived (in either order, on any thread).
//
// Rows agree when a classifier gives the same label (argmax over `labels` columns), or,
// for other models, when every value is within 1e-4 (absolute) or 1e-4 relative. The
// result goes to ml_shadow_predictions_total{result="agree"|"disagree"|"error"}; the shadow
// never affects the client's answer.
#pragma once

#include <mutex>
#include <optional>

#include "core/tensor.h"
#include "serving/serving_metrics.h"

namespace vigil {

class ShadowComparison {
 public:
  ShadowComparison(bool classifier, ShadowMetrics* metrics)
      : classifier_(classifier), metrics_(metrics) {}

  // nullopt: that side failed.
  void SetPrimary(std::optional<Tensor> first_output);
  void SetShadow(std::optional<Tensor> first_output);

 private:
  void CompareLocked();

  const bool classifier_;
  ShadowMetrics* metrics_;
  std::mutex mu_;
  bool primary_done_ = false, shadow_done_ = false;  // guarded by mu_
  std::optional<Tensor> primary_, shadow_;           // guarded by mu_
};

}  // namespace vigil
