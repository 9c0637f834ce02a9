// BatchQueue: the dynamic-batching policy, without threads.
//
// Requests wait in FIFO order. A batch is formed when the queued rows reach
// max_batch_size or the oldest request has waited max_queue_delay; it holds as many
// whole requests as fit in max_batch_size rows (at least one, so a request larger
// than the limit runs alone). Requests whose deadline passed are handed back as
// expired instead of being run. Push() refuses when max_queue_size requests wait.
//
// Not thread-safe: Batcher owns one behind its mutex. Time comes from the caller, so
// tests drive it with a ManualClock and never sleep.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "serving/inference.h"
#include "serving/model_config.h"

namespace vigil {

class BatchQueue {
 public:
  explicit BatchQueue(BatchingConfig config) : config_(config) {}

  // Takes ownership of `request` unless the queue is full (then returns
  // ResourceExhausted and leaves `request` untouched).
  Status Push(std::unique_ptr<InferenceRequest>& request);

  struct Decision {
    std::vector<std::unique_ptr<InferenceRequest>> batch;    // run now
    std::vector<std::unique_ptr<InferenceRequest>> expired;  // deadline passed
    std::optional<TimePoint> wake_at;  // nothing to run: look again at this time
  };
  // flush: form a batch now even if it is not full and the delay has not passed
  // (used while draining at shutdown).
  Decision Take(TimePoint now, bool flush = false);

  size_t size() const { return queue_.size(); }
  int64_t queued_rows() const { return queued_rows_; }
  const BatchingConfig& config() const { return config_; }

 private:
  BatchingConfig config_;
  std::deque<std::unique_ptr<InferenceRequest>> queue_;
  int64_t queued_rows_ = 0;
};

}  // namespace vigil
