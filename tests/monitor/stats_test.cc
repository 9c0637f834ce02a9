#include "monitor/stats.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numbers>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifndef VIGIL_TEST_DATA_DIR
#error "VIGIL_TEST_DATA_DIR must name the tests/data directory"
#endif

namespace vigil::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------------------------------------
// tests/data/stats_vectors.json (written by scripts/gen_stats_vectors.py from SciPy 1.10.1).

rapidjson::Document LoadVectors() {
  rapidjson::Document doc;
  const std::string path = std::string(VIGIL_TEST_DATA_DIR) + "/stats_vectors.json";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  // Full precision: every number must parse to the very double Python printed.
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.str().c_str());
  if (!in || doc.HasParseError()) {
    ADD_FAILURE() << path << ": cannot read: " << rapidjson::GetParseError_En(doc.GetParseError());
    doc.SetObject();
  }
  return doc;
}

// Parsed once; read-only afterwards.
const rapidjson::Document& Vectors() {
  static const rapidjson::Document doc = LoadVectors();
  return doc;
}

const rapidjson::Value& Section(const char* name) {
  static const rapidjson::Value kEmpty(rapidjson::kArrayType);
  const rapidjson::Document& doc = Vectors();
  if (!doc.IsObject() || !doc.HasMember(name) || !(*doc.FindMember(name)).value.IsArray()) {
    ADD_FAILURE() << "stats_vectors.json has no array '" << name << "'";
    return kEmpty;
  }
  return doc[name];
}

// SplitMix64, as in scripts/gen_stats_vectors.py.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  double NextUniform() {
    state_ += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }

 private:
  std::uint64_t state_;
};

// A sample: a JSON array, or a generator spec the script describes.
std::vector<double> Sample(const rapidjson::Value& v) {
  std::vector<double> out;
  if (v.IsArray()) {
    for (const auto& x : v.GetArray()) out.push_back(x.GetDouble());
    return out;
  }
  SplitMix64 rng(v["seed"].GetUint64());
  const auto n = static_cast<size_t>(v["n"].GetInt64());
  const std::string dist = v["dist"].GetString();
  const double loc = v["loc"].GetDouble(), scale = v["scale"].GetDouble();
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (dist == "irwin_hall4") {
      const double u1 = rng.NextUniform(), u2 = rng.NextUniform(), u3 = rng.NextUniform(),
                   u4 = rng.NextUniform();
      out.push_back(loc + scale * ((((u1 + u2) + u3) + u4) - 2.0));
    } else if (dist == "discrete") {
      out.push_back(loc + scale * std::floor(rng.NextUniform() * 8.0));
    } else {
      ADD_FAILURE() << "unknown dist " << dist;
      return {};
    }
  }
  // Same values as Python made, or nothing below means anything.
  long double sum = 0;
  for (double x : out) sum += x;
  EXPECT_NEAR(static_cast<double>(sum), v["sum"].GetDouble(),
              1e-9 * std::max(1.0, std::abs(v["sum"].GetDouble())));
  return out;
}

std::vector<double> Doubles(const rapidjson::Value& v) { return Sample(v); }

std::vector<double> Sorted(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x;
}

// The contract: within 1e-6, absolute, or relative for values above 1. Tracks the largest
// absolute error seen so the run reports how close to SciPy we are.
class Tolerance {
 public:
  explicit Tolerance(const char* what) : what_(what) {}
  ~Tolerance() { std::printf("[ max error ] %-34s %.3g (%d values)\n", what_, max_abs_, count_); }

  void Check(double actual, double expected, const std::string& context) {
    ++count_;
    if (std::isinf(expected)) {
      EXPECT_EQ(actual, expected) << context;
      return;
    }
    const double err = std::abs(actual - expected);
    max_abs_ = std::max(max_abs_, std::isnan(err) ? kInf : err);
    EXPECT_LE(err, 1e-6 * std::max(1.0, std::abs(expected)))
        << context << ": got " << actual << ", SciPy " << expected;
  }

 private:
  const char* what_;
  double max_abs_ = 0;
  int count_ = 0;
};

