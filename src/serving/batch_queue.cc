#include "serving/batch_queue.h"

#include <algorithm>

namespace vigil {

Status BatchQueue::Push(std::unique_ptr<InferenceRequest>& request) {
  if (static_cast<int>(queue_.size()) >= config_.max_queue_size) {
    return ResourceExhausted("queue full (" + std::to_string(config_.max_queue_size) +
                             " requests waiting)");
  }
  queued_rows_ += request->rows;
  queue_.push_back(std::move(request));
  return Status::Ok();
}

BatchQueue::Decision BatchQueue::Take(TimePoint now, bool flush) {
  Decision d;
  // Expired requests are answered, never run.
  TimePoint earliest_deadline = TimePoint::max();
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->deadline <= now) {
      queued_rows_ -= (*it)->rows;
      d.expired.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      earliest_deadline = std::min(earliest_deadline, (*it)->deadline);
      ++it;
    }
  }
  if (queue_.empty()) return d;
  const TimePoint oldest_due = queue_.front()->enqueued + config_.max_queue_delay;
  if (!flush && queued_rows_ < config_.max_batch_size && now < oldest_due) {
    // Wake for the batch, or earlier to answer a request whose deadline passes first.
    d.wake_at = std::min(oldest_due, earliest_deadline);
    return d;
  }
  int64_t rows = 0;
  while (!queue_.empty()) {
    const int64_t next = queue_.front()->rows;
    if (!d.batch.empty() && rows + next > config_.max_batch_size) break;
    rows += next;
    queued_rows_ -= next;
    d.batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
    if (rows >= config_.max_batch_size) break;
  }
  return d;
}

}  // namespace vigil
