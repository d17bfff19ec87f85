package parzen

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// Property tests: what the sampler draws agrees with what the densities
// say (HyperOpt's TestGMM1Math, TestQGMM1Math, TestLGMM1Math and
// TestQLGMM1Math, with a chi-square test in place of their squared-error
// thresholds), the densities are normalized, draws stay in bounds and on the
// grid, Fit keeps its contract on any input (FuzzParzen), and Categorical
// and Split keep theirs. Every random stream is a seeded PCG, so a failure
// reproduces.

func pcg(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x7e57ab1e)) }

// mixCase is a mixture with its truncation and quantization: a Gaussian
// mixture, or with log a log-Gaussian one (low and high bound the
// logarithm).
type mixCase struct {
	name      string
	m         Mixture
	low, high float64
	q         float64
	log       bool
}

func (c *mixCase) bounded() bool { return !math.IsInf(c.low, -1) || !math.IsInf(c.high, 1) }

func (c *mixCase) lpdf(dst, x []float64) []float64 {
	if c.log {
		return LGMMLogPDF(dst, x, &c.m, c.low, c.high, c.q)
	}
	return GMMLogPDF(dst, x, &c.m, c.low, c.high, c.q)
}

func (c *mixCase) sample(r *rand.Rand, n int) []float64 {
	return Sample(nil, r, &c.m, c.low, c.high, c.q, c.log, n)
}

// tDensity returns the density at t of the variable the mixture is a
// Gaussian mixture of (x, or log x for a log mixture), computed from
// exp(lpdf) alone: for a log mixture exp(lpdf(e^t))·e^t.
func (c *mixCase) tDensity() func([]float64) []float64 {
	return func(ts []float64) []float64 {
		xs := slices.Clone(ts)
		if c.log {
			for i, t := range ts {
				xs[i] = math.Exp(t)
			}
		}
		d := c.lpdf(nil, xs)
		for i, l := range d {
			d[i] = math.Exp(l)
			if c.log {
				d[i] *= xs[i]
			}
		}
		return d
	}
}

// xDensity returns exp(lpdf) at each point.
func (c *mixCase) xDensity() func([]float64) []float64 {
	return func(xs []float64) []float64 {
		d := c.lpdf(nil, xs)
		for i, l := range d {
			d[i] = math.Exp(l)
		}
		return d
	}
}

// vec evaluates f at each point.
func vec(f func(float64) float64) func([]float64) []float64 {
	return func(xs []float64) []float64 {
		ys := make([]float64, len(xs))
		for i, x := range xs {
			ys[i] = f(x)
		}
		return ys
	}
}

// span returns where the mixture's mass is, in t: min μ-kσ, max μ+kσ.
func (c *mixCase) span(k float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, mu := range c.m.Mus {
		lo = math.Min(lo, mu-k*c.m.Sigmas[i])
		hi = math.Max(hi, mu+k*c.m.Sigmas[i])
	}
	return lo, hi
}

// integrate returns ∫_a^b f by gonum's 24-point Gauss–Legendre rule on
// pieces equal pieces, evaluating f once at all the nodes.
func integrate(f func([]float64) []float64, a, b float64, pieces int) float64 {
	const nodes = 24
	xs := make([]float64, pieces*nodes)
	ws := make([]float64, pieces*nodes)
	h := (b - a) / float64(pieces)
	for i := range pieces {
		lo, hi := a+float64(i)*h, a+float64(i+1)*h
		if i == pieces-1 {
			hi = b
		}
		quad.Legendre{}.FixedLocations(xs[i*nodes:(i+1)*nodes], ws[i*nodes:(i+1)*nodes], lo, hi)
	}
	s := 0.0
	for i, y := range f(xs) {
		s += ws[i] * y
	}
	return s
}

// refMass is the mixture's mass in t ∈ [a, b] from gonum's normal CDF, not
// this package's, relative to the total weight. (Above the mean it reflects
// the CDF: gonum's Survival is 1 - erf, which loses the upper tail.)
func refMass(m *Mixture, a, b float64) float64 {
	p, sw := 0.0, 0.0
	for k, w := range m.Weights {
		mu := m.Mus[k]
		d := distuv.Normal{Mu: mu, Sigma: m.Sigmas[k]}
		if b <= mu {
			p += w * (d.CDF(b) - d.CDF(a))
		} else if a >= mu {
			p += w * (d.CDF(2*mu-a) - d.CDF(2*mu-b))
		} else {
			p += w * (1 - d.CDF(a) - d.CDF(2*mu-b))
		}
		sw += w
	}
	return p / sw
}

// chiSquare compares counts with expected counts, merging cells left to
// right until each expects at least 5, and returns the p-value and the
// number of merged cells.
func chiSquare(obs, exp []float64) (p float64, cells int) {
	var os, es []float64
	o, e := 0.0, 0.0
	for i := range obs {
		o += obs[i]
		e += exp[i]
		if e >= 5 {
			os, es = append(os, o), append(es, e)
			o, e = 0, 0
		}
	}
	if len(es) < 2 {
		return 1, len(es)
	}
	os[len(os)-1] += o
	es[len(es)-1] += e
	stat := 0.0
	for i := range os {
		d := os[i] - es[i]
		stat += d * d / es[i]
	}
	return distuv.ChiSquared{K: float64(len(os) - 1)}.Survival(stat), len(os)
}

func hoGMM() Mixture {
	return Mixture{[]float64{0.1, 0.3, 0.4, 0.2}, []float64{1, 2, 3, 4}, []float64{0.1, 0.4, 0.8, 2.0}}
}

// samplerCases are HyperOpt's TestGMM1Math, TestQGMM1Math, TestLGMM1Math
// and TestQLGMM1Math mixtures over every bound and q the brief asks for.
func samplerCases() []mixCase {
	inf := math.Inf(1)
	var cs []mixCase
	for _, b := range [][2]float64{{-inf, inf}, {2.5, 3.5}, {2, 4}, {1, 4.1}} {
		for _, q := range []float64{0, 0.5, 1, 2} {
			cs = append(cs, mixCase{name: fmt.Sprintf("GMM1 [%g,%g] q=%g", b[0], b[1], q), m: hoGMM(), low: b[0], high: b[1], q: q})
		}
	}
	// TestQGMM1Math's bounded_3 and bounded_3b (weights not summing to 1).
	cs = append(cs,
		mixCase{name: "QGMM1 bounded_3", m: Mixture{[]float64{0.14285714, 0.28571429, 0.28571429, 0.28571429}, []float64{5.505, 7, 2, 10}, []float64{8.99, 5, 8, 8}}, low: 1.01, high: 10, q: 1},
		mixCase{name: "QGMM1 bounded_3b", m: Mixture{[]float64{0.33333333, 0.66666667}, []float64{5.505, 5}, []float64{8.99, 5.19}}, low: 1.01, high: 10, q: 1},
	)
	logBounds := [][2]float64{{-inf, inf}, {2, 4}, {1, 4.1}, {0, 1.5}}
	for _, b := range logBounds {
		// TestLGMM1Math's mixture.
		m := Mixture{[]float64{0.1, 0.3, 0.4, 0.2}, []float64{-2, 1, 0, 3}, []float64{0.1, 0.4, 0.8, 2.0}}
		cs = append(cs, mixCase{name: fmt.Sprintf("LGMM1 log in [%g,%g]", b[0], b[1]), m: m, low: b[0], high: b[1], log: true})
	}
	for _, b := range logBounds {
		for _, q := range []float64{0.125, 0.5, 1, 2} {
			// TestQLGMM1Math's mixture.
			m := Mixture{[]float64{0.1, 0.3, 0.4, 0.2}, []float64{-2, 0, -3, 1}, []float64{2.1, 0.4, 0.8, 2.1}}
			cs = append(cs, mixCase{name: fmt.Sprintf("QLGMM1 log in [%g,%g] q=%g", b[0], b[1], q), m: m, low: b[0], high: b[1], q: q, log: true})
		}
	}
	return cs
}

