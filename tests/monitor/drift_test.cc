#include "monitor/drift.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "monitor/input_validation.h"
#include "monitor/live_window.h"
#include "monitor/performance.h"
#include "monitor/stats.h"

namespace vigil::monitor {
namespace {

std::vector<double> Normal(size_t n, double mean, double sd, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(mean, sd);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<double> CountsIn(const FeatureProfile& f, const std::vector<double>& v) {
  std::vector<double> c(f.bins(), 0.0);
  for (double x : v) c[f.BinOf(x)] += 1;
  return c;
}

// Sums of the values below / above the reference's range (what the live window keeps).
double Below(const FeatureProfile& f, const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += f.BinOf(x) == 0 ? x : 0;
  return s;
}
double Above(const FeatureProfile& f, const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += f.BinOf(x) + 1 == f.bins() ? x : 0;
  return s;
}

// The live window's binned statistics against the exact ones on the same samples: the
// error bounds docs/monitoring.md states.
TEST(DriftBinned, KsAndWassersteinStayCloseToTheExactStatistics) {
  const auto ref = Normal(20000, 0, 1, 1);
  const FeatureProfile prof = BuildNumericProfile("x", ref);
  for (double shift : {0.0, 0.1, 0.5, 1.5}) {
    const auto cur = Normal(5000, shift, 1, 2);
    const auto counts = CountsIn(prof, cur);
    auto exact_ks = KolmogorovSmirnovTest(ref, cur);
    ASSERT_TRUE(exact_ks.ok());
    const double binned_ks = BinnedKsStatistic(prof.counts, counts);
    EXPECT_LE(binned_ks, exact_ks->statistic + 1e-12) << shift;
    EXPECT_NEAR(binned_ks, exact_ks->statistic, 0.012) << shift;
    auto exact_w = WassersteinDistance(ref, cur);
    ASSERT_TRUE(exact_w.ok());
    const double binned_w = BinnedWasserstein(prof, counts, Below(prof, cur), Above(prof, cur));
    EXPECT_NEAR(binned_w, *exact_w, 0.05 * *exact_w + 0.002) << shift;
  }
}

TEST(DriftBinned, AutoPicksTestsForSmallWindowsAndDistancesForLargeOnes) {
  DriftConfig cfg;
  EXPECT_EQ(ChooseMethod(cfg, nullptr, FeatureKind::kNumeric, 500).method, "ks");
  EXPECT_EQ(ChooseMethod(cfg, nullptr, FeatureKind::kNumeric, 5000).method, "wasserstein");
  EXPECT_EQ(ChooseMethod(cfg, nullptr, FeatureKind::kCategorical, 500).method, "chisquare");
  EXPECT_EQ(ChooseMethod(cfg, nullptr, FeatureKind::kCategorical, 5000).method, "jensenshannon");
  EXPECT_DOUBLE_EQ(ChooseMethod(cfg, nullptr, FeatureKind::kNumeric, 500).threshold, 0.05);
  FeatureMonitorConfig f;
  f.drift_method = "psi";
  f.drift_threshold = 0.25;
  MethodChoice m = ChooseMethod(cfg, &f, FeatureKind::kNumeric, 500);
  EXPECT_EQ(m.method, "psi");
  EXPECT_DOUBLE_EQ(m.threshold, 0.25);
  EXPECT_FALSE(m.is_test);
}

TEST(DriftBinned, ShiftedFeatureDriftsAndTheSameDistributionDoesNot) {
  const auto ref = Normal(20000, 0, 1, 3);
  const FeatureProfile prof = BuildNumericProfile("x", ref);
  DriftConfig cfg;
  for (int64_t n : {300, 5000}) {  // ks, then wasserstein
    const auto same = Normal(static_cast<size_t>(n), 0, 1, 4);
    const auto moved = Normal(static_cast<size_t>(n), 1.5, 1, 5);
    FeatureDrift a =
        DriftOfBins(prof, CountsIn(prof, same), Below(prof, same), Above(prof, same), cfg, nullptr);
    FeatureDrift b = DriftOfBins(prof, CountsIn(prof, moved), Below(prof, moved),
                                 Above(prof, moved), cfg, nullptr);
    EXPECT_TRUE(a.evaluated);
    EXPECT_FALSE(a.drifted) << a.method << " " << a.score;
    EXPECT_TRUE(b.drifted) << b.method << " " << b.score;
  }
  for (const char* method : {"psi", "jensenshannon", "chisquare"}) {
    FeatureMonitorConfig f;
    f.drift_method = method;
    const auto same = Normal(5000, 0, 1, 6);
    const auto moved = Normal(5000, 1.5, 1, 7);
    EXPECT_FALSE(DriftOfBins(prof, CountsIn(prof, same), 0, 0, cfg, &f).drifted) << method;
    EXPECT_TRUE(DriftOfBins(prof, CountsIn(prof, moved), 0, 0, cfg, &f).drifted) << method;
  }
}

TEST(DriftBinned, TooFewRowsGiveNoVerdict) {
  const auto ref = Normal(1000, 0, 1, 8);
  const FeatureProfile prof = BuildNumericProfile("x", ref);
  const auto cur = Normal(10, 5, 1, 9);
  FeatureDrift d = DriftOfBins(prof, CountsIn(prof, cur), 0, 0, DriftConfig{}, nullptr);
  EXPECT_FALSE(d.evaluated);
  EXPECT_FALSE(d.drifted);
  EXPECT_NE(d.note.find("not enough data"), std::string::npos);
}

TEST(DriftSamples, OfflineStatisticsAreSciPys) {
  const auto ref = Normal(800, 0, 1, 10);
  const auto cur = Normal(600, 0.3, 1, 11);
  DriftConfig cfg;
  FeatureDrift d = DriftOfNumericSamples("x", ref, cur, cfg, nullptr);
  auto ks = KolmogorovSmirnovTest(ref, cur);
  ASSERT_TRUE(ks.ok());
  EXPECT_EQ(d.method, "ks");
  EXPECT_DOUBLE_EQ(d.statistic, ks->statistic);
  EXPECT_DOUBLE_EQ(d.score, ks->p_value);
  EXPECT_TRUE(d.drifted);
}

TEST(DriftReport, CorrectionAndDatasetShare) {
  DriftReport r;
  for (double p : {0.01, 0.04, 0.3, 0.9}) {
    FeatureDrift d;
    d.evaluated = true;
    d.is_test = true;
    d.threshold = 0.05;
    d.score = p;
    d.drifted = p < 0.05;
    r.features.push_back(d);
  }
  DriftConfig cfg;
  cfg.correction = "bonferroni";
  cfg.dataset_drift_share = 0.5;
  FinishReport(r, cfg);
  EXPECT_DOUBLE_EQ(r.features[0].score, 0.04);  // 0.01 * 4
  EXPECT_TRUE(r.features[0].drifted);
  EXPECT_FALSE(r.features[1].drifted);  // 0.16 after correction
  EXPECT_EQ(r.drifted_features, 1);
  EXPECT_EQ(r.evaluated_features, 4);
  EXPECT_DOUBLE_EQ(r.drift_share, 0.25);
  EXPECT_FALSE(r.dataset_drift);
}

ModelConfig TwoFeatureModel() {
  ModelConfig c;
  c.name = "m";
  TensorSpec in;
  in.name = "x";
  in.shape = {-1, 2};
  in.features = {"a", "b"};
  in.ranges = {{0, 10}, {-1, 1}};
  c.inputs.push_back(in);
  TensorSpec out;
  out.name = "p";
  out.shape = {-1, 2};
  out.labels = {"no", "yes"};
  c.outputs.push_back(out);
  FeatureMonitorConfig b;
  b.name = "b";
  b.categorical = true;
  b.categories = {-1, 0, 1};
  c.monitor.features.push_back(b);
  return c;
}

Tensor Rows(const std::vector<float>& values) {
  Tensor t = Tensor::Make("x", DataType::kFp32, {static_cast<int64_t>(values.size() / 2), 2});
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

TEST(InputValidation, FlagCountsAndRejectStopsAtTheFirstViolation) {
  ModelConfig c = TwoFeatureModel();
  InputValidator flag(c, nullptr);
  ASSERT_EQ(flag.rules().size(), 2u);
  EXPECT_EQ(flag.rules()[1].categories.size(), 3u);
  std::vector<Tensor> in;
  in.push_back(Rows({5, 0, 11, 1, 1, 0.5f}));
  auto v = flag.Check(in, 3);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->row, 1);
  EXPECT_EQ(v->reason, ValidationReason::kOutOfRange);
  EXPECT_EQ(flag.Describe(*v), "row 1, feature 'a': 11 is out of range [0, 10] (out_of_range)");
  EXPECT_EQ(flag.Classify(1, 0.5), ValidationReason::kUnknownCategory);
  EXPECT_EQ(flag.Classify(0, NAN), ValidationReason::kMissing);
  EXPECT_FALSE(flag.Classify(0, 3));

  // A missing value is reported first in flag mode: the request cannot be served.
  std::vector<Tensor> missing;
  missing.push_back(Rows({11, 0, NAN, 0}));
  auto m = flag.Check(missing, 2);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->reason, ValidationReason::kMissing);

  c.monitor.validation = ValidationMode::kOff;
  EXPECT_FALSE(InputValidator(c, nullptr).Check(in, 3));
}

TEST(LiveWindow, CountsIntoReferenceBinsPerBucketAndExpires) {
  ModelConfig c = TwoFeatureModel();
  c.monitor.bucket = std::chrono::minutes(1);
  c.monitor.retention = std::chrono::minutes(10);
  InputValidator v(c, nullptr);
  auto ref = std::make_shared<Profile>();
  std::vector<double> a = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  ref->features.push_back(BuildNumericProfile("a", a, 10));
  std::vector<std::string> b = {"-1", "0", "1", "0"};
  std::vector<std::string> allowed = {"-1", "0", "1"};
  ref->features.push_back(BuildCategoricalProfile("b", b, allowed));
  std::vector<std::string> preds = {"no", "yes"};
  ref->prediction = BuildCategoricalProfile("prediction", preds, preds);
  LiveWindow w(v, ref, {"no", "yes"}, 60'000, 600'000);
  const int64_t t0 = 1'000'000'020'000;
  const float row1[] = {5, 0}, row2[] = {20, 1}, out_yes[] = {0.2f, 0.8f};
  w.AddRow(t0, row1, 2, out_yes, 2);
  w.AddRow(t0 + 1000, row2, 2, out_yes, 2);
  w.AddRow(t0 + 120'000, row1, 2, out_yes, 2);  // two buckets later
  WindowCounts all = w.Window(t0 + 120'000, 600'000);
  EXPECT_EQ(all.rows, 3);
  EXPECT_EQ(all.features[0].out_of_range, 1u);
  EXPECT_EQ(all.features[0].bins.back(), 1);  // 20: above the reference's maximum
  EXPECT_EQ(all.features[1].bins[ref->features[1].CategoryOf("0")], 2);
  EXPECT_EQ(all.prediction.bins[ref->prediction->CategoryOf("yes")], 3);
  WindowCounts recent = w.Window(t0 + 120'000, 60'000);
  EXPECT_EQ(recent.rows, 1);
  EXPECT_EQ(w.bucket_count(), 2u);
  w.AddRow(t0 + 900'000, row1, 2, out_yes, 2);  // past the retention: old buckets go
  EXPECT_EQ(w.bucket_count(), 1u);
  EXPECT_GT(w.MemoryBytes(), 0u);
}

TEST(Performance, ClassificationMetricsAndConfusionMatrix) {
  PerformanceTracker t({"a", "b"}, 4);
  t.AddClass(0, 0);
  t.AddClass(1, 0);
  t.AddClass(1, 1);
  t.AddClass(1, 1);
  PerformanceReport r = t.Report();
  EXPECT_EQ(r.count, 4);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.75);
  EXPECT_EQ(r.confusion[0][1], 1);  // actual a, predicted b
  EXPECT_DOUBLE_EQ(r.classes[1].precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.classes[0].recall, 0.5);
  t.AddClass(0, 1);  // the oldest entry leaves the window
  EXPECT_EQ(t.Report().count, 4);
  EXPECT_DOUBLE_EQ(t.Report().accuracy, 0.5);

  PerformanceTracker reg({}, 10);
  reg.AddValue(1, 2);
  reg.AddValue(3, 1);
  EXPECT_DOUBLE_EQ(reg.Report().mae, 1.5);
  EXPECT_DOUBLE_EQ(reg.Report().rmse, std::sqrt(2.5));
}

TEST(Performance, ARowLabelledAgainIsCorrectedNotCountedTwice) {
  PerformanceTracker t({"a", "b"}, 3);
  EXPECT_FALSE(t.AddClass(0, 1, "p1:0"));
  EXPECT_FALSE(t.AddClass(1, 1, "p2:0"));
  EXPECT_DOUBLE_EQ(t.Report().accuracy, 0.5);
  auto before = t.AddClass(0, 0, "p1:0");  // the label of p1 was wrong: corrected
  ASSERT_TRUE(before);
  EXPECT_EQ(*before, 1);
  EXPECT_EQ(t.Report().count, 2);
  EXPECT_DOUBLE_EQ(t.Report().accuracy, 1.0);
  t.AddClass(1, 0, "p3:0");
  t.AddClass(1, 1, "p4:0");  // p1 leaves the window ...
  EXPECT_EQ(t.Report().count, 3);
  EXPECT_FALSE(t.AddClass(0, 0, "p1:0"));  // ... so its label is new again
  EXPECT_EQ(t.Report().count, 3);
  EXPECT_TRUE(t.AddClass(1, 1, "p3:0"));  // p3 is still in the window: replaced in place
  EXPECT_DOUBLE_EQ(t.Report().accuracy, 1.0);
}

}  // namespace
}  // namespace vigil::monitor
