// InferenceRequest / InferenceResult: what the HTTP layer hands the batcher and gets back.
#pragma once

#include <functional>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/tensor.h"

namespace vigil {

// Why a request failed, for ml_inference_errors_total{category} and (later) the breaker.
enum class ErrorCategory { kValidation, kBackend, kTimeout, kOverload };

struct InferenceResult {
  Status status;
  std::vector<Tensor> outputs;  // one per declared output, `rows` rows each
  int batch_size = 0;           // rows in the backend batch this request ran in
};

struct InferenceRequest {
  std::vector<Tensor> inputs;  // one per declared input, in declared order, batch first
  int64_t rows = 0;
  TimePoint enqueued{};
  TimePoint deadline = TimePoint::max();
  // Called exactly once, from a batcher worker thread (or the caller's thread when
  // the request is refused at enqueue). Must not block.
  std::function<void(InferenceResult&&)> done;
};

}  // namespace vigil