std::string Name(const rapidjson::Value& c) {
  return c.HasMember("name") ? c["name"].GetString() : std::string("?");
}

// ---------------------------------------------------------------------------------------------
// Against SciPy.

TEST(StatsVectors, KolmogorovSmirnovMatchesScipyKs2samp) {
  Tolerance stat("ks_2samp statistic"), p("ks_2samp pvalue");
  int exact = 0, asymp = 0;
  for (const auto& c : Section("ks_2samp").GetArray()) {
    const std::string name = Name(c);
    const std::vector<double> a = Sample(c["a"]), b = Sample(c["b"]);
    Result<KsResult> r = KolmogorovSmirnovTest(a, b);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    stat.Check(r->statistic, c["statistic"].GetDouble(), name);
    p.Check(r->p_value, c["pvalue"].GetDouble(), name);
    const bool want_exact = std::string(c["method"].GetString()) == "exact";
    (want_exact ? exact : asymp)++;
    EXPECT_EQ(r->method, want_exact ? KsMethod::kExact : KsMethod::kAsymptotic) << name;
    EXPECT_EQ(r->location, c["location"].GetDouble()) << name;
    EXPECT_EQ(r->sign, c["sign"].GetInt()) << name;

    // The sorted entry point gives the very same answer.
    Result<KsResult> s = KolmogorovSmirnovTestSorted(Sorted(a), Sorted(b));
    ASSERT_TRUE(s.ok()) << name << ": " << s.status().ToString();
    EXPECT_EQ(s->statistic, r->statistic) << name;
    EXPECT_EQ(s->p_value, r->p_value) << name;
    EXPECT_EQ(s->location, r->location) << name;
  }
  EXPECT_GT(exact, 10);
  EXPECT_GT(asymp, 5);
}

TEST(StatsVectors, KolmogorovSfMatchesScipyKstwo) {
  Tolerance sf("kstwo.sf");
  for (const auto& c : Section("kstwo_sf").GetArray()) {
    const std::int64_t n = c["n"].GetInt64();
    const double x = c["x"].GetDouble();
    sf.Check(KolmogorovSf(n, x), c["sf"].GetDouble(),
             "n=" + std::to_string(n) + " x=" + std::to_string(x));
  }
}

TEST(StatsVectors, WassersteinMatchesScipy) {
  Tolerance w("wasserstein_distance"), normed("wasserstein normed");
  for (const auto& c : Section("wasserstein").GetArray()) {
    const std::string name = Name(c);
    const std::vector<double> u = Sample(c["u"]), v = Sample(c["v"]);
    const std::vector<double> uw =
        c.HasMember("u_weights") ? Doubles(c["u_weights"]) : std::vector<double>{};
    const std::vector<double> vw =
        c.HasMember("v_weights") ? Doubles(c["v_weights"]) : std::vector<double>{};
    const double expected = c["distance"].GetDouble();

    Result<double> r = WassersteinDistance(u, v, uw, vw);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    w.Check(*r, expected, name);

    // Sorted entry point, weights carried along with their values.
    auto sort_with = [](const std::vector<double>& x, const std::vector<double>& wx) {
      std::vector<std::pair<double, double>> p;
      for (size_t i = 0; i < x.size(); ++i) p.emplace_back(x[i], wx.empty() ? 0.0 : wx[i]);
      std::sort(p.begin(), p.end());
      std::pair<std::vector<double>, std::vector<double>> out;
      for (const auto& [val, wt] : p) {
        out.first.push_back(val);
        if (!wx.empty()) out.second.push_back(wt);
      }
      return out;
    };
    const auto [su, suw] = sort_with(u, uw);
    const auto [sv, svw] = sort_with(v, vw);
    Result<double> s = WassersteinDistanceSorted(su, sv, suw, svw);
    ASSERT_TRUE(s.ok()) << name << ": " << s.status().ToString();
    w.Check(*s, expected, name + " (sorted)");

    if (uw.empty() && vw.empty()) {
      Result<double> plain = WassersteinDistance(u, v);
      ASSERT_TRUE(plain.ok());
      EXPECT_EQ(*plain, *r) << name;

      Result<NormedWasserstein> ev = NormedWassersteinDistance(u, v);
      ASSERT_TRUE(ev.ok()) << name << ": " << ev.status().ToString();
      normed.Check(ev->reference_std, c["reference_std"].GetDouble(), name + " std");
      normed.Check(ev->normed, c["normed_min_std_0.001"].GetDouble(), name + " normed (floor)");
      Result<NormedWasserstein> pure = NormedWassersteinDistanceSorted(su, sv, 0.0);
      if (c["normed"].IsNull()) {
        EXPECT_EQ(pure.status().code(), StatusCode::kInvalidArgument) << name;
      } else {
        ASSERT_TRUE(pure.ok()) << name << ": " << pure.status().ToString();
        normed.Check(pure->normed, c["normed"].GetDouble(), name + " normed");
      }
    }
  }
}

