#include "monitor/stats.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numbers>
#include <numeric>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/gamma.hpp>

namespace vigil::monitor {
namespace {

using std::int64_t;
using std::size_t;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Boost.Math reports errors through errno and a NaN/inf result instead of throwing.
using NoThrowPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::errno_on_error>,
    boost::math::policies::pole_error<boost::math::policies::errno_on_error>,
    boost::math::policies::overflow_error<boost::math::policies::errno_on_error>,
    boost::math::policies::evaluation_error<boost::math::policies::errno_on_error>,
    boost::math::policies::rounding_error<boost::math::policies::errno_on_error>>;

// ---------------------------------------------------------------------------------------------
// Input validation. Messages read "Function: argument[index] is ..." so the caller can find
// the offending value.

std::string Describe(std::string_view fn, std::string_view arg, std::string_view problem) {
  std::string s;
  s.reserve(fn.size() + arg.size() + problem.size() + 4);
  s.append(fn).append(": ").append(arg).append(" ").append(problem);
  return s;
}

std::string DescribeAt(std::string_view fn, std::string_view arg, size_t i,
                       std::string_view problem, double value) {
  char number[32];
  std::snprintf(number, sizeof number, "%.17g", value);
  std::string s(fn);
  s.append(": ").append(arg).append("[").append(std::to_string(i)).append("] ");
  s.append(problem).append(" (").append(number).append(")");
  return s;
}

Status CheckNonEmpty(std::string_view fn, std::string_view arg, std::span<const double> x) {
  if (x.empty()) return InvalidArgument(Describe(fn, arg, "is empty"));
  return Status::Ok();
}

Status CheckSameLength(std::string_view fn, std::string_view a_name, std::span<const double> a,
                       std::string_view b_name, std::span<const double> b) {
  if (a.size() == b.size()) return Status::Ok();
  return InvalidArgument(std::string(fn) + ": " + std::string(a_name) + " has " +
                         std::to_string(a.size()) + " elements but " + std::string(b_name) +
                         " has " + std::to_string(b.size()));
}

Status CheckNoNaN(std::string_view fn, std::string_view arg, std::span<const double> x) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) return InvalidArgument(DescribeAt(fn, arg, i, "is NaN", x[i]));
  }
  return Status::Ok();
}

Status CheckFinite(std::string_view fn, std::string_view arg, std::span<const double> x) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) return InvalidArgument(DescribeAt(fn, arg, i, "is not finite", x[i]));
  }
  return Status::Ok();
}

// Sorted ascending and free of NaN (a NaN fails every comparison, so it fails this check too).
Status CheckSorted(std::string_view fn, std::string_view arg, std::span<const double> x) {
  if (!x.empty() && std::isnan(x[0])) {
    return InvalidArgument(DescribeAt(fn, arg, 0, "is NaN", x[0]));
  }
  for (size_t i = 1; i < x.size(); ++i) {
    if (!(x[i - 1] <= x[i])) {
      return InvalidArgument(DescribeAt(fn, arg, i, "breaks ascending order or is NaN", x[i]));
    }
  }
  return Status::Ok();
}

// Sorted and finite: sorted, and the two ends finite. REQUIRES: x non-empty.
Status CheckSortedFinite(std::string_view fn, std::string_view arg, std::span<const double> x) {
  VIGIL_RETURN_IF_ERROR(CheckSorted(fn, arg, x));
  if (!std::isfinite(x.front())) {
    return InvalidArgument(DescribeAt(fn, arg, 0, "is not finite", x[0]));
  }
  if (!std::isfinite(x.back())) {
    return InvalidArgument(DescribeAt(fn, arg, x.size() - 1, "is not finite", x.back()));
  }
  return Status::Ok();
}

// Finite and non-negative; stores the total in *sum.
Status CheckCounts(std::string_view fn, std::string_view arg, std::span<const double> x,
                   double* sum) {
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) return InvalidArgument(DescribeAt(fn, arg, i, "is not finite", x[i]));
    if (x[i] < 0) return InvalidArgument(DescribeAt(fn, arg, i, "is negative", x[i]));
    s += x[i];
  }
  if (sum != nullptr) *sum = s;
  return Status::Ok();
}

Status CheckPositiveTotal(std::string_view fn, std::string_view arg, double total) {
  if (total > 0 && std::isfinite(total)) return Status::Ok();
  return InvalidArgument(Describe(fn, arg, "must have a positive, finite sum"));
}

// Sums many terms with error growing like (block + n / block) ulps rather than n ulps, at
// almost the cost of a plain loop; close enough to numpy's pairwise summation.
class BlockSum {
 public:
  void Add(double x) {
    block_ += x;
    if (++count_ == kBlock) {
      total_ += block_;
      block_ = 0;
      count_ = 0;
    }
  }
  double Total() const { return total_ + block_; }

 private:
  static constexpr int kBlock = 256;
  double total_ = 0;
  double block_ = 0;
  int count_ = 0;
};

