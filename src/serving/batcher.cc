#include "serving/batcher.h"

#include <cstring>
#include <optional>

namespace vigil {
namespace {

// Answers `r` exactly once: the callback is taken out before it runs.
void Complete(InferenceRequest& r, InferenceResult&& result) {
  auto done = std::move(r.done);
  r.done = nullptr;
  if (done) done(std::move(result));
}

void Fail(std::vector<std::unique_ptr<InferenceRequest>>& batch, const Status& status) {
  for (auto& r : batch) {
    InferenceResult res;
    res.status = status;
    res.batch_size = 0;
    Complete(*r, std::move(res));
  }
}

// Concatenates input `i` of every request along the batch dimension.
Tensor Concat(std::vector<std::unique_ptr<InferenceRequest>>& batch, size_t i, int64_t rows) {
  const Tensor& first = batch[0]->inputs[i];
  std::vector<int64_t> shape = first.shape;
  shape[0] = rows;
  Tensor out = Tensor::Make(first.name, first.dtype, std::move(shape));
  std::byte* dst = out.bytes.data();
  for (auto& r : batch) {
    const Tensor& t = r->inputs[i];
    std::memcpy(dst, t.bytes.data(), t.bytes.size());
    dst += t.bytes.size();
  }
  return out;
}

// Rows [first, first + count) of `t`.
Tensor SliceRows(const Tensor& t, int64_t first, int64_t count) {
  std::vector<int64_t> shape = t.shape;
  const int64_t total = shape[0];
  shape[0] = count;
  Tensor out = Tensor::Make(t.name, t.dtype, std::move(shape));
  const size_t row_bytes = total > 0 ? t.bytes.size() / static_cast<size_t>(total) : 0;
  std::memcpy(out.bytes.data(), t.bytes.data() + row_bytes * static_cast<size_t>(first),
              row_bytes * static_cast<size_t>(count));
  return out;
}

}  // namespace

void ExecuteBatch(ModelInstance& instance, const std::vector<TensorSpec>& outputs,
                  std::vector<std::unique_ptr<InferenceRequest>>& batch) {
  int64_t rows = 0;
  for (auto& r : batch) rows += r->rows;
  std::vector<Tensor> inputs;
  if (batch.size() == 1) {
    inputs = std::move(batch[0]->inputs);
  } else {
    const size_t n = batch[0]->inputs.size();
    inputs.reserve(n);
    for (size_t i = 0; i < n; ++i) inputs.push_back(Concat(batch, i, rows));
  }
  auto result = instance.Infer(inputs);
  if (!result.ok()) {
    Fail(batch, result.status());
    return;
  }
  std::vector<Tensor>& produced = result.value();
  if (produced.size() < outputs.size()) {
    Fail(batch, Internal("model produced " + std::to_string(produced.size()) +
                         " outputs, the config declares " + std::to_string(outputs.size())));
    return;
  }
  for (size_t o = 0; o < outputs.size(); ++o) {
    Tensor& t = produced[o];
    t.name = outputs[o].name;
    if (t.shape.empty() || t.shape[0] != rows) {
      Fail(batch, Internal("output '" + outputs[o].name + "' has shape " + ShapeToString(t.shape) +
                           ", expected " + std::to_string(rows) + " rows"));
      return;
    }
    if (t.dtype != outputs[o].dtype || ElementCount(t.shape) != rows * outputs[o].row_elements()) {
      Fail(batch, Internal("output '" + outputs[o].name + "' is " +
                           std::string(DataTypeName(t.dtype)) + " " + ShapeToString(t.shape) +
                           ", the config declares " + std::string(DataTypeName(outputs[o].dtype)) +
                           " " + ShapeToString(outputs[o].shape)));
      return;
    }
  }
  produced.resize(outputs.size());
  if (batch.size() == 1) {
    InferenceResult res;
    res.outputs = std::move(produced);
    res.batch_size = static_cast<int>(rows);
    Complete(*batch[0], std::move(res));
    return;
  }
  int64_t first = 0;
  for (auto& r : batch) {
    InferenceResult res;
    res.batch_size = static_cast<int>(rows);
    res.outputs.reserve(produced.size());
    for (const Tensor& t : produced) res.outputs.push_back(SliceRows(t, first, r->rows));
    first += r->rows;
    Complete(*r, std::move(res));
  }
}

Batcher::Batcher(BatchingConfig config, ModelInstance* instance, std::vector<TensorSpec> outputs,
                 VersionMetrics* metrics, const Clock& clock)
    : instance_(instance),
      outputs_(std::move(outputs)),
      metrics_(metrics),
      clock_(clock),
      queue_(config),
      inline_when_idle_(config.max_queue_delay.count() == 0) {
  worker_ = std::thread([this] { Loop(); });
}

Batcher::~Batcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void Batcher::Submit(std::unique_ptr<InferenceRequest> request) {
  Status st;
  bool wake = false;
  bool run_inline = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      st = Unavailable("model version is being unloaded");
    } else if (inline_when_idle_ && !running_ && queue_.size() == 0) {
      // Nothing to batch with and nothing running: run here, saving two thread hand-offs.
      running_ = true;
      run_inline = true;
    } else {
      st = queue_.Push(request);
      wake = st.ok() && worker_waiting_;
      if (metrics_ && st.ok()) metrics_->queue_size->Set(static_cast<double>(queue_.size()));
    }
  }
  if (run_inline) {
    std::vector<std::unique_ptr<InferenceRequest>> batch;
    batch.push_back(std::move(request));
    RunBatch(batch);
    {
      std::lock_guard lock(mu_);
      running_ = false;
      wake = worker_waiting_;
    }
    if (wake) cv_.notify_one();
    return;
  }
  if (wake) cv_.notify_one();
  if (!st.ok()) {
    InferenceResult res;
    res.status = st;
    Complete(*request, std::move(res));
  }
}

