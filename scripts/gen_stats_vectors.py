#!/usr/bin/python3
"""Generates tests/data/stats_vectors.json: SciPy's answers for src/monitor/stats.h.

Regenerate (from the repository root, with Debian's python3-scipy 1.10.1 and numpy):

    /usr/bin/python3 scripts/gen_stats_vectors.py            # writes tests/data/stats_vectors.json
    /usr/bin/python3 scripts/gen_stats_vectors.py --out FILE

The output is deterministic (seeded numpy Generator, no timestamps), so regenerating with the
same SciPy gives a byte-identical file; a diff means SciPy changed. The script refuses to run
under another SciPy version unless --any-scipy is given, since the C++ code mirrors 1.10.1's
code paths (e.g. ks_2samp's exact/asymptotic switch at max(n1, n2) = 10000).

Samples are stored in one of two forms:
  * a JSON list of numbers (small samples, drawn with numpy and stored at full precision);
  * a generator spec (large samples, to keep the file small), which the C++ test expands:
      {"gen": "splitmix64", "seed": S, "n": N, "dist": D, "loc": L, "scale": C, "sum": X}
    SplitMix64 (Steele et al.) seeded with S yields 64-bit words w; u = (w >> 11) * 2**-53.
    dist "irwin_hall4": x = loc + scale * ((((u1 + u2) + u3) + u4) - 2.0)  (4 draws per value)
    dist "discrete":    x = loc + scale * floor(u * 8.0)                     (1 draw per value)
    Only IEEE-exact operations (+, -, *, floor) are used, so C++ reproduces the values bit for
    bit; "sum" is math.fsum of the values, which the test checks before using the sample.

Expected values come from SciPy 1.10.1 itself, except where SciPy has no function:
Benjamini-Hochberg (false_discovery_control arrived in SciPy 1.11) and PSI are computed with
direct numpy code below, and the "normed" Wasserstein is wasserstein_distance / np.std(ref).
"""

import argparse
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

MASK64 = (1 << 64) - 1
SEED = 20240521


# ----------------------------------------------------------------------------------------------
# Samples


def splitmix64_uniforms(seed, count):
    state = seed & MASK64
    out = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z ^= z >> 31
        out.append((z >> 11) * 2.0**-53)
    return out


def gen_sample(seed, n, dist, loc=0.0, scale=1.0):
    """Returns (values, spec): a sample the C++ test can regenerate from spec."""
    if dist == "irwin_hall4":
        u = splitmix64_uniforms(seed, 4 * n)
        values = [loc + scale * ((((u[4 * i] + u[4 * i + 1]) + u[4 * i + 2]) + u[4 * i + 3]) - 2.0)
                  for i in range(n)]
    elif dist == "discrete":
        u = splitmix64_uniforms(seed, n)
        values = [loc + scale * math.floor(x * 8.0) for x in u]
    else:
        raise ValueError(dist)
    spec = {"gen": "splitmix64", "seed": seed, "n": n, "dist": dist, "loc": loc, "scale": scale,
            "sum": math.fsum(values)}
    return np.array(values), spec


def inline(x):
    return [float(v) for v in np.asarray(x, dtype=float)]


# ----------------------------------------------------------------------------------------------
# Kolmogorov-Smirnov