// checkDraws asserts that draws are finite, inside the bounds (exp of
// them for a log mixture; widened by q/2 for the rounding) and, if q > 0,
// on the grid of multiples of q.
func checkDraws(t *testing.T, c *mixCase, xs []float64) {
	t.Helper()
	lo, hi := c.low, c.high
	if c.log {
		lo, hi = math.Exp(lo), math.Exp(hi)
		if c.q == 0 {
			lo = math.Max(lo, 0)
		}
	}
	if c.q > 0 {
		lo, hi = lo-c.q/2, hi+c.q/2
		if c.log {
			lo = math.Max(lo, 0)
		}
	}
	bad := 0
	for i, x := range xs {
		ok := !math.IsNaN(x) && !math.IsInf(x, 0) && lo <= x && x <= hi
		if ok && c.q > 0 {
			k := math.Round(x / c.q)
			ok = math.Abs(x/c.q-k) <= 1e-9*math.Max(1, math.Abs(k))
		}
		if !ok {
			if bad < 5 {
				t.Errorf("%s: draw %d = %.17g: want finite, in [%.17g, %.17g], on the grid of %g", c.name, i, x, lo, hi, c.q)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d bad draws of %d", c.name, bad, len(xs))
	}
}

// TestSamplerMatchesDensity draws from each mixture and compares the counts
// with the masses exp(lpdf) gives: integrated over bins (continuous) or
// summed over the grid (quantized), by a chi-square test. The masses must
// also add up to 1.
func TestSamplerMatchesDensity(t *testing.T) {
	t.Parallel()
	const n = 20000
	for i, c := range samplerCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			xs := c.sample(pcg(uint64(100+i)), n)
			checkDraws(t, &c, xs)
			var obs, exp []float64
			if c.q == 0 {
				obs, exp = continuousCells(t, &c, xs)
			} else {
				obs, exp = gridCells(t, &c, xs)
			}
			total := 0.0
			for k := range exp {
				total += exp[k]
				if exp[k] == 0 && obs[k] > 0 {
					t.Errorf("cell %d: %g draws where the density has no mass", k, obs[k])
				}
			}
			tol := 1e-9
			if c.q == 0 {
				tol = 1e-7 // quadrature over the open tails
			}
			if !(math.Abs(total-1) <= tol) {
				t.Errorf("masses add up to 1%+.3g", total-1)
			}
			for k := range exp {
				exp[k] *= n
			}
			nonzero := 0
			for _, e := range exp {
				if e > 0 {
					nonzero++
				}
			}
			if p, cells := chiSquare(obs, exp); !(p >= 1e-6) || cells < min(2, nonzero) {
				t.Errorf("chi-square over %d cells: p = %.3g", cells, p)
			}
		})
	}
}

// continuousCells bins the draws (in t: x, or log x) into 40 bins over the
// bounds, or, unbounded, over μ±5σ plus two open tails, and integrates
// the density over each.
func continuousCells(t *testing.T, c *mixCase, xs []float64) (obs, mass []float64) {
	t.Helper()
	const bins = 40
	lo, hi := c.low, c.high
	var edges []float64
	if !c.bounded() {
		lo, hi = c.span(5)
		edges = append(edges, math.Inf(-1))
	}
	for k := range bins + 1 {
		edges = append(edges, lo+(hi-lo)*float64(k)/bins)
	}
	edges[len(edges)-1] = hi
	if !c.bounded() {
		edges = append(edges, math.Inf(1))
	}
	smax := slices.Max(c.m.Sigmas)
	f := c.tDensity()
	for k := range len(edges) - 1 {
		a, b, pieces := edges[k], edges[k+1], 4
		if math.IsInf(a, -1) {
			a, pieces = b-40*smax, 64
		}
		if math.IsInf(b, 1) {
			b, pieces = a+40*smax, 64
		}
		mass = append(mass, integrate(f, a, b, pieces))
	}
	obs = make([]float64, len(mass))
	for _, x := range xs {
		v := x
		if c.log {
			v = math.Log(x)
		}
		k := sort.Search(len(edges), func(j int) bool { return edges[j] > v }) - 1
		obs[min(max(k, 0), len(obs)-1)]++
	}
	return obs, mass
}

// gridCells counts the draws on each multiple of q and takes each one's
// mass from exp(lpdf). Unbounded, the grid spans μ±40σ (Gaussian) or
// [0, 60] plus a tail cell whose mass comes from gonum's normal CDF (log).
func gridCells(t *testing.T, c *mixCase, xs []float64) (obs, mass []float64) {
	t.Helper()
	q := c.q
	var lo, hi float64
	switch {
	case c.log && c.bounded():
		lo, hi = math.Exp(c.low), math.Exp(c.high)
	case c.log:
		lo, hi = 0, 60
	case c.bounded():
		lo, hi = c.low, c.high
	default:
		lo, hi = c.span(40)
	}
	kmin, kmax := int(math.Floor(lo/q))-1, int(math.Ceil(hi/q))+1
	if c.log {
		kmin = max(kmin, 0)
	}
	if c.log && !c.bounded() {
		kmax = int(math.Floor(hi / q))
	}
	grid := make([]float64, 0, kmax-kmin+1)
	for k := kmin; k <= kmax; k++ {
		grid = append(grid, float64(k)*q)
	}
	for _, l := range c.lpdf(nil, grid) {
		if math.IsNaN(l) || math.IsInf(l, 1) {
			t.Errorf("lpdf on the grid: %g", l)
		}
		mass = append(mass, math.Exp(l))
	}
	tail := c.log && !c.bounded()
	if tail {
		mass = append(mass, refMass(&c.m, math.Log((float64(kmax)+0.5)*q), math.Inf(1)))
	}
	obs = make([]float64, len(mass))
	for _, x := range xs {
		k := int(math.Round(x/q)) - kmin
		switch {
		case k >= 0 && k < len(grid):
			obs[k]++
		case tail && k >= len(grid):
			obs[len(grid)]++
		default:
			t.Errorf("draw %g off the grid [%g, %g]", x, grid[0], grid[len(grid)-1])
		}
	}
	return obs, mass
}