// Order-preserving map of doubles to unsigned keys (-0.0 sorts just below +0.0). The keys live
// in double storage during the sort; memcpy moves the bits without any floating-point meaning.
std::uint64_t LoadKey(const double* p) {
  std::uint64_t k;
  std::memcpy(&k, p, sizeof k);
  return k;
}
void StoreKey(double* p, std::uint64_t k) { std::memcpy(p, &k, sizeof k); }
std::uint64_t KeyFromBits(std::uint64_t bits) {
  return (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
}
std::uint64_t BitsFromKey(std::uint64_t key) {
  return (key >> 63) != 0 ? key & ~(std::uint64_t{1} << 63) : ~key;
}

// LSD radix sort, 8 bits per pass, skipping passes where every key has the same digit: O(n)
// and several times faster than std::sort on a million values. scratch is resized to n.
// REQUIRES: no NaN.
void RadixSort(std::vector<double>& data, std::vector<double>& scratch) {
  constexpr int kBits = 8, kPasses = 8;  // bytes: fewer buckets than 11 bits, fewer TLB misses
  constexpr size_t kBuckets = size_t{1} << kBits;
  constexpr std::uint64_t kMask = kBuckets - 1;
  const size_t n = data.size();
  scratch.resize(n);
  std::vector<size_t> counts(kPasses * kBuckets, 0);
  for (size_t i = 0; i < n; ++i) {
    double* p = &data[i];
    const std::uint64_t k = KeyFromBits(LoadKey(p));
    StoreKey(p, k);
    for (int pass = 0; pass < kPasses; ++pass) {
      ++counts[pass * kBuckets + ((k >> (pass * kBits)) & kMask)];
    }
  }
  double* src = data.data();
  double* dst = scratch.data();
  for (int pass = 0; pass < kPasses; ++pass) {
    size_t* c = &counts[pass * kBuckets];
    const int shift = pass * kBits;
    if (c[(LoadKey(src) >> shift) & kMask] == n) continue;  // one digit value: nothing moves
    size_t offset = 0;
    for (size_t d = 0; d < kBuckets; ++d) offset += std::exchange(c[d], offset);
    for (size_t i = 0; i < n; ++i) {
      const std::uint64_t k = LoadKey(src + i);
      StoreKey(dst + c[(k >> shift) & kMask]++, k);
    }
    std::swap(src, dst);
  }
  for (size_t i = 0; i < n; ++i) StoreKey(src + i, BitsFromKey(LoadKey(src + i)));
  if (src != data.data()) data.swap(scratch);
}

// A sorted copy of x; scratch is working space, reusable across calls.
// REQUIRES: x has no NaN (neither sort has an order for it).
std::vector<double> SortedCopy(std::span<const double> x, std::vector<double>& scratch) {
  std::vector<double> out(x.begin(), x.end());
  constexpr size_t kRadixMinSize = 4096;  // below this std::sort is as fast
  if (out.size() < kRadixMinSize) {
    std::sort(out.begin(), out.end());
  } else {
    RadixSort(out, scratch);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Kolmogorov-Smirnov: the ECDF difference over the merged samples.

// Extremes of F_a(x) - F_b(x) over the sample values, each diff computed as SciPy computes it
// (count_a / n_a - count_b / n_b in double), and where SciPy's argmin/argmax puts them: the
// first index of concatenate(sorted a, sorted b) reaching the extreme.
struct EcdfExtremes {
  double max_diff = 0;
  double max_location = 0;
  double min_diff = 0;
  double min_location = 0;
};

// REQUIRES: a and b non-empty, sorted ascending, no NaN.
//
// Walks runs: inside a run of a-values below the next b-value the difference only grows, so
// only the run's last value can be a maximum (and never a minimum); symmetrically for b-runs.
// Values present in both samples are evaluated for both. Hence every candidate maximum is a
// value of a, and SciPy's first-index tie-break is "smallest value"; a candidate minimum can be
// a common value (index in the a block, preferred) or a b-only value.
EcdfExtremes MergeEcdfs(std::span<const double> a, std::span<const double> b) {
  const size_t na = a.size(), nb = b.size();
  const double fna = static_cast<double>(na), fnb = static_cast<double>(nb);
  auto diff_at = [&](size_t i, size_t j) {
    return static_cast<double>(i) / fna - static_cast<double>(j) / fnb;
  };
  EcdfExtremes e;
  e.max_diff = -kInf;
  e.min_diff = kInf;
  bool min_location_in_a = false;
  auto offer_max = [&](double d, double x) {
    if (d > e.max_diff) {
      e.max_diff = d;
      e.max_location = x;
    }
  };
  auto offer_min = [&](double d, double x, bool in_a) {
    if (d < e.min_diff) {
      e.min_diff = d;
      e.min_location = x;
      min_location_in_a = in_a;
    } else if (d == e.min_diff && in_a && !min_location_in_a) {
      e.min_location = x;
      min_location_in_a = true;
    }
  };

  size_t i = 0, j = 0;
  while (i < na && j < nb) {
    const double ai = a[i], bj = b[j];
    if (ai < bj) {
      do ++i;
      while (i < na && a[i] < bj);
      offer_max(diff_at(i, j), a[i - 1]);
    } else if (bj < ai) {
      do ++j;
      while (j < nb && b[j] < ai);
      offer_min(diff_at(i, j), b[j - 1], /*in_a=*/false);
    } else {
      do ++i;
      while (i < na && a[i] == ai);
      do ++j;
      while (j < nb && b[j] == ai);
      const double d = diff_at(i, j);
      offer_max(d, ai);
      offer_min(d, ai, /*in_a=*/true);
    }
  }
  // One sample is exhausted; the rest of the other ends at difference 0.
  if (i < na) offer_max(diff_at(na, nb), a[na - 1]);
  if (j < nb) offer_min(diff_at(na, nb), b[nb - 1], /*in_a=*/false);
  return e;
}

// P(D >= h/n) for two samples of equal size n (SciPy's _compute_prob_outside_square):
// 2 * (binom(2n, n-h) - binom(2n, n-2h) + ...) / binom(2n, n), evaluated Horner-style.
double ExactSfEqualSizes(int64_t n, int64_t h) {
  double p = 0.0;
  for (auto k = static_cast<int64_t>(std::floor(static_cast<double>(n) / static_cast<double>(h)));
       k >= 0; --k) {
    double p1 = 1.0;
    for (int64_t j = 0; j < h; ++j) {
      p1 = static_cast<double>(n - k * h - j) * p1 / static_cast<double>(n + k * h + j + 1);
    }
    p = p1 * (1.0 - p);
  }
  return 2 * p;
}

// P(D >= h/lcm(m, n)): the share of lattice paths from (0,0) to (m,n) that leave the band
// |x/m - y/n| < h/lcm (SciPy's _compute_outer_prob_inside_method: Hodges' inside method with
// Viehmann's recursion for 1 - p, one sliding column of the path-count matrix).
double ExactSfUnequalSizes(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (m < n) std::swap(m, n);
  const int64_t mg = m / g, ng = n / g;
  const auto dmg = static_cast<double>(mg);
  int64_t minj = 0;
  int64_t maxj =
      std::min<int64_t>(static_cast<int64_t>(std::ceil(static_cast<double>(h) / dmg)), n + 1);
  int64_t curlen = maxj - minj;
  const int64_t len = std::min<int64_t>(2 * maxj + 2, n + 1);
  std::vector<double> col(static_cast<size_t>(len), 1.0);
  std::fill(col.begin() + minj, col.begin() + std::min(maxj, len), 0.0);
  for (int64_t i = 1; i <= m; ++i) {
    const int64_t lastminj = minj, lastlen = curlen;
    minj = std::max<int64_t>(
        static_cast<int64_t>(std::floor(static_cast<double>(ng * i - h) / dmg)) + 1, 0);
    minj = std::min(minj, n);
    maxj = std::min<int64_t>(static_cast<int64_t>(std::ceil(static_cast<double>(ng * i + h) / dmg)),
                             n + 1);
    if (maxj <= minj) return 1.0;
    double val = minj == 0 ? 0.0 : 1.0;
    const auto di = static_cast<double>(i);
    for (int64_t jj = 0; jj < maxj - minj; ++jj) {
      const int64_t j = jj + minj;
      val = (col[static_cast<size_t>(jj + minj - lastminj)] * di + val * static_cast<double>(j)) /
            static_cast<double>(i + j);
      col[static_cast<size_t>(jj)] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      std::fill(col.begin() + curlen, col.begin() + std::min(curlen + (lastlen - curlen), len),
                1.0);
    }
  }
  return col[static_cast<size_t>(maxj - minj - 1)];
}

struct ExactOutcome {
  bool ok;   // false: SciPy would fall back to the asymptotic method
  double d;  // D rounded to a multiple of 1/lcm
  double p;
};

// SciPy's _attempt_exact_2kssamp, two-sided.
ExactOutcome AttemptExact(int64_t n1, int64_t n2, int64_t g, double d) {
  const int64_t lcm = (n1 / g) * n2;
  const auto h = static_cast<int64_t>(std::nearbyint(d * static_cast<double>(lcm)));
  d = static_cast<double>(h) / static_cast<double>(lcm);
  if (h == 0) return {true, d, 1.0};
  const double p = n1 == n2 ? ExactSfEqualSizes(n1, h) : ExactSfUnequalSizes(n1, n2, g, h);
  if (!(0 <= p && p <= 1)) return {false, d, p};
  return {true, d, p};
}

KsResult KsOnSorted(std::span<const double> a, std::span<const double> b) {
  const EcdfExtremes e = MergeEcdfs(a, b);
  const double min_s = std::clamp(-e.min_diff, 0.0, 1.0);
  const double max_s = e.max_diff;
  KsResult r;
  if (min_s > max_s) {
    r.statistic = min_s;
    r.location = e.min_location;
    r.sign = -1;
  } else {
    r.statistic = max_s;
    r.location = e.max_location;
    r.sign = 1;
  }
  const auto n1 = static_cast<int64_t>(a.size()), n2 = static_cast<int64_t>(b.size());
  constexpr int64_t kMaxExactN = 10000;  // SciPy's MAX_AUTO_N
  bool exact = std::max(n1, n2) <= kMaxExactN;
  if (exact) {
    const ExactOutcome x = AttemptExact(n1, n2, std::gcd(n1, n2), r.statistic);
    r.statistic = x.d;
    if (x.ok) {
      r.p_value = x.p;
    } else {
      exact = false;
    }
  }
  if (!exact) {
    const double m = static_cast<double>(std::max(n1, n2));
    const double n = static_cast<double>(std::min(n1, n2));
    const double en = m * n / (m + n);
    r.p_value = KolmogorovSf(static_cast<int64_t>(std::nearbyint(en)), r.statistic);
  }
  r.method = exact ? KsMethod::kExact : KsMethod::kAsymptotic;
  r.p_value = std::clamp(r.p_value, 0.0, 1.0);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Kolmogorov distribution (port of SciPy's scipy/stats/_ksstats.py and the one-sided Smirnov
// survival function from scipy/special/cephes/kolmogorov.c).

constexpr double kPi = std::numbers::pi;
constexpr double kCephesMinLog = -7.08396418532264106224e2;  // log(2**-1022)
constexpr double kScaleUp = 0x1p128;  // SciPy's rescaling against over- and underflow
constexpr double kScaleDown = 0x1p-128;
constexpr int kScaleExp = 128;

double Clip01(double p) { return std::clamp(p, 0.0, 1.0); }

// log(n! / n**n) by Stirling's series, with n log n removed up front.
double LogFactorialOverPower(int64_t n) {
  static constexpr double kStirling[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                         -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                         -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                         -2.7777777777777777778e-3, 8.3333333333333333333e-2};
  const double dn = static_cast<double>(n);
  const double rn = 1.0 / dn;
  double poly = 0;
  for (double c : kStirling) poly = poly * (rn / dn) + c;
  return std::log(dn) / 2 - dn + std::log(2 * kPi) / 2 + rn * poly;
}

// One-sided Smirnov survival P(D+_n >= x) by the Birnbaum-Tingey sum
//   x * sum_{v=0}^{floor(n(1-x))} C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v),
// with the terms in logs (SciPy uses double-double; logs keep about 1e-9 relative accuracy,
// far inside the 1e-6 contract) and SciPy's special cases and early exit.
double SmirnovSf(int64_t n, double x) {
  if (!(n > 0 && x >= 0.0 && x <= 1.0)) return kNaN;
  if (n == 1) return 1 - x;
  if (x == 0.0) return 1.0;
  if (x == 1.0) return 0.0;
  const auto dn = static_cast<double>(n);
  // floor(n x) and its remainder alpha, from the exact product n x = nx + err.
  const double nx = dn * x;
  const double err = std::fma(dn, x, -nx);
  double floor_nx = std::floor(nx);
  double alpha = (nx - floor_nx) + err;
  if (alpha < 0) {
    floor_nx -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    floor_nx += 1;
    alpha = 0;
  }
  const auto nxfl = static_cast<int64_t>(floor_nx);
  int64_t last_v = n - nxfl - (alpha == 0 ? 0 : 1);
  if (alpha == 0) last_v -= 1;

  if (nxfl == 0 || (nxfl == 1 && alpha == 0)) {  // x <= 1/n
    return 1 - x * std::exp((dn - 1) * std::log1p(x));
  }
  if (-2 * dn * x * x < kCephesMinLog) return 0.0;
  if (nxfl >= n - 1) return std::exp(dn * std::log1p(-x));  // x >= 1 - 1/n
  if (n > 1000000) {  // SciPy's SMIRNOV_MAX_COMPUTE_N: an approximation
    const double logp = -std::pow(6.0 * dn * x + 1, 2) / 18.0 / dn;
    if (logp < -std::numbers::ln2) return std::exp(logp);
    return 1 - (-std::expm1(logp));
  }

  // x + v/n = (nxfl + v + alpha) / n and 1 - x - v/n = (n - nxfl - v - alpha) / n, computed
  // from integers and alpha to avoid cancellation near the end of the sum.
  const double log_n = std::log(dn);
  const int64_t terms = last_v + 1;
  const int64_t vmid = n / 2;
  double log_binom = 0, log_binom_c = 0;  // log C(n, v), Neumaier-compensated
  double sum = 0;
  for (int64_t v = 0; v < terms; ++v) {
    const double up = static_cast<double>(nxfl + v) + alpha;
    const double down = static_cast<double>(n - nxfl - v) - alpha;
    double term = 0;
    if (down > 0) {
      const double log_term = (log_binom + log_binom_c) +
                              static_cast<double>(v - 1) * (std::log(up) - log_n) +
                              static_cast<double>(n - v) * (std::log(down) - log_n);
      term = std::exp(log_term);
    }
    sum += term;
    if (v > 0) {
      if (term != 0) {
        if (4 * static_cast<double>(terms - v) * term <
                std::numeric_limits<double>::epsilon() * sum &&
            v != terms - 1) {
          break;
        }
      } else if (v > vmid) {
        break;
      }
    }
    // log C(n, v+1) = log C(n, v) + log((n - v) / (v + 1)).
    const double step = std::log(static_cast<double>(n - v) / static_cast<double>(v + 1));
    const double t = log_binom + step;
    log_binom_c +=
        std::abs(log_binom) >= std::abs(step) ? (log_binom - t) + step : (step - t) + log_binom;
    log_binom = t;
  }
  return Clip01(x * sum);
}

// Kolmogorov CDF P(D_n <= d) by Durbin's matrix method, computed as in Marsaglia, Tsang &
// Wang (2003): the k-th diagonal entry of H^n, with H of size 2k-1, scaled to avoid overflow.
double KolmogorovCdfDurbin(int64_t n, double d) {
  if (d >= 1.0) return 1.0;
  const auto dn = static_cast<double>(n);
  const double nd = dn * d;
  if (nd <= 0.5) return 0.0;
  const auto k = static_cast<int64_t>(std::ceil(nd));
  const double h = static_cast<double>(k) - nd;
  const auto m = static_cast<size_t>(2 * k - 1);

  std::vector<double> v(m), w(m);
  double fac = 1.0;
  for (size_t j = 1; j <= m; ++j) {
    v[j - 1] = 1.0 - std::pow(h, static_cast<double>(j));
    w[j - 1] = fac;
    fac /= static_cast<double>(j);
    v[j - 1] *= fac;
  }
  const double tt = std::pow(std::max(2 * h - 1.0, 0.0), static_cast<double>(m)) -
                    2 * std::pow(h, static_cast<double>(m));
  v[m - 1] = (1.0 + tt) * fac;

  std::vector<double> hm(m * m, 0.0);
  auto at = [m](std::vector<double>& x, size_t r, size_t c) -> double& { return x[r * m + c]; };
  for (size_t i = 1; i < m; ++i) {
    for (size_t r = i - 1; r < m; ++r) at(hm, r, i) = w[r - (i - 1)];
  }
  for (size_t r = 0; r < m; ++r) at(hm, r, 0) = v[r];
  for (size_t c = 0; c < m; ++c) at(hm, m - 1, c) = v[m - 1 - c];

  std::vector<double> pw(m * m, 0.0), tmp(m * m);
  for (size_t r = 0; r < m; ++r) at(pw, r, r) = 1.0;
  auto multiply = [&](const std::vector<double>& x, const std::vector<double>& y,
                      std::vector<double>& out) {
    std::fill(out.begin(), out.end(), 0.0);
    for (size_t r = 0; r < m; ++r) {
      for (size_t q = 0; q < m; ++q) {
        const double xrq = x[r * m + q];
        if (xrq == 0) continue;
        const double* yrow = &y[q * m];
        double* orow = &out[r * m];
        for (size_t c = 0; c < m; ++c) orow[c] += xrq * yrow[c];
      }
    }
  };
  int64_t nn = n;
  int expnt = 0, h_expnt = 0;
  const size_t kk = static_cast<size_t>(k - 1);
  while (nn > 0) {
    if (nn % 2) {
      multiply(pw, hm, tmp);
      pw.swap(tmp);
      expnt += h_expnt;
    }
    multiply(hm, hm, tmp);
    hm.swap(tmp);
    h_expnt *= 2;
    if (std::abs(at(hm, kk, kk)) > kScaleUp) {
      for (double& x : hm) x /= kScaleUp;
      h_expnt += kScaleExp;
    }
    nn /= 2;
  }
  double p = at(pw, kk, kk);
  for (int64_t i = 1; i <= n; ++i) {
    p = static_cast<double>(i) * p / dn;
    if (std::abs(p) < kScaleDown) {
      p *= kScaleUp;
      expnt -= kScaleExp;
    }
  }
  if (expnt != 0) p = std::ldexp(p, expnt);
  return Clip01(p);
}

// Endpoints of the non-zero stretch of row i in Pomeranz's recursion.
std::pair<int64_t, int64_t> PomeranzRange(int64_t i, int64_t n, int64_t ll, int64_t ceilf,
                                          int64_t roundf) {
  int64_t j1, j2;
  if (i == 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const int64_t half = (i + 1) / 2;
    if ((i + 1) % 2 == 0) {  // i odd
      if (half == n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return {std::max<int64_t>(j1 + 2, 0), std::min(j2, n)};
}

// Kolmogorov CDF by Pomeranz's (1974) recursion; used for n <= 140.
double KolmogorovCdfPomeranz(int64_t n, double x) {
  const auto dn = static_cast<double>(n);
  const double t = dn * x;
  const auto ll = static_cast<int64_t>(std::floor(t));
  const double f = 1.0 * (t - static_cast<double>(ll));
  const double g = std::min(f, 1.0 - f);
  const int64_t ceilf = f > 0 ? 1 : 0;
  const int64_t roundf = f > 0.5 ? 1 : 0;
  const auto npwrs = static_cast<size_t>(2 * (ll + 1));
  // (g/n)^m/m!, (2g/n)^m/m!, ((1-2g)/n)^m/m!: Poisson probabilities up to a constant.
  std::vector<double> gpower(npwrs), twogpower(npwrs), onem2gpower(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
  const double g_n = g / dn, twog_n = 2 * g / dn, onem2g_n = (1 - 2 * g) / dn;
  for (size_t m = 1; m < npwrs; ++m) {
    const auto dm = static_cast<double>(m);
    gpower[m] = gpower[m - 1] * g_n / dm;
    twogpower[m] = twogpower[m - 1] * twog_n / dm;
    onem2gpower[m] = onem2gpower[m - 1] * onem2g_n / dm;
  }
  std::vector<double> v0(npwrs, 0.0), v1(npwrs, 0.0), conv;
  v1[0] = 1;
  int64_t v0s = 0, v1s = 0;
  int expnt = 0;
  auto [j1, j2] = PomeranzRange(0, n, ll, ceilf, roundf);
  const auto len = static_cast<int64_t>(npwrs);
  for (int64_t i = 1; i < 2 * n + 2; ++i) {
    const int64_t k1 = j1;
    std::swap(v0, v1);
    std::swap(v0s, v1s);
    std::fill(v1.begin(), v1.end(), 0.0);
    std::tie(j1, j2) = PomeranzRange(i, n, ll, ceilf, roundf);
    const std::vector<double>& pwrs =
        (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 ? twogpower : onem2gpower);
    const int64_t ln2 = j2 - k1 + 1;
    if (ln2 <= 0) continue;
    // np.convolve(v0[k1 - v0s : k1 - v0s + ln2], pwrs[:ln2]), slices clamped as numpy does.
    const int64_t a0 = std::clamp<int64_t>(k1 - v0s, 0, len);
    const int64_t na = std::clamp<int64_t>(k1 - v0s + ln2, 0, len) - a0;
    const int64_t nb = std::min(ln2, len);
    conv.assign(static_cast<size_t>(std::max<int64_t>(na + nb - 1, 0)), 0.0);
    for (int64_t p = 0; p < na; ++p) {
      const double ap = v0[static_cast<size_t>(a0 + p)];
      for (int64_t q = 0; q < nb; ++q) conv[static_cast<size_t>(p + q)] += ap * pwrs[q];
    }
    const int64_t conv_start = j1 - k1;
    const int64_t conv_len = j2 - j1 + 1;
    double vmax = 0;
    for (int64_t c = 0; c < conv_len && c < len; ++c) {
      const int64_t src = conv_start + c;
      v1[static_cast<size_t>(c)] = (src >= 0 && src < static_cast<int64_t>(conv.size()))
                                       ? conv[static_cast<size_t>(src)]
                                       : 0.0;
      vmax = std::max(vmax, v1[static_cast<size_t>(c)]);
    }
    if (0 < vmax && vmax < kScaleDown) {
      for (double& e : v1) e *= kScaleUp;
      expnt -= kScaleExp;
    }
    v1s = v0s + j1 - k1;
  }
  const int64_t idx = n - v1s;
  double ans = (idx >= 0 && idx < len) ? v1[static_cast<size_t>(idx)] : 0.0;
  for (int64_t m = 1; m <= n; ++m) {
    if (std::abs(ans) > kScaleUp) {
      ans *= kScaleDown;
      expnt += kScaleExp;
    }
    ans *= static_cast<double>(m);
  }
  if (expnt != 0) ans = std::ldexp(ans, expnt);
  return Clip01(ans);
}

// Pelz & Good's (1976) approximation to the Kolmogorov CDF P(D_n <= x), for large n.
double KolmogorovCdfPelzGood(int64_t n, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double pi2 = kPi * kPi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  const double sqrt2pi = std::sqrt(2 * kPi);
  const double z = std::sqrt(static_cast<double>(n)) * x;
  const double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
  const double qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0.0;
  double q = std::exp(qlog);

  const double k1a = -z2, k1b = pi2 / 4;
  const double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4,
               k2c = pi4 * (1 - 2 * z2) / 16;
  const double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16,
               k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * std::pow(z, 8);
  double k0to3[4] = {0, 0, 0, 0};
  const auto maxk = static_cast<int64_t>(std::ceil(16 * z / kPi));
  for (int64_t k = maxk; k > 0; --k) {
    const auto m = static_cast<double>(2 * k - 1);
    const double m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    const double qpower = std::pow(q, static_cast<double>(8 * k));
    const double coeffs[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                              k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int r = 0; r < 4; ++r) k0to3[r] = k0to3[r] * qpower + coeffs[r];
  }
  const double denom[4] = {z, 6 * z4, 72 * std::pow(z, 7), 6480 * std::pow(z, 10)};
  for (int r = 0; r < 4; ++r) k0to3[r] = k0to3[r] * q * sqrt2pi / denom[r];

  q = std::exp(-pi2 / 2 / z2);
  const double sqrt3z = std::sqrt(3.0) * z;
  double k2extra = 0, k3extra = 0;
  for (int64_t k = maxk; k > 0; --k) {
    const auto dk = static_cast<double>(k);
    const double k2 = dk * dk;
    const double qp = std::pow(q, k2);
    const double kspi = kPi * dk;
    k2extra += k2 * qp;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * k2 * qp;
  }
  k0to3[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
  k0to3[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
  double total = 0;
  for (int r = 0; r < 4; ++r) {
    total += k0to3[r] / std::pow(static_cast<double>(n), r / 2.0);
  }
  return total;
}

// SciPy's _kolmogn(n, x, cdf=False): Simard & L'Ecuyer's (2011) choice of algorithm.
double KolmogorovSfInterior(int64_t n, double x) {
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return 1.0;
  const auto dn = static_cast<double>(n);
  const double t = dn * x;
  if (t <= 1.0) {  // Ruben-Gambino: 1/2n <= x <= 1/n
    if (t <= 0.5) return 1.0;
    double prob;
    if (n <= 140) {
      prob = 1.0;
      for (int64_t i = 1; i <= n; ++i) prob *= static_cast<double>(i) * (1.0 / dn) * (2 * t - 1);
    } else {
      prob = std::exp(LogFactorialOverPower(n) + dn * std::log(2 * t - 1));
    }
    return Clip01(1.0 - prob);
  }
  if (t >= dn - 1) return Clip01(2 * std::pow(1.0 - x, dn));  // Ruben-Gambino
  if (x >= 0.5) return Clip01(2 * SmirnovSf(n, x));           // exact: 2 * smirnov
  const double nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return Clip01(1.0 - KolmogorovCdfDurbin(n, x));
    if (nxsquared <= 4) return Clip01(1.0 - KolmogorovCdfPomeranz(n, x));
    return Clip01(2 * SmirnovSf(n, x));
  }
  if (nxsquared >= 370.0) return 0.0;
  if (nxsquared >= 2.2) return Clip01(2 * SmirnovSf(n, x));
  double cdf;
  if (nxsquared >= 18.0) {
    cdf = 1.0;
  } else if (n <= 100000 && dn * std::pow(x, 1.5) <= 1.4) {
    cdf = KolmogorovCdfDurbin(n, x);
  } else {
    cdf = KolmogorovCdfPelzGood(n, x);
  }
  return Clip01(1.0 - cdf);
}

// ---------------------------------------------------------------------------------------------
// Wasserstein: one pass over the merged sorted samples.

// Equal weights: the CDFs are counts over sizes. REQUIRES: u, v non-empty, sorted, finite.
double WassersteinMerge(std::span<const double> u, std::span<const double> v) {
  const size_t nu = u.size(), nv = v.size();
  const double inv_nu = 1.0 / static_cast<double>(nu), inv_nv = 1.0 / static_cast<double>(nv);
  BlockSum sum;
  size_t i = 0, j = 0;
  double prev = std::min(u[0], v[0]);
  while (i < nu && j < nv) {
    const double ui = u[i], vj = v[j];
    const bool take_u = ui <= vj;
    const double x = take_u ? ui : vj;
    sum.Add(std::abs(static_cast<double>(i) * inv_nu - static_cast<double>(j) * inv_nv) *
            (x - prev));
    prev = x;
    i += take_u ? 1 : 0;
    j += take_u ? 0 : 1;
  }
  for (; i < nu; ++i) {  // v exhausted: F_v = 1
    sum.Add((1.0 - static_cast<double>(i) * inv_nu) * (u[i] - prev));
    prev = u[i];
  }
  for (; j < nv; ++j) {  // u exhausted: F_u = 1
    sum.Add((1.0 - static_cast<double>(j) * inv_nv) * (v[j] - prev));
    prev = v[j];
  }
  return sum.Total();
}

// General weights (an empty span means equal weights): the CDFs are cumulative weights over
// totals, the cumulative sums taken in sorted order as numpy's cumsum does.
// REQUIRES: u, v non-empty, sorted, finite; each weight span empty or valid for its values.
double WassersteinMergeWeighted(std::span<const double> u, std::span<const double> uw,
                                std::span<const double> v, std::span<const double> vw) {
  auto total = [](std::span<const double> x, std::span<const double> w) {
    return w.empty() ? static_cast<double>(x.size()) : std::accumulate(w.begin(), w.end(), 0.0);
  };
  const double inv_tu = 1.0 / total(u, uw), inv_tv = 1.0 / total(v, vw);
  auto weight = [](std::span<const double> w, size_t k) { return w.empty() ? 1.0 : w[k]; };
  const size_t nu = u.size(), nv = v.size();
  BlockSum sum;
  size_t i = 0, j = 0;
  double cu = 0, cv = 0;
  double prev = std::min(u[0], v[0]);
  while (i < nu || j < nv) {
    const bool take_u = j == nv || (i < nu && u[i] <= v[j]);
    const double x = take_u ? u[i] : v[j];
    sum.Add(std::abs(cu * inv_tu - cv * inv_tv) * (x - prev));
    prev = x;
    if (take_u) {
      cu += weight(uw, i++);
    } else {
      cv += weight(vw, j++);
    }
  }
  return sum.Total();
}

Status CheckWeights(std::string_view fn, std::string_view arg, std::span<const double> values,
                    std::span<const double> weights, std::string_view values_name) {
  if (weights.empty()) return Status::Ok();
  VIGIL_RETURN_IF_ERROR(CheckSameLength(fn, values_name, values, arg, weights));
  for (size_t k = 0; k < weights.size(); ++k) {
    if (!(weights[k] >= 0)) {
      return InvalidArgument(DescribeAt(fn, arg, k, "is negative or NaN", weights[k]));
    }
  }
  return CheckPositiveTotal(fn, arg, std::accumulate(weights.begin(), weights.end(), 0.0));
}

// Sorts values together with their weights; returns the sorted values and weights.
std::pair<std::vector<double>, std::vector<double>> SortWithWeights(
    std::span<const double> values, std::span<const double> weights) {
  std::vector<std::pair<double, double>> pairs(values.size());
  for (size_t k = 0; k < values.size(); ++k) pairs[k] = {values[k], weights[k]};
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  std::pair<std::vector<double>, std::vector<double>> out;
  out.first.reserve(values.size());
  out.second.reserve(values.size());
  for (const auto& [x, w] : pairs) {
    out.first.push_back(x);
    out.second.push_back(w);
  }
  return out;
}

// numpy's np.std(x) (ddof = 0), two-pass. REQUIRES: x non-empty, finite.
double PopulationStd(std::span<const double> x) {
  BlockSum s;
  for (double e : x) s.Add(e);
  const double mean = s.Total() / static_cast<double>(x.size());
  BlockSum sq;
  for (double e : x) sq.Add((e - mean) * (e - mean));
  return std::sqrt(sq.Total() / static_cast<double>(x.size()));
}

Result<NormedWasserstein> Normalise(std::string_view fn, double distance, double std,
                                    double min_std) {
  const double divisor = std::max(std, min_std);
  if (!(divisor > 0)) {
    return InvalidArgument(std::string(fn) +
                           ": reference has zero standard deviation and min_std is 0");
  }
  return NormedWasserstein{distance, std, distance / divisor};
}

Status CheckMinStd(std::string_view fn, double min_std) {
  if (min_std >= 0 && std::isfinite(min_std)) return Status::Ok();
  return InvalidArgument(std::string(fn) + ": min_std must be finite and >= 0, got " +
                         std::to_string(min_std));
}

// chi2.sf(statistic, dof) = Q(dof/2, statistic/2).
double ChiSquareSf(double statistic, int64_t dof) {
  if (!(statistic < kInf)) return 0.0;
  if (statistic <= 0) return 1.0;
  return boost::math::gamma_q(static_cast<double>(dof) / 2, statistic / 2, NoThrowPolicy());
}

Status CheckProbabilities(std::string_view fn, std::span<const double> p) {
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(fn, "p_values", p));
  for (size_t i = 0; i < p.size(); ++i) {
    if (!(p[i] >= 0 && p[i] <= 1)) {
      return InvalidArgument(DescribeAt(fn, "p_values", i, "is not in [0, 1]", p[i]));
    }
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<KsResult> KolmogorovSmirnovTest(std::span<const double> a, std::span<const double> b) {
  constexpr std::string_view kFn = "KolmogorovSmirnovTest";
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "a", a));
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "b", b));
  VIGIL_RETURN_IF_ERROR(CheckNoNaN(kFn, "a", a));
  VIGIL_RETURN_IF_ERROR(CheckNoNaN(kFn, "b", b));
  std::vector<double> scratch;
  const std::vector<double> sa = SortedCopy(a, scratch);
  const std::vector<double> sb = SortedCopy(b, scratch);
  return KsOnSorted(sa, sb);
}

Result<KsResult> KolmogorovSmirnovTestSorted(std::span<const double> a_sorted,
                                             std::span<const double> b_sorted) {
  constexpr std::string_view kFn = "KolmogorovSmirnovTestSorted";
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "a_sorted", a_sorted));
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "b_sorted", b_sorted));
  VIGIL_RETURN_IF_ERROR(CheckSorted(kFn, "a_sorted", a_sorted));
  VIGIL_RETURN_IF_ERROR(CheckSorted(kFn, "b_sorted", b_sorted));
  return KsOnSorted(a_sorted, b_sorted);
}

double KolmogorovSf(std::int64_t n, double d) {
  if (n < 1 || std::isnan(d)) return kNaN;
  // rv_continuous.sf outside kstwo's support [0.5/n, 1].
  if (d <= 0.5 / static_cast<double>(n)) return 1.0;
  if (d >= 1.0) return 0.0;
  return KolmogorovSfInterior(n, d);
}

Result<double> WassersteinDistance(std::span<const double> u_values,
                                   std::span<const double> v_values) {
  constexpr std::string_view kFn = "WassersteinDistance";
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "u_values", u_values));
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "v_values", v_values));
  VIGIL_RETURN_IF_ERROR(CheckFinite(kFn, "u_values", u_values));
  VIGIL_RETURN_IF_ERROR(CheckFinite(kFn, "v_values", v_values));
  std::vector<double> scratch;
  const std::vector<double> su = SortedCopy(u_values, scratch);
  const std::vector<double> sv = SortedCopy(v_values, scratch);
  return WassersteinMerge(su, sv);
}

