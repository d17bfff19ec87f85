#!/usr/bin/env python3
"""Generate internal/parzen/testdata/golden.json: reference values from the TPE
numerics of Python's HyperOpt 0.2.7, for the Go tests of package parzen.

This script is our own code; it only imports HyperOpt and records the numbers
that HyperOpt's functions return. It runs with HyperOpt 0.2.7, numpy and
scipy. To regenerate, clone the tag 0.2.7 of HyperOpt and run, from the
repository's root:

    PYTHONPATH=/path/to/hyperopt-0.2.7 python3 internal/parzen/testdata/gen/golden.py

(see README.md beside this file for HyperOpt's dependencies). The output path is
fixed relative to this file, so the current directory does not matter. All
random inputs come from seeded numpy Generators and are written to the JSON,
so the Go tests never need numpy's random streams.

What is evaluated. The functions below are registered in HyperOpt's pyll
symbol table with scope.define / scope.define_info, which return the plain
function, so the module attributes are the raw functions; the script asserts
that each one `is` the implementation in scope._impls.

  parzen       hyperopt.tpe.adaptive_parzen_normal(obs, prior_weight,
               prior_mu, prior_sigma, LF=lf) -> weights, mus, sigmas
  lf_weights   hyperopt.tpe.linear_forgetting_weights(n, lf)
  gmm1_lpdf    hyperopt.tpe.GMM1_lpdf(samples, weights, mus, sigmas, low,
               high, q); p_accept = sum(w * (normal_cdf(high) -
               normal_cdf(low))) with hyperopt.tpe.normal_cdf (1.0 when both
               bounds are None), the same expression GMM1_lpdf uses
  lgmm1_lpdf   hyperopt.tpe.LGMM1_lpdf(...), low/high in log space as
               HyperOpt takes them, samples natural (> 0). p_accept is
               recorded with the same formula although HyperOpt ignores it
               when q is None.
  categorical  the posterior of ap_categorical_sampler / ap_randint_sampler:
               w = linear_forgetting_weights(len(obs), lf);
               counts = hyperopt.pyll.base.bincount(obs, offset, w, K);
               kind "categorical": tpe_cat_pseudocounts(counts, prior_weight,
               p, size=(1,)); kind "randint": (counts + prior_weight) /
               hyperopt.pyll.base.sum(counts + prior_weight) (np.sum).
               Note: in 0.2.7 hp.choice is built on randint, so TPE handles
               choice with the "randint" formula; "categorical" is pchoice.
  split        hyperopt.tpe.ap_split_trials(obs_ids, obs_ids,
               range(len(losses)), losses, gamma) (gamma_cap=25).

Everything runs under np.seterr(all="raise") with underflow ignored, like
HyperOpt's own tests. A fixture that raises is reported on stderr and left
out of the JSON; fixtures found to raise were then removed from this script
with a comment where they were (see "dropped" below). Some inputs are
avoided on purpose because HyperOpt raises on them under seterr:
  * quantized GMM1/LGMM1 at samples where every component's interval mass
    rounds to 0 (far tails: e.g. x = 12 for one N(0, 1) component and q = 1,
    where both normal_cdf values are 1.0): log(0) raises (divide); so the
    quantized fixtures stay within moderate z;
  * quantized samples outside [low, high]: the interval is empty, the mass
    negative, and log raises (invalid);
  * one-sided bounds: GMM1_lpdf/LGMM1_lpdf compute normal_cdf(None, ...),
    a TypeError, so every fixture has both bounds or neither.
Inputs whose result would depend on how np.argsort orders ties are also
avoided (checked by assertions): in parzen, equal observations always get
equal linear-forgetting weights; in split, the finite losses are distinct
and n_below never reaches into the +inf (pending/failed) group, except with
a single trial.

JSON: floats are written with repr (shortest round-trip); non-finite floats
are the strings "inf", "-inf", "nan"; absent bounds and q are null.
"""

import math
import os
import sys

import numpy as np

import hyperopt
import hyperopt.pyll.base as pyll_base
import hyperopt.tpe as tpe
from hyperopt.pyll import scope

assert hyperopt.__version__ == "0.2.7", hyperopt.__version__

np.seterr(all="raise")
np.seterr(under="ignore")

