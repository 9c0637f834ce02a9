// Clock: injectable time, so tests control it and never sleep.
//
// Thread-safe. SteadyClock is the process's monotonic clock; ManualClock only moves
// when a test calls Advance().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace vigil {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

// Wall-clock seconds since the Unix epoch (for records people read, not for timing).
inline int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Wall-clock milliseconds since the Unix epoch (timestamps of samples, alerts, incidents).
inline int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// RFC 3339 UTC of unix milliseconds, to the second: "2026-11-23T09:00:00Z".
inline std::string FormatUnixMillis(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  static const SteadyClock& Instance() {
    static const SteadyClock clock;
    return clock;
  }
};

// Another clock moved forward by a settable offset: the server's `--test-clock`, which
// moves alert durations, windows and incident time together. UnixMillis() is wall time
// plus the same offset.
class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(const Clock& base) : base_(base) {}
  TimePoint Now() const override {
    return base_.Now() + std::chrono::milliseconds(offset_ms_.load());
  }
  int64_t UnixMillis() const { return vigil::UnixMillis() + offset_ms_.load(); }
  void Advance(std::chrono::milliseconds d) { offset_ms_.fetch_add(d.count()); }

 private:
  const Clock& base_;
  std::atomic<int64_t> offset_ms_{0};
};

class ManualClock final : public Clock {
 public:
  TimePoint Now() const override { return TimePoint(Duration(ticks_.load())); }
  void Advance(Duration d) { ticks_.fetch_add(d.count()); }

 private:
  std::atomic<Duration::rep> ticks_{Duration(std::chrono::hours(1)).count()};
};

}  // namespace vigil