Result<double> WassersteinDistance(std::span<const double> u_values,
                                   std::span<const double> v_values,
                                   std::span<const double> u_weights,
                                   std::span<const double> v_weights) {
  constexpr std::string_view kFn = "WassersteinDistance";
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "u_values", u_values));
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "v_values", v_values));
  VIGIL_RETURN_IF_ERROR(CheckFinite(kFn, "u_values", u_values));
  VIGIL_RETURN_IF_ERROR(CheckFinite(kFn, "v_values", v_values));
  VIGIL_RETURN_IF_ERROR(CheckWeights(kFn, "u_weights", u_values, u_weights, "u_values"));
  VIGIL_RETURN_IF_ERROR(CheckWeights(kFn, "v_weights", v_values, v_weights, "v_values"));
  if (u_weights.empty() && v_weights.empty()) return WassersteinDistance(u_values, v_values);
  std::vector<double> su, suw, sv, svw, scratch;
  if (u_weights.empty()) {
    su = SortedCopy(u_values, scratch);
  } else {
    std::tie(su, suw) = SortWithWeights(u_values, u_weights);
  }
  if (v_weights.empty()) {
    sv = SortedCopy(v_values, scratch);
  } else {
    std::tie(sv, svw) = SortWithWeights(v_values, v_weights);
  }
  return WassersteinMergeWeighted(su, suw, sv, svw);
}

