#!/usr/bin/env python3
"""Generate space/testdata/rdists_golden.json: reference log-probabilities from
HyperOpt's `hyperopt.rdists` module, used by the Go tests of the distributions
in package space.

This script is our own code; it only imports HyperOpt and records the numbers
it returns. It was run with HyperOpt 0.2.7, numpy and scipy. To regenerate,
clone the tag 0.2.7 of HyperOpt and run, from the repository's root:

    PYTHONPATH=/path/to/hyperopt-0.2.7 python3 space/testdata/gen/rdists.py

(see README.md beside this file for HyperOpt's dependencies). The output path is
fixed relative to this file, so the current directory does not matter.

Kinds and what is evaluated (x is always passed as a numpy array):
  quniform     rdists.quniform_gen(low, high, q).logpmf(x)
  qloguniform  rdists.qloguniform_gen(log(low), log(high), q).logpmf(x)
  loguniform   rdists.loguniform_gen(log(low), log(high)).logpdf(x)
  qnormal      rdists.qnormal_gen(mu, sigma, q).logpmf(x)
  qlognormal   rdists.qlognormal_gen(mu, sigma, q).logpmf(x)
  lognormal    rdists.lognorm_gen(mu, sigma).logpdf(x)

For qloguniform and loguniform the fixtures are chosen by natural bounds and
HyperOpt gets their logs; the JSON records the natural bounds HyperOpt
actually uses, np.exp(math.log(low)) and np.exp(math.log(high)), which can differ from the
chosen value by an ulp (e.g. exp(log(20)) == 19.999999999999996).

JSON: finite numbers are written with repr precision; -inf is written as the
string "-inf" (JSON has no infinities).

Points deliberately left out (see check_value and the fixture comments):
  * lognormal at x < 0: hyperopt's lognorm_gen has support (-inf, inf) (its
    scipy base is built without a=0), so logpdf(x<0) is nan, not -inf. x == 0
    gives -inf and is kept.
  * loguniform at a nominal endpoint that does not survive exp(log(.)): scipy
    checks a <= x <= b with b = exp(log(high)), so e.g. x = 20 for high = 20 is
    -inf in HyperOpt only because of rounding. Only the exact exp(log(.))
    endpoints are used.
  * qlognormal far upper tail: HyperOpt computes the pmf as cdf(ub) - cdf(lb),
    which cancels when both are close to 1; we keep only points where that
    value agrees with an mpmath reference to 1e-9 relative (pmf >~ 1e-6).
Any x for which HyperOpt raises or returns nan is dropped (reported on stderr).
"""

import json
import math
import os
import sys
import warnings

import numpy as np

import hyperopt
import hyperopt.rdists as rdists

try:
    import mpmath
except ImportError:  # only used for a sanity check of qlognormal tails
    mpmath = None

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rdists_golden.json")


def grid(q, k0, k1):
    """q*k for k in [k0, k1], rounded to clean decimal literals."""
    return [round(k * q, 12) for k in range(k0, k1 + 1)]


# ---------------------------------------------------------------- fixtures
# Each fixture: (params dict, list of x). x lists mix grid points, ends,
# far tails, and off-grid / out-of-support points (expected -inf).

QUNIFORM = [
    # low is just above a half-point: lowmass 0.499
    (dict(low=-4.999, high=5, q=1), grid(1, -6, 6) + [0.5, 2.3]),
    # qhigh = 9, highmass (10-9+1.5)/3
    (dict(low=0, high=10, q=3), grid(3, -1, 4) + [1, 10]),
    (dict(low=1.01, high=10, q=1), grid(1, 0, 11) + [1.01, 5.5]),
    # low/q and high/q are integers; half masses at both ends
    (dict(low=0.5, high=2.5, q=0.5), grid(0.5, 0, 6) + [0.75, 1.25]),
    # endpoints on half-points of the grid: np.round is round-half-even, so
    # qlow = 0 gets mass 0 (-inf) and qhigh = 1.0 gets a full cell
    (dict(low=0.25, high=1.25, q=0.5), grid(0.5, -1, 4) + [0.25, 1.25]),
    # the mirror case: qlow = 1.0 full cell, qhigh = 2.0 gets mass 0
    (dict(low=0.75, high=1.75, q=0.5), grid(0.5, 0, 5) + [0.75, 1.75]),
    (dict(low=-1, high=1, q=0.1), grid(0.1, -11, -8) + grid(0.1, -1, 1) + grid(0.1, 8, 11) + [0.05, -0.15]),
    # q wider than the range: a single point 0 with probability 1
    (dict(low=0, high=1, q=5), [-5, 0, 5, 1, 2.5]),
    (dict(low=-100, high=100, q=7), grid(7, -16, -13) + [0] + grid(7, 13, 16) + [3.5, 100]),
]