void Batcher::Drain() {
  {
    std::lock_guard lock(mu_);
    draining_ = true;
  }
  cv_.notify_all();
}

size_t Batcher::queue_size() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Batcher::Loop() {
  std::unique_lock lock(mu_);
  auto wait = [&](std::optional<TimePoint> until) {
    worker_waiting_ = true;
    if (until) {
      cv_.wait_until(lock, *until);
    } else {
      cv_.wait(lock);
    }
    worker_waiting_ = false;
  };
  while (true) {
    if (running_) {  // a submitting thread runs a batch inline: one batch at a time
      wait(std::nullopt);
      continue;
    }
    // Stopping or draining: run what is queued now, without waiting for fuller batches.
    BatchQueue::Decision d = queue_.Take(clock_.Now(), draining_ || stopping_);
    if (!d.batch.empty() || !d.expired.empty()) {
      running_ = !d.batch.empty();
      if (metrics_) metrics_->queue_size->Set(static_cast<double>(queue_.size()));
      lock.unlock();
      if (!d.expired.empty()) {
        Fail(d.expired, DeadlineExceeded("request deadline passed while queued"));
      }
      if (!d.batch.empty()) RunBatch(d.batch);
      lock.lock();
      running_ = false;
      continue;
    }
    if (stopping_) return;  // queue empty, nothing running
    wait(d.wake_at);
  }
}

void Batcher::RunBatch(std::vector<std::unique_ptr<InferenceRequest>>& batch) {
  if (metrics_) {
    int64_t rows = 0;
    for (auto& r : batch) rows += r->rows;
    metrics_->batch_size->Observe(static_cast<double>(rows));
  }
  try {
    ExecuteBatch(*instance_, outputs_, batch);
  } catch (const std::exception& e) {
    // e.g. bad_alloc: answer what is still unanswered rather than lose the worker.
    std::vector<std::unique_ptr<InferenceRequest>> pending;
    for (auto& r : batch) {
      if (r && r->done) pending.push_back(std::move(r));
    }
    Fail(pending, Internal(std::string("inference failed: ") + e.what()));
  }
}

}  // namespace vigil
