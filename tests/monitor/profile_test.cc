#include "monitor/profile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "monitor/dataset.h"

namespace vigil::monitor {
namespace {

TEST(Dataset, ReadsCsvWithQuotesMissingAndText) {
  auto d = ParseCsv("a,b,c\n1,\"x,y\",\n2.5,z,NA\n", "t.csv");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->rows, 2);
  const Column* a = d->Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->values[1], 2.5);
  const Column* b = d->Find("b");
  EXPECT_EQ(b->texts[0], "x,y");
  EXPECT_EQ(b->non_numeric, 2);
  const Column* c = d->Find("c");
  EXPECT_TRUE(std::isnan(c->values[0]));
  EXPECT_TRUE(std::isnan(c->values[1]));
  EXPECT_EQ(c->non_numeric, 0);
}

TEST(Dataset, ErrorsNameFileLineAndColumn) {
  auto d = ParseCsv("a,b\n1,2\n3\n", "t.csv");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("t.csv:3: expected 2 fields"), std::string::npos);
  auto dup = ParseCsv("a,a\n1,2\n", "t.csv");
  EXPECT_NE(dup.status().message().find("duplicate column 'a'"), std::string::npos);
  auto j = ParseJsonLines("{\"a\": 1}\n{\"a\": [1]}\n", "t.jsonl");
  EXPECT_NE(j.status().message().find("t.jsonl:2: field 'a'"), std::string::npos);
}

TEST(Dataset, JsonLinesFillAbsentKeysAsMissing) {
  auto d = ParseJsonLines("{\"a\": 1, \"b\": \"x\"}\n{\"a\": null}\n{\"c\": true}\n", "t.jsonl");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->rows, 3);
  for (const auto& c : d->columns) EXPECT_EQ(c.values.size(), 3u) << c.name;
  EXPECT_TRUE(std::isnan(d->Find("a")->values[1]));
  EXPECT_TRUE(std::isnan(d->Find("b")->values[2]));
  EXPECT_EQ(d->Find("c")->values[2], 1.0);
}

TEST(Profile, NumericBinsArePercentilesAndCountEveryValue) {
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(i);
  v.push_back(NAN);
  FeatureProfile f = BuildNumericProfile("x", v, 10);
  EXPECT_EQ(f.count, 1000u);
  EXPECT_EQ(f.missing, 1u);
  ASSERT_EQ(f.edges.size(), 11u);
  EXPECT_DOUBLE_EQ(f.edges[0], 0);
  EXPECT_DOUBLE_EQ(f.edges[5], 499.5);  // numpy.percentile(range(1000), 50)
  EXPECT_DOUBLE_EQ(f.edges[10], 999);
  ASSERT_EQ(f.counts.size(), 12u);
  EXPECT_EQ(f.counts.front(), 0);  // below the minimum
  EXPECT_EQ(f.counts.back(), 0);   // above the maximum
  double total = 0;
  for (double c : f.counts) total += c;
  EXPECT_EQ(total, 1000);
  EXPECT_EQ(f.counts[1], 100);
  EXPECT_NEAR(f.mean, 499.5, 1e-9);
  EXPECT_EQ(f.BinOf(-1), 0u);
  EXPECT_EQ(f.BinOf(999), 10u);  // the maximum is in the last interior bin
  EXPECT_EQ(f.BinOf(1000), 11u);
}

TEST(Profile, ConstantFeatureGetsOneClosedBin) {
  std::vector<double> v(50, 3.0);
  FeatureProfile f = BuildNumericProfile("k", v);
  ASSERT_EQ(f.edges.size(), 2u);
  EXPECT_EQ(f.counts.size(), 3u);
  EXPECT_EQ(f.counts[1], 50);
  EXPECT_EQ(f.BinOf(3.0), 1u);
}

TEST(Profile, CategoricalCountsAndOther) {
  std::vector<std::string> v = {"a", "b", "a", "", "c"};
  std::vector<std::string> allowed = {"a", "b"};
  FeatureProfile f = BuildCategoricalProfile("cat", v, allowed);
  EXPECT_EQ(f.missing, 1u);
  ASSERT_EQ(f.categories.size(), 3u);
  EXPECT_EQ(f.categories.back(), kOtherCategory);
  EXPECT_EQ(f.counts[f.CategoryOf("a")], 2);
  EXPECT_EQ(f.counts[f.CategoryOf("c")], 1);  // "other"
  EXPECT_EQ(f.CategoryOf("zzz"), 2u);
  EXPECT_EQ(CategoryText(1.0), "1");
  EXPECT_EQ(CategoryText(0.5), "0.5");
}

