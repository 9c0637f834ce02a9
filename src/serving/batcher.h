// Batcher: one worker thread per model version that runs BatchQueue's batches on
// the version's ModelInstance.
//
// Thread-safe: Submit() may be called from any thread. It takes the queue lock only to
// push, except that with max_queue_delay 0 an idle batcher (nothing queued, nothing
// running) runs the request on the calling thread: at low load that saves two thread
// hand-offs, and under load requests queue and batch as usual. At most one batch runs
// at a time. The destructor stops accepting, runs what is
// queued (in-flight requests finish), then joins the worker. It must not run on the
// worker thread itself (ModelManager retires versions on its own reaper thread).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "backends/model_instance.h"
#include "core/clock.h"
#include "serving/batch_queue.h"
#include "serving/serving_metrics.h"

namespace vigil {

class Batcher {
 public:
  // `instance` and `metrics` (nullable) must outlive the Batcher.
  Batcher(BatchingConfig config, ModelInstance* instance, std::vector<TensorSpec> outputs,
          VersionMetrics* metrics, const Clock& clock = SteadyClock::Instance());
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues the request; `request->done` is called exactly once, possibly before
  // Submit returns (queue full: ResourceExhausted; stopped: Unavailable).
  void Submit(std::unique_ptr<InferenceRequest> request);

  size_t queue_size() const;

  // From now on, runs queued requests without waiting for max_queue_delay (shutdown).
  void Drain();

 private:
  void Loop();
  void RunBatch(std::vector<std::unique_ptr<InferenceRequest>>& batch);

  ModelInstance* instance_;
  std::vector<TensorSpec> outputs_;
  VersionMetrics* metrics_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  BatchQueue queue_;             // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  bool draining_ = false;        // guarded by mu_
  bool worker_waiting_ = false;  // guarded by mu_
  bool running_ = false;         // a batch is executing (worker or inline); guarded by mu_
  const bool inline_when_idle_;  // max_queue_delay == 0: an idle batcher runs on Submit's thread
  std::thread worker_;
};

// Runs one batch on `instance` and completes every request of it (exposed for tests).
void ExecuteBatch(ModelInstance& instance, const std::vector<TensorSpec>& outputs,
                  std::vector<std::unique_ptr<InferenceRequest>>& batch);

}  // namespace vigil