for _name in (
    "adaptive_parzen_normal",
    "linear_forgetting_weights",
    "GMM1_lpdf",
    "LGMM1_lpdf",
    "normal_cdf",
    "tpe_cat_pseudocounts",
    "ap_split_trials",
):
    assert scope._impls[_name] is getattr(tpe, _name), _name
assert scope._impls["bincount"] is pyll_base.bincount
assert scope._impls["sum"] is pyll_base.sum

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden.json")
LF = 25  # hyperopt.tpe.DEFAULT_LF
assert tpe.DEFAULT_LF == LF

DROPPED = []
NAN_OUTPUTS = []


def flist(a):
    return [float(v) for v in np.asarray(a, dtype="float64").ravel()]


def run(section, name, fn):
    try:
        return fn()
    except Exception as e:  # FloatingPointError, TypeError, AssertionError, ...
        DROPPED.append((section, name, repr(e)))
        print("dropped %s/%s: %r" % (section, name, e), file=sys.stderr)
        return None


# ---------------------------------------------------------------- parzen

def parzen_fixtures():
    fx = []

    def add(name, obs, pw, mu, sigma, lf=LF):
        fx.append(dict(name=name, obs=flist(obs), prior_weight=float(pw),
                       prior_mu=float(mu), prior_sigma=float(sigma), lf=int(lf)))

    add("n0", [], 1.0, 0.0, 1.0)
    add("n0_pw2.5", [], 2.5, 3.0, 0.5)
    add("n1_prior_below", [2.0], 1.0, 0.0, 4.0)
    add("n1_prior_above", [-1.5], 1.0, 0.5, 2.0)
    add("n1_equal_prior", [0.5], 1.0, 0.5, 2.0)  # prior_mu == obs -> prior second
    add("n2", [0.3, -0.7], 1.0, 0.0, 1.0)
    add("n2_duplicate", [1.0, 1.0], 1.0, 3.0, 2.0)
    add("n3_prior_above_all", [1.0, 3.0, 2.5], 1.0, 5.0, 10.0)
    add("n3_prior_below_all", [1.0, 3.0, 2.5], 0.01, -10.0, 10.0)
    add("n3_equal_prior", [2.0, 1.0, 2.0], 1.0, 2.0, 3.0)  # searchsorted left
    rng = np.random.default_rng(20240501)
    add("n10_uniform", rng.uniform(-5, 5, 10), 1.0, 0.0, 10.0)
    add("n10_dups_equal_prior", [1, 1, 1, 2, 2, 3, 0.5, 0.5, 4, 1], 1.0, 2.0, 4.0)
    # clustered (gaps below prior_sigma/(n+2)) and far (gaps above prior_sigma)
    add("n10_far_clip_both", [100.0, 100.001, 100.002, 150.0, 200.0, -80.0,
                              -80.0005, 300.0, 100.0015, -200.0], 1.0, 0.0, 1.0)
    add("n10_lf5", rng.normal(0, 1, 10), 1.0, 0.0, 2.0, lf=5)
    add("n12_small_sigma", rng.normal(0.01, 1e-3, 12), 1.0, 0.01, 1e-3)
    add("n15_large_sigma", rng.normal(500, 1000, 15), 1.0, 0.0, 1e4)
    add("n20_log_space", np.log(np.exp(rng.uniform(np.log(1e-3), np.log(10), 20))),
        1.0, 0.5 * (math.log(1e-3) + math.log(10)), math.log(10) - math.log(1e-3))
    add("n24", rng.normal(1, 2, 24), 1.0, 0.0, 5.0)
    add("n25", rng.normal(1, 2, 25), 1.0, 0.0, 5.0)
    add("n26", rng.normal(1, 2, 26), 1.0, 0.0, 5.0)
    o = rng.uniform(-3, 3, 30)
    o[[10, 17, 29]] = o[12]        # duplicates, all in the unramped last 25
    o[[20, 25]] = 0.0              # equal to prior_mu, also in the last 25
    add("n30_dups_pw2.5", o, 2.5, 0.0, 6.0)
    add("n30_pw0.01", rng.uniform(0, 1, 30), 0.01, 0.5, 1.0)
    add("n100", rng.normal(0, 1, 100), 1.0, 0.0, 3.0)
    add("n100_far_outside", rng.uniform(-50, 50, 100), 1.0, 0.0, 1.0)
    add("n100_pw2.5", rng.uniform(0, 10, 100), 2.5, 5.0, 10.0)
    return fx


