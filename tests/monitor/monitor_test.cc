#include "monitor/monitor.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <filesystem>
#include <set>
#include <thread>

#include "monitor/tap.h"

namespace vigil::monitor {
namespace {

TEST(TapQueue, ManyProducersNothingLostButCountedDrops) {
  TapQueue<int64_t> q(256);
  constexpr int kProducers = 4, kEach = 20000;
  std::atomic<bool> done{false};
  std::vector<int64_t> got;
  std::thread consumer([&] {
    int64_t v;
    while (!done.load() || q.popped() < q.pushed()) {
      if (q.TryPop(v)) got.push_back(v);
    }
    while (q.TryPop(v)) got.push_back(v);
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) {
        int64_t v = static_cast<int64_t>(p) * kEach + i;
        q.TryPush(std::move(v));
      }
    });
  }
  for (auto& t : producers) t.join();
  done.store(true);
  consumer.join();
  EXPECT_EQ(got.size() + q.dropped(), static_cast<size_t>(kProducers * kEach));
  // Every value at most once, and each producer's values in order.
  std::set<int64_t> seen(got.begin(), got.end());
  EXPECT_EQ(seen.size(), got.size());
  std::vector<int64_t> last(kProducers, -1);
  for (int64_t v : got) {
    const auto p = static_cast<size_t>(v / kEach);
    EXPECT_GT(v, last[p]);
    last[p] = v;
  }
}

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil_monitor_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "repo" / "m");
    auto c = std::make_shared<ModelConfig>();
    c->name = "m";
    TensorSpec in;
    in.name = "x";
    in.shape = {-1, 1};
    in.features = {"a"};
    in.ranges = {{0, 100}};
    c->inputs.push_back(in);
    TensorSpec out;
    out.name = "p";
    out.shape = {-1, 2};
    out.labels = {"no", "yes"};
    c->outputs.push_back(out);
    c->monitor.drift.min_samples = 10;
    config_ = c;
    Profile p;
    p.model = "m";
    std::vector<double> a;
    for (int i = 0; i < 1000; ++i) a.push_back(i % 100);
    p.features.push_back(BuildNumericProfile("a", a));
    ASSERT_TRUE(SaveProfile(p, dir_ / "repo" / "m" / "reference.json").ok());
    Open();
  }
  void TearDown() override {
    monitor_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    monitor_.reset();
    store_.reset();
    auto s = OpenSqlitePredictionStore(dir_ / "data");
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    MonitorOptions o;
    o.repository = dir_ / "repo";
    o.interval = std::chrono::hours(1);
    monitor_ = std::make_unique<Monitor>(o, store_.get(), registry_);
  }
  // One request of `values` rows answered "yes" (or "no" when `yes` is false).
  std::string Serve(const std::vector<float>& values, bool yes,
                    const std::string& request_id = "") {
    TapSample s;
    s.config = config_;
    s.version = 1;
    s.rows = static_cast<int64_t>(values.size());
    s.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    s.features = values;
    for (size_t i = 0; i < values.size(); ++i) {
      s.outputs.push_back(yes ? 0.1f : 0.9f);
      s.outputs.push_back(yes ? 0.9f : 0.1f);
    }
    s.prediction_id = "pid" + std::to_string(next_++);
    s.request_id = request_id;
    std::string id = s.prediction_id;
    monitor_->Tap(std::move(s));
    return id;
  }
  std::function<std::shared_ptr<const ModelConfig>(const std::string&)> Configs() {
    return [this](const std::string& m) {
      return m == "m" ? config_ : std::shared_ptr<const ModelConfig>();
    };
  }

  std::filesystem::path dir_;
  std::shared_ptr<const ModelConfig> config_;
  prometheus::Registry registry_;
  std::unique_ptr<PredictionStore> store_;
  std::unique_ptr<Monitor> monitor_;
  int next_ = 0;
};

TEST_F(MonitorTest, ValidationRejectsOnlyInRejectMode) {
  std::vector<Tensor> in;
  in.push_back(Tensor::Make("x", DataType::kFp32, {1, 1}));
  in[0].data<float>()[0] = 500;
  EXPECT_TRUE(monitor_->Validate(config_, in, 1).ok());  // flag
  auto strict = std::make_shared<ModelConfig>(*config_);
  strict->monitor.validation = ValidationMode::kReject;
  Status st = monitor_->Validate(strict, in, 1);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("feature 'a': 500 is out of range [0, 100]"), std::string::npos);
}

TEST_F(MonitorTest, DriftFollowsTheTappedTraffic) {
  for (int i = 0; i < 20; ++i) Serve({10, 30, 50, 70, 90}, true);
  auto d = monitor_->Drift(config_, 1, std::chrono::hours(1));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->rows, 100);
  ASSERT_EQ(d->report.features.size(), 1u);
  EXPECT_TRUE(d->report.features[0].evaluated);
  EXPECT_FALSE(d->report.features[0].drifted);
  for (int i = 0; i < 100; ++i) Serve({95, 96, 97, 98, 99}, true);
  d = monitor_->Drift(config_, 1, std::chrono::hours(1));
  EXPECT_TRUE(d->report.features[0].drifted);
  auto q = monitor_->Quality(config_, 1, std::chrono::hours(1));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->features[0].rows, 600u);

  // No reference profile: a clear 404 naming the files looked for.
  std::filesystem::remove(dir_ / "repo" / "m" / "reference.json");
  auto none = monitor_->Drift(config_, 2, std::chrono::hours(1));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("vigil profile build m"), std::string::npos);
}