QLOGUNIFORM = [  # natural bounds
    (dict(low=1.01, high=20, q=2), grid(2, -1, 11) + [1, 3, 1.01]),
    (dict(low=0.5, high=20, q=1), grid(1, -1, 21) + [0.5, 1.5]),
    # qlow is 0
    (dict(low=0.01, high=1, q=0.1), grid(0.1, -1, 11) + [0.01, 0.05, 0.55]),
    (dict(low=1, high=math.exp(3), q=2), grid(2, -1, 11) + [1, 3]),
    (dict(low=1e-3, high=1e3, q=10), grid(10, -1, 3) + [500, 980, 990, 1000, 1010, 1020, 5, 15]),
    # support {0, 5}: 5 > high but exp(X) in (2.5, 3] rounds up to 5
    (dict(low=2, high=3, q=5), [-5, 0, 5, 10, 2, 2.5, 3]),
    (dict(low=1, high=1000, q=1), [0, 1, 2, 3, 10, 100, 500, 999, 1000, 1001, 1.5]),
]

LOGUNIFORM = [  # natural bounds; the exact exp(log(.)) endpoints are added below
    (dict(low=1e-5, high=0.1), [1e-6, 2e-5, 1e-4, 1e-3, 0.01, 0.05, 0.2, 1, 0.0, -1.0]),
    (dict(low=0.5, high=20), [0.25, 0.6, 1, 2, 5, 10, 19, 25, 0.0, -3.0]),
    (dict(low=1, high=2), [0.5, 0.999, 1.001, 1.5, 1.999, 2.001, 3, 0.0]),
    (dict(low=0.01, high=100), [0.005, 0.02, 0.1, 1, 10, 50, 99, 200, 0.0]),
    (dict(low=1e-8, high=1e8), [1e-9, 1e-7, 1e-3, 1, 1e3, 1e7, 1e9, 0.0]),
    (dict(low=3, high=3.5), [2.9, 3.1, 3.25, 3.4, 3.6, 0.0, -1.0]),
]

QNORMAL = [
    (dict(mu=0, sigma=1, q=1), grid(1, -8, 8) + [-40, 40, 0.5, 0.3]),
    (dict(mu=0, sigma=10, q=2), grid(2, -4, 4) + [-100, 100, 1000, -1000, 1, 3]),
    (dict(mu=5, sigma=0.5, q=0.25), grid(0.25, 16, 24) + [0, 10, 5.1, 5.125]),
    (dict(mu=-3, sigma=2, q=1), grid(1, -8, 2) + [-50, 50, -3.5]),
    # mu far from 0: tail evaluation on both sides
    (dict(mu=100, sigma=1, q=1), grid(1, 95, 105) + [0, 50, 130, 200, 100.5]),
    # q wider than sigma
    (dict(mu=0, sigma=1, q=3), grid(3, -4, 4) + [1, 1.5, -2]),
    (dict(mu=0.3, sigma=0.1, q=0.5), grid(0.5, -2, 4) + [0.3, 0.25]),
]

QLOGNORMAL = [
    (dict(mu=0, sigma=1, q=1), grid(1, 0, 8) + [10, 20, 40, 100, -1, 0.5, 2.5]),
    (dict(mu=0, sigma=2, q=1), grid(1, 0, 6) + [10, 50, 100, 500, -2, 1.5]),
    (dict(mu=2, sigma=0.5, q=0.5), grid(0.5, 0, 4) + [5, 7.5, 10, 20, 30, -0.5, 7.25]),
    (dict(mu=-2, sigma=1, q=0.1), grid(0.1, 0, 6) + [1, 2, -0.1, 0.05]),
    (dict(mu=1, sigma=3, q=5), grid(5, 0, 4) + [100, 1000, -5, 2.5, 7]),
    (dict(mu=0, sigma=0.5, q=2), grid(2, 0, 5) + [-2, 1, 3]),
    (dict(mu=5, sigma=0.1, q=10), grid(10, 0, 1) + grid(10, 10, 20) + [5, 145]),
]