Result<double> WassersteinDistanceSorted(std::span<const double> u_sorted,
                                         std::span<const double> v_sorted) {
  constexpr std::string_view kFn = "WassersteinDistanceSorted";
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "u_sorted", u_sorted));
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "v_sorted", v_sorted));
  VIGIL_RETURN_IF_ERROR(CheckSortedFinite(kFn, "u_sorted", u_sorted));
  VIGIL_RETURN_IF_ERROR(CheckSortedFinite(kFn, "v_sorted", v_sorted));
  return WassersteinMerge(u_sorted, v_sorted);
}

Result<double> WassersteinDistanceSorted(std::span<const double> u_sorted,
                                         std::span<const double> v_sorted,
                                         std::span<const double> u_weights,
                                         std::span<const double> v_weights) {
  constexpr std::string_view kFn = "WassersteinDistanceSorted";
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "u_sorted", u_sorted));
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "v_sorted", v_sorted));
  VIGIL_RETURN_IF_ERROR(CheckSortedFinite(kFn, "u_sorted", u_sorted));
  VIGIL_RETURN_IF_ERROR(CheckSortedFinite(kFn, "v_sorted", v_sorted));
  VIGIL_RETURN_IF_ERROR(CheckWeights(kFn, "u_weights", u_sorted, u_weights, "u_sorted"));
  VIGIL_RETURN_IF_ERROR(CheckWeights(kFn, "v_weights", v_sorted, v_weights, "v_sorted"));
  if (u_weights.empty() && v_weights.empty()) return WassersteinMerge(u_sorted, v_sorted);
  return WassersteinMergeWeighted(u_sorted, u_weights, v_sorted, v_weights);
}