TEST_F(MonitorTest, FeedbackIsAllOrNothingAndAccuracySurvivesARestart) {
  const std::string a = Serve({1, 2}, true, "req-1");
  const std::string b = Serve({3}, false);
  std::vector<FeedbackItem> items(3);
  items[0].prediction_id = a + ":0";
  items[0].label = "yes";
  items[1].request_id = "req-1";
  items[1].row = 1;
  items[1].label = "no";
  items[2].prediction_id = b;
  items[2].value = 0;  // class index of "no"
  std::vector<FeedbackItem> bad = items;
  bad.push_back(FeedbackItem{"unknown-id", "", 0, std::string("yes"), std::nullopt});
  auto r = monitor_->Feedback(bad, Configs());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("unknown prediction_id 'unknown-id'"), std::string::npos);
  bad.back() = FeedbackItem{b, "", 0, std::string("maybe"), std::nullopt};
  r = monitor_->Feedback(bad, Configs());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'maybe' is not one of m's labels"), std::string::npos);
  auto p = monitor_->Performance(config_, 1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->count, 0);  // nothing of the bad batches was kept

  r = monitor_->Feedback(items, Configs());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->accepted, 3);
  p = monitor_->Performance(config_, 1);
  EXPECT_EQ(p->count, 3);
  EXPECT_NEAR(p->accuracy, 2.0 / 3.0, 1e-12);

  Open();  // a restart: the window is rebuilt from the store
  p = monitor_->Performance(config_, 1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->count, 3);
  EXPECT_NEAR(p->accuracy, 2.0 / 3.0, 1e-12);
  auto found = monitor_->FindPredictions({MakePredictionKey(a + ":1", "", 0)});
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE((*found)[0]);
  EXPECT_EQ((*found)[0]->features, std::vector<float>{2});
  EXPECT_EQ((*found)[0]->label, "yes");
}

TEST(PredictionKey, ParsesRowSuffix) {
  PredictionKey k = MakePredictionKey("abc:3", "", 0);
  EXPECT_EQ(k.prediction_id, "abc");
  EXPECT_EQ(k.row, 3);
  k = MakePredictionKey("abc", "", 0);
  EXPECT_EQ(k.row, 0);
  k = MakePredictionKey("", "req", 2);
  EXPECT_EQ(k.request_id, "req");
  EXPECT_EQ(k.row, 2);
}

}  // namespace
}  // namespace vigil::monitor

namespace vigil {
namespace {

TEST(PredictionStore, SegmentsFindRowsByIdAndRequestAndPruneByAgeAndCount) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vigil_prediction_store_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = OpenSqlitePredictionStore(dir);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto id = [](int64_t ms, int n) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%012llx%020d", static_cast<unsigned long long>(ms), n);
    return std::string(buf);
  };
  // Three appends (segments) per model, out of order within each, one two-row request.
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<StoredPrediction> rows;
    for (int i = 3; i >= 0; --i) {
      const int n = batch * 4 + i;
      StoredPrediction p;
      p.prediction_id = id(1000 + n, n);
      p.model = n % 2 ? "b" : "a";
      p.version = 1;
      p.created_ms = 1000 + n;
      p.label = "x" + std::to_string(n);
      p.features = {static_cast<float>(n), 0.5f};
      if (n == 5) p.request_id = "order-5";
      rows.push_back(p);
      if (n == 5) {
        p.row = 1;
        p.features = {51, 52};
        rows.push_back(p);
      }
    }
    ASSERT_TRUE((*store)->Append(rows).ok());
  }
  EXPECT_EQ(*(*store)->Count("a"), 6);
  EXPECT_EQ(*(*store)->Count("b"), 7);
  auto found = (*store)->Find({{id(1009, 9), "", 0},
                               {id(1005, 5), "", 1},
                               {"", "order-5", 1},
                               {id(1009, 9), "", 3},
                               {"nope", "", 0},
                               {"", "order-6", 0}});
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_TRUE((*found)[0]);
  EXPECT_EQ((*found)[0]->model, "b");
  EXPECT_EQ((*found)[0]->label, "x9");
  EXPECT_EQ((*found)[0]->features, (std::vector<float>{9, 0.5f}));
  ASSERT_TRUE((*found)[1]);
  EXPECT_EQ((*found)[1]->features, (std::vector<float>{51, 52}));
  ASSERT_TRUE((*found)[2]);
  EXPECT_EQ((*found)[2]->request_id, "order-5");
  EXPECT_FALSE((*found)[3]);
  EXPECT_FALSE((*found)[4]);
  EXPECT_FALSE((*found)[5]);

  LabelRecord l;
  l.prediction_id = id(1000, 0);
  l.model = "a";
  l.version = 1;
  l.predicted_label = "x0";
  l.label = "y";
  l.received_ms = 900;
  LabelRecord newer = l;
  newer.prediction_id = id(1002, 2);
  newer.received_ms = 5000;
  ASSERT_TRUE((*store)->PutLabels({l, newer}).ok());
  auto labels = (*store)->RecentLabels("a", 1, 10);
  ASSERT_EQ(labels->size(), 2u);
  EXPECT_EQ((*labels)[0].prediction_id, newer.prediction_id);  // newest first
  EXPECT_EQ((*labels)[1].predicted_label, "x0");

  ASSERT_TRUE((*store)->Prune("a", 1004, 100).ok());  // a: the first segment (1000-1002) goes
  EXPECT_EQ(*(*store)->Count("a"), 4);
  EXPECT_EQ(*(*store)->Count("b"), 7);
  EXPECT_EQ((*store)->RecentLabels("a", 1, 10)->size(), 1u);  // the label from 900 went too
  ASSERT_TRUE((*store)->Prune("b", 0, 2).ok());               // b: only its newest segment fits
  EXPECT_EQ(*(*store)->Count("b"), 2);
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
