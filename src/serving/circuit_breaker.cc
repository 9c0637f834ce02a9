#include "serving/circuit_breaker.h"

namespace vigil {

std::string_view BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

bool CircuitBreaker::Allow() {
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::kOpen) {
    if (clock_.Now() - opened_at_ < policy_.recovery_timeout) return false;
    state_ = BreakerState::kHalfOpen;
    trials_in_flight_ = 0;
    trial_successes_ = 0;
  }
  if (state_ == BreakerState::kHalfOpen) {
    if (trials_in_flight_ + trial_successes_ >= policy_.half_open_max_calls) return false;
    ++trials_in_flight_;
  }
  return true;
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::kHalfOpen) {
    if (trials_in_flight_ > 0) --trials_in_flight_;
    if (++trial_successes_ >= policy_.half_open_max_calls) {
      state_ = BreakerState::kClosed;
      consecutive_failures_ = 0;
    }
    return;
  }
  consecutive_failures_ = 0;
}

void CircuitBreaker::RecordFailure() {
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::kHalfOpen ||
      (state_ == BreakerState::kClosed && ++consecutive_failures_ >= policy_.failure_threshold)) {
    state_ = BreakerState::kOpen;
    opened_at_ = clock_.Now();
    consecutive_failures_ = 0;
    trials_in_flight_ = 0;
    trial_successes_ = 0;
  }
}

void CircuitBreaker::Cancel() {
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::kHalfOpen && trials_in_flight_ > 0) --trials_in_flight_;
}

BreakerState CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  // An open breaker whose timeout passed reports half-open: the next call is a trial.
  if (state_ == BreakerState::kOpen && clock_.Now() - opened_at_ >= policy_.recovery_timeout) {
    return BreakerState::kHalfOpen;
  }
  return state_;
}

}  // namespace vigil
