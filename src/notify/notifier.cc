#include "notify/notifier.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>

#include "core/logging.h"

namespace vigil::notify {

std::chrono::milliseconds Backoff(const RetryPolicy& retry, int64_t failed_attempts) {
  int64_t ms = retry.initial.count();
  for (int64_t i = 1; i < failed_attempts && ms < retry.max.count(); ++i) ms *= 2;
  return std::chrono::milliseconds(std::min(ms, retry.max.count()));
}

Notifier::Notifier(Store& store, NotifyConfig config, std::unique_ptr<Sender> sender,
                   prometheus::Registry& registry, const std::string& environment, NowFn now)
    : store_(store), config_(std::move(config)), sender_(std::move(sender)), now_(std::move(now)) {
  std::map<std::string, std::string> constant;
  if (!environment.empty()) constant["environment"] = environment;
  outcomes_ = &prometheus::BuildCounter()
                   .Name("vigil_notifications_total")
                   .Help(
                       "Notification delivery attempts by channel and outcome "
                       "(sent, retried, failed)")
                   .Register(registry);
  pending_ = &prometheus::BuildGauge()
                  .Name("vigil_notifications_pending")
                  .Help("Notifications in the outbox not yet delivered")
                  .Labels(constant)
                  .Register(registry)
                  .Add({});
  auto pending = store_.ListNotifications("pending", 100000);
  if (pending.ok()) pending_->Set(static_cast<double>(pending->size()));
}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::Start(std::chrono::milliseconds poll) {
  thread_ = std::thread([this, poll] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      woken_ = false;
      lock.unlock();
      DeliverDue();
      std::chrono::milliseconds wait = poll;
      if (auto due = store_.NextNotificationDue(); due.ok() && *due) {
        wait = std::clamp(std::chrono::milliseconds(**due - now_()), std::chrono::milliseconds(0),
                          poll);
      }
      lock.lock();
      cv_.wait_for(lock, wait, [this] { return stop_ || woken_; });
    }
  });
}

void Notifier::Queued(size_t count) {
  pending_->Increment(static_cast<double>(count));
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

std::vector<NotificationRecord> Notifier::PlanFor(const NotifyConfig& config, const Message& m) {
  std::vector<NotificationRecord> out;
  for (const Channel& c : config.channels) {
    if (!c.Takes(m)) continue;
    auto body = c.Render(m);
    if (!body.ok()) {
      LogError("notification not rendered",
               {{"channel", c.name}, {"error", body.status().message()}});
      continue;
    }
    NotificationRecord r;
    r.channel = c.name;
    r.dedup_key = m.dedup_key;
    r.event = m.event;
    r.subject = m.subject;
    r.body = std::move(*body);
    r.created_ms = r.next_attempt_ms = m.at_ms;
    out.push_back(std::move(r));
  }
  return out;
}

Status Notifier::Enqueue(const Message& m) {
  auto rows = Plan(m);
  if (rows.empty()) return Status::Ok();
  VIGIL_RETURN_IF_ERROR(store_.EnqueueNotifications(rows));
  Queued(rows.size());
  return Status::Ok();
}

void Notifier::Attempt(NotificationRecord& m, int64_t now) {
  ++m.attempts;
  const Channel* c = config_.Find(m.channel);
  std::string outcome;
  if (!c) {
    m.state = "failed";
    m.last_error = "channel '" + m.channel + "' is no longer configured";
  } else {
    auto reply = c->type == ChannelType::kEmail
                     ? sender_->Mail(*c, m.body)
                     : sender_->Post(c->url, c->headers, m.body, c->timeout);
    bool retry = false;
    if (!reply.ok()) {
      retry = true;
      m.last_error = reply.status().message();
    } else if (reply->status >= 200 && reply->status < 300) {
      m.state = "sent";
      m.sent_ms = now;
      m.last_error.clear();
    } else {
      retry = reply->status == 408 || reply->status == 429 || reply->status >= 500;
      m.last_error = "HTTP " + std::to_string(reply->status) + ": " + reply->body.substr(0, 200);
      if (!retry) m.state = "failed";
    }
    if (retry) {
      m.next_attempt_ms = now + Backoff(config_.retry, m.attempts).count();
      if (m.next_attempt_ms - m.created_ms > config_.retry.give_up_after.count()) {
        m.state = "failed";
        m.last_error = "gave up after " + std::to_string(m.attempts) + " attempts: " + m.last_error;
      }
    }
  }
  outcome = m.state == "pending" ? "retried" : m.state;
  outcomes_->Add({{"channel", m.channel}, {"outcome", outcome}}).Increment();
  if (m.state != "pending") pending_->Decrement();
  if (m.state == "failed") failed_total_.fetch_add(1);
  if (m.state == "sent") {
    LogInfo("notification sent", {{"id", m.id},
                                  {"channel", m.channel},
                                  {"event", m.event},
                                  {"subject", m.subject},
                                  {"attempts", m.attempts}});
  } else {
    LogWarn(m.state == "failed" ? "notification failed" : "notification will be retried",
            {{"id", m.id},
             {"channel", m.channel},
             {"subject", m.subject},
             {"attempts", m.attempts},
             {"error", m.last_error}});
  }
}

std::optional<int64_t> Notifier::OldestPendingMs() const {
  auto oldest = store_.OldestPendingNotification();
  return oldest.ok() ? *oldest : std::nullopt;
}

int Notifier::DeliverDue() {
  std::lock_guard lock(deliver_mu_);
  const int64_t now = now_();
  auto due = store_.DueNotifications(now, 100);
  if (!due.ok()) {
    LogError("outbox not readable", {{"error", due.status().message()}});
    return 0;
  }
  for (NotificationRecord& m : *due) {
    Attempt(m, now_());
    if (Status st = store_.UpdateNotification(m); !st.ok()) {
      LogError("outbox not updated", {{"id", m.id}, {"error", st.message()}});
    }
  }
  return static_cast<int>(due->size());
}

}  // namespace vigil::notify