def ks_case(name, a, b, a_json=None, b_json=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.ks_2samp(a, b)
    fell_back = any("Exact calculation unsuccessful" in str(w.message) for w in caught)
    method = "exact" if max(len(a), len(b)) <= 10000 and not fell_back else "asymp"
    return {
        "name": name,
        "a": a_json if a_json is not None else inline(a),
        "b": b_json if b_json is not None else inline(b),
        "statistic": float(res.statistic),
        "pvalue": float(res.pvalue),
        "method": method,
        "location": float(res.statistic_location),
        "sign": int(res.statistic_sign),
    }


def ks_cases(rng):
    cases = []
    n = rng.normal
    cases.append(ks_case("n5_vs_5_same", n(size=5), n(size=5)))
    # D = 1/5 with n1 == n2 is h = 1: SciPy's exact sum rounds to 1 + 2**-52 and it falls back
    # to the asymptotic distribution (a code path the C++ port must reproduce).
    cases.append(ks_case("n5_vs_5_interleaved_exact_fallback", np.arange(1.0, 6.0),
                         np.arange(1.5, 6.5)))
    cases.append(ks_case("n8_vs_8_shift1", n(size=8), n(1.0, size=8)))
    cases.append(ks_case("n10_vs_15_same", n(size=10), n(size=15)))
    cases.append(ks_case("n20_vs_30_shift05", n(size=20), n(0.5, size=30)))
    cases.append(ks_case("n37_vs_50_scale2", n(size=37), n(0, 2.0, size=50)))
    cases.append(ks_case("n1_vs_1", [0.0], [1.0]))
    cases.append(ks_case("n1_vs_7", [0.3], n(size=7)))
    cases.append(ks_case("n3_vs_40", n(size=3), n(size=40)))
    cases.append(ks_case("ties_int_n40_vs_60", rng.integers(0, 5, 40).astype(float),
                         rng.integers(0, 5, 60).astype(float)))
    cases.append(ks_case("ties_int_n25_vs_25_shift", rng.integers(0, 3, 25).astype(float),
                         rng.integers(1, 4, 25).astype(float)))
    same = n(size=30)
    cases.append(ks_case("identical_n30", same, same.copy()))
    cases.append(ks_case("disjoint_n20", n(size=20), n(100.0, size=20)))
    for i in range(16):
        n1, n2 = int(rng.integers(2, 61)), int(rng.integers(2, 61))
        if i % 4 == 0:
            n2 = n1  # the n1 == n2 exact formula
        shift = float(rng.choice([0.0, 0.0, 0.3, 1.0]))
        a, b = n(size=n1), n(shift, size=n2)
        if i % 3 == 0:  # coarse rounding makes ties
            a, b = np.round(a, 1), np.round(b, 1)
        cases.append(ks_case(f"random_{i}_n{n1}_vs_{n2}_shift{shift}", a, b))

    def gen(seed, size, dist="irwin_hall4", loc=0.0, scale=1.0):
        return gen_sample(seed, size, dist, loc, scale)

    def ks_gen(name, ga, gb):
        return ks_case(name, ga[0], gb[0], ga[1], gb[1])

    # Exact method (max(n1, n2) <= 10000 in SciPy 1.10.1), medium and large sizes.
    cases.append(ks_gen("exact_n2000_vs_3000_same", gen(1, 2000), gen(2, 3000)))
    cases.append(ks_gen("exact_n2000_vs_3000_shift01", gen(3, 2000), gen(4, 3000, loc=0.1)))
    cases.append(ks_gen("exact_n2000_vs_2000_shift005", gen(5, 2000), gen(6, 2000, loc=0.05)))
    cases.append(ks_gen("exact_n1000_vs_1500_discrete", gen(7, 1000, "discrete"),
                        gen(8, 1500, "discrete")))
    cases.append(ks_gen("exact_n10000_vs_7000_shift003", gen(9, 10000), gen(10, 7000, loc=0.03)))
    # Asymptotic method (kstwo.sf(D, round(n1*n2/(n1+n2)))).
    cases.append(ks_gen("asymp_n12000_vs_15000_same", gen(11, 12000), gen(12, 15000)))
    cases.append(ks_gen("asymp_n12000_vs_15000_shift002", gen(13, 12000),
                        gen(14, 15000, loc=0.02)))
    cases.append(ks_gen("asymp_n12000_vs_15000_shift005", gen(15, 12000),
                        gen(16, 15000, loc=0.05)))
    cases.append(ks_gen("asymp_n12000_vs_15000_shift05", gen(17, 12000),
                        gen(18, 15000, loc=0.5)))
    cases.append(ks_gen("asymp_n15000_vs_15000_discrete", gen(19, 15000, "discrete"),
                        gen(20, 15000, "discrete", loc=0.0)))
    big = gen(21, 20000)
    cases.append(ks_case("asymp_n20000_vs_5", big[0], n(size=5), big[1]))
    cases.append(ks_case("asymp_n20000_vs_5_shift", big[0], n(1.5, size=5), big[1]))
    cases.append(ks_case("asymp_n20000_vs_60", big[0], n(0.2, size=60), big[1]))
    cases.append(ks_case("asymp_n20000_vs_300", big[0], n(0.1, size=300), big[1]))
    cases.append(ks_case("asymp_n20000_vs_300_shift", big[0], n(0.4, size=300), big[1]))
    cases.append(ks_case("asymp_n20000_vs_1", big[0], [0.05], big[1]))
    return cases


def kstwo_cases():
    """scipy.stats.kstwo.sf(x, n) over every branch of SciPy's _kolmogn."""
    out = []
    for n in [1, 2, 3, 5, 10, 37, 100, 140, 141, 300, 1000, 5000, 20000, 100000, 100001, 500000,
              3000000]:
        xs = [0.4 / n, 0.6 / n, 0.9 / n, 1.0 / n, 1.5 / n, 0.3, 0.5, 0.6, 0.9,
              1.0 - 1.5 / n, 1.0 - 0.5 / n, 1.0]
        xs += [math.sqrt(c / n) for c in [0.05, 0.3, 0.7, 0.754, 0.76, 1.0, 2.0, 2.19, 2.21, 3.0,
                                          3.99, 4.01, 6.0, 18.0, 50.0, 200.0, 369.0, 371.0]]
        xs += [(f / n) ** (2.0 / 3.0) for f in [0.5, 1.3, 1.5]]  # around n * x**1.5 = 1.4
        for x in sorted(set(xs)):
            if 0.0 < x <= 1.0:
                out.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})
    return out


