// Statistics for drift detection: two-sample tests and distances between a reference window
// and a current window of one feature, plus multiple-testing corrections across features.
//
// Every function reproduces a named SciPy 1.10.1 (or Evidently) computation to within 1e-6
// (tests/monitor/stats_test.cc checks against tests/data/stats_vectors.json, made by
// scripts/gen_stats_vectors.py). Where SciPy would return NaN or raise, these functions return
// InvalidArgument instead; where they deviate otherwise, the comment says so.
//
// All functions are pure and thread-safe, never throw (bar std::bad_alloc), and read their
// inputs only through the given spans. Sample inputs must not contain NaN; counts, weights
// and probabilities must be finite and non-negative.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/status.h"

namespace vigil::monitor {

// ---------------------------------------------------------------------------------------------
// Two-sample Kolmogorov-Smirnov test, two-sided: scipy.stats.ks_2samp(a, b) with the default
// method='auto'. In SciPy 1.10.1 'auto' means:
//   * max(n_a, n_b) <= 10000: the exact null distribution (Hodges' lattice-path recursion;
//     for n_a == n_b the closed-form alternating sum, O(n)). Unequal sizes cost
//     O(max(n) * min(n) * D) time and O(min(n)) memory: about 0.5 s for 10000 vs 9999 values
//     at D = 0.87, a few ms for similar samples. If the exact value leaves [0, 1] through
//     rounding (e.g. n_a == n_b and D = 1/n), SciPy falls back to the asymptotic method, and
//     so does this code, bit for bit.
//   * otherwise: the asymptotic method, KolmogorovSf(round(n_a n_b / (n_a + n_b)), D),
//     O(n_a + n_b) at worst (a one-sided Smirnov sum when the p-value is small but not tiny).
// The exact method reports D rounded to a multiple of 1/lcm(n_a, n_b), as SciPy does.

enum class KsMethod { kExact, kAsymptotic };

struct KsResult {
  double statistic = 0;  // D = sup_x |F_a(x) - F_b(x)|
  double p_value = 1;
  KsMethod method = KsMethod::kExact;
  // SciPy's statistic_location and statistic_sign: the sample value where D is attained
  // (ties broken as SciPy breaks them) and +1 if F_a > F_b there, -1 if F_a < F_b.
  double location = 0;
  int sign = 1;
};

// Sorts one copy of each sample (radix sort from 4096 values, O(n); std::sort below) and
// then works as KolmogorovSmirnovTestSorted. Infinities are allowed.
// InvalidArgument: either sample empty, or contains NaN.
Result<KsResult> KolmogorovSmirnovTest(std::span<const double> a, std::span<const double> b);

// As above for samples already sorted ascending (operator<): one linear check of each sample
// and one merge pass; no allocation except on the exact path.
// InvalidArgument also if a sample is not sorted.
Result<KsResult> KolmogorovSmirnovTestSorted(std::span<const double> a_sorted,
                                             std::span<const double> b_sorted);

// Survival function of the one-sample two-sided KS statistic D_n: P(D_n >= d), as
// scipy.stats.kstwo.sf(d, n) (Simard & L'Ecuyer's choice among exact and asymptotic
// algorithms). Returns NaN for n < 1 or NaN d.
double KolmogorovSf(std::int64_t n, double d);

// ---------------------------------------------------------------------------------------------
// First Wasserstein (earth mover's) distance between two 1-D empirical distributions:
// scipy.stats.wasserstein_distance(u_values, v_values, u_weights, v_weights), i.e. the integral
// of |F_u - F_v|. Values must be finite. An empty weight span means equal weights (SciPy's
// None); otherwise it must match its values in length, be non-negative and have a positive,
// finite sum. Unsorted input is copied once and sorted (as for KolmogorovSmirnovTest; with
// weights, std::sort of value-weight pairs); then one pass over the merged samples.

Result<double> WassersteinDistance(std::span<const double> u_values,
                                   std::span<const double> v_values);
Result<double> WassersteinDistance(std::span<const double> u_values,
                                   std::span<const double> v_values,
                                   std::span<const double> u_weights,
                                   std::span<const double> v_weights);

// For values already sorted ascending; weights are aligned with the sorted values.
// InvalidArgument also if a sample is not sorted.
Result<double> WassersteinDistanceSorted(std::span<const double> u_sorted,
                                         std::span<const double> v_sorted);
Result<double> WassersteinDistanceSorted(std::span<const double> u_sorted,
                                         std::span<const double> v_sorted,
                                         std::span<const double> u_weights,
                                         std::span<const double> v_weights);

// Evidently's "Wasserstein distance (normed)": W(reference, current) / max(std, min_std),
// where std is the population standard deviation (ddof = 0, numpy's np.std) of the reference.
// Evidently floors the divisor at 0.001 so that a constant reference (std 0) gives a finite
// value; pass min_std = 0 for the plain W / std, which is then InvalidArgument when the
// reference is constant.
inline constexpr double kWassersteinNormMinStd = 0.001;

struct NormedWasserstein {
  double distance = 0;       // W(reference, current), in the feature's units
  double reference_std = 0;  // population standard deviation of the reference
  double normed = 0;         // distance / max(reference_std, min_std)
};

Result<NormedWasserstein> NormedWassersteinDistance(std::span<const double> reference,
                                                    std::span<const double> current,
                                                    double min_std = kWassersteinNormMinStd);
Result<NormedWasserstein> NormedWassersteinDistanceSorted(std::span<const double> reference_sorted,
                                                          std::span<const double> current_sorted,
                                                          double min_std = kWassersteinNormMinStd);

// ---------------------------------------------------------------------------------------------
// Jensen-Shannon distance (the square root of the divergence) between two discrete
// distributions: scipy.spatial.distance.jensenshannon(p, q, base). p and q are non-negative
// counts or probabilities of the same length, each normalised by its own sum (which must be
// positive). Without a base the natural logarithm is used (result in [0, sqrt(ln 2)]); with
// base 2 the result lies in [0, 1]. base must be finite, positive and not 1. Where rounding
// makes the divergence slightly negative (SciPy returns NaN) this returns 0.

Result<double> JensenShannonDistance(std::span<const double> p, std::span<const double> q,
                                     std::optional<double> base = std::nullopt);

// ---------------------------------------------------------------------------------------------
// Pearson's chi-squared goodness-of-fit test: scipy.stats.chisquare(f_obs, f_exp).
// statistic = sum (o - e)^2 / e, p-value = upper tail of chi2 with k - 1 degrees of freedom.

struct ChiSquareResult {
  double statistic = 0;
  double p_value = 1;
  std::int64_t degrees_of_freedom = 0;
};

// InvalidArgument: fewer than two categories, lengths differ, a count negative, an expected
// frequency not positive, or the totals differing by more than 1e-8 relatively (as SciPy).
Result<ChiSquareResult> ChiSquareGoodnessOfFit(std::span<const double> observed,
                                               std::span<const double> expected);
// Expected frequencies uniform (SciPy's f_exp=None): every category expects mean(observed).
Result<ChiSquareResult> ChiSquareGoodnessOfFit(std::span<const double> observed);

// Drift test for a categorical feature, given per-category counts in the two windows (same
// category order). Expected current counts are the reference proportions scaled to the
// current total: e_i = reference_i / sum(reference) * sum(current), the same as Evidently's
// chisquare stat test. Categories absent from both windows are dropped (they carry no
// information, and Evidently never sees them); dof = kept categories - 1. A category absent
// from the reference but present now has e_i = 0: statistic +inf, p-value 0 (certain drift).
// Fewer than two kept categories: nothing to compare, statistic 0, p-value 1, dof 0.
// InvalidArgument: empty or mismatched inputs, negative counts, or a window total of zero.
Result<ChiSquareResult> ChiSquareDriftTest(std::span<const double> reference_counts,
                                           std::span<const double> current_counts);

// ---------------------------------------------------------------------------------------------
// Population Stability Index over pre-binned counts (same bins, same order):
//   PSI = sum_i (c_i - r_i) * ln(c_i / r_i),   r_i = R_i / sum(R),  c_i = C_i / sum(C),
// where a bin whose count is exactly zero gets proportion epsilon instead of 0 (proportions
// are not renormalised afterwards; non-empty bins keep their proportion even when below
// epsilon). This is Evidently's definition (np.place(p, p == 0, 0.0001)). Usual reading:
// below kPsiModerateShift stable, up to kPsiMajorShift moderate shift, above that major.
// InvalidArgument: empty or mismatched inputs, negative counts, a total of zero, or epsilon
// not in (0, 1).

inline constexpr double kPsiDefaultEpsilon = 1e-4;
inline constexpr double kPsiModerateShift = 0.1;
inline constexpr double kPsiMajorShift = 0.25;

Result<double> PopulationStabilityIndex(std::span<const double> reference_counts,
                                        std::span<const double> current_counts,
                                        double epsilon = kPsiDefaultEpsilon);

// ---------------------------------------------------------------------------------------------
// Multiple-testing corrections. Both return adjusted p-values in the input order, capped at 1.
// InvalidArgument: empty input, or a p-value outside [0, 1] (or NaN).

// Benjamini-Hochberg (false discovery rate): adjusted p_(i) = min_{k >= i} p_(k) * m / k over
// the ascending order; as scipy.stats.false_discovery_control(p) (SciPy >= 1.11) and
// statsmodels' multipletests(p, method='fdr_bh').
Result<std::vector<double>> BenjaminiHochberg(std::span<const double> p_values);

// Bonferroni (family-wise error rate): min(1, p * m).
Result<std::vector<double>> Bonferroni(std::span<const double> p_values);

}  // namespace vigil::monitor
