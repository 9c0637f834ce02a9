// CircuitBreaker: stops sending traffic to a model version that keeps failing
// (runbook 000's circuit_breaker.yaml: failure_threshold 5, recovery_timeout 30 s,
// half_open_max_calls 3).
//
// closed --(failure_threshold consecutive failures)--> open
// open --(recovery_timeout elapsed)--> half-open: up to half_open_max_calls trial calls
// half-open --(that many successes)--> closed;  --(any failure)--> open again
//
// Only model failures count (backend errors, deadlines); callers do not report client
// validation errors or queue overload. Thread-safe; time comes from the injected Clock.
#pragma once

#include <chrono>
#include <mutex>
#include <string_view>

#include "core/clock.h"

namespace vigil {

struct BreakerPolicy {
  int failure_threshold = 5;
  std::chrono::milliseconds recovery_timeout{30'000};
  int half_open_max_calls = 3;
};

enum class BreakerState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
std::string_view BreakerStateName(BreakerState s);

class CircuitBreaker {
 public:
  CircuitBreaker(BreakerPolicy policy, const Clock& clock) : policy_(policy), clock_(clock) {}

  // May this call go to the model? In half-open, true reserves one trial call, which
  // must be followed by RecordSuccess or RecordFailure.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();
  // The call allowed by Allow() ended with neither verdict (e.g. refused by a full queue).
  void Cancel();

  BreakerState state() const;
  const BreakerPolicy& policy() const { return policy_; }

 private:
  const BreakerPolicy policy_;
  const Clock& clock_;
  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;  // guarded by mu_
  int consecutive_failures_ = 0;                // guarded by mu_
  int trials_in_flight_ = 0;                    // half-open; guarded by mu_
  int trial_successes_ = 0;                     // half-open; guarded by mu_
  TimePoint opened_at_{};                       // guarded by mu_
};

}  // namespace vigil
