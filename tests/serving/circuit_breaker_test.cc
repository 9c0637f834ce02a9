#include "serving/circuit_breaker.h"

#include <gtest/gtest.h>

namespace vigil {

using std::chrono::seconds;

TEST(CircuitBreaker, OpensAfterFailureThresholdAndHalfOpensAfterTimeout) {
  ManualClock clock;
  CircuitBreaker b({5, seconds(30), 3}, clock);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(b.Allow());
    b.RecordFailure();
  }
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  ASSERT_TRUE(b.Allow());
  b.RecordFailure();  // 5th consecutive failure
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_FALSE(b.Allow());
  clock.Advance(seconds(29));
  EXPECT_FALSE(b.Allow());
  clock.Advance(seconds(1));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  // Three trial calls at most while half-open.
  EXPECT_TRUE(b.Allow());
  EXPECT_TRUE(b.Allow());
  EXPECT_TRUE(b.Allow());
  EXPECT_FALSE(b.Allow());
  b.RecordSuccess();
  b.RecordSuccess();
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  b.RecordSuccess();
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_TRUE(b.Allow());
}

TEST(CircuitBreaker, SuccessResetsTheFailureCount) {
  ManualClock clock;
  CircuitBreaker b({3, seconds(30), 1}, clock);
  b.RecordFailure();
  b.RecordFailure();
  b.RecordSuccess();
  b.RecordFailure();
  b.RecordFailure();
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  b.RecordFailure();
  EXPECT_EQ(b.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, FailureWhileHalfOpenReopensWithAFreshTimeout) {
  ManualClock clock;
  CircuitBreaker b({1, seconds(10), 2}, clock);
  b.RecordFailure();
  clock.Advance(seconds(10));
  ASSERT_TRUE(b.Allow());
  b.RecordFailure();
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  clock.Advance(seconds(9));
  EXPECT_FALSE(b.Allow());
  clock.Advance(seconds(1));
  EXPECT_TRUE(b.Allow());
}

}  // namespace vigil