// TestDensityNormalized integrates exp(lpdf) over the support (x itself,
// not log x, for a truncated log mixture: this package normalizes it) or
// sums it over the grid, for HyperOpt's mixtures and for fitted ones.
func TestDensityNormalized(t *testing.T) {
	t.Parallel()
	cs := samplerCases()
	r := pcg(7)
	for i := range 4 {
		obs := make([]float64, 3+10*i)
		for k := range obs {
			obs[k] = r.Float64()*2 - 0.5 // some outside [0, 1]
		}
		var m Mixture
		Fit(&m, obs, 1, 0.5, 1, 25, nil)
		cs = append(cs,
			mixCase{name: fmt.Sprintf("fit %d to [0,1]", len(obs)), m: m, low: 0, high: 1},
			mixCase{name: fmt.Sprintf("fit %d to [0,1] q=0.01", len(obs)), m: m, low: 0, high: 1, q: 0.01},
			mixCase{name: fmt.Sprintf("fit %d, log in [0,1]", len(obs)), m: m, low: 0, high: 1, log: true},
			mixCase{name: fmt.Sprintf("fit %d, log in [0,1] q=0.05", len(obs)), m: m, low: 0, high: 1, q: 0.05, log: true},
		)
	}
	cs = append(cs,
		mixCase{name: "one component far outside", m: Mixture{[]float64{0.5, 0.5}, []float64{0, 50}, []float64{1, 1}}, low: -1, high: 1},
		mixCase{name: "mass only in the tail", m: Mixture{[]float64{1}, []float64{0}, []float64{1}}, low: 6, high: 7},
		mixCase{name: "mass only in the tail, q", m: Mixture{[]float64{1}, []float64{0}, []float64{1}}, low: 6, high: 7, q: 0.1},
		mixCase{name: "narrow component", m: Mixture{[]float64{0.5, 0.5}, []float64{0.3, 0.7}, []float64{1e-3, 0.2}}, low: 0, high: 1},
		mixCase{name: "log, narrow bounds", m: Mixture{[]float64{1}, []float64{0}, []float64{1}}, low: 0.5, high: 0.5001, log: true},
	)
	for _, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if a := Accept(&c.m, c.low, c.high); !(math.Abs(a-refMass(&c.m, c.low, c.high)*sum(c.m.Weights)) <= 1e-12*math.Max(a, 1e-300)+1e-300) {
				t.Errorf("Accept = %.17g, gonum's CDF gives %.17g", a, refMass(&c.m, c.low, c.high)*sum(c.m.Weights))
			}
			var total float64
			tol := 1e-9
			switch {
			case c.q > 0 && !c.bounded():
				return // covered by TestSamplerMatchesDensity
			case c.q > 0:
				lo, hi := c.low, c.high
				if c.log {
					lo, hi = math.Exp(lo), math.Exp(hi)
				}
				var grid []float64
				for k := int(math.Floor(lo/c.q)) - 1; k <= int(math.Ceil(hi/c.q))+1; k++ {
					if !c.log || k >= 0 {
						grid = append(grid, float64(k)*c.q)
					}
				}
				for _, l := range c.lpdf(nil, grid) {
					total += math.Exp(l)
				}
			case c.log && c.bounded():
				// In x, not log x: no change of variables.
				total = integrate(c.xDensity(), math.Exp(c.low), math.Exp(c.high), 512)
				tol = 1e-8
			case c.bounded():
				total = integrate(c.tDensity(), c.low, c.high, 256)
			default:
				lo, hi := c.span(40)
				total = integrate(c.tDensity(), lo, hi, 1024)
			}
			if !(math.Abs(total-1) <= tol) {
				t.Errorf("density integrates to 1%+.3g", total-1)
			}
		})
	}
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

// TestSampleExtremes: draws stay finite, in bounds and on the grid for
// mixtures at the edges of float64, and the density is defined at them.
func TestSampleExtremes(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	mix := func(w, mu, s []float64) Mixture { return Mixture{w, mu, s} }
	cs := []mixCase{
		{name: "component with no mass inside", m: mix([]float64{0.5, 0.5}, []float64{0, 1e3}, []float64{1, 1}), low: -1, high: 1},
		{name: "component with no mass inside, q", m: mix([]float64{0.5, 0.5}, []float64{0, 1e3}, []float64{1, 1}), low: -1, high: 1, q: 0.1},
		{name: "component with ~0 mass inside", m: mix([]float64{0.5, 0.5}, []float64{0, 9}, []float64{1, 1}), low: -1, high: 1},
		{name: "no mass inside at all", m: mix([]float64{1}, []float64{1e3}, []float64{1}), low: -1, high: 1},
		{name: "no mass inside at all, below", m: mix([]float64{1}, []float64{-1e3}, []float64{1}), low: -1, high: 1, q: 0.5},
		{name: "far below and far above", m: mix([]float64{0.5, 0.5}, []float64{-1e6, 5}, []float64{1, 1e-3}), low: 4, high: 6},
		{name: "sigma 1e-12", m: mix([]float64{0.3, 0.7}, []float64{0.5, 0.25}, []float64{1e-12, 1e-12}), low: 0, high: 1},
		{name: "sigma 1e-12 at the bound", m: mix([]float64{1}, []float64{0}, []float64{1e-12}), low: 0, high: 1},
		{name: "sigma 1e-12 at the upper bound, q", m: mix([]float64{1}, []float64{1}, []float64{1e-12}), low: 0, high: 1, q: 0.25},
		{name: "sigma 1e-12 unbounded", m: mix([]float64{1}, []float64{3}, []float64{1e-12}), low: -inf, high: inf},
		{name: "sigma 1e12", m: mix([]float64{1}, []float64{0.5}, []float64{1e12}), low: 0, high: 1},
		{name: "sigma 1e12, q", m: mix([]float64{1}, []float64{0.5}, []float64{1e12}), low: 0, high: 1, q: 0.25},
		{name: "sigma 1e12 unbounded", m: mix([]float64{1}, []float64{0}, []float64{1e12}), low: -inf, high: inf},
		{name: "sigma 1e12 unbounded, q", m: mix([]float64{1}, []float64{0}, []float64{1e12}), low: -inf, high: inf, q: 1e6},
		{name: "bounds 1e-9 wide", m: hoGMM(), low: 2, high: 2 + 1e-9},
		{name: "bounds 1e-9 wide at 1e6", m: hoGMM(), low: 1e6, high: 1e6 + 1e-9},
		{name: "bounds 1e-9 wide, q", m: hoGMM(), low: 2, high: 2 + 1e-9, q: 0.5},
		{name: "one component", m: mix([]float64{1}, []float64{0}, []float64{1}), low: -inf, high: inf},
		{name: "one component, lower bound only", m: mix([]float64{1}, []float64{0}, []float64{1}), low: 3, high: inf},
		{name: "one component, upper bound only", m: mix([]float64{1}, []float64{0}, []float64{1}), low: -inf, high: -3},
		{name: "log, sigma 1e-12 and 1e12", m: mix([]float64{0.5, 0.5}, []float64{0, 2}, []float64{1e-12, 1e12}), low: -5, high: 5, log: true},
		{name: "log, bounds 1e-9 wide", m: mix([]float64{1}, []float64{0}, []float64{1}), low: 1, high: 1 + 1e-9, log: true},
		{name: "log, far below, q", m: mix([]float64{1}, []float64{-40}, []float64{1}), low: -inf, high: inf, q: 0.125, log: true},
		{name: "log, wide bounds, q", m: mix([]float64{0.5, 0.5}, []float64{-30, 30}, []float64{5, 5}), low: -60, high: 60, q: 0.125, log: true},
		{name: "log, no mass inside", m: mix([]float64{1}, []float64{100}, []float64{1}), low: -1, high: 1, log: true},
	}
	for i, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			xs := c.sample(pcg(uint64(500+i)), 2000)
			checkDraws(t, &c, xs)
			if Accept(&c.m, c.low, c.high) == 0 {
				return // no density to evaluate
			}
			for k, l := range c.lpdf(nil, xs) {
				if math.IsNaN(l) || math.IsInf(l, 1) {
					t.Errorf("lpdf(%.17g) = %g", xs[k], l)
					break
				}
			}
		})
	}
}