TEST(Profile, JsonRoundTripAndErrors) {
  Profile p;
  p.model = "m";
  p.version = 2;
  p.rows = 3;
  std::vector<double> v = {1, 2, 3};
  p.features.push_back(BuildNumericProfile("x", v));
  std::vector<std::string> labels = {"a", "b", "a"};
  p.prediction = BuildCategoricalProfile("prediction", labels);
  auto back = ProfileFromJson(ProfileToJson(p), "p.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->model, "m");
  EXPECT_EQ(back->version, 2);
  EXPECT_EQ(back->features[0].edges, p.features[0].edges);
  EXPECT_EQ(back->features[0].counts, p.features[0].counts);
  EXPECT_EQ(back->prediction->categories, p.prediction->categories);

  auto bad = ProfileFromJson(R"({"format_version": 1, "features": [{"name": "x",
      "kind": "numeric", "count": 1, "missing": 0, "mean": 0, "std": 0, "min": 0, "max": 0,
      "edges": [2, 1], "counts": [0, 1, 0]}]})",
                             "p.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("p.json: features[0].edges"), std::string::npos);
  EXPECT_FALSE(ProfileFromJson("{", "p.json").ok());
  EXPECT_FALSE(ProfileFromJson(R"({"format_version": 9})", "p.json").ok());
}

TEST(Profile, SaveAndLoad) {
  const auto dir = std::filesystem::temp_directory_path() / "vigil_profile_test";
  std::filesystem::create_directories(dir);
  Profile p;
  p.model = "m";
  std::vector<double> v = {1, 2, 3, 4};
  p.features.push_back(BuildNumericProfile("x", v));
  ASSERT_TRUE(SaveProfile(p, dir / "reference.json").ok());
  auto back = LoadProfile(dir / "reference.json");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->features[0].count, 4u);
  EXPECT_EQ(LoadProfile(dir / "none.json").status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::monitor

namespace vigil::monitor {
namespace {

TEST(BinIndex, AgreesWithBinOfEverywhere) {
  std::vector<double> skewed;
  for (int i = 0; i < 5000; ++i) skewed.push_back(i < 4000 ? i * 1e-3 : std::exp(i / 500.0));
  for (const auto& data : {skewed, std::vector<double>{1, 1, 1, 2, 2, 3}, std::vector<double>{7}}) {
    FeatureProfile f = BuildNumericProfile("x", data);
    BinIndex index(f.edges);
    std::vector<double> probes = f.edges;
    for (double e : f.edges) {
      probes.push_back(std::nextafter(e, -INFINITY));
      probes.push_back(std::nextafter(e, INFINITY));
    }
    for (int i = -100; i < 30000; ++i) probes.push_back(i * 0.37 - 5);
    for (double v : probes) ASSERT_EQ(index(v), f.BinOf(v)) << v;
  }
}

}  // namespace
}  // namespace vigil::monitor

namespace vigil::monitor {
namespace {

TEST(BinIndex, CountMatchesBinOfAndKeepsOutsideSums) {
  std::vector<double> ref;
  for (int i = 0; i < 1000; ++i) ref.push_back(i / 10.0);
  FeatureProfile f = BuildNumericProfile("x", ref);
  std::vector<float> cur = {-5, -1, 0, 3.3f, 50, 99.5f, 120, NAN, 7};
  std::vector<double> expected(f.bins(), 0.0);
  for (float x : cur) {
    if (!std::isnan(x)) expected[f.BinOf(x)] += 1;
  }
  std::vector<double> counts;
  double below = 0, above = 0;
  uint64_t missing = 0;
  BinIndex(f.edges).Count(cur, counts, below, above, missing);
  EXPECT_EQ(counts, expected);
  EXPECT_EQ(below, -6);
  EXPECT_EQ(above, 120);
  EXPECT_EQ(missing, 1u);
}

}  // namespace
}  // namespace vigil::monitor