def parzen_case(f):
    obs = np.asarray(f["obs"], dtype="float64")
    # ties are only allowed where their order cannot matter
    lfw = tpe.linear_forgetting_weights(len(obs), f["lf"]) if f["lf"] < len(obs) \
        else np.ones(len(obs))
    for v in np.unique(obs):
        assert len(set(lfw[obs == v])) <= 1, (f["name"], v)
    w, m, s = tpe.adaptive_parzen_normal(obs, f["prior_weight"], f["prior_mu"],
                                         f["prior_sigma"], LF=f["lf"])
    return dict(f, weights=flist(w), mus=flist(m), sigmas=flist(s))


# ---------------------------------------------------------------- lf_weights

LF_WEIGHTS = [(0, 25), (1, 25), (24, 25), (25, 25), (26, 25), (30, 25),
              (100, 25), (10, 5)]


# ---------------------------------------------------------------- GMM1

def parzen_mixture(obs, pw, mu, sigma):
    w, m, s = tpe.adaptive_parzen_normal(np.asarray(obs, dtype="float64"), pw, mu, sigma)
    return flist(w), flist(m), flist(s)


MATH_W = [0.1, 0.3, 0.4, 0.2]


def gmm1_fixtures():
    fx = []

    def add(name, samples, w, m, s, low=None, high=None, q=None):
        fx.append(dict(name=name, samples=flist(samples), weights=flist(w),
                       mus=flist(m), sigmas=flist(s),
                       low=None if low is None else float(low),
                       high=None if high is None else float(high),
                       q=None if q is None else float(q)))

    # hyperopt's TestGMM1 lpdf cases
    add("test_scalar_one_component", [1.0], [1.0], [1.0], [2.0])
    add("test_three_components", [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1000.0],
        [0.25, 0.25, 0.5], [0.0, 1.0, 2.0], [1.0, 2.0, 5.0])
    # TestGMM1Math / TestQGMM1Math
    mm, ms = [1.0, 2.0, 3.0, 4.0], [0.1, 0.4, 0.8, 2.0]
    add("math_basic", [-56.0, -20.0, -3.0, 0.0, 0.7, 1.0, 1.05, 1.5, 2.0, 2.9,
                       3.0, 3.6, 4.0, 7.5, 12.0, 30.0, 64.0],
        MATH_W, mm, ms)
    add("math_bounded_2.5_3.5", [2.5, 2.6, 2.75, 3.0, 3.2, 3.4999, 3.5],
        MATH_W, mm, ms, 2.5, 3.5)
    add("qmath_basic_q1", np.arange(-3, 11), MATH_W, mm, ms, q=1)
    add("qmath_basic_q2", np.arange(-4, 14, 2), MATH_W, mm, ms, q=2)
    add("qmath_basic_q0.5", np.arange(-2, 9, 0.5), MATH_W, mm, ms, q=0.5)
    add("qmath_bounded_2_4_q1", [2.0, 3.0, 4.0], MATH_W, mm, ms, 2, 4, 1)
    add("qmath_bounded_2_4_q2", [2.0, 4.0], MATH_W, mm, ms, 2, 4, 2)
    add("qmath_bounded_1_4.1_q1", [1.0, 2.0, 3.0, 4.0, 4.1], MATH_W, mm, ms, 1, 4.1, 1)
    add("qmath_bounded_1_4.1_q2", [1.0, 2.0, 4.0, 4.1], MATH_W, mm, ms, 1, 4.1, 2)
    add("qmath_bounded_3", np.arange(1, 11),
        [0.14285714, 0.28571429, 0.28571429, 0.28571429],
        [5.505, 7.0, 2.0, 10.0], [8.99, 5.0, 8.0, 8.0], 1.01, 10, 1)
    add("qmath_bounded_3b", [1.01, 1.0, 2.0, 5.0, 9.0, 10.0],
        [0.33333333, 0.66666667], [5.505, 5.0], [8.99, 5.19], 1.01, 10, 1)
    # one component
    add("one_component_tails", [-28.0, -10.0, -1.0, 2.0, 2.5, 3.0, 12.0, 32.0],
        [1.0], [2.0], [1.0])
    add("one_component_bounded", [0.0, 0.5, 1.0, 2.0, 3.999, 4.0],
        [1.0], [2.0], [1.0], 0.0, 4.0)
    add("one_component_bounded_q0.5", [0.0, 0.5, 1.0, 2.0, 3.5, 4.0],
        [1.0], [2.0], [1.0], 0.0, 4.0, 0.5)
    # 3 components: uniform(-2, 6) posterior after two observations
    w3, m3, s3 = parzen_mixture([0.5, 4.0], 1.0, 2.0, 8.0)
    add("parzen3_bounded", [-2.0, -1.9, 0.0, 0.5, 2.0, 3.9, 4.0, 5.99, 6.0],
        w3, m3, s3, -2.0, 6.0)
    add("parzen3_unbounded_tails", [-238.0, -100.0, -20.0, 0.5, 2.0, 4.0, 30.0, 242.0],
        w3, m3, s3)
    add("parzen3_bounded_q2", [-2.0, 0.0, 2.0, 4.0, 6.0], w3, m3, s3, -2.0, 6.0, 2)
    # 11 components: uniform(0, 10) posterior after ten observations
    rng = np.random.default_rng(77)
    w11, m11, s11 = parzen_mixture(rng.uniform(0, 10, 10), 1.0, 5.0, 10.0)
    add("parzen11_bounded", np.concatenate([[0.0, 10.0], rng.uniform(0, 10, 8)]),
        w11, m11, s11, 0.0, 10.0)
    add("parzen11_unbounded_tails", [-295.0, -150.0, -30.0, -1.0, 0.0, 3.3, 5.0,
                                     7.7, 10.0, 40.0, 180.0, 305.0],
        w11, m11, s11)
    add("parzen11_bounded_q0.5", np.arange(0, 10.5, 0.5), w11, m11, s11, 0.0, 10.0, 0.5)
    add("parzen11_unbounded_q1", np.arange(-10, 21), w11, m11, s11, q=1)
    # normal(0, 1) posterior after 30 observations (linear forgetting)
    w31, m31, s31 = parzen_mixture(rng.normal(0, 1, 30), 1.0, 0.0, 1.0)
    add("parzen31_normal_tails", [-30.0, -8.0, -2.0, -0.5, 0.0, 0.25, 1.0, 3.0, 9.0, 30.0],
        w31, m31, s31)
    add("parzen31_normal_q0.5", np.arange(-4, 4.5, 0.5), w31, m31, s31, q=0.5)
    return fx


