#include "serving/batcher.h"

#include <gtest/gtest.h>

#include <future>

#include "fake_instance.h"

namespace vigil {

using testing::DoublingInstance;
using testing::Fp32Spec;
using testing::MakeRequest;

TEST(ExecuteBatch, ConcatenatesRunsOnceAndSplitsRowsBack) {
  DoublingInstance model;
  std::vector<std::unique_ptr<InferenceRequest>> batch;
  std::vector<InferenceResult> results(3);
  const int64_t rows[] = {1, 2, 3};
  for (int i = 0; i < 3; ++i) {
    batch.push_back(MakeRequest(rows[i], static_cast<float>(100 * i), TimePoint{},
                                [&results, i](InferenceResult&& r) { results[i] = std::move(r); }));
  }
  ExecuteBatch(model, {Fp32Spec("y", 2)}, batch);
  EXPECT_EQ(model.batch_rows(), std::vector<int64_t>{6});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(results[i].status.ok()) << results[i].status.message();
    EXPECT_EQ(results[i].batch_size, 6);
    const Tensor& t = results[i].outputs[0];
    ASSERT_EQ(t.shape, (std::vector<int64_t>{rows[i], 2}));
    for (int64_t k = 0; k < rows[i] * 2; ++k) {
      EXPECT_EQ(t.data<float>()[k], 2 * (100.0f * i + static_cast<float>(k)));
    }
  }
}

TEST(ExecuteBatch, BackendFailureFailsEveryRequest) {
  DoublingInstance model;
  model.set_fail(true);
  std::vector<std::unique_ptr<InferenceRequest>> batch;
  int failures = 0;
  for (int i = 0; i < 2; ++i) {
    batch.push_back(MakeRequest(1, 0, TimePoint{}, [&](InferenceResult&& r) {
      failures += r.status.code() == StatusCode::kInternal;
    }));
  }
  ExecuteBatch(model, {Fp32Spec("y", 2)}, batch);
  EXPECT_EQ(failures, 2);
}

TEST(ExecuteBatch, OutputNotMatchingConfigIsAnError) {
  DoublingInstance model;
  std::vector<std::unique_ptr<InferenceRequest>> batch;
  Status st;
  batch.push_back(MakeRequest(1, 0, TimePoint{}, [&](InferenceResult&& r) { st = r.status; }));
  ExecuteBatch(model, {Fp32Spec("y", 3)}, batch);  // model gives width 2
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("config declares"), std::string::npos);
}

// Real worker thread, no sleeps: every request completes through futures.
TEST(Batcher, CompletesEveryRequestFromManyThreads) {
  DoublingInstance model;
  BatchingConfig cfg;
  cfg.max_batch_size = 16;
  cfg.max_queue_delay = std::chrono::microseconds(200);
  cfg.max_queue_size = 10000;
  std::vector<std::future<float>> results;
  std::vector<std::promise<float>> promises(400);  // outlive the batcher
  for (auto& p : promises) results.push_back(p.get_future());
  {
    Batcher batcher(cfg, &model, {Fp32Spec("y", 2)}, nullptr);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t * 100; i < (t + 1) * 100; ++i) {
          batcher.Submit(MakeRequest(1, static_cast<float>(i), SteadyClock::Instance().Now(),
                                     [&promises, i](InferenceResult&& r) {
                                       promises[i].set_value(
                                           r.status.ok() ? r.outputs[0].data<float>()[0] : -1.0f);
                                     }));
        }
      });
    }
    for (auto& th : threads) th.join();
  }  // destructor drains the queue
  for (int i = 0; i < 400; ++i) EXPECT_EQ(results[i].get(), 2.0f * static_cast<float>(i));
  int64_t total = 0;
  for (int64_t rows : model.batch_rows()) {
    EXPECT_LE(rows, 16);
    total += rows;
  }
  EXPECT_EQ(total, 400);
}

// max_queue_delay 0: an idle batcher runs a request on the caller's thread, busy ones
// queue; either way at most one batch runs at a time and every request completes.
TEST(Batcher, ZeroDelayRunsInlineWhenIdleAndNeverConcurrently) {
  DoublingInstance model;
  BatchingConfig cfg;
  cfg.max_batch_size = 8;
  cfg.max_queue_delay = std::chrono::microseconds(0);
  cfg.max_queue_size = 10000;
  std::atomic<int> ok{0};
  {
    Batcher batcher(cfg, &model, {Fp32Spec("y", 2)}, nullptr);
    // Idle: runs before Submit returns, on this thread.
    std::thread::id ran_on;
    batcher.Submit(MakeRequest(1, 1, SteadyClock::Instance().Now(), [&](InferenceResult&& r) {
      ran_on = std::this_thread::get_id();
      ok += r.status.ok();
    }));
    EXPECT_EQ(ran_on, std::this_thread::get_id());
    EXPECT_EQ(ok.load(), 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 200; ++i) {
          batcher.Submit(MakeRequest(1, 1, SteadyClock::Instance().Now(),
                                     [&](InferenceResult&& r) { ok += r.status.ok(); }));
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(ok.load(), 801);
  EXPECT_EQ(model.max_running(), 1);
}

TEST(Batcher, FullQueueAnswersResourceExhausted) {
  DoublingInstance model;
  BatchingConfig cfg;
  cfg.max_batch_size = 64;
  cfg.max_queue_delay = std::chrono::hours(1);  // nothing runs until shutdown
  cfg.max_queue_size = 2;
  std::vector<StatusCode> codes;
  std::mutex mu;
  {
    Batcher batcher(cfg, &model, {Fp32Spec("y", 2)}, nullptr);
    for (int i = 0; i < 3; ++i) {
      batcher.Submit(MakeRequest(1, 0, SteadyClock::Instance().Now(), [&](InferenceResult&& r) {
        std::lock_guard lock(mu);
        codes.push_back(r.status.code());
      }));
    }
    std::lock_guard lock(mu);
    ASSERT_EQ(codes.size(), 1u);  // the refused one is answered at once
    EXPECT_EQ(codes[0], StatusCode::kResourceExhausted);
  }
  EXPECT_EQ(codes.size(), 3u);  // the two queued ones ran at shutdown
  EXPECT_EQ(codes[1], StatusCode::kOk);
  EXPECT_EQ(codes[2], StatusCode::kOk);
}

}  // namespace vigil