TEST(StatsVectors, JensenShannonMatchesScipy) {
  Tolerance natural("jensenshannon"), base2("jensenshannon base=2");
  for (const auto& c : Section("jensenshannon").GetArray()) {
    const std::string name = Name(c);
    const std::vector<double> p = Doubles(c["p"]), q = Doubles(c["q"]);
    Result<double> d = JensenShannonDistance(p, q);
    ASSERT_TRUE(d.ok()) << name << ": " << d.status().ToString();
    natural.Check(*d, c["distance"].GetDouble(), name);
    Result<double> d2 = JensenShannonDistance(p, q, 2.0);
    ASSERT_TRUE(d2.ok()) << name << ": " << d2.status().ToString();
    base2.Check(*d2, c["distance_base2"].GetDouble(), name);
  }
}

TEST(StatsVectors, ChiSquareMatchesScipyChisquare) {
  Tolerance stat("chisquare statistic"), p("chisquare pvalue");
  for (const auto& c : Section("chisquare").GetArray()) {
    const std::string name = Name(c);
    const std::vector<double> obs = Doubles(c["f_obs"]);
    Result<ChiSquareResult> r = c["f_exp"].IsNull()
                                    ? ChiSquareGoodnessOfFit(obs)
                                    : ChiSquareGoodnessOfFit(obs, Doubles(c["f_exp"]));
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    stat.Check(r->statistic, c["statistic"].GetDouble(), name);
    p.Check(r->p_value, c["pvalue"].GetDouble(), name);
    EXPECT_EQ(r->degrees_of_freedom, static_cast<std::int64_t>(obs.size()) - 1) << name;
  }
}

TEST(StatsVectors, ChiSquareDriftMatchesScipyWithReferenceProportions) {
  Tolerance stat("chisquare drift statistic"), p("chisquare drift pvalue");
  for (const auto& c : Section("chisquare_drift").GetArray()) {
    const std::string name = Name(c);
    Result<ChiSquareResult> r =
        ChiSquareDriftTest(Doubles(c["reference_counts"]), Doubles(c["current_counts"]));
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    stat.Check(r->statistic, c["statistic"].GetDouble(), name);
    p.Check(r->p_value, c["pvalue"].GetDouble(), name);
    EXPECT_EQ(r->degrees_of_freedom, c["dof"].GetInt64()) << name;
  }
}

TEST(StatsVectors, PsiMatchesEvidentlyDefinition) {
  Tolerance psi("psi");
  for (const auto& c : Section("psi").GetArray()) {
    const std::string name = Name(c);
    Result<double> r = PopulationStabilityIndex(
        Doubles(c["reference_counts"]), Doubles(c["current_counts"]), c["epsilon"].GetDouble());
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    psi.Check(*r, c["psi"].GetDouble(), name);
  }
}