// TestSampleTruncatedMean compares the mean of draws from one truncated
// normal with the exact mean (by quadrature), including intervals far in a
// tail, where the draws must still spread out from the near bound.
func TestSampleTruncatedMean(t *testing.T) {
	t.Parallel()
	cases := []struct {
		mu, sigma, low, high float64
	}{
		{0, 1, -1, 2},
		{0, 1, 3, 4},
		{0, 1, 5, 6},
		{0, 1, 8, 9},
		{0, 1, 10, 11},
		{0, 1, -11, -10},
		{0, 1, 20, 30},
		{0, 1, 40, 41},
		{5, 1e12, 0, 1e-9},
		{0, 1e-3, 0.5, 1},
	}
	const n = 4000
	for i, c := range cases {
		t.Run(fmt.Sprintf("N(%g,%g) in [%g,%g]", c.mu, c.sigma, c.low, c.high), func(t *testing.T) {
			t.Parallel()
			// exp(-z²/2) scaled by its largest value in the interval.
			za, zb := (c.low-c.mu)/c.sigma, (c.high-c.mu)/c.sigma
			zmin := 0.0
			if za > 0 {
				zmin = za
			} else if zb < 0 {
				zmin = zb
			}
			g := func(x float64) float64 {
				z := (x - c.mu) / c.sigma
				return math.Exp(-0.5 * (z - zmin) * (z + zmin)) // -(z²-zmin²)/2
			}
			// Integrate where the density is: within 60 of its scales (σ,
			// or σ/|z| in a tail) of the point nearest the mean.
			near := math.Min(math.Max(c.mu, c.low), c.high)
			scale := c.sigma / math.Max(1, math.Abs(zmin))
			a, b := math.Max(c.low, near-60*scale), math.Min(c.high, near+60*scale)
			mass := integrate(vec(g), a, b, 64)
			mean := integrate(vec(func(x float64) float64 { return x * g(x) }), a, b, 64) / mass
			vr := integrate(vec(func(x float64) float64 { return (x - mean) * (x - mean) * g(x) }), a, b, 64) / mass
			m := Mixture{[]float64{1}, []float64{c.mu}, []float64{c.sigma}}
			xs := Sample(nil, pcg(uint64(900+i)), &m, c.low, c.high, 0, false, n)
			got := sum(xs) / n
			if tol := 6*math.Sqrt(vr/n) + 4e-16*math.Abs(mean); !(math.Abs(got-mean) <= tol) {
				t.Errorf("mean of %d draws %.10g, want %.10g ± %.2g (sd %.3g; first draws %v)", n, got, mean, tol, math.Sqrt(vr), xs[:4])
			}
		})
	}
}

// checkFit asserts Fit's contract: obs and the prior as components sorted
// by mean, the prior at HyperOpt's searchsorted position with width
// priorSigma, the others' widths in [priorSigma/min(100, n+2), priorSigma],
// weights positive, summing to 1, the prior's priorWeight against the
// observations' (linear forgetting) weights.
func checkFit(t *testing.T, m *Mixture, prior int, obs []float64, priorWeight, priorMu, priorSigma float64, lf int) {
	t.Helper()
	n := len(obs)
	if len(m.Weights) != n+1 || len(m.Mus) != n+1 || len(m.Sigmas) != n+1 || prior < 0 || prior > n {
		t.Fatalf("Fit of %d observations: %d weights, %d mus, %d sigmas, prior at %d", n, len(m.Weights), len(m.Mus), len(m.Sigmas), prior)
	}
	if m.Mus[prior] != priorMu || m.Sigmas[prior] != priorSigma {
		t.Errorf("prior component (%g, %g), want (%g, %g)", m.Mus[prior], m.Sigmas[prior], priorMu, priorSigma)
	}
	if !sort.Float64sAreSorted(m.Mus) {
		t.Errorf("mus not sorted: %v", m.Mus)
	}
	rest := slices.Concat(m.Mus[:prior], m.Mus[prior+1:])
	sorted := slices.Sorted(slices.Values(obs))
	if !slices.Equal(rest, sorted) {
		t.Errorf("mus without the prior %v, want the sorted observations %v", rest, sorted)
	}
	// searchsorted(sorted(obs), priorMu) for n >= 2; for one observation
	// the prior goes first only if priorMu < obs[0].
	wantPrior := sort.SearchFloat64s(sorted, priorMu)
	if n == 1 && priorMu >= obs[0] {
		wantPrior = 1
	}
	if prior != wantPrior {
		t.Errorf("prior at %d, want %d", prior, wantPrior)
	}
	minSigma := priorSigma / math.Min(100, float64(n+2))
	for k, s := range m.Sigmas {
		if k != prior && !(minSigma <= s && s <= priorSigma) {
			t.Errorf("sigma[%d] = %.17g outside [%.17g, %.17g]", k, s, minSigma, priorSigma)
		}
	}
	total := 0.0
	for k, w := range m.Weights {
		if !(w > 0) || math.IsInf(w, 0) {
			t.Errorf("weight[%d] = %g", k, w)
		}
		total += w
	}
	if !(math.Abs(total-1) <= 1e-12) {
		t.Errorf("weights sum to 1%+.3g", total-1)
	}
	obsW := float64(n)
	if lf > 0 && lf < n {
		obsW = sum(LinearForgettingWeights(nil, n, lf))
	}
	if want := priorWeight / (priorWeight + obsW); !(math.Abs(m.Weights[prior]-want) <= 1e-12*want) {
		t.Errorf("prior weight %.17g, want %.17g", m.Weights[prior], want)
	}
}