Result<NormedWasserstein> NormedWassersteinDistance(std::span<const double> reference,
                                                    std::span<const double> current,
                                                    double min_std) {
  constexpr std::string_view kFn = "NormedWassersteinDistance";
  VIGIL_RETURN_IF_ERROR(CheckMinStd(kFn, min_std));
  Result<double> w = WassersteinDistance(reference, current);
  if (!w.ok()) return w.status();
  return Normalise(kFn, *w, PopulationStd(reference), min_std);
}

Result<NormedWasserstein> NormedWassersteinDistanceSorted(std::span<const double> reference_sorted,
                                                          std::span<const double> current_sorted,
                                                          double min_std) {
  constexpr std::string_view kFn = "NormedWassersteinDistanceSorted";
  VIGIL_RETURN_IF_ERROR(CheckMinStd(kFn, min_std));
  Result<double> w = WassersteinDistanceSorted(reference_sorted, current_sorted);
  if (!w.ok()) return w.status();
  return Normalise(kFn, *w, PopulationStd(reference_sorted), min_std);
}

Result<double> JensenShannonDistance(std::span<const double> p, std::span<const double> q,
                                     std::optional<double> base) {
  constexpr std::string_view kFn = "JensenShannonDistance";
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "p", p));
  VIGIL_RETURN_IF_ERROR(CheckSameLength(kFn, "p", p, "q", q));
  double sp = 0, sq = 0;
  VIGIL_RETURN_IF_ERROR(CheckCounts(kFn, "p", p, &sp));
  VIGIL_RETURN_IF_ERROR(CheckCounts(kFn, "q", q, &sq));
  VIGIL_RETURN_IF_ERROR(CheckPositiveTotal(kFn, "p", sp));
  VIGIL_RETURN_IF_ERROR(CheckPositiveTotal(kFn, "q", sq));
  if (base && !(std::isfinite(*base) && *base > 0 && *base != 1)) {
    return InvalidArgument(std::string(kFn) + ": base must be finite, positive and not 1, got " +
                           std::to_string(*base));
  }
  // scipy.special.rel_entr(x, y) = x log(x / y), 0 for x == 0.
  auto rel_entr = [](double x, double y) { return x > 0 && y > 0 ? x * std::log(x / y) : 0.0; };
  double left = 0, right = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double pi = p[i] / sp, qi = q[i] / sq;
    const double mi = (pi + qi) / 2.0;
    left += rel_entr(pi, mi);
    right += rel_entr(qi, mi);
  }
  double js = left + right;
  if (base) js /= std::log(*base);
  return std::sqrt(std::max(js / 2.0, 0.0));
}