TEST(StatsVectors, MultipleTestingMatchesNumpyReference) {
  Tolerance bh("benjamini-hochberg"), bonf("bonferroni");
  for (const auto& c : Section("multiple_testing").GetArray()) {
    const std::string name = Name(c);
    const std::vector<double> p = Doubles(c["pvalues"]);
    const std::vector<double> want_bh = Doubles(c["bh"]), want_bonf = Doubles(c["bonferroni"]);
    Result<std::vector<double>> got_bh = BenjaminiHochberg(p);
    Result<std::vector<double>> got_bonf = Bonferroni(p);
    ASSERT_TRUE(got_bh.ok() && got_bonf.ok()) << name;
    ASSERT_EQ(got_bh->size(), p.size());
    ASSERT_EQ(got_bonf->size(), p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      bh.Check((*got_bh)[i], want_bh[i], name + "[" + std::to_string(i) + "]");
      bonf.Check((*got_bonf)[i], want_bonf[i], name + "[" + std::to_string(i) + "]");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-computable values and the error contract.

TEST(KolmogorovSmirnov, DisjointSamplesGiveDOneAndTheExactPValue) {
  const std::vector<double> a = {1, 2, 3}, b = {4, 5, 6};
  Result<KsResult> r = KolmogorovSmirnovTest(b, a);  // unsorted order on purpose
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->statistic, 1.0);
  // Only 2 of the C(6,3) = 20 equally likely orderings separate the samples completely.
  EXPECT_NEAR(r->p_value, 2.0 / 20.0, 1e-15);
  EXPECT_EQ(r->method, KsMethod::kExact);
  EXPECT_EQ(r->sign, -1);  // F_b > F_a below 4
  EXPECT_EQ(r->location, 3.0);
}

TEST(KolmogorovSmirnov, IdenticalSamplesGiveZeroAndPValueOne) {
  const std::vector<double> a = {0.5, -1, 2, 2, 7};
  Result<KsResult> r = KolmogorovSmirnovTest(a, a);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->statistic, 0.0);
  EXPECT_EQ(r->p_value, 1.0);
}

TEST(KolmogorovSmirnov, LargeSamplesUseTheAsymptoticDistribution) {
  std::vector<double> a(20000), b(20000);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<double>(i);
    b[i] = static_cast<double>(i) + 4000.0;  // D = 0.2 exactly
  }
  Result<KsResult> r = KolmogorovSmirnovTestSorted(a, b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, KsMethod::kAsymptotic);
  EXPECT_NEAR(r->statistic, 0.2, 1e-15);
  EXPECT_EQ(r->p_value, 0.0);  // n d^2 = 10000 * 0.04 = 400 >= 370: SciPy's cut-off to 0
}

TEST(KolmogorovSmirnov, SortingLargeSamplesAgreesWithTheSortedEntryPoint) {
  // Large enough for the radix sort, with the awkward values: signed zeros, infinities,
  // negative numbers, subnormals and many ties.
  std::vector<double> a, b;
  for (int i = 0; i < 30000; ++i) {
    const double x = static_cast<double>((i * 7919) % 1000 - 500) / 8.0;
    a.push_back(x);
    b.push_back(x * 1.01 + 0.5);
  }
  for (double special : {-0.0, 0.0, kInf, -kInf, 4.9e-324, -4.9e-324, -1e300}) {
    a.push_back(special);
    b.push_back(special);
  }
  Result<KsResult> unsorted = KolmogorovSmirnovTest(a, b);
  Result<KsResult> sorted = KolmogorovSmirnovTestSorted(Sorted(a), Sorted(b));
  ASSERT_TRUE(unsorted.ok() && sorted.ok());
  EXPECT_EQ(unsorted->statistic, sorted->statistic);
  EXPECT_EQ(unsorted->p_value, sorted->p_value);
  EXPECT_EQ(unsorted->location, sorted->location);
  EXPECT_GT(unsorted->statistic, 0.0);

  a.resize(30000);  // Wasserstein needs finite values
  b.resize(30000);
  Result<double> w = WassersteinDistance(a, b);
  Result<double> ws = WassersteinDistanceSorted(Sorted(a), Sorted(b));
  ASSERT_TRUE(w.ok() && ws.ok());
  EXPECT_EQ(*w, *ws);
}