// checkRefit asserts that Fit into a reused Mixture with a reused Scratch
// (dirty from a fit of other observations), and FitSorted given the sorted
// observations and their ages, give m and prior again, bit for bit.
func checkRefit(t *testing.T, m *Mixture, prior int, obs []float64, priorWeight, priorMu, priorSigma float64, lf int) {
	t.Helper()
	var s Scratch
	m2 := Mixture{make([]float64, 3, 20000), make([]float64, 1), nil}
	Fit(&m2, []float64{3, 1, 2, 2, 5, 4, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 1, 0, 1, 3, &s)
	same := func(p int, m2 *Mixture) bool {
		return p == prior && slices.Equal(m.Weights, m2.Weights) && slices.Equal(m.Mus, m2.Mus) && slices.Equal(m.Sigmas, m2.Sigmas)
	}
	for range 2 {
		if p := Fit(&m2, obs, priorWeight, priorMu, priorSigma, lf, &s); !same(p, &m2) {
			t.Errorf("refit with a reused Mixture and Scratch differs: prior %d, %v", p, m2)
		}
	}
	age := make([]int32, len(obs))
	for i := range age {
		age[i] = int32(i)
	}
	slices.SortStableFunc(age, func(a, b int32) int {
		switch {
		case obs[a] < obs[b]:
			return -1
		case obs[a] > obs[b]:
			return 1
		}
		return 0
	})
	sorted := make([]float64, len(obs))
	for i, a := range age {
		sorted[i] = obs[a]
	}
	var m3 Mixture
	if p := FitSorted(&m3, sorted, age, priorWeight, priorMu, priorSigma, lf, nil); !same(p, &m3) {
		t.Errorf("FitSorted differs from Fit: prior %d, %v", p, m3)
	}
}

// bruteLogPDF is the log-density of a Gaussian (or, with log, log-Gaussian)
// mixture truncated to a range of mass exp(logAccept), the unquantized case
// of GMMLogPDF and LGMMLogPDF: every component summed, with HyperOpt's EPS
// floor in the exponent.
func bruteLogPDF(m *Mixture, x, logAccept float64, log bool) float64 {
	y, shift := x, 0.0
	if log {
		y = math.Log(x)
		shift = y
	}
	v := make([]float64, len(m.Weights))
	mx := math.Inf(-1)
	for k, w := range m.Weights {
		s := m.Sigmas[k]
		z := (y - m.Mus[k]) / math.Max(s, EPS)
		v[k] = -0.5*z*z + math.Log(w) - math.Log(s) - 0.5*math.Log(2*math.Pi)
		mx = math.Max(mx, v[k])
	}
	if math.IsInf(mx, -1) {
		return mx
	}
	sum := 0.0
	for _, vk := range v {
		sum += math.Exp(vk - mx)
	}
	return math.Log(sum) + mx - shift - logAccept
}

// checkBrute compares GMMLogPDF (LGMMLogPDF with log) at xs with
// bruteLogPDF, through the package functions and a Scratch reused across
// calls.
func checkBrute(t *testing.T, s *Scratch, m *Mixture, xs []float64, low, high float64, log bool) {
	t.Helper()
	var got, got2 []float64
	if log {
		got = LGMMLogPDF(nil, xs, m, low, high, 0)
		got2 = s.LGMMLogPDF(make([]float64, 0, 3), xs, m, low, high, 0)
	} else {
		got = GMMLogPDF(nil, xs, m, low, high, 0)
		got2 = s.GMMLogPDF(make([]float64, 0, 3), xs, m, low, high, 0)
	}
	bad := 0
	logAccept := math.Log(Accept(m, low, high))
	for i, x := range xs {
		want := bruteLogPDF(m, x, logAccept, log)
		ok := got[i] == want || math.Abs(got[i]-want) <= 1e-12*math.Max(1, math.Abs(want))
		if !ok || !(got2[i] == got[i] || math.IsNaN(got[i]) && math.IsNaN(got2[i])) {
			if bad < 3 {
				t.Errorf("log=%v, %d components: lpdf(%.17g) = %.17g (with a reused Scratch %.17g), summing every component gives %.17g",
					log, len(m.Weights), x, got[i], got2[i], want)
			}
			bad++
		}
	}
	if bad > 3 {
		t.Errorf("%d of %d points differ", bad, len(xs))
	}
}

// TestLogPDFMatchesBruteForce: the pruned sum over components in
// GMMLogPDF and LGMMLogPDF (sorted means, more than 16 components, as Fit
// makes them) gives the full sum, at points inside, between and far
// outside the components, with a Scratch reused across mixtures of every
// size.
func TestLogPDFMatchesBruteForce(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2, 5, 15, 16, 17, 18, 31, 64, 65, 200, 2000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			testLogPDFMatchesBruteForce(t, n)
		})
	}
}

// TestLogPDFSigmaBelowEPS: components narrower than EPS (a fit with a prior
// width below 1e-10), where HyperOpt floors σ at EPS in the exponent but
// not in the normalizing constant, so terms far apart in σ units still
// count.
func TestLogPDFSigmaBelowEPS(t *testing.T) {
	t.Parallel()
	obs := make([]float64, 40)
	for i := range obs {
		obs[i] = float64(i) * 1e-21
	}
	var m Mixture
	Fit(&m, obs, 1, 0, 1e-20, 0, nil)
	var s Scratch
	xs := []float64{0, 2e-20, 1e-13, -1e-12, 5e-12}
	checkBrute(t, &s, &m, xs, math.Inf(-1), math.Inf(1), false)
	checkBrute(t, &s, &m, xs, -1e-20, 5e-20, false)
}