LOGNORMAL = [  # x < 0 dropped: hyperopt returns nan there (see header)
    (dict(mu=0, sigma=1), [0.0, 1e-10, 1e-3, 0.1, 0.5, 1, 2, 5, 10, 100, 1e4]),
    (dict(mu=0, sigma=2), [0.0, 1e-10, 1e-3, 0.1, 1, 3, 10, 1e3, 1e6]),
    (dict(mu=-2, sigma=2), [0.0, 1e-6, 0.01, math.exp(-2), 0.5, 1, 10, 1e4]),
    (dict(mu=3, sigma=0.5), [0.0, 0.1, 1, 10, math.exp(3), 30, 100, 1e3]),
    (dict(mu=1, sigma=0.1), [0.0, 1, 2, math.e, 3, 4, 10]),
    (dict(mu=-5, sigma=3), [0.0, 1e-12, 1e-5, 0.01, 1, 100, 1e5]),
]


# ---------------------------------------------------------------- evaluation

dropped = []


def enc(v):
    if v == -math.inf:
        return "-inf"
    assert math.isfinite(v), v
    return float(v)


def qlognormal_ref(mu, sigma, q, x):
    """Accurate pmf with mpmath, only used to screen out cancelled tails."""
    mpmath.mp.dps = 50
    cdf = lambda t: mpmath.ncdf(mpmath.log(t), mu, sigma)
    x = mpmath.mpf(x)
    hi = cdf(x + mpmath.mpf(q) / 2)
    lo = cdf(x - mpmath.mpf(q) / 2) if x != 0 else 0
    return hi - lo


def evaluate(kind, params, xs, fn, check=None):
    out_x, out_lp = [], []
    for x in xs:
        x = float(x)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = float(fn(np.array([x]))[0])
        except Exception as e:  # noqa: BLE001 - record and drop
            dropped.append((kind, params, x, "raised %r" % (e,)))
            continue
        if math.isnan(v) or v == math.inf:
            dropped.append((kind, params, x, "returned %r" % v))
            continue
        if check is not None:
            why = check(x, v)
            if why:
                dropped.append((kind, params, x, why))
                continue
        out_x.append(x)
        out_lp.append(enc(v))
    case = dict(kind=kind)
    case.update({k: float(v) for k, v in params.items()})
    case["x"] = out_x
    case["logp"] = out_lp
    return case


def main():
    cases = []
    for p, xs in QUNIFORM:
        d = rdists.quniform_gen(p["low"], p["high"], p["q"])
        cases.append(evaluate("quniform", p, xs, d.logpmf))

    for p, xs in QLOGUNIFORM:
        llo, lhi = math.log(p["low"]), math.log(p["high"])
        d = rdists.qloguniform_gen(llo, lhi, p["q"])
        # HyperOpt's own natural bounds are np.exp(log): record exactly those
        rec = dict(low=float(np.exp(llo)), high=float(np.exp(lhi)), q=p["q"])
        cases.append(evaluate("qloguniform", rec, xs, d.logpmf))

    for p, xs in LOGUNIFORM:
        llo, lhi = math.log(p["low"]), math.log(p["high"])
        d = rdists.loguniform_gen(llo, lhi)
        lo, hi = float(np.exp(llo)), float(np.exp(lhi))
        assert (lo, hi) == (float(d.a), float(d.b))
        rec = dict(low=lo, high=hi)
        xs = sorted(set([lo, hi] + [x for x in xs if x not in (p["low"], p["high"])]))
        cases.append(evaluate("loguniform", rec, xs, d.logpdf))

    for p, xs in QNORMAL:
        d = rdists.qnormal_gen(p["mu"], p["sigma"], p["q"])
        cases.append(evaluate("qnormal", p, xs, d.logpmf))

    for p, xs in QLOGNORMAL:
        d = rdists.qlognormal_gen(p["mu"], p["sigma"], p["q"])

        def check(x, v, p=p):
            if mpmath is None or v == -math.inf:
                return None
            ref = qlognormal_ref(p["mu"], p["sigma"], p["q"], x)
            rel = abs(math.exp(v) - float(ref)) / float(ref)
            if rel > 1e-9:
                return "cancellation: pmf rel err %.2e vs mpmath" % rel
            return None

        cases.append(evaluate("qlognormal", p, xs, d.logpmf, check))

    for p, xs in LOGNORMAL:
        d = rdists.lognorm_gen(p["mu"], p["sigma"])
        cases.append(evaluate("lognormal", p, xs, d.logpdf))

    doc = {
        "generator": "space/testdata/gen/rdists.py with hyperopt %s" % hyperopt.__version__,
        "cases": cases,
    }
    text = json.dumps(doc, indent=1, allow_nan=False)
    with open(OUT, "w") as f:
        f.write(text + "\n")

    for kind, params, x, why in dropped:
        print("dropped %s %s x=%r: %s" % (kind, params, x, why), file=sys.stderr)
    print("wrote %d cases, %d points to %s"
          % (len(cases), sum(len(c["x"]) for c in cases), os.path.normpath(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