# ----------------------------------------------------------------------------------------------
# Wasserstein


def wasserstein_case(name, u, v, uw=None, vw=None, u_json=None, v_json=None):
    w = stats.wasserstein_distance(u, v, uw, vw)
    case = {"name": name,
            "u": u_json if u_json is not None else inline(u),
            "v": v_json if v_json is not None else inline(v),
            "distance": float(w)}
    if uw is not None:
        case["u_weights"] = inline(uw)
    if vw is not None:
        case["v_weights"] = inline(vw)
    if uw is None and vw is None:
        std = float(np.std(u))  # population standard deviation (ddof=0), as Evidently uses
        case["reference_std"] = std
        case["normed"] = float(w / std) if std > 0 else None
        case["normed_min_std_0.001"] = float(w / max(std, 0.001))
    return case


def wasserstein_cases(rng):
    n = rng.normal
    c = []
    c.append(wasserstein_case("scipy_doc_unweighted", [0.0, 1.0, 3.0], [5.0, 6.0, 8.0]))
    c.append(wasserstein_case("scipy_doc_weighted", [0.0, 1.0], [0.0, 1.0], [3.0, 1.0],
                              [2.0, 2.0]))
    c.append(wasserstein_case("scipy_doc_weighted2", [3.4, 3.9, 7.5, 7.8], [4.5, 1.4],
                              [1.4, 0.9, 3.1, 7.2], [3.2, 3.5]))
    c.append(wasserstein_case("single_points", [0.0], [5.0]))
    same = n(size=12)
    c.append(wasserstein_case("identical", same, same.copy()))
    c.append(wasserstein_case("constant_reference", [2.0, 2.0, 2.0, 2.0], n(size=6)))
    c.append(wasserstein_case("tiny_std_reference", 1.0 + 1e-5 * n(size=10), n(size=6)))
    c.append(wasserstein_case("n5_vs_7", n(size=5), n(size=7)))
    c.append(wasserstein_case("n30_vs_20_shift", n(size=30), n(1.0, 2.0, size=20)))
    c.append(wasserstein_case("ties", rng.integers(0, 4, 25).astype(float),
                              rng.integers(0, 4, 17).astype(float)))
    for i in range(6):
        n1, n2 = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        c.append(wasserstein_case(f"random_{i}_n{n1}_vs_{n2}", n(size=n1) * 3, n(0.5, size=n2)))
    # Weighted.
    u, v = n(size=8), n(size=11)
    c.append(wasserstein_case("weighted_both", u, v, rng.uniform(0, 2, 8), rng.uniform(0, 5, 11)))
    uw = rng.uniform(0, 1, 8)
    uw[[1, 4]] = 0.0
    c.append(wasserstein_case("weighted_zero_weights", u, v, uw, rng.uniform(0, 1, 11)))
    c.append(wasserstein_case("weighted_u_only", u, v, rng.uniform(0, 1, 8), None))
    c.append(wasserstein_case("weighted_v_only", u, v, None, rng.integers(1, 5, 11).astype(float)))
    c.append(wasserstein_case("weighted_ties", [1.0, 1.0, 2.0, 3.0, 3.0], [1.0, 2.0, 2.0],
                              [0.5, 1.5, 1.0, 2.0, 0.25], [1.0, 3.0, 0.5]))
    w1, w2 = rng.uniform(0, 1, 40), rng.uniform(0, 1, 30)
    c.append(wasserstein_case("weighted_n40_vs_30", n(size=40), n(0.3, size=30), w1, w2))
    # Large, regenerated by the test.
    a, aj = gen_sample(101, 1000, "irwin_hall4")
    b, bj = gen_sample(102, 1500, "irwin_hall4", 0.2, 1.5)
    c.append(wasserstein_case("gen_n1000_vs_1500", a, b, u_json=aj, v_json=bj))
    a, aj = gen_sample(103, 20000, "irwin_hall4")
    b, bj = gen_sample(104, 20000, "irwin_hall4", 0.01)
    c.append(wasserstein_case("gen_n20000_vs_20000", a, b, u_json=aj, v_json=bj))
    a, aj = gen_sample(105, 5000, "discrete")
    b, bj = gen_sample(106, 3000, "discrete", 1.0, 0.5)
    c.append(wasserstein_case("gen_discrete_n5000_vs_3000", a, b, u_json=aj, v_json=bj))
    return c