Result<ChiSquareResult> ChiSquareGoodnessOfFit(std::span<const double> observed,
                                               std::span<const double> expected) {
  constexpr std::string_view kFn = "ChiSquareGoodnessOfFit";
  VIGIL_RETURN_IF_ERROR(CheckSameLength(kFn, "observed", observed, "expected", expected));
  if (observed.size() < 2) {
    return InvalidArgument(std::string(kFn) + ": needs at least two categories, got " +
                           std::to_string(observed.size()));
  }
  double so = 0, se = 0;
  VIGIL_RETURN_IF_ERROR(CheckCounts(kFn, "observed", observed, &so));
  VIGIL_RETURN_IF_ERROR(CheckCounts(kFn, "expected", expected, &se));
  for (size_t i = 0; i < expected.size(); ++i) {
    if (!(expected[i] > 0)) {
      return InvalidArgument(DescribeAt(kFn, "expected", i, "is not positive", expected[i]));
    }
  }
  constexpr double kSumRtol = 1e-8;  // SciPy's tolerance on the two totals
  if (!(std::abs(so - se) / std::min(so, se) <= kSumRtol)) {
    return InvalidArgument(std::string(kFn) + ": observed total " + std::to_string(so) +
                           " and expected total " + std::to_string(se) +
                           " differ by more than 1e-8 relatively");
  }
  double stat = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double d = observed[i] - expected[i];
    stat += d * d / expected[i];
  }
  const auto dof = static_cast<int64_t>(observed.size()) - 1;
  return ChiSquareResult{stat, ChiSquareSf(stat, dof), dof};
}