func testLogPDFMatchesBruteForce(t *testing.T, n int) {
	r := pcg(17 + uint64(n))
	var s Scratch
	for _, spread := range []string{"uniform", "clustered", "duplicates", "wide", "lf", "not a fit", "unsorted"} {
		obs := make([]float64, n)
		for i := range obs {
			switch spread {
			case "clustered":
				obs[i] = 0.5 + 1e-3*r.NormFloat64()
				if i%3 == 0 {
					obs[i] = 0.9 + 1e-6*r.NormFloat64()
				}
			case "duplicates":
				obs[i] = float64(r.IntN(4)) / 4
			case "wide":
				obs[i] = 50 * r.NormFloat64()
			default:
				obs[i] = r.Float64()
			}
		}
		lf := 0
		if spread == "lf" {
			lf = 25
		}
		var m Mixture
		Fit(&m, obs, 1, 0.5, 1, lf, nil)
		if spread == "not a fit" || spread == "unsorted" {
			// Widths from 1e-3 to 3, several wider than the prior, and
			// random weights.
			for k := range m.Sigmas {
				m.Sigmas[k] = math.Exp(r.Float64()*9 - 7)
				m.Weights[k] = r.Float64()
			}
			tw := sum(m.Weights)
			for k := range m.Weights {
				m.Weights[k] /= tw
			}
			if spread == "unsorted" {
				r.Shuffle(len(m.Mus), func(i, j int) { m.Mus[i], m.Mus[j] = m.Mus[j], m.Mus[i] })
			}
		}
		xs := []float64{0, 1, 0.5, 0.25, 0.9, -3, 4, 20, -1e3, 1e6, 1e300, -1e300}
		for range min(40, 8000/max(n, 1)) {
			xs = append(xs, r.Float64(), 0.5+0.01*r.NormFloat64(), 3*r.NormFloat64())
		}
		xs = append(xs, obs[:min(n, 30)]...)
		for _, x := range obs[:min(n, 10)] {
			xs = append(xs, x+1e-9, x-1e-4, x+0.02)
		}
		checkBrute(t, &s, &m, xs, 0, 1, false)
		checkBrute(t, &s, &m, xs, math.Inf(-1), math.Inf(1), false)
		pos := xs[:0:0]
		for _, x := range xs {
			if x > 0 {
				pos = append(pos, math.Exp(x-0.5), x)
			}
		}
		checkBrute(t, &s, &m, pos, -0.5, 1.5, true)
	}
}

// checkFitDensity draws from the fit truncated to priorMu ± priorSigma/2 (as
// TPE does for a uniform) and asserts the draws are in bounds and their
// log-densities finite, also at the bounds themselves.
func checkFitDensity(t *testing.T, m *Mixture, r *rand.Rand, low, high float64, draws int) {
	t.Helper()
	xs := Sample(nil, r, m, low, high, 0, false, draws)
	for _, x := range xs {
		if !(low <= x && x <= high) {
			t.Errorf("draw %.17g outside [%.17g, %.17g]", x, low, high)
			return
		}
	}
	xs = append(xs, low, high)
	for k, l := range GMMLogPDF(nil, xs, m, low, high, 0) {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			t.Errorf("GMMLogPDF(%.17g) = %g in [%.17g, %.17g]", xs[k], l, low, high)
			return
		}
	}
	if low > -700 && high < 700 {
		xs = Sample(xs[:0], r, m, low, high, 0, true, draws)
		el, eh := math.Exp(low), math.Exp(high)
		for _, x := range xs {
			if !(el <= x && x <= eh) {
				t.Errorf("log draw %.17g outside [%.17g, %.17g]", x, el, eh)
				return
			}
		}
		for k, l := range LGMMLogPDF(nil, xs, m, low, high, 0) {
			if math.IsNaN(l) || math.IsInf(l, 0) {
				t.Errorf("LGMMLogPDF(%.17g) = %g, log in [%.17g, %.17g]", xs[k], l, low, high)
				return
			}
		}
	}
}

func TestFitDegenerate(t *testing.T) {
	t.Parallel()
	many := make([]float64, 10000)
	r := pcg(3)
	for i := range many {
		many[i] = r.Float64()
	}
	tiny := make([]float64, 50)
	for i := range tiny {
		tiny[i] = 0.5 + float64(i)*1e-15
	}
	cases := []struct {
		name                 string
		obs                  []float64
		priorWeight, mu, sig float64
		lf                   int
		wantSigmas           []float64 // nil: not checked
	}{
		{name: "no observations", priorWeight: 1, mu: 0.5, sig: 1, lf: 25, wantSigmas: []float64{1}},
		{name: "one observation", obs: []float64{0.2}, priorWeight: 1, mu: 0.5, sig: 1, lf: 25, wantSigmas: []float64{0.5, 1}},
		{name: "one observation at the prior", obs: []float64{0.5}, priorWeight: 1, mu: 0.5, sig: 1, lf: 25, wantSigmas: []float64{0.5, 1}},
		{name: "one observation above", obs: []float64{0.9}, priorWeight: 3, mu: 0.5, sig: 1, lf: 25, wantSigmas: []float64{1, 0.5}},
		{name: "all equal", obs: []float64{0.3, 0.3, 0.3, 0.3, 0.3}, priorWeight: 1, mu: 0.5, sig: 1, lf: 25, wantSigmas: []float64{1. / 7, 1. / 7, 1. / 7, 1. / 7, 0.2, 1}},
		{name: "all equal to the prior", obs: []float64{0.5, 0.5, 0.5}, priorWeight: 1, mu: 0.5, sig: 1, lf: 25, wantSigmas: []float64{1, 0.2, 0.2, 0.2}},
		{name: "at the bounds", obs: []float64{0, 1, 0, 1, 1, 0}, priorWeight: 1, mu: 0.5, sig: 1, lf: 25},
		{name: "at the bounds, forgetting", obs: []float64{0, 1, 0, 1, 1, 0}, priorWeight: 1, mu: 0.5, sig: 1, lf: 2},
		{name: "10000 observations", obs: many, priorWeight: 1, mu: 0.5, sig: 1, lf: 25},
		{name: "10000 observations, no forgetting", obs: many, priorWeight: 1, mu: 0.5, sig: 1, lf: 0},
		{name: "far outside the prior", obs: []float64{1e6, -1e6, 1e9, 1e300, -1e300}, priorWeight: 1, mu: 0.5, sig: 1, lf: 25, wantSigmas: []float64{1, 1, 1, 1, 1, 1}},
		{name: "1e-15 apart", obs: tiny, priorWeight: 1, mu: 0.5, sig: 1, lf: 25},
		{name: "tiny prior sigma", obs: []float64{1e-13, 2e-13, 5e-13}, priorWeight: 1, mu: 0, sig: 1e-12, lf: 25},
		{name: "huge prior sigma", obs: []float64{-1e100, 1e100, 3}, priorWeight: 1, mu: 0, sig: 1e101, lf: 25},
		{name: "small prior weight", obs: []float64{0.1, 0.4}, priorWeight: 1e-9, mu: 0.5, sig: 1, lf: 25},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var m Mixture
			prior := Fit(&m, c.obs, c.priorWeight, c.mu, c.sig, c.lf, nil)
			checkFit(t, &m, prior, c.obs, c.priorWeight, c.mu, c.sig, c.lf)
			if c.wantSigmas != nil && !slices.EqualFunc(m.Sigmas, c.wantSigmas, func(a, b float64) bool { return math.Abs(a-b) <= 1e-15*b }) {
				t.Errorf("sigmas %v, want %v", m.Sigmas, c.wantSigmas)
			}
			checkRefit(t, &m, prior, c.obs, c.priorWeight, c.mu, c.sig, c.lf)
			checkFitDensity(t, &m, pcg(uint64(300+i)), c.mu-c.sig/2, c.mu+c.sig/2, 200)
		})
	}
}

