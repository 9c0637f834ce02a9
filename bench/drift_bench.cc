// Drift evaluation benchmark (make bench): the columnar batch path on a 1,000,000-row x
// 30-feature window, on one core, against the 200 ms target; the exact sample path
// for comparison; and the live window's memory for the fraud example at its defaults.
//
// Usage: vigil_drift_bench [--rows N] [--repeat K] [--fraud DIR]   (DIR: examples/models/fraud)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "monitor/drift.h"
#include "monitor/input_validation.h"
#include "monitor/live_window.h"
#include "monitor/profile.h"
#include "monitor/stats.h"
#include "serving/model_config.h"

using namespace vigil;
using namespace vigil::monitor;

namespace {

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 1'000'000;
  int repeat = 5;
  std::string fraud_dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows")) rows = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeat")) repeat = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--fraud")) fraud_dir = argv[i + 1];
  }
  constexpr int kFeatures = 30;
  constexpr int kReferenceRows = 20'000;
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal(0, 1);

  Profile reference;
  for (int f = 0; f < kFeatures; ++f) {
    std::vector<double> v(kReferenceRows);
    for (auto& x : v) x = normal(rng);
    std::string name = std::to_string(f);
    name.insert(name.begin(), 'f');  // (operator+ trips GCC 12's -Wrestrict false positive)
    reference.features.push_back(BuildNumericProfile(name, v));
  }
  // The current window: features 0 and 1 moved by 0.5 sigma.
  std::vector<std::vector<float>> columns(kFeatures, std::vector<float>(rows));
  for (int f = 0; f < kFeatures; ++f) {
    const double shift = f < 2 ? 0.5 : 0.0;
    for (auto& x : columns[f]) x = static_cast<float>(normal(rng) + shift);
  }
  std::vector<std::span<const float>> spans(columns.begin(), columns.end());

  DriftConfig config;
  std::vector<double> times;
  DriftReport report;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    report = DriftOfColumns(reference, spans, config);
    times.push_back(Ms(std::chrono::steady_clock::now() - t0));
  }
  const double batch_ms = Median(times);
  std::printf(
      "| columnar batch path: %lld rows x %d features, bin + evaluate (one core) | %.1f ms "
      "(median of %d) | <= 200 ms |\n",
      static_cast<long long>(rows), kFeatures, batch_ms, repeat);
  std::printf("| verdicts: drifted features (f0, f1 shifted 0.5 sigma) | %d of %d (%s%s) | 2 |\n",
              report.drifted_features, report.evaluated_features,
              report.features[0].drifted ? "f0 " : "", report.features[1].drifted ? "f1" : "");

  // The exact path for one feature: sort, KS and Wasserstein on the raw values.
  std::vector<double> ref_values(kReferenceRows), cur(columns[0].begin(), columns[0].end());
  for (auto& x : ref_values) x = normal(rng);
  const auto t0 = std::chrono::steady_clock::now();
  auto ks = KolmogorovSmirnovTest(ref_values, cur);
  auto w = WassersteinDistance(ref_values, cur);
  const double exact_ms = Ms(std::chrono::steady_clock::now() - t0);
  std::printf(
      "| exact sample path, one feature (KS + Wasserstein on raw values) | %.1f ms "
      "(x%d features = %.0f ms) | - |\n",
      exact_ms, kFeatures, exact_ms * kFeatures);
  if (!ks.ok() || !w.ok()) return 1;

  if (!fraud_dir.empty()) {
    auto cfg = ParseModelConfig(fraud_dir + "/config.yaml", "fraud", ModelDefaults{});
    auto prof = LoadProfile(fraud_dir + "/reference.json");
    if (!cfg.ok() || !prof.ok()) {
      std::fprintf(stderr, "fraud example: %s %s\n", cfg.status().message().c_str(),
                   prof.status().message().c_str());
      return 1;
    }
    InputValidator validator(*cfg, nullptr);
    auto shared = std::make_shared<const Profile>(std::move(*prof));
    const int64_t bucket = cfg->monitor.bucket.count(), retention = cfg->monitor.retention.count();
    LiveWindow window(validator, shared, cfg->outputs[0].labels, bucket, retention);
    std::vector<float> row(validator.rules().size(), 0.5f);
    const float out[2] = {0.9f, 0.1f};
    // Traffic in every bucket of the retention: the most a version's window holds.
    for (int64_t t = 0; t < retention; t += bucket) {
      window.AddRow(t, row.data(), row.size(), out, 2);
    }
    std::printf(
        "| live window memory, fraud (30 features), every bucket of %llds / %llds filled | "
        "%.2f MiB (%zu buckets) | bounded |\n",
        static_cast<long long>(retention / 1000), static_cast<long long>(bucket / 1000),
        static_cast<double>(window.MemoryBytes()) / (1024.0 * 1024.0), window.bucket_count());
  }
  return 0;
}