Result<ChiSquareResult> ChiSquareGoodnessOfFit(std::span<const double> observed) {
  constexpr std::string_view kFn = "ChiSquareGoodnessOfFit";
  if (observed.size() < 2) {
    return InvalidArgument(std::string(kFn) + ": needs at least two categories, got " +
                           std::to_string(observed.size()));
  }
  double so = 0;
  VIGIL_RETURN_IF_ERROR(CheckCounts(kFn, "observed", observed, &so));
  VIGIL_RETURN_IF_ERROR(CheckPositiveTotal(kFn, "observed", so));
  const double e = so / static_cast<double>(observed.size());
  double stat = 0;
  for (double o : observed) stat += (o - e) * (o - e) / e;
  const auto dof = static_cast<int64_t>(observed.size()) - 1;
  return ChiSquareResult{stat, ChiSquareSf(stat, dof), dof};
}

Result<ChiSquareResult> ChiSquareDriftTest(std::span<const double> reference_counts,
                                           std::span<const double> current_counts) {
  constexpr std::string_view kFn = "ChiSquareDriftTest";
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "reference_counts", reference_counts));
  VIGIL_RETURN_IF_ERROR(
      CheckSameLength(kFn, "reference_counts", reference_counts, "current_counts", current_counts));
  double sr = 0, sc = 0;
  VIGIL_RETURN_IF_ERROR(CheckCounts(kFn, "reference_counts", reference_counts, &sr));
  VIGIL_RETURN_IF_ERROR(CheckCounts(kFn, "current_counts", current_counts, &sc));
  VIGIL_RETURN_IF_ERROR(CheckPositiveTotal(kFn, "reference_counts", sr));
  VIGIL_RETURN_IF_ERROR(CheckPositiveTotal(kFn, "current_counts", sc));
  double stat = 0;
  int64_t kept = 0;
  bool unseen_before = false;
  for (size_t i = 0; i < reference_counts.size(); ++i) {
    const double r = reference_counts[i], c = current_counts[i];
    if (r == 0 && c == 0) continue;
    ++kept;
    const double e = r / sr * sc;
    if (e == 0) {
      unseen_before = true;
      continue;
    }
    stat += (c - e) * (c - e) / e;
  }
  if (kept < 2) return ChiSquareResult{0.0, 1.0, 0};
  if (unseen_before) return ChiSquareResult{kInf, 0.0, kept - 1};
  return ChiSquareResult{stat, ChiSquareSf(stat, kept - 1), kept - 1};
}