def p_accept(f):
    if f["low"] is None and f["high"] is None:
        return 1.0
    w, m, s = (np.asarray(f[k], dtype="float64") for k in ("weights", "mus", "sigmas"))
    return float(np.sum(w * (tpe.normal_cdf(f["high"], m, s) - tpe.normal_cdf(f["low"], m, s))))


def lpdf_case(fn, f):
    args = [np.asarray(f[k], dtype="float64") for k in ("samples", "weights", "mus", "sigmas")]
    out = fn(*args, low=f["low"], high=f["high"], q=f["q"])
    out = flist(out)
    assert len(out) == len(f["samples"])
    pa = p_accept(f)
    if any(math.isnan(v) for v in out) or math.isnan(pa):
        NAN_OUTPUTS.append(f["name"])
    return dict(f, lpdf=out, p_accept=pa)


# ---------------------------------------------------------------- LGMM1

def lgmm1_fixtures():
    fx = []

    def add(name, samples, w, m, s, low=None, high=None, q=None):
        samples = flist(samples)
        assert min(samples) > 0, name
        fx.append(dict(name=name, samples=samples, weights=flist(w),
                       mus=flist(m), sigmas=flist(s),
                       low=None if low is None else float(low),
                       high=None if high is None else float(high),
                       q=None if q is None else float(q)))

    e = lambda v: float(np.exp(v))  # noqa: E731  natural value of a log bound
    # TestLGMM1Math
    lm, ls = [-2.0, 1.0, 0.0, 3.0], [0.1, 0.4, 0.8, 2.0]
    add("math_basic", [e(-57.0), e(-10.0), 0.05, e(-2.0), 0.2, 0.5, 1.0, e(1.0),
                       5.0, e(3.0), 100.0, e(20.0), e(63.0)],
        MATH_W, lm, ls)
    add("math_bounded_2_4", [e(2.0), 7.5, 10.0, 20.0, 40.0, 54.0, e(4.0)],
        MATH_W, lm, ls, 2.0, 4.0)
    # TestQLGMM1Math
    qm, qs = [-2.0, 0.0, -3.0, 1.0], [2.1, 0.4, 0.8, 2.1]
    add("qmath_basic_q1", [0.25, 0.5, 1, 2, 3, 4, 5, 7, 10, 20, 50, 100], MATH_W, qm, qs, q=1)
    add("qmath_basic_q2", [0.5, 1, 2, 4, 6, 8, 10, 20, 50, 100], MATH_W, qm, qs, q=2)
    add("qmath_basic_q0.5", np.arange(0.5, 6.5, 0.5), MATH_W, qm, qs, q=0.5)
    add("qmath_basic_q0.125", np.concatenate([[0.03125], np.arange(0.125, 2.125, 0.125)]),
        MATH_W, qm, qs, q=0.125)
    add("qmath_bounded_2_4_q1", [e(2.0), 8, 9, 10, 15, 20, 30, 54, e(4.0)], MATH_W, qm, qs, 2, 4, 1)
    add("qmath_bounded_2_4_q2", [e(2.0), 8, 10, 20, 40, 54, e(4.0)], MATH_W, qm, qs, 2, 4, 2)
    add("qmath_bounded_1_4.1_q1", [e(1.0), 3, 4, 5, 10, 30, 60, e(4.1)], MATH_W, qm, qs, 1, 4.1, 1)
    add("qmath_bounded_1_4.1_q2", [e(1.0), 4, 6, 10, 30, 60, e(4.1)], MATH_W, qm, qs, 1, 4.1, 2)
    # one component (lognormal(0, 1))
    add("one_component_tails", [e(-30.0), e(-8.0), 0.1, 0.5, 1.0, 2.0, 10.0, e(8.0), e(30.0)],
        [1.0], [0.0], [1.0])
    add("one_component_q1_clip0", [0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 10.0],
        [1.0], [0.0], [1.0], q=1)
    # loguniform(1e-3, 10) posteriors: low/high in log space
    lo, hi = math.log(1e-3), math.log(10.0)
    pm, ps = 0.5 * (lo + hi), hi - lo
    w3, m3, s3 = parzen_mixture(np.log([0.01, 2.0]), 1.0, pm, ps)
    add("loguniform_parzen3_bounded", [e(lo), 0.002, 0.01, 0.1, 1.0, 2.0, 9.99, e(hi)],
        w3, m3, s3, lo, hi)
    add("lognormal_parzen3_unbounded", [e(-60.0), 1e-6, 0.01, 1.0, 100.0, e(60.0)],
        w3, m3, s3)
    rng = np.random.default_rng(99)
    obs11 = np.exp(rng.uniform(lo, hi, 10))
    w11, m11, s11 = parzen_mixture(np.log(obs11), 1.0, pm, ps)
    add("loguniform_parzen11_bounded", np.concatenate([[e(lo), e(hi)], obs11[:4],
                                                       np.exp(rng.uniform(lo, hi, 6))]),
        w11, m11, s11, lo, hi)
    add("lognormal_parzen11_unbounded", [e(-150.0), 1e-9, 1e-3, 0.05, 1.0, 7.0, 1e3, e(140.0)],
        w11, m11, s11)
    # qloguniform(1, 100, q): ap_qloguniform_sampler takes log(max(obs, exp(low)))
    qlo, qhi = math.log(1.0), math.log(100.0)
    qobs = np.maximum(np.round(np.exp(rng.uniform(qlo, qhi, 10))), max(tpe.EPS, e(qlo)))
    wq, mq, sq = parzen_mixture(np.log(qobs), 1.0, 0.5 * (qlo + qhi), qhi - qlo)
    add("qloguniform_parzen11_q1", [e(qlo), 2, 3, 5, 10, 25, 50, 99, e(qhi)],
        wq, mq, sq, qlo, qhi, 1)
    add("qloguniform_parzen11_q2", [e(qlo), 2, 4, 10, 50, 98, e(qhi)],
        wq, mq, sq, qlo, qhi, 2)
    add("qlognormal_parzen11_q0.5", [0.1, 0.2, 0.5, 1.0, 1.5, 3.0, 10.0, 50.0, 100.0],
        wq, mq, sq, q=0.5)
    add("qlognormal_parzen11_q2_clip0", [0.5, 1.0, 2.0, 4.0, 10.0, 100.0, 400.0],
        wq, mq, sq, q=2)
    return fx


