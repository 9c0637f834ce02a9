// Notifier: the durable outbox (DESIGN.md §2 notify/). Messages are rows in the store
// before anyone tries to send them; a thread delivers what is due, oldest first, and
// records each attempt. Delivery is at least once: a crash between the POST and the
// "sent" mark sends again after the restart, and every message carries its incident's
// or alert group's dedup key so receivers (PagerDuty, a webhook) collapse duplicates.
//
// Outcomes: 2xx is sent; a transport error, 408, 429 or 5xx is retried after
// RetryPolicy's exponential backoff; any other answer, or a channel no longer
// configured, fails the message at once; a message still undelivered `give_up_after` its
// creation fails. Metrics: vigil_notifications_total{channel,outcome},
// vigil_notifications_pending.
//
// Thread-safe. One delivery at a time (a slow receiver delays the others by at most its
// channel's timeout).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "notify/channel.h"
#include "notify/sender.h"
#include "store/store.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace vigil::notify {

// The wait before the attempt after `failed_attempts` failures (>= 1).
std::chrono::milliseconds Backoff(const RetryPolicy& retry, int64_t failed_attempts);

class Notifier {
 public:
  using NowFn = std::function<int64_t()>;  // unix milliseconds

  // `store` must outlive the notifier. `environment` labels the metrics when not empty.
  Notifier(Store& store, NotifyConfig config, std::unique_ptr<Sender> sender,
           prometheus::Registry& registry, const std::string& environment, NowFn now);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Delivers on a thread, waking when messages are queued and at least every `poll`
  // (so retries are noticed when the clock is moved by tests).
  void Start(std::chrono::milliseconds poll);
  // One pass over what is due now; returns how many messages were attempted.
  int DeliverDue();

  // The outbox rows for `m`: one per configured channel that takes it (none when no
  // channel does). For callers that store them in their own transaction, then Queued().
  std::vector<NotificationRecord> Plan(const Message& m) const { return PlanFor(config_, m); }
  static std::vector<NotificationRecord> PlanFor(const NotifyConfig& config, const Message& m);
  // Plans and stores `m`, then wakes the thread.
  Status Enqueue(const Message& m);
  // `count` rows were stored by someone else: counts them and wakes the thread.
  void Queued(size_t count);

  const NotifyConfig& config() const { return config_; }
  // Messages given up on since start (the VigilNotificationsFailing alert's counter).
  uint64_t failed_total() const { return failed_total_.load(); }
  // When the oldest undelivered message was created (nullopt: none waits).
  std::optional<int64_t> OldestPendingMs() const;

 private:
  void Attempt(NotificationRecord& m, int64_t now);

  Store& store_;
  const NotifyConfig config_;
  std::unique_ptr<Sender> sender_;
  NowFn now_;
  prometheus::Family<prometheus::Counter>* outcomes_;
  prometheus::Gauge* pending_;
  std::atomic<uint64_t> failed_total_{0};

  std::mutex deliver_mu_;  // one pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, woken_ = false;
  std::thread thread_;
};

}  // namespace vigil::notify
