#include "serving/batch_queue.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "fake_instance.h"

namespace vigil {

using std::chrono::milliseconds;
using testing::MakeRequest;

namespace {
BatchingConfig Config(int max_batch, int delay_ms, int max_queue) {
  BatchingConfig c;
  c.max_batch_size = max_batch;
  c.max_queue_delay = milliseconds(delay_ms);
  c.max_queue_size = max_queue;
  return c;
}
auto Noop() {
  return [](InferenceResult&&) {};
}
}  // namespace

TEST(BatchQueue, WaitsForMaxQueueDelayThenRunsPartialBatch) {
  ManualClock clock;
  BatchQueue q(Config(8, 5, 100));
  auto r = MakeRequest(1, 0, clock.Now(), Noop());
  ASSERT_TRUE(q.Push(r).ok());
  auto d = q.Take(clock.Now());
  EXPECT_TRUE(d.batch.empty());
  ASSERT_TRUE(d.wake_at.has_value());
  EXPECT_EQ(*d.wake_at, clock.Now() + milliseconds(5));
  clock.Advance(milliseconds(4));
  EXPECT_TRUE(q.Take(clock.Now()).batch.empty());
  clock.Advance(milliseconds(1));
  d = q.Take(clock.Now());
  EXPECT_EQ(d.batch.size(), 1u);
  EXPECT_EQ(q.size(), 0u);
}

TEST(BatchQueue, FullBatchRunsAtOnceWithoutWaiting) {
  ManualClock clock;
  BatchQueue q(Config(4, 1000, 100));
  for (int i = 0; i < 5; ++i) {
    auto r = MakeRequest(1, 0, clock.Now(), Noop());
    ASSERT_TRUE(q.Push(r).ok());
  }
  auto d = q.Take(clock.Now());
  EXPECT_EQ(d.batch.size(), 4u);  // max_batch_size rows
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.queued_rows(), 1);
}

TEST(BatchQueue, BatchesWholeRequestsUpToMaxRows) {
  ManualClock clock;
  BatchQueue q(Config(8, 0, 100));
  for (int rows : {3, 3, 3}) {
    auto r = MakeRequest(rows, 0, clock.Now(), Noop());
    ASSERT_TRUE(q.Push(r).ok());
  }
  auto d = q.Take(clock.Now());
  EXPECT_EQ(d.batch.size(), 2u);  // 6 rows; a third request would make 9 > 8
  d = q.Take(clock.Now());
  EXPECT_EQ(d.batch.size(), 1u);
}

TEST(BatchQueue, OversizedRequestRunsAlone) {
  ManualClock clock;
  BatchQueue q(Config(4, 0, 100));
  auto r = MakeRequest(10, 0, clock.Now(), Noop());
  ASSERT_TRUE(q.Push(r).ok());
  auto d = q.Take(clock.Now());
  ASSERT_EQ(d.batch.size(), 1u);
  EXPECT_EQ(d.batch[0]->rows, 10);
}

TEST(BatchQueue, RefusesWhenFullAndKeepsRequest) {
  ManualClock clock;
  BatchQueue q(Config(8, 5, 2));
  for (int i = 0; i < 2; ++i) {
    auto r = MakeRequest(1, 0, clock.Now(), Noop());
    ASSERT_TRUE(q.Push(r).ok());
  }
  auto extra = MakeRequest(1, 0, clock.Now(), Noop());
  Status st = q.Push(extra);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(extra, nullptr);  // caller still owns it, to answer 503
}

TEST(BatchQueue, ExpiredRequestsAreReturnedNotRun) {
  ManualClock clock;
  BatchQueue q(Config(8, 5, 10));
  auto r = MakeRequest(1, 0, clock.Now(), Noop());
  r->deadline = clock.Now() + milliseconds(2);
  ASSERT_TRUE(q.Push(r).ok());
  auto live = MakeRequest(1, 0, clock.Now(), Noop());
  ASSERT_TRUE(q.Push(live).ok());
  EXPECT_EQ(q.Take(clock.Now()).wake_at, clock.Now() + milliseconds(2));  // the deadline
  clock.Advance(milliseconds(3));
  auto d = q.Take(clock.Now());
  EXPECT_EQ(d.expired.size(), 1u);
  EXPECT_TRUE(d.batch.empty());  // the live one still waits for the delay
  clock.Advance(milliseconds(2));
  EXPECT_EQ(q.Take(clock.Now()).batch.size(), 1u);
}

}  // namespace vigil