# ---------------------------------------------------------------- categorical

def categorical_fixtures():
    fx = []

    def add(name, kind, obs, k, offset, p, pw, lf=LF):
        fx.append(dict(name=name, kind=kind, obs=[int(v) for v in obs], k=int(k),
                       offset=int(offset), p=None if p is None else flist(p),
                       prior_weight=float(pw), lf=int(lf)))

    rng = np.random.default_rng(4242)
    u3 = [1.0 / 3] * 3
    p4 = [0.1, 0.2, 0.3, 0.4]
    add("choice_uniform_k3", "categorical", [0, 2, 2, 1, 2], 3, 0, u3, 1.0)
    add("choice_uniform_k3_0obs", "categorical", [], 3, 0, u3, 1.0)
    add("choice_uniform_k3_30obs", "categorical", rng.integers(0, 3, 30), 3, 0, u3, 1.0)
    add("pchoice_p4", "categorical", [3, 3, 0, 2, 3, 1, 3], 4, 0, p4, 1.0)
    add("pchoice_p4_0obs_pw0.5", "categorical", [], 4, 0, p4, 0.5)
    add("pchoice_p4_30obs_pw0.5", "categorical", rng.integers(0, 4, 30), 4, 0, p4, 0.5)
    add("pchoice_p4_unobserved_cat", "categorical", [0, 1, 1, 0, 3], 4, 0, p4, 1.0)
    add("pchoice_p4_10obs_lf5", "categorical", rng.integers(0, 4, 10), 4, 0, p4, 1.0, lf=5)
    add("randint_k5", "randint", [0, 4, 4, 2, 1, 4, 0, 4], 5, 0, None, 1.0)
    add("randint_k5_0obs", "randint", [], 5, 0, None, 1.0)
    add("randint_k5_30obs_pw0.5", "randint", rng.integers(0, 4, 30), 5, 0, None, 0.5)
    add("randint_k10_offset12_pw0.5", "randint", rng.integers(12, 22, 12), 10, 12, None, 0.5)
    add("randint_k10_offset12_30obs", "randint", rng.integers(12, 22, 30), 10, 12, None, 1.0)
    add("randint_k10_offset12_40obs_pw0.5", "randint", rng.integers(12, 22, 40), 10, 12, None, 0.5)
    return fx