# ----------------------------------------------------------------------------------------------
# Jensen-Shannon


def js_case(name, p, q):
    d = float(distance.jensenshannon(p, q))
    d2 = float(distance.jensenshannon(p, q, base=2))
    assert not (math.isnan(d) or math.isnan(d2)), name
    return {"name": name, "p": inline(p), "q": inline(q), "distance": d, "distance_base2": d2}


def js_cases(rng):
    c = []
    c.append(js_case("scipy_doc_disjoint", [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]))
    c.append(js_case("scipy_doc_half", [1.0, 0.0], [0.5, 0.5]))
    c.append(js_case("identical_counts", [3.0, 5.0, 2.0], [3.0, 5.0, 2.0]))
    c.append(js_case("scaled_identical", [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]))
    c.append(js_case("zeros_in_p", [0.0, 4.0, 0.0, 6.0], [1.0, 1.0, 1.0, 1.0]))
    c.append(js_case("zeros_in_q", [5.0, 1.0, 2.0, 2.0, 9.0], [0.0, 3.0, 0.0, 0.0, 1.0]))
    c.append(js_case("zeros_in_both", [0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 1.0, 3.0]))
    for i in range(10):
        k = int(rng.integers(2, 31))
        p = rng.integers(0, 50, k).astype(float)
        q = rng.integers(0, 50, k).astype(float)
        p[0] += 1  # keep the sums positive
        q[-1] += 1
        c.append(js_case(f"random_counts_{i}_k{k}", p, q))
    for i in range(4):
        k = int(rng.integers(2, 20))
        c.append(js_case(f"random_probs_{i}_k{k}", rng.dirichlet(np.ones(k)),
                         rng.dirichlet(np.ones(k))))
    return c


# ----------------------------------------------------------------------------------------------
# Chi-square


def chisquare_case(name, f_obs, f_exp):
    res = stats.chisquare(f_obs, f_exp)
    return {"name": name, "f_obs": inline(f_obs), "f_exp": None if f_exp is None else inline(f_exp),
            "statistic": float(res.statistic), "pvalue": float(res.pvalue)}


def chisquare_drift_case(name, ref, cur):
    ref, cur = np.asarray(ref, float), np.asarray(cur, float)
    keep = (ref > 0) | (cur > 0)  # categories seen in neither window carry no information
    expected = ref[keep] / ref.sum() * cur.sum()
    res = stats.chisquare(cur[keep], expected)
    return {"name": name, "reference_counts": inline(ref), "current_counts": inline(cur),
            "statistic": float(res.statistic), "pvalue": float(res.pvalue),
            "dof": int(keep.sum() - 1)}


def chisquare_cases(rng):
    c = []
    c.append(chisquare_case("scipy_doc_uniform", [16, 18, 16, 14, 12, 12], None))
    c.append(chisquare_case("scipy_doc_expected", [16, 18, 16, 14, 12, 12],
                            [16, 16, 16, 16, 16, 8]))
    c.append(chisquare_case("two_categories", [30, 70], [50, 50]))
    c.append(chisquare_case("perfect_fit", [10, 20, 30], [10, 20, 30]))
    for i, k in enumerate([3, 5, 10, 50]):
        probs = rng.dirichlet(np.ones(k))
        obs = rng.multinomial(500, rng.dirichlet(np.ones(k)) if i % 2 else probs).astype(float)
        c.append(chisquare_case(f"random_k{k}", obs, probs * obs.sum()))
    obs = np.array([900.0, 50.0, 50.0])
    c.append(chisquare_case("huge_statistic", obs, np.array([1.0, 1.0, 1.0]) / 3 * obs.sum()))
    d = []
    d.append(chisquare_drift_case("same_proportions", [100, 200, 300], [10, 20, 30]))
    d.append(chisquare_drift_case("shifted", [500, 300, 200], [20, 50, 30]))
    d.append(chisquare_drift_case("unseen_in_both_dropped", [40, 0, 60, 10], [35, 0, 50, 20]))
    d.append(chisquare_drift_case("vanished_category", [40, 10, 60], [35, 0, 50]))
    for i, k in enumerate([4, 12]):
        ref = rng.multinomial(5000, rng.dirichlet(np.ones(k))).astype(float) + 1
        cur = rng.multinomial(700, rng.dirichlet(np.ones(k)) if i else ref / ref.sum())
        d.append(chisquare_drift_case(f"random_k{k}", ref, cur.astype(float)))
    return c, d