TEST(KolmogorovSmirnov, AcceptsInfinitiesAndRejectsNaNAndEmptyInput) {
  const std::vector<double> a = {-kInf, 0, 1, kInf}, b = {0.5, 2};
  EXPECT_TRUE(KolmogorovSmirnovTest(a, b).ok());
  const std::vector<double> with_nan = {0, kNaN, 1}, empty;
  EXPECT_EQ(KolmogorovSmirnovTest(with_nan, b).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KolmogorovSmirnovTest(empty, b).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KolmogorovSmirnovTest(a, empty).status().code(), StatusCode::kInvalidArgument);
}

TEST(KolmogorovSmirnov, SortedEntryPointRejectsUnsortedInput) {
  const std::vector<double> unsorted = {0, 2, 1}, sorted = {0, 1, 2}, with_nan = {0, kNaN};
  Result<KsResult> r = KolmogorovSmirnovTestSorted(unsorted, sorted);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("a_sorted[2]"), std::string::npos) << r.status().message();
  EXPECT_EQ(KolmogorovSmirnovTestSorted(sorted, with_nan).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(KolmogorovSf, MatchesClosedFormsAndSupportEnds) {
  // n = 1: P(D_1 >= d) = 2 - 2d on [1/2, 1].
  EXPECT_NEAR(KolmogorovSf(1, 0.75), 0.5, 1e-15);
  EXPECT_EQ(KolmogorovSf(10, 0.05), 1.0);  // below 1/(2n)
  EXPECT_EQ(KolmogorovSf(10, 1.0), 0.0);
  // Ruben-Gambino upper end: 2 (1 - d)^n for d >= 1 - 1/n.
  EXPECT_NEAR(KolmogorovSf(4, 0.8), 2 * std::pow(0.2, 4), 1e-15);
  EXPECT_TRUE(std::isnan(KolmogorovSf(0, 0.5)));
  EXPECT_TRUE(std::isnan(KolmogorovSf(5, kNaN)));
}

TEST(Wasserstein, MatchesHandComputedValues) {
  const std::vector<double> u = {0, 1, 3}, v = {5, 6, 8};
  EXPECT_NEAR(*WassersteinDistance(u, v), 5.0, 1e-15);
  const std::vector<double> x = {0, 1}, xw = {3, 1}, yw = {2, 2};
  EXPECT_NEAR(*WassersteinDistance(x, x, xw, yw), 0.25, 1e-15);
  // One side weighted, the other not (empty span).
  EXPECT_NEAR(*WassersteinDistance(x, x, xw, {}), 0.25, 1e-15);
  EXPECT_EQ(*WassersteinDistance(u, u), 0.0);
}

TEST(Wasserstein, RejectsBadInput) {
  const std::vector<double> u = {0, 1}, empty, inf = {0, kInf}, unsorted = {1, 0};
  const auto code = [](const auto& r) { return r.status().code(); };
  EXPECT_EQ(code(WassersteinDistance(empty, u)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WassersteinDistance(u, inf)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WassersteinDistanceSorted(unsorted, u)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WassersteinDistanceSorted(u, inf)), StatusCode::kInvalidArgument);
  const std::vector<double> one = {1}, negative = {1, -1}, zeros = {0, 0}, ok = {1, 1};
  EXPECT_EQ(code(WassersteinDistance(u, u, one, ok)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WassersteinDistance(u, u, negative, ok)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WassersteinDistance(u, u, ok, zeros)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WassersteinDistanceSorted(u, u, ok, negative)), StatusCode::kInvalidArgument);
}

TEST(Wasserstein, NormedDividesByReferenceStdWithEvidentlysFloor) {
  const std::vector<double> ref = {1, 3}, cur = {2, 4};  // W = 1, std(ref) = 1
  Result<NormedWasserstein> r = NormedWassersteinDistance(ref, cur);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->distance, 1.0, 1e-15);
  EXPECT_NEAR(r->reference_std, 1.0, 1e-15);
  EXPECT_NEAR(r->normed, 1.0, 1e-15);

  const std::vector<double> constant = {2, 2, 2}, moved = {3, 3};  // W = 1, std = 0
  Result<NormedWasserstein> floored = NormedWassersteinDistance(constant, moved);
  ASSERT_TRUE(floored.ok());
  EXPECT_EQ(floored->reference_std, 0.0);
  EXPECT_NEAR(floored->normed, 1.0 / kWassersteinNormMinStd, 1e-9);
  EXPECT_EQ(NormedWassersteinDistance(constant, moved, 0.0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(NormedWassersteinDistance(ref, cur, -1.0).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(JensenShannon, BoundsAndNormalisation) {
  const std::vector<double> p = {1, 0}, q = {0, 1}, p3 = {2, 0};
  EXPECT_NEAR(*JensenShannonDistance(p, q), std::sqrt(std::numbers::ln2), 1e-15);
  EXPECT_NEAR(*JensenShannonDistance(p, q, 2.0), 1.0, 1e-15);
  EXPECT_EQ(*JensenShannonDistance(p, p3), 0.0);  // counts are normalised first
}

TEST(JensenShannon, RejectsBadInput) {
  const std::vector<double> p = {1, 2}, shorter = {1}, negative = {1, -1}, zeros = {0, 0};
  const auto code = [](const auto& r) { return r.status().code(); };
  EXPECT_EQ(code(JensenShannonDistance(p, shorter)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(JensenShannonDistance(p, negative)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(JensenShannonDistance(zeros, p)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(JensenShannonDistance({}, {})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(JensenShannonDistance(p, p, 1.0)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(JensenShannonDistance(p, p, 0.0)), StatusCode::kInvalidArgument);
}

TEST(ChiSquare, UniformExpectationByHand) {
  // SciPy's docstring example: mean 14.67 per category, statistic exactly 2.
  const std::vector<double> obs = {16, 18, 16, 14, 12, 12};
  Result<ChiSquareResult> r = ChiSquareGoodnessOfFit(obs);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->statistic, 2.0, 1e-12);
  EXPECT_EQ(r->degrees_of_freedom, 5);
  // Two categories, dof 1: chi2.sf(x, 1) = erfc(sqrt(x / 2)).
  const std::vector<double> o2 = {30, 70}, e2 = {50, 50};
  Result<ChiSquareResult> r2 = ChiSquareGoodnessOfFit(o2, e2);
  ASSERT_TRUE(r2.ok());
  EXPECT_NEAR(r2->statistic, 16.0, 1e-12);
  EXPECT_NEAR(r2->p_value, std::erfc(std::sqrt(8.0)), 1e-15);
}

TEST(ChiSquare, RejectsBadInput) {
  const auto code = [](const auto& r) { return r.status().code(); };
  const std::vector<double> o = {10, 20}, e = {15, 15}, e3 = {10, 10, 10};
  const std::vector<double> negative = {-1, 31}, zero_e = {0, 30}, other_total = {15, 16};
  const std::vector<double> single = {5};
  EXPECT_EQ(code(ChiSquareGoodnessOfFit(o, e3)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(ChiSquareGoodnessOfFit(negative, e)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(ChiSquareGoodnessOfFit(o, zero_e)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(ChiSquareGoodnessOfFit(o, other_total)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(ChiSquareGoodnessOfFit(single, single)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(ChiSquareGoodnessOfFit(single)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(ChiSquareGoodnessOfFit(std::vector<double>{0, 0})), StatusCode::kInvalidArgument);
}

TEST(ChiSquareDrift, ExpectsReferenceProportionsAtTheCurrentTotal) {
  // Reference 1:3, current 20 of 40 in the first category: expected 10 and 30.
  const std::vector<double> ref = {100, 300}, cur = {20, 20};
  Result<ChiSquareResult> r = ChiSquareDriftTest(ref, cur);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->statistic, 100.0 / 10 + 100.0 / 30, 1e-12);
  EXPECT_EQ(r->degrees_of_freedom, 1);
}

TEST(ChiSquareDrift, NewCategoryIsCertainDriftAndSingleCategoryIsNone) {
  const std::vector<double> ref = {10, 0, 5}, cur = {10, 1, 5};
  Result<ChiSquareResult> r = ChiSquareDriftTest(ref, cur);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->statistic, kInf);
  EXPECT_EQ(r->p_value, 0.0);
  EXPECT_EQ(r->degrees_of_freedom, 2);

  const std::vector<double> one_ref = {7, 0}, one_cur = {3, 0};
  Result<ChiSquareResult> none = ChiSquareDriftTest(one_ref, one_cur);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->statistic, 0.0);
  EXPECT_EQ(none->p_value, 1.0);
  EXPECT_EQ(none->degrees_of_freedom, 0);
}

TEST(ChiSquareDrift, RejectsBadInput) {
  const auto code = [](const auto& r) { return r.status().code(); };
  const std::vector<double> ref = {1, 2}, shorter = {1}, negative = {-1, 2}, zeros = {0, 0};
  EXPECT_EQ(code(ChiSquareDriftTest(ref, shorter)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(ChiSquareDriftTest(ref, negative)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(ChiSquareDriftTest(zeros, ref)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(ChiSquareDriftTest({}, {})), StatusCode::kInvalidArgument);
}

TEST(Psi, HandComputedValuesAndEmptyBins) {
  const std::vector<double> ref = {50, 50}, cur = {25, 75};
  // (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5) = 0.25 ln 3
  EXPECT_NEAR(*PopulationStabilityIndex(ref, cur), 0.25 * std::log(3.0), 1e-15);
  EXPECT_EQ(*PopulationStabilityIndex(ref, ref), 0.0);
  // Empty bins take proportion epsilon: 2 (1 - eps) ln(1 / eps).
  const std::vector<double> left = {1, 0}, right = {0, 1};
  EXPECT_NEAR(*PopulationStabilityIndex(left, right), 2 * (1 - 1e-4) * std::log(1e4), 1e-12);
  EXPECT_NEAR(*PopulationStabilityIndex(left, right, 1e-2), 2 * (1 - 1e-2) * std::log(1e2), 1e-12);
  EXPECT_LT(kPsiModerateShift, kPsiMajorShift);
}

TEST(Psi, RejectsBadInput) {
  const auto code = [](const auto& r) { return r.status().code(); };
  const std::vector<double> ref = {1, 2}, shorter = {1}, negative = {-1, 2}, zeros = {0, 0};
  EXPECT_EQ(code(PopulationStabilityIndex(ref, shorter)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(PopulationStabilityIndex(ref, negative)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(PopulationStabilityIndex(zeros, ref)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(PopulationStabilityIndex({}, {})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(PopulationStabilityIndex(ref, ref, 0.0)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(PopulationStabilityIndex(ref, ref, 1.0)), StatusCode::kInvalidArgument);
}

TEST(MultipleTesting, BenjaminiHochbergAndBonferroniByHand) {
  const std::vector<double> p = {0.01, 0.04, 0.03, 0.005};
  // Ascending 0.005, 0.01, 0.03, 0.04 times 4/rank: 0.02, 0.02, 0.04, 0.04 (already monotone).
  Result<std::vector<double>> bh = BenjaminiHochberg(p);
  ASSERT_TRUE(bh.ok());
  const std::vector<double> want_bh = {0.02, 0.04, 0.04, 0.02};
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR((*bh)[i], want_bh[i], 1e-15) << i;
  Result<std::vector<double>> bonf = Bonferroni(p);
  ASSERT_TRUE(bonf.ok());
  const std::vector<double> want_bonf = {0.04, 0.16, 0.12, 0.02};
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR((*bonf)[i], want_bonf[i], 1e-15) << i;
  // Adjusted values are capped at 1.
  const std::vector<double> high = {0.9, 0.6};
  EXPECT_EQ((*Bonferroni(high))[0], 1.0);
  EXPECT_EQ((*BenjaminiHochberg(high))[0], 0.9);
  EXPECT_EQ((*BenjaminiHochberg(high))[1], 0.9);  // min(0.6 * 2 / 1, 0.9)
}

TEST(MultipleTesting, RejectsBadInput) {
  const auto code = [](const auto& r) { return r.status().code(); };
  const std::vector<double> above = {0.5, 1.5}, below = {-0.1}, nan = {kNaN};
  EXPECT_EQ(code(BenjaminiHochberg({})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(BenjaminiHochberg(above)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(BenjaminiHochberg(nan)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Bonferroni(below)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Bonferroni({})), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil::monitor
