// Package parzen holds the numerics of TPE on plain []float64: HyperOpt's
// adaptive Parzen estimator, the log-densities of truncated and quantized
// Gaussian and log-Gaussian mixtures, sampling from them, categorical
// posteriors with pseudocounts, and the split of trials into good and bad.
//
// Each function follows the HyperOpt 0.2.7 function named in its comment
// (hyperopt/tpe.py), and is checked against values HyperOpt computed
// (testdata/golden.json). Two things differ on purpose: the density of a
// truncated, unquantized log-Gaussian mixture is normalized by the mass the
// truncation keeps (HyperOpt omits it; the offset is the same for every
// point, so TPE's choices do not change), and differences of normal CDFs
// are taken in the tail where they do not cancel, so they stay finite and
// accurate far from the means, where HyperOpt's underflow to log(0).
//
// Functions that write results take a dst slice first and return it, grown
// if it is too short (gonum's convention); they panic if parallel inputs
// have different lengths.
package parzen

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mathext"
)

// EPS is HyperOpt's floor for sigmas and lognormal CDF arguments.
const EPS = 1e-12

// Mixture is a one-dimensional Gaussian mixture: component k has weight
// Weights[k], mean Mus[k] and standard deviation Sigmas[k]. The weights sum
// to 1. For a log-Gaussian mixture the means and deviations are those of the
// logarithm.
type Mixture struct {
	Weights, Mus, Sigmas []float64
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// LinearForgettingWeights writes HyperOpt's linear_forgetting_weights(n, lf)
// to dst: n ones if n < lf, else a ramp from 1/n to 1 over the n-lf oldest
// observations followed by lf ones.
func LinearForgettingWeights(dst []float64, n, lf int) []float64 {
	dst = grow(dst, n)
	if n < lf || lf <= 0 {
		for i := range dst {
			dst[i] = 1
		}
		return dst
	}
	// numpy's linspace(1/n, 1, num=n-lf): start + i*step, the last point
	// exactly the stop.
	m := n - lf
	start, stop := 1/float64(n), 1.0
	if m == 1 {
		dst[0] = start
	} else if m > 1 {
		step := (stop - start) / float64(m-1)
		for i := range m {
			dst[i] = start + float64(i)*step
		}
		dst[m-1] = stop
	}
	for i := m; i < n; i++ {
		dst[i] = 1
	}
	return dst
}

// Fit sets m to HyperOpt's adaptive_parzen_normal(obs, priorWeight, priorMu,
// priorSigma, LF=lf): the observations (oldest first) and the prior as
// components sorted by mean, each observation's width the larger gap to its
// neighbours (the end ones: the one gap), clipped to [priorSigma/min(100,
// n+2), priorSigma], the prior's width priorSigma; weights 1 (or linear
// forgetting weights past lf observations) and priorWeight for the prior,
// normalized. It returns the prior component's index. Equal observations
// keep their age order. s, if not nil, holds buffers reused across calls.
func Fit(m *Mixture, obs []float64, priorWeight, priorMu, priorSigma float64, lf int, s *Scratch) int {
	if s == nil {
		s = new(Scratch)
	}
	n := len(obs)
	s.sorted = grow(s.sorted, n)
	s.age = growInt(s.age, n)
	for i := range s.age {
		s.age[i] = int32(i)
	}
	slices.SortFunc(s.age, func(a, b int32) int {
		if c := cmpFloat(obs[a], obs[b]); c != 0 {
			return c
		}
		return int(a - b)
	})
	for i, a := range s.age {
		s.sorted[i] = obs[a]
	}
	return FitSorted(m, s.sorted, s.age, priorWeight, priorMu, priorSigma, lf, s)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func growInt(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// Scratch holds buffers that Fit, FitSorted and the density methods reuse.
// The zero value is ready; a Scratch must not be used by two goroutines at
// once.
type Scratch struct {
	sorted []float64
	age    []int32
	lfw    []float64
	lse    logSumExp
	lg     []float64
	order  []int32
}

// FitSorted is Fit for observations already sorted: sorted holds their
// values in increasing order and age[i] the age rank of sorted[i] (0 the
// oldest). age may be nil when lf >= len(sorted) (no forgetting).
func FitSorted(m *Mixture, sorted []float64, age []int32, priorWeight, priorMu, priorSigma float64, lf int, s *Scratch) int {
	n := len(sorted)
	m.Weights = grow(m.Weights, n+1)
	m.Mus = grow(m.Mus, n+1)
	m.Sigmas = grow(m.Sigmas, n+1)
	mus, sig, w := m.Mus, m.Sigmas, m.Weights
	// searchsorted(sorted, priorMu), side left: the first index whose
	// value is >= priorMu.
	prior, _ := slices.BinarySearchFunc(sorted, priorMu, cmpFloat)
	if n == 1 && !(priorMu < sorted[0]) {
		prior = 1 // HyperOpt puts the prior second when it is not below
	}
	copy(mus, sorted[:prior])
	mus[prior] = priorMu
	copy(mus[prior+1:], sorted[prior:])
	switch n {
	case 0:
		sig[0] = priorSigma
	case 1:
		sig[0], sig[1] = priorSigma, priorSigma
		sig[1-prior] = priorSigma * 0.5
	default:
		// Plain comparisons: math.Max is not inlined, and nothing is NaN.
		for i := 1; i < n; i++ {
			a, b := mus[i]-mus[i-1], mus[i+1]-mus[i]
			if b > a {
				a = b
			}
			sig[i] = a
		}
		sig[0] = mus[1] - mus[0]
		sig[n] = mus[n] - mus[n-1]
	}
	if lf > 0 && lf < n {
		// Linear forgetting weights are by age; sorted by mean here.
		if s == nil {
			s = new(Scratch)
		}
		s.lfw = LinearForgettingWeights(s.lfw, n, lf)
		for i := 0; i < prior; i++ {
			w[i] = s.lfw[age[i]]
		}
		for i := prior; i < n; i++ {
			w[i+1] = s.lfw[age[i]]
		}
	} else {
		for i := range w {
			w[i] = 1
		}
	}
	w[prior] = priorWeight
	minSigma := priorSigma / math.Min(100, 1+float64(n+1))
	for i, x := range sig {
		if x < minSigma {
			x = minSigma
		}
		if x > priorSigma {
			x = priorSigma
		}
		sig[i] = x
	}
	sig[prior] = priorSigma
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	for i := range w {
		w[i] /= sum
	}
	return prior
}

// normMass returns Φ(b) - Φ(a) for N(mu, sigma), a <= b (either may be
// infinite), taken in the tail where the difference does not cancel.
func normMass(a, b, mu, sigma float64) float64 {
	s := math.Sqrt2 * sigma
	if !(s >= EPS) {
		s = EPS
	}
	za, zb := (a-mu)/s, (b-mu)/s
	if za > 0 {
		// Both in the upper tail: Q(a) - Q(b).
		return 0.5 * (math.Erfc(za) - math.Erfc(zb))
	}
	if zb < 0 {
		// Both in the lower tail.
		return 0.5 * (math.Erfc(-zb) - math.Erfc(-za))
	}
	// math.Erf is exactly ±1 beyond ±6: the same value without the call,
	// for one bound or both (most components of a fitted mixture lie deep
	// inside at least one of the bounds).
	ea, eb := -1.0, 1.0
	if !(za <= -6) { // NaN goes through Erf, and stays NaN
		ea = math.Erf(za)
	}
	if !(zb >= 6) {
		eb = math.Erf(zb)
	}
	return 0.5 * (eb - ea)
}

// Accept returns the mass of the mixture inside [low, high] (HyperOpt's
// p_accept), 1 if both bounds are infinite.
func Accept(m *Mixture, low, high float64) float64 {
	if math.IsInf(low, -1) && math.IsInf(high, 1) {
		return 1
	}
	p := 0.0
	for k, w := range m.Weights {
		mu, s := m.Mus[k], m.Sigmas[k]
		// A component 6√2 σ inside both bounds has mass 1 exactly (as
		// normMass computes it): skip its two divisions.
		if r := 6 * math.Sqrt2 * s; s >= EPS && mu-r >= low && mu+r <= high {
			p += w
			continue
		}
		p += w * normMass(low, high, mu, s)
	}
	return p
}

// GMMLogPDF writes to dst the log-density (q == 0) or log-mass (q > 0) at
// each x of the mixture truncated to [low, high] (infinite bounds for none)
// and, if q > 0, rounded to multiples of q: HyperOpt's GMM1_lpdf. A point
// whose rounding interval lies outside [low, high] gets -Inf.
func GMMLogPDF(dst, x []float64, m *Mixture, low, high, q float64) []float64 {
	return new(Scratch).GMMLogPDF(dst, x, m, low, high, q)
}

// GMMLogPDF is [GMMLogPDF] reusing the buffers of s.
func (s *Scratch) GMMLogPDF(dst, x []float64, m *Mixture, low, high, q float64) []float64 {
	dst = grow(dst, len(x))
	logAccept := math.Log(Accept(m, low, high))
	if q == 0 {
		lse := &s.lse
		lse.prepare(m)
		for i, xi := range x {
			dst[i] = lse.at(xi, 0) - logAccept
		}
		return dst
	}
	lse := &s.lse
	lse.prepare(m)
	for i, xi := range x {
		dst[i] = math.Log(lse.quantSum(m, math.Max(xi-q/2, low), math.Min(xi+q/2, high))) - logAccept
	}
	return dst
}

// quantMass returns Σ_k w_k (Φ_k(ub) - Φ_k(lb)), 0 if ub <= lb.
func quantMass(m *Mixture, lb, ub float64) float64 {
	if ub <= lb {
		return 0
	}
	p := 0.0
	for k, w := range m.Weights {
		p += w * normMass(lb, ub, m.Mus[k], m.Sigmas[k])
	}
	return p
}

// LGMMLogPDF writes to dst the log-density or log-mass at each x > 0 of the
// log-Gaussian mixture truncated to [exp(low), exp(high)] (low and high are
// bounds of the logarithm; infinite for none): HyperOpt's LGMM1_lpdf, but
// normalized by the truncation's mass also when q == 0.
func LGMMLogPDF(dst, x []float64, m *Mixture, low, high, q float64) []float64 {
	return new(Scratch).LGMMLogPDF(dst, x, m, low, high, q)
}

// LGMMLogPDF is [LGMMLogPDF] reusing the buffers of s.
func (s *Scratch) LGMMLogPDF(dst, x []float64, m *Mixture, low, high, q float64) []float64 {
	dst = grow(dst, len(x))
	logAccept := math.Log(Accept(m, low, high))
	if q == 0 {
		lse := &s.lse
		lse.prepare(m)
		for i, xi := range x {
			lx := math.Log(xi)
			dst[i] = lse.at(lx, lx) - logAccept
		}
		return dst
	}
	lse := &s.lse
	lse.prepare(m)
	elow, ehigh := math.Exp(low), math.Exp(high)
	for i, xi := range x {
		ub := math.Min(xi+q/2, ehigh)
		lb := math.Max(math.Max(xi-q/2, elow), 0)
		p := 0.0
		if ub > lb {
			// HyperOpt's lognormal_cdf floors its argument at EPS.
			p = lse.quantSum(m, math.Log(math.Max(lb, EPS)), math.Log(math.Max(ub, EPS)))
		}
		dst[i] = math.Log(p) - logAccept
	}
	return dst
}

// logSumExp evaluates log Σ_k w_k N(y; μ_k, σ_k) for a prepared mixture.
//
// The sum is taken in linear space, Σ c_k exp(-½z_k²) with c_k = w_k/(√(2π)
// σ_k) computed once per mixture, which needs one exponential per term and
// no logarithm; if every term underflows (y far out in the tails) it is
// taken again in log space, as HyperOpt's logsum_rows does.
//
// When the means are sorted (as Fit makes them), the sum at y visits the
// components outward from y's place and stops in each direction once a
// bound on every remaining term (from the largest weight and the range of
// widths beyond) is below e^-50 of the sum so far: each skipped term adds
// less than that, so even 10^5 of them stay below float64's resolution.
// The widest component (the prior, in a fitted mixture) is visited on its
// own, so that its width does not stop the pruning on its side.
type logSumExp struct {
	mus, w, sig    []float64 // the mixture
	inv, c         []float64 // 1/σ_k and c_k
	sortedMus      bool
	minSig         float64
	wide           int       // the widest component, always visited
	preSig, sufSig []float64 // largest σ in [0, k] and in [k, n), the widest left out
	preW, sufW     []float64 // largest w likewise
	logSqrt2Pi     float64
	pruneMargin    float64 // e^-pruneMargin
}

func (l *logSumExp) prepare(m *Mixture) {
	n := len(m.Weights)
	l.mus, l.w, l.sig = m.Mus, m.Weights, m.Sigmas
	l.inv = grow(l.inv, n)
	l.c = grow(l.c, n)
	l.logSqrt2Pi = 0.5 * math.Log(2*math.Pi)
	l.pruneMargin = math.Exp(-50)
	// Plain comparisons instead of math.Max and math.Min, which are not
	// inlined: nothing here is NaN, and this loop runs once per component.
	l.minSig = math.Inf(1)
	l.wide = 0
	for k, s := range m.Sigmas {
		if s < EPS {
			l.inv[k] = 1 / EPS
		} else {
			l.inv[k] = 1 / s
		}
		// w / sqrt(2π σ²), HyperOpt's coef; through logarithms where σ²
		// would leave float64's range.
		if s > 1e-150 && s < 1e150 {
			l.c[k] = m.Weights[k] / math.Sqrt(2*math.Pi*s*s)
		} else {
			l.c[k] = math.Exp(math.Log(m.Weights[k]) - math.Log(s) - l.logSqrt2Pi)
		}
		if s < l.minSig {
			l.minSig = s
		}
		if s > m.Sigmas[l.wide] {
			l.wide = k
		}
	}
	// The pruning bound assumes exp(-d²/(2σ²)), so it is used only where
	// no width was floored at EPS.
	l.sortedMus = n > 16 && l.minSig >= EPS && slices.IsSorted(m.Mus)
	if !l.sortedMus {
		return
	}
	l.preSig, l.sufSig = grow(l.preSig, n), grow(l.sufSig, n)
	l.preW, l.sufW = grow(l.preW, n), grow(l.sufW, n)
	ps, pw := 0.0, 0.0
	for k := range n {
		if k != l.wide {
			if s := m.Sigmas[k]; s > ps {
				ps = s
			}
			if w := m.Weights[k]; w > pw {
				pw = w
			}
		}
		l.preSig[k], l.preW[k] = ps, pw
	}
	ps, pw = 0, 0
	for k := n - 1; k >= 0; k-- {
		if k != l.wide {
			if s := m.Sigmas[k]; s > ps {
				ps = s
			}
			if w := m.Weights[k]; w > pw {
				pw = w
			}
		}
		l.sufSig[k], l.sufW[k] = ps, pw
	}
}

// bound is the largest value w/(√(2π)σ)·exp(-d²/(2σ²)) can take for
// w <= wHi and σ in [minSig, sigHi], at distance d >= 0.
func (l *logSumExp) bound(d, sigHi, wHi float64) float64 {
	if wHi == 0 {
		return 0
	}
	lo := l.minSig
	var h float64 // the largest -log σ - d²/(2σ²)
	switch {
	case d <= lo:
		h = -math.Log(lo) - d*d/(2*lo*lo)
	case d < sigHi:
		h = -math.Log(d) - 0.5
	default:
		h = -math.Log(sigHi) - d*d/(2*sigHi*sigHi)
	}
	return wHi * math.Exp(h-l.logSqrt2Pi)
}

// at returns log Σ_k c_k exp(-½((y-μ_k)/σ_k)²) - shift.
func (l *logSumExp) at(y, shift float64) float64 {
	s, _ := l.sum(y, math.Inf(1))
	if s > 1e-280 && !math.IsInf(s, 1) {
		return math.Log(s) - shift
	}
	return l.atLog(y, shift)
}

// sum returns Σ_k c_k exp(-½((y-μ_k)/σ_k)²), visiting the components
// nearest y first. If a partial sum exceeds stop it returns it at once with
// complete false: the caller only needed to know that the sum is above stop.
func (l *logSumExp) sum(y, stop float64) (s float64, complete bool) {
	n := len(l.mus)
	mus, inv, c := l.mus, l.inv, l.c
	if !l.sortedMus {
		for k := range n {
			z := (y - mus[k]) * inv[k]
			s += c[k] * math.Exp(-0.5*z*z)
		}
		return s, true
	}
	z := (y - mus[l.wide]) * inv[l.wide]
	s = c[l.wide] * math.Exp(-0.5*z*z)
	if s > stop {
		return s, false
	}
	pos, _ := slices.BinarySearch(mus, y)
	r, lf := pos, pos-1
	var stepsR, stepsL int
	// Each scan checks the bound on what lies beyond it every 32
	// components: a check costs a logarithm and an exponential.
	for r < n || lf >= 0 {
		if r < n && (lf < 0 || mus[r]-y <= y-mus[lf]) {
			if stepsR&31 == 0 && l.bound(mus[r]-y, l.sufSig[r], l.sufW[r]) < s*l.pruneMargin {
				r = n
				continue
			}
			stepsR++
			if r != l.wide {
				z := (y - mus[r]) * inv[r]
				s += c[r] * math.Exp(-0.5*z*z)
			}
			r++
		} else {
			if stepsL&31 == 0 && l.bound(y-mus[lf], l.preSig[lf], l.preW[lf]) < s*l.pruneMargin {
				lf = -1
				continue
			}
			stepsL++
			if lf != l.wide {
				z := (y - mus[lf]) * inv[lf]
				s += c[lf] * math.Exp(-0.5*z*z)
			}
			lf--
		}
		if s > stop {
			return s, false
		}
	}
	return s, true
}

// ArgmaxRatio returns the index of the first of the points x with the
// largest ll[i] - log g(x[i]), where g is the mixture's density truncated
// to [low, high] (log-Gaussian if log is true, low and high then bounds of
// the logarithm) and rounded to multiples of q if q > 0, as GMMLogPDF and
// LGMMLogPDF compute it; NaN differences count as -Inf. It is TPE's choice
// among its candidates. For q == 0 it stops summing g at a point as soon as
// the partial sum shows that the point cannot beat the best so far, trying
// the points in decreasing order of ll so that a good one is found early;
// the result is the one a full evaluation gives.
func (s *Scratch) ArgmaxRatio(x, ll []float64, g *Mixture, low, high, q float64, log bool) int {
	if q > 0 || len(x) == 0 {
		var lg []float64
		if log {
			lg = s.LGMMLogPDF(s.lg, x, g, low, high, q)
		} else {
			lg = s.GMMLogPDF(s.lg, x, g, low, high, q)
		}
		s.lg = lg
		return argmaxDiff(ll, lg)
	}
	logAccept := math.Log(Accept(g, low, high))
	lse := &s.lse
	lse.prepare(g)
	s.order = growInt(s.order, len(x))
	for i := range s.order {
		s.order[i] = int32(i)
	}
	slices.SortStableFunc(s.order, func(a, b int32) int { return cmpFloat(ll[b], ll[a]) })
	best, bestScore := -1, math.Inf(-1)
	for _, i32 := range s.order {
		i := int(i32)
		if math.IsNaN(ll[i]) || math.IsInf(ll[i], -1) {
			continue
		}
		y, shift := x[i], 0.0
		if log {
			y = math.Log(x[i])
			shift = y
		}
		// The point loses if log g > ll - bestScore, that is if the sum
		// exceeds exp(ll - bestScore + shift + logAccept).
		stop := math.Inf(1)
		if best >= 0 {
			stop = math.Exp(ll[i] - bestScore + shift + logAccept)
		}
		sum, complete := lse.sum(y, stop)
		if !complete {
			continue
		}
		var lg float64
		if sum > 1e-280 && !math.IsInf(sum, 1) {
			lg = math.Log(sum) - shift - logAccept
		} else {
			lg = lse.atLog(y, shift) - logAccept
		}
		sc := ll[i] - lg
		if math.IsNaN(sc) {
			continue
		}
		if best < 0 || sc > bestScore || (sc == bestScore && i < best) {
			best, bestScore = i, sc
		}
	}
	if best < 0 {
		return 0
	}
	return best
}

// argmaxDiff returns the first index of the largest ll[i] - lg[i], NaN
// differences counting as -Inf.
func argmaxDiff(ll, lg []float64) int {
	best, bestScore := 0, math.Inf(-1)
	for i := range ll {
		sc := ll[i] - lg[i]
		if sc > bestScore {
			best, bestScore = i, sc
		}
	}
	return best
}

// quantSum returns Σ_k w_k (Φ_k(ub) - Φ_k(lb)), 0 if ub <= lb, as
// quantMass, visiting the components nearest the interval first when the
// means are sorted and stopping in each direction once every remaining
// component's mass is bounded below e^-50 of the sum so far (a component at
// distance d from the interval holds at most w·½exp(-d²/(2σ²))).
func (l *logSumExp) quantSum(m *Mixture, lb, ub float64) float64 {
	if ub <= lb {
		return 0
	}
	if !l.sortedMus {
		return quantMass(m, lb, ub)
	}
	mus, w, sig := l.mus, l.w, l.sig
	n := len(mus)
	// Quantized observations repeat: a run of components with the same
	// mean and width has the same mass, computed once.
	lastMu, lastSig, lastMass := math.NaN(), math.NaN(), 0.0
	mass := func(k int) float64 {
		if mus[k] != lastMu || sig[k] != lastSig {
			lastMu, lastSig, lastMass = mus[k], sig[k], normMass(lb, ub, mus[k], sig[k])
		}
		return lastMass
	}
	s := w[l.wide] * normMass(lb, ub, mus[l.wide], sig[l.wide])
	bound := func(d, sigHi, wHi float64) float64 {
		if d <= 0 {
			return wHi
		}
		z := d / sigHi
		return 0.5 * wHi * math.Exp(-0.5*z*z)
	}
	// Components whose means lie in [lb, ub] are all visited.
	lo, _ := slices.BinarySearch(mus, lb)
	hi, _ := slices.BinarySearch(mus, ub)
	for k := lo; k < hi; k++ {
		if k != l.wide {
			s += w[k] * mass(k)
		}
	}
	for k, steps := hi, 0; k < n; k, steps = k+1, steps+1 {
		if steps&31 == 0 && bound(mus[k]-ub, l.sufSig[k], l.sufW[k]) < s*l.pruneMargin {
			break
		}
		if k != l.wide {
			s += w[k] * mass(k)
		}
	}
	for k, steps := lo-1, 0; k >= 0; k, steps = k-1, steps+1 {
		if steps&31 == 0 && bound(lb-mus[k], l.preSig[k], l.preW[k]) < s*l.pruneMargin {
			break
		}
		if k != l.wide {
			s += w[k] * mass(k)
		}
	}
	return s
}

// atLog is at in log space, over every component: for points so far out
// that the linear terms underflow.
func (l *logSumExp) atLog(y, shift float64) float64 {
	logc := func(k int) float64 { return math.Log(l.w[k]) - math.Log(l.sig[k]) - l.logSqrt2Pi }
	mx := math.Inf(-1)
	for k := range l.mus {
		z := (y - l.mus[k]) * l.inv[k]
		if v := logc(k) - 0.5*z*z; v > mx {
			mx = v
		}
	}
	if math.IsInf(mx, -1) || math.IsNaN(mx) {
		return mx
	}
	s := 0.0
	for k := range l.mus {
		z := (y - l.mus[k]) * l.inv[k]
		s += math.Exp(logc(k) - 0.5*z*z - mx)
	}
	return math.Log(s) + mx - shift
}

// Sample writes n draws to dst from the mixture truncated to [low, high]
// (infinite for none), each rounded to a multiple of q if q > 0, and
// exponentiated first if log is true (a log-Gaussian mixture, low and high
// then bounds of the logarithm). A component is chosen with probability
// proportional to its weight times its mass inside the bounds, then a value
// from it by inverting its truncated CDF: the same distribution as
// HyperOpt's GMM1 and LGMM1 rejection loops, without their unbounded
// retries.
func Sample(dst []float64, r *rand.Rand, m *Mixture, low, high, q float64, log bool, n int) []float64 {
	dst = grow(dst, n)
	nk := len(m.Weights)
	var buf [64]float64
	cum := buf[:0]
	if nk > len(buf) {
		cum = make([]float64, 0, nk)
	}
	total := 0.0
	for k, w := range m.Weights {
		total += w * normMass(low, high, m.Mus[k], m.Sigmas[k])
		cum = append(cum, total)
	}
	for i := range dst {
		u := r.Float64() * total
		k, _ := slices.BinarySearch(cum, u)
		k = min(k, nk-1)
		for k > 0 && cum[k] == cum[k-1] { // a component with no mass inside
			k--
		}
		x := truncNormal(r, m.Mus[k], m.Sigmas[k], low, high)
		if log {
			x = math.Exp(x)
		}
		if q > 0 {
			x = math.RoundToEven(x/q) * q
		}
		dst[i] = x
	}
	return dst
}

// truncNormal draws from N(mu, sigma) truncated to [low, high].
func truncNormal(r *rand.Rand, mu, sigma, low, high float64) float64 {
	if math.IsInf(low, -1) && math.IsInf(high, 1) {
		return mu + sigma*r.NormFloat64()
	}
	za, zb := (low-mu)/sigma, (high-mu)/sigma
	flip := za > 0 // work in the lower tail, where the CDF keeps precision
	if flip {
		za, zb = -zb, -za
	}
	var z float64
	switch {
	case zb-za < 1e-8:
		// An interval this narrow next to σ: the density is flat on it.
		z = za + r.Float64()*(zb-za)
	case zb < -5:
		// Far in the tail, where Φ loses the interval: exp(-z²/2) on
		// [za, zb] is exp(-λt)·exp(-t²/2) up to a constant, with
		// t = zb - z and λ = -zb. Draw t from the truncated exponential
		// and accept with exp(-t²/2), which is near 1 this far out.
		lam, width := -zb, zb-za
		for {
			t := -math.Log1p(r.Float64()*math.Expm1(-lam*width)) / lam
			if r.Float64() <= math.Exp(-0.5*t*t) {
				z = zb - t
				break
			}
		}
	default:
		pa, pb := stdCDF(za), stdCDF(zb)
		z = mathext.NormalQuantile(pa + r.Float64()*(pb-pa))
	}
	z = math.Min(math.Max(z, za), zb)
	if flip {
		z = -z
	}
	x := mu + sigma*z
	// Keep the draw inside the bounds against rounding.
	return math.Min(math.Max(x, low), math.Nextafter(high, math.Inf(-1)))
}

func stdCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// Categorical writes to dst the posterior probabilities of a categorical
// hyperparameter with k options: HyperOpt's ap_categorical_sampler (and,
// with p nil, ap_randint_sampler). obs are the observed option indices,
// oldest first, weighted by linear forgetting past lf observations; each
// option i gets the pseudocount k·priorWeight·p[i] (priorWeight if p is
// nil, the uniform prior). It panics if an observation is outside [0, k).
func Categorical(dst []float64, obs []int, k int, p []float64, priorWeight float64, lf int) []float64 {
	dst = grow(dst, k)
	clear(dst)
	if len(obs) > 0 {
		var wbuf [64]float64
		w := LinearForgettingWeights(wbuf[:0], len(obs), lf)
		for i, o := range obs {
			dst[o] += w[i]
		}
	}
	sum := 0.0
	for i := range dst {
		if p == nil {
			dst[i] += priorWeight
		} else {
			dst[i] += float64(k) * priorWeight * p[i]
		}
		sum += dst[i]
	}
	for i := range dst {
		dst[i] /= sum
	}
	return dst
}

// NBelow is HyperOpt's size of the good group for n observations:
// min(ceil(gamma·√n), gammaCap).
func NBelow(n int, gamma float64, gammaCap int) int {
	return min(int(math.Ceil(gamma*math.Sqrt(float64(n)))), gammaCap)
}

// Split marks in below (grown to len(losses)) the NBelow(len(losses),
// gamma, gammaCap) observations with the lowest losses: HyperOpt's
// ap_split_trials. Ties are broken by position (HyperOpt's quicksort
// leaves them in an unspecified order); NaN losses rank last. It selects
// the few lowest in one pass, without sorting all the losses. scratch, if
// not nil, is reused.
func Split(below []bool, losses []float64, gamma float64, gammaCap int, scratch *[]int) []bool {
	return SplitN(below, losses, NBelow(len(losses), gamma, gammaCap), scratch)
}

// SplitN is Split with the size of the good group given: it marks the k
// observations with the lowest losses (all of them if k >= len(losses)).
func SplitN(below []bool, losses []float64, k int, scratch *[]int) []bool {
	n := len(losses)
	if cap(below) < n {
		below = make([]bool, n)
	}
	below = below[:n]
	clear(below)
	k = min(k, n)
	if k <= 0 {
		return below
	}
	var best []int // the k lowest so far, in order
	if scratch != nil {
		best = (*scratch)[:0]
	}
	// rank orders by loss, NaN last, then by position.
	less := func(a, b int) bool {
		x, y := losses[a], losses[b]
		switch {
		case x < y:
			return true
		case x > y:
			return false
		case x == y:
			return a < b
		}
		// At least one NaN.
		if math.IsNaN(x) != math.IsNaN(y) {
			return math.IsNaN(y)
		}
		return a < b
	}
	for i := range n {
		if len(best) == k && !less(i, best[k-1]) {
			continue
		}
		j := sort.Search(len(best), func(j int) bool { return less(i, best[j]) })
		if len(best) < k {
			best = append(best, 0)
		}
		copy(best[j+1:], best[j:len(best)-1])
		best[j] = i
	}
	for _, i := range best {
		below[i] = true
	}
	if scratch != nil {
		*scratch = best
	}
	return below
}

// Quantile returns the q-quantile of xs (0 <= q <= 1, xs not empty),
// interpolated linearly between order statistics (numpy's default), in
// expected linear time; it reorders xs (sorted xs are fine). Two equal
// neighbours give their value, infinite ones too.
func Quantile(xs []float64, q float64) float64 {
	h := q * float64(len(xs)-1)
	lo := int(h)
	x := nth(xs, lo)
	if lo+1 >= len(xs) {
		return x
	}
	next := slices.Min(xs[lo+1:]) // nth left the larger values after lo
	if next == x {
		return x
	}
	return x + (h-float64(lo))*(next-x)
}

// nth reorders xs so that xs[k] is its k-th smallest value (from 0), no
// value before it larger and none after it smaller, and returns it:
// Hoare's selection, with the median of three as pivot.
func nth(xs []float64, k int) float64 {
	lo, hi := 0, len(xs)-1
	for hi > lo {
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}