def categorical_case(f):
    obs = np.asarray(f["obs"], dtype="int")
    w = tpe.linear_forgetting_weights(len(obs), f["lf"])
    counts = pyll_base.bincount(obs, offset=f["offset"], weights=w, minlength=f["k"])
    assert len(counts) == f["k"], f["name"]
    if f["kind"] == "categorical":
        assert f["offset"] == 0
        post = tpe.tpe_cat_pseudocounts(counts, f["prior_weight"], np.asarray(f["p"]), size=(1,))
    else:
        pseudo = counts + f["prior_weight"]
        post = pseudo / pyll_base.sum(pseudo)
    return dict(f, posterior=flist(post))


# ---------------------------------------------------------------- split

def split_fixtures():
    fx = []
    rng = np.random.default_rng(31337)

    def add(name, losses, gamma, obs_ids):
        fx.append(dict(name=name, losses=flist(losses), gamma=float(gamma),
                       obs_ids=[int(v) for v in obs_ids]))

    def losses(n, n_inf=0):
        v = rng.normal(0, 1, n)
        if n_inf:
            v[rng.choice(n, n_inf, replace=False)] = np.inf
        return v

    def subset(n, frac):
        return np.flatnonzero(rng.random(n) < frac)

    add("n1", losses(1), 0.25, [0])
    add("n1_inf", [np.inf], 0.25, [0])
    add("n2", losses(2), 0.25, [0, 1])
    add("n2_one_inf", [np.inf, 0.3], 0.25, [0, 1])
    add("n5_inf", losses(5, 1), 0.25, range(5))
    add("n20_inf_subset", losses(20, 3), 0.25, subset(20, 0.6))
    l20 = losses(20)
    best = set(np.argsort(l20)[:2].tolist())
    add("n20_best_inactive", l20, 0.25, [i for i in range(20) if i not in best])
    add("n20_none_active", losses(20), 0.25, [])
    add("n64", losses(64), 0.25, range(64))  # n_below = 2 exactly
    add("n100_inf_subset", losses(100, 10), 0.25, subset(100, 0.5))
    add("n100_gamma0.05", losses(100), 0.05, range(100))
    add("n400_subset", losses(400), 0.25, subset(400, 0.7))  # n_below = 5 exactly
    add("n400_gamma0.5_inf", losses(400, 30), 0.5, range(400))
    add("n700_inf", losses(700, 20), 0.25, range(700))
    add("n700_gamma1_cap", losses(700, 5), 1.0, subset(700, 0.8))  # ceil(26.46) capped at 25
    return fx