// fuzzInput encodes a FuzzParzen input: priorMu, priorSigma, a byte for
// the prior weight ((b+1)/32), a byte for LF (b%64, 0 for none), then the
// observations, all float64 little-endian.
func fuzzInput(priorMu, priorSigma float64, pw, lf byte, obs ...float64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, math.Float64bits(priorMu))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(priorSigma))
	b = append(b, pw, lf)
	for _, x := range obs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// FuzzParzen fits arbitrary observations and checks Fit's contract, then
// that draws from the fit truncated to priorMu ± priorSigma/2 have finite
// log-densities. priorSigma is kept in [1e-100, 1e100]: beyond about
// 1e±154 sigma² over- or underflows in the density's normalizing constant
// (see TestLogPDFExtremeSigma).
func FuzzParzen(f *testing.F) {
	f.Add(fuzzInput(0.5, 1, 31, 25, 0.1, 0.2, 0.9))
	f.Add(fuzzInput(0.5, 1, 31, 25))
	f.Add(fuzzInput(0.5, 1, 31, 25, 0.5))
	f.Add(fuzzInput(0, 2, 0, 2, 1, 1, 1, 1, 1))
	f.Add(fuzzInput(-3, 1e-6, 255, 1, -3, -3+1e-7, -3-1e-7, 5, -3))
	f.Add(fuzzInput(1e10, 1e3, 7, 3, 1e300, -1e300, 1e10, 1e10+500, 0))
	f.Add(fuzzInput(0, 1e-100, 31, 0, 0, 1e-102, -1e-101))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 18 {
			return
		}
		f64 := func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(data[i:])) }
		priorMu, priorSigma := f64(0), math.Abs(f64(8))
		priorWeight, lf := (float64(data[16])+1)/32, int(data[17]%64)
		if math.IsNaN(priorMu) || math.Abs(priorMu) > 1e300 || !(priorSigma >= 1e-100 && priorSigma <= 1e100) {
			return
		}
		low, high := priorMu-priorSigma/2, priorMu+priorSigma/2
		if !(low < high) {
			return
		}
		obs := make([]float64, 0, (len(data)-18)/8)
		for i := 18; i+8 <= len(data); i += 8 {
			x := f64(i)
			if math.IsNaN(x) || math.Abs(x) > 1e300 {
				return
			}
			obs = append(obs, x)
		}
		var m Mixture
		prior := Fit(&m, obs, priorWeight, priorMu, priorSigma, lf, nil)
		checkFit(t, &m, prior, obs, priorWeight, priorMu, priorSigma, lf)
		checkFitDensity(t, &m, pcg(uint64(len(data))), low, high, 16)
		if len(obs) <= 200 {
			checkRefit(t, &m, prior, obs, priorWeight, priorMu, priorSigma, lf)
		}
		// The density at the observations, the bounds and the draws, with
		// every component summed.
		xs := Sample(nil, pcg(1), &m, low, high, 0, false, 8)
		xs = append(xs, low, high, priorMu)
		xs = append(xs, obs[:min(len(obs), 64)]...)
		var s Scratch
		checkBrute(t, &s, &m, xs, low, high, false)
	})
}

// TestLogPDFExtremeSigma evaluates one component at its mean: the
// log-density is -log(σ√(2π)) for any σ > 0 (EPS floors σ only in the
// exponent, which is 0 there).
func TestLogPDFExtremeSigma(t *testing.T) {
	t.Parallel()
	for _, s := range []float64{1e-300, 1e-160, 1e-100, 1e-20, 1e-12, 1e-3, 1, 1e100, 1e150, 1e160, 1e300} {
		m := Mixture{[]float64{1}, []float64{0}, []float64{s}}
		want := -math.Log(s) - 0.5*math.Log(2*math.Pi)
		got := GMMLogPDF(nil, []float64{0}, &m, math.Inf(-1), math.Inf(1), 0)[0]
		if !(math.Abs(got-want) <= 1e-12*math.Abs(want)) {
			t.Errorf("sigma %g: GMMLogPDF at the mean %.17g, want %.17g", s, got, want)
		}
		gotL := LGMMLogPDF(nil, []float64{1}, &m, math.Inf(-1), math.Inf(1), 0)[0]
		if !(math.Abs(gotL-want) <= 1e-12*math.Abs(want)) {
			t.Errorf("sigma %g: LGMMLogPDF at e^mean %.17g, want %.17g", s, gotL, want)
		}
	}
}

func TestLinearForgettingWeightsProperties(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ n, lf int }{{0, 25}, {1, 25}, {24, 25}, {25, 25}, {26, 25}, {27, 25}, {100, 25}, {10, 0}, {5, 1}, {2, 1}} {
		w := LinearForgettingWeights(make([]float64, 1, 200), c.n, c.lf)
		if len(w) != c.n {
			t.Errorf("n=%d lf=%d: %d weights", c.n, c.lf, len(w))
			continue
		}
		for i, x := range w {
			if c.lf <= 0 || c.n < c.lf || i >= c.n-c.lf {
				if x != 1 {
					t.Errorf("n=%d lf=%d: weight[%d] = %g, want 1", c.n, c.lf, i, x)
				}
				continue
			}
			if i == 0 && x != 1/float64(c.n) {
				t.Errorf("n=%d lf=%d: oldest weight %g, want 1/n", c.n, c.lf, x)
			}
			if i > 0 && !(x > w[i-1]) || x > 1 {
				t.Errorf("n=%d lf=%d: weights not a ramp to 1: %v", c.n, c.lf, w)
				break
			}
		}
	}
}