Result<double> PopulationStabilityIndex(std::span<const double> reference_counts,
                                        std::span<const double> current_counts, double epsilon) {
  constexpr std::string_view kFn = "PopulationStabilityIndex";
  VIGIL_RETURN_IF_ERROR(CheckNonEmpty(kFn, "reference_counts", reference_counts));
  VIGIL_RETURN_IF_ERROR(
      CheckSameLength(kFn, "reference_counts", reference_counts, "current_counts", current_counts));
  if (!(epsilon > 0 && epsilon < 1)) {
    return InvalidArgument(std::string(kFn) + ": epsilon must be in (0, 1), got " +
                           std::to_string(epsilon));
  }
  double sr = 0, sc = 0;
  VIGIL_RETURN_IF_ERROR(CheckCounts(kFn, "reference_counts", reference_counts, &sr));
  VIGIL_RETURN_IF_ERROR(CheckCounts(kFn, "current_counts", current_counts, &sc));
  VIGIL_RETURN_IF_ERROR(CheckPositiveTotal(kFn, "reference_counts", sr));
  VIGIL_RETURN_IF_ERROR(CheckPositiveTotal(kFn, "current_counts", sc));
  double psi = 0;
  for (size_t i = 0; i < reference_counts.size(); ++i) {
    double r = reference_counts[i] / sr, c = current_counts[i] / sc;
    if (r == 0) r = epsilon;
    if (c == 0) c = epsilon;
    psi += (c - r) * std::log(c / r);
  }
  return psi;
}

Result<std::vector<double>> BenjaminiHochberg(std::span<const double> p_values) {
  VIGIL_RETURN_IF_ERROR(CheckProbabilities("BenjaminiHochberg", p_values));
  const size_t m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return p_values[x] < p_values[y]; });
  std::vector<double> adjusted(m);
  double running = 1.0;  // min over ranks >= k of p * m / rank, capped at 1
  for (size_t k = m; k-- > 0;) {
    const double candidate =
        p_values[order[k]] * static_cast<double>(m) / static_cast<double>(k + 1);
    running = std::min(running, candidate);
    adjusted[order[k]] = running;
  }
  return adjusted;
}

Result<std::vector<double>> Bonferroni(std::span<const double> p_values) {
  VIGIL_RETURN_IF_ERROR(CheckProbabilities("Bonferroni", p_values));
  std::vector<double> adjusted(p_values.size());
  const auto m = static_cast<double>(p_values.size());
  for (size_t i = 0; i < p_values.size(); ++i) adjusted[i] = std::min(p_values[i] * m, 1.0);
  return adjusted;
}

}  // namespace vigil::monitor