def split_case(f):
    l = np.asarray(f["losses"], dtype="float64")
    n_below = min(int(np.ceil(f["gamma"] * np.sqrt(len(l)))), LF)
    fin = l[np.isfinite(l)]
    assert len(np.unique(fin)) == len(fin), f["name"]
    assert len(l) == 1 or n_below <= len(fin), f["name"]
    ids = np.asarray(f["obs_ids"], dtype="int")
    assert np.all(np.diff(ids) > 0)
    below, above = tpe.ap_split_trials(ids, ids, np.arange(len(l)), l, f["gamma"])
    return dict(f, below=[int(v) for v in below], above=[int(v) for v in above])


# ---------------------------------------------------------------- output

def enc(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return '"nan"'
        if math.isinf(v):
            return '"inf"' if v > 0 else '"-inf"'
        return repr(v)
    if isinstance(v, str):
        import json
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(enc(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(enc(k) + ": " + enc(x) for k, x in v.items()) + "}"
    raise TypeError(type(v))


def main():
    sections = [
        ("parzen", [run("parzen", f["name"], lambda f=f: parzen_case(f))
                    for f in parzen_fixtures()]),
        ("lf_weights", [run("lf_weights", "%d/%d" % nl,
                            lambda nl=nl: dict(n=nl[0], lf=nl[1],
                                               weights=flist(tpe.linear_forgetting_weights(*nl))))
                        for nl in LF_WEIGHTS]),
        ("gmm1_lpdf", [run("gmm1_lpdf", f["name"], lambda f=f: lpdf_case(tpe.GMM1_lpdf, f))
                       for f in gmm1_fixtures()]),
        ("lgmm1_lpdf", [run("lgmm1_lpdf", f["name"], lambda f=f: lpdf_case(tpe.LGMM1_lpdf, f))
                        for f in lgmm1_fixtures()]),
        ("categorical", [run("categorical", f["name"], lambda f=f: categorical_case(f))
                         for f in categorical_fixtures()]),
        ("split", [run("split", f["name"], lambda f=f: split_case(f))
                   for f in split_fixtures()]),
    ]
    lines = ["{", ' "generator": "internal/parzen/testdata/gen/golden.py with hyperopt %s",'
             % hyperopt.__version__]
    for i, (key, cases) in enumerate(sections):
        cases = [c for c in cases if c is not None]
        lines.append(" %s: [" % enc(key))
        lines.append(",\n".join("  " + enc(c) for c in cases))
        lines.append(" ]" + ("," if i < len(sections) - 1 else ""))
        print("%s: %d cases" % (key, len(cases)), file=sys.stderr)
    lines.append("}")
    with open(OUT, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    if NAN_OUTPUTS:
        print("fixtures with nan outputs: %s" % NAN_OUTPUTS, file=sys.stderr)
    if DROPPED:
        print("%d fixtures dropped" % len(DROPPED), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