# ----------------------------------------------------------------------------------------------
# PSI (numpy; Evidently's definition: empty-bin proportions replaced by epsilon)


def psi_reference(ref, cur, eps):
    r = np.asarray(ref, float) / np.sum(ref)
    c = np.asarray(cur, float) / np.sum(cur)
    np.place(r, r == 0, eps)
    np.place(c, c == 0, eps)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_cases(rng):
    out = []

    def add(name, ref, cur, eps=1e-4):
        out.append({"name": name, "reference_counts": inline(ref), "current_counts": inline(cur),
                    "epsilon": eps, "psi": psi_reference(ref, cur, eps)})

    add("identical", [10, 20, 30, 40], [10, 20, 30, 40])
    add("same_proportions", [10, 20, 30, 40], [1, 2, 3, 4])
    add("moderate_shift", [100, 200, 300, 400], [150, 200, 250, 400])
    add("empty_bin_in_current", [100, 200, 300, 400], [0, 200, 300, 500])
    add("empty_bin_in_reference", [0, 250, 250, 500], [10, 240, 250, 500])
    add("empty_bins_both_sides", [0, 5, 10, 0, 20], [3, 0, 10, 0, 25])
    add("empty_bin_eps_1e-6", [100, 200, 300, 400], [0, 200, 300, 500], 1e-6)
    add("fractional_counts", [0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25])
    for i, k in enumerate([5, 10, 30]):
        ref = rng.multinomial(2000, rng.dirichlet(np.ones(k)))
        cur = rng.multinomial(800, rng.dirichlet(np.ones(k) * (1 if i else 50)))
        add(f"random_k{k}", ref, cur)
    return out


# ----------------------------------------------------------------------------------------------
# Multiple testing (numpy; SciPy 1.10.1 has no false_discovery_control)


def bh_reference(p):
    p = np.asarray(p, float)
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def multiple_testing_cases(rng):
    out = []

    def add(name, p):
        p = np.asarray(p, float)
        out.append({"name": name, "pvalues": inline(p), "bh": inline(bh_reference(p)),
                    "bonferroni": inline(np.minimum(p * p.size, 1.0))})

    add("single", [0.03])
    add("textbook", [0.01, 0.04, 0.03, 0.005, 0.2])
    add("ties_and_bounds", [0.0, 0.05, 0.05, 1.0, 0.5, 0.05])
    add("all_ones", [1.0, 1.0, 1.0])
    add("uniform_20", rng.uniform(size=20))
    add("mixed_100", np.concatenate([rng.uniform(0, 1e-3, 10), rng.uniform(size=90)]))
    return out


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data",
                                                  "stats_vectors.json"))
    ap.add_argument("--any-scipy", action="store_true")
    args = ap.parse_args()
    if scipy.__version__ != "1.10.1" and not args.any_scipy:
        sys.exit(f"expected SciPy 1.10.1, found {scipy.__version__} (use --any-scipy to override)")

    rng = np.random.default_rng(SEED)
    chi, chi_drift = chisquare_cases(rng)
    doc = {
        "generator": "scripts/gen_stats_vectors.py",
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
        "seed": SEED,
        "ks_2samp": ks_cases(rng),
        "kstwo_sf": kstwo_cases(),
        "wasserstein": wasserstein_cases(rng),
        "jensenshannon": js_cases(rng),
        "chisquare": chi,
        "chisquare_drift": chi_drift,
        "psi": psi_cases(rng),
        "multiple_testing": multiple_testing_cases(rng),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")
    print(f"wrote {os.path.normpath(args.out)} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