func TestCategoricalProperties(t *testing.T) {
	t.Parallel()
	r := pcg(11)
	type tc struct {
		obs         []int
		k           int
		p           []float64
		priorWeight float64
		lf          int
	}
	cases := []tc{
		{k: 1, priorWeight: 1, lf: 25},
		{k: 3, priorWeight: 1, lf: 25},
		{obs: []int{0, 0, 0, 0}, k: 5, priorWeight: 1e-6, lf: 25},
		{obs: []int{2, 2, 1}, k: 3, p: []float64{0.2, 0.3, 0.5}, priorWeight: 1, lf: 25},
		{obs: []int{0}, k: 2, p: []float64{1e-9, 1 - 1e-9}, priorWeight: 0.5, lf: 25},
	}
	for range 40 {
		c := tc{k: 1 + r.IntN(12), priorWeight: 0.01 + 5*r.Float64(), lf: r.IntN(40)}
		c.obs = make([]int, r.IntN(200))
		for i := range c.obs {
			c.obs[i] = r.IntN(c.k)
		}
		if r.IntN(2) == 0 {
			c.p = make([]float64, c.k)
			for i := range c.p {
				c.p[i] = 0.01 + r.Float64()
			}
			s := sum(c.p)
			for i := range c.p {
				c.p[i] /= s
			}
		}
		cases = append(cases, c)
	}
	cases = append(cases, tc{obs: make([]int, 1000), k: 70, priorWeight: 1, lf: 25}) // past the 64-entry buffers
	for _, c := range cases {
		got := Categorical(make([]float64, 2, 100), c.obs, c.k, c.p, c.priorWeight, c.lf)
		name := fmt.Sprintf("Categorical(%d obs, k=%d, p=%v, pw=%g, lf=%d)", len(c.obs), c.k, c.p != nil, c.priorWeight, c.lf)
		if len(got) != c.k {
			t.Errorf("%s: %d probabilities", name, len(got))
			continue
		}
		// The posterior is proportional to LF-weighted counts plus the
		// pseudocounts.
		want := make([]float64, c.k)
		lfw := LinearForgettingWeights(nil, len(c.obs), c.lf)
		for i, o := range c.obs {
			want[o] += lfw[i]
		}
		for i := range want {
			if c.p == nil {
				want[i] += c.priorWeight
			} else {
				want[i] += float64(c.k) * c.priorWeight * c.p[i]
			}
		}
		s := sum(want)
		for i, g := range got {
			if !(g > 0) || !(math.Abs(g-want[i]/s) <= 1e-12) {
				t.Errorf("%s: p[%d] = %.17g, want %.17g > 0", name, i, g, want[i]/s)
			}
		}
		if !(math.Abs(sum(got)-1) <= 1e-12) {
			t.Errorf("%s: sums to 1%+.3g", name, sum(got)-1)
		}
	}
}

func TestNBelow(t *testing.T) {
	t.Parallel()
	// The examples of the reference (γ = 0.25, cap 25).
	for _, c := range [][2]int{{0, 0}, {1, 1}, {16, 1}, {17, 2}, {20, 2}, {64, 2}, {100, 3}, {400, 5}, {10000, 25}, {1000000, 25}} {
		if got := NBelow(c[0], 0.25, 25); got != c[1] {
			t.Errorf("NBelow(%d, 0.25, 25) = %d, want %d", c[0], got, c[1])
		}
	}
}

// TestSplitProperties: Split marks exactly min(NBelow, n) observations, the
// lowest losses, NaN last, ties to the earlier one; reused slices are reset.
func TestSplitProperties(t *testing.T) {
	t.Parallel()
	r := pcg(13)
	vals := []float64{math.NaN(), math.Inf(-1), math.Inf(1), -1, 0, 0.5, 1, 2}
	cases := [][]float64{
		nil,
		{math.NaN()},
		{math.NaN(), math.NaN(), 1},
		{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{math.NaN(), math.Inf(1), math.NaN(), math.Inf(1)},
	}
	for range 200 {
		l := make([]float64, r.IntN(700))
		for i := range l {
			if r.IntN(3) == 0 {
				l[i] = vals[r.IntN(len(vals))]
			} else {
				l[i] = r.NormFloat64()
			}
		}
		cases = append(cases, l)
	}
	var scratch []int
	below := make([]bool, 3)
	for ci, losses := range cases {
		n := len(losses)
		gamma := []float64{0.25, 0.5, 1, 2}[ci%4]
		for i := range below {
			below[i] = true // dirty
		}
		below = Split(below, losses, gamma, 25, &scratch)
		// Oracle: rank by (loss, NaN last; position).
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		key := func(i int) float64 {
			if math.IsNaN(losses[i]) {
				return math.Inf(1)
			}
			return losses[i]
		}
		slices.SortFunc(order, func(a, b int) int {
			ka, kb := key(a), key(b)
			na, nb := math.IsNaN(losses[a]), math.IsNaN(losses[b])
			switch {
			case na != nb && na:
				return 1
			case na != nb:
				return -1
			case ka < kb:
				return -1
			case ka > kb:
				return 1
			}
			return a - b
		})
		nb := min(NBelow(n, gamma, 25), n)
		want := make([]bool, n)
		for _, i := range order[:nb] {
			want[i] = true
		}
		marked := 0
		for _, b := range below {
			if b {
				marked++
			}
		}
		if len(below) != n || marked != nb || !slices.Equal(below, want) {
			t.Errorf("case %d (n=%d, gamma=%g): %d of %d marked, want %d; below %v, want %v (losses %v)", ci, n, gamma, marked, len(below), nb, below, want, losses)
		}
	}
}

// Quantile, by selection, agrees with the quantiles of the sorted values,
// ties and all, and keeps the values.
func TestQuantileSelect(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		n := 1 + r.IntN(40)
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(r.IntN(1 + trial%12)) // many ties
		}
		sorted := slices.Sorted(slices.Values(xs))
		for _, q := range []float64{0, 0.25, 0.5, 0.75, 1} {
			h := q * float64(n-1)
			lo := int(h)
			want := sorted[lo]
			if lo+1 < n {
				want += (h - float64(lo)) * (sorted[lo+1] - sorted[lo])
			}
			in := slices.Clone(xs)
			if got := Quantile(in, q); got != want {
				t.Fatalf("Quantile(%v, %v) = %v, want %v", xs, q, got, want)
			}
			if !slices.Equal(slices.Sorted(slices.Values(in)), sorted) {
				t.Fatalf("Quantile lost values of %v: %v", xs, in)
			}
		}
	}
}

// Quantile interpolates as numpy does, and two equal infinite neighbours
// give their value, not NaN.
func TestQuantileValues(t *testing.T) {
	xs := []float64{1, 2, 3, 4}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.25, 1.75}, {0.5, 2.5}, {0.75, 3.25}, {1, 4}} {
		if got := Quantile(slices.Clone(xs), c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", xs, c.q, got, c.want)
		}
	}
	if got := Quantile([]float64{5}, 0.5); got != 5 {
		t.Errorf("Quantile of one = %v", got)
	}
	inf := math.Inf(1)
	if got := Quantile([]float64{inf, 1, inf}, 0.75); got != inf {
		t.Errorf("Quantile(1, Inf, Inf; 0.75) = %v, want +Inf", got)
	}
}
