package space

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// Kind names the prior of a hyperparameter. The set is closed: algorithms
// switch on it, and a test checks that every switch handles every kind.
type Kind uint8

// The kinds, each with the HyperOpt call it corresponds to.
const (
	KindUniform     Kind = iota + 1 // hp.uniform: U(Low, High)
	KindQUniform                    // hp.quniform: Q·round(U(Low, High)/Q)
	KindLogUniform                  // hp.loguniform: exp(U(log Low, log High))
	KindQLogUniform                 // hp.qloguniform: Q·round(exp(U(log Low, log High))/Q)
	KindNormal                      // hp.normal: N(Mu, Sigma)
	KindQNormal                     // hp.qnormal: Q·round(N(Mu, Sigma)/Q)
	KindLogNormal                   // hp.lognormal: exp(N(Mu, Sigma))
	KindQLogNormal                  // hp.qlognormal: Q·round(exp(N(Mu, Sigma))/Q)
	KindRandInt                     // hp.randint: an integer uniform on [Low, High)
	KindChoice                      // hp.choice and hp.pchoice: an option index on [0, High)
)

var kindNames = [...]string{
	KindUniform:     "uniform",
	KindQUniform:    "quniform",
	KindLogUniform:  "loguniform",
	KindQLogUniform: "qloguniform",
	KindNormal:      "normal",
	KindQNormal:     "qnormal",
	KindLogNormal:   "lognormal",
	KindQLogNormal:  "qlognormal",
	KindRandInt:     "randint",
	KindChoice:      "choice",
}

// String returns HyperOpt's name of the kind ("quniform"), or "Kind(n)" for
// a value outside the set.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Quantized reports whether k rounds its draws to a multiple of Q.
func (k Kind) Quantized() bool {
	return k == KindQUniform || k == KindQLogUniform || k == KindQNormal || k == KindQLogNormal
}

// Log reports whether k is uniform or normal in the logarithm of the value.
func (k Kind) Log() bool {
	return k == KindLogUniform || k == KindQLogUniform || k == KindLogNormal || k == KindQLogNormal
}

// Dist is the prior of one hyperparameter. Which fields are used depends on
// Kind:
//
//   - uniform kinds: Low and High, natural values (also for the log kinds:
//     LogUniform("lr", 1e-5, 1e-1) has Low 1e-5, where HyperOpt would write
//     log(1e-5));
//   - normal kinds: Mu and Sigma; for the log kinds they are the mean and
//     standard deviation of the logarithm of the value, as in HyperOpt;
//   - quantized kinds: Q as well;
//   - KindRandInt: the integers of [Low, High);
//   - KindChoice: the option indices of [0, High), drawn with Probs, or
//     uniformly if Probs is nil.
//
// Int reports whether the value is an integer (a Go int in configs).
// Values are always stored as float64 in [Values].
type Dist struct {
	Kind      Kind
	Low, High float64
	Mu, Sigma float64
	Q         float64
	Probs     []float64
	Int       bool
}

// String describes d in HyperOpt's terms with natural bounds, e.g.
// "qloguniform(1, 100, q=1)".
func (d Dist) String() string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	var s string
	switch d.Kind {
	case KindUniform, KindLogUniform:
		s = fmt.Sprintf("%v(%s, %s)", d.Kind, g(d.Low), g(d.High))
	case KindQUniform, KindQLogUniform:
		s = fmt.Sprintf("%v(%s, %s, q=%s)", d.Kind, g(d.Low), g(d.High), g(d.Q))
	case KindNormal, KindLogNormal:
		s = fmt.Sprintf("%v(mu=%s, sigma=%s)", d.Kind, g(d.Mu), g(d.Sigma))
	case KindQNormal, KindQLogNormal:
		s = fmt.Sprintf("%v(mu=%s, sigma=%s, q=%s)", d.Kind, g(d.Mu), g(d.Sigma), g(d.Q))
	case KindRandInt:
		s = fmt.Sprintf("randint(%s, %s)", g(d.Low), g(d.High))
	case KindChoice:
		if d.Probs != nil {
			s = fmt.Sprintf("pchoice(%v)", d.Probs)
		} else {
			s = fmt.Sprintf("choice(%s options)", g(d.High))
		}
	default:
		return d.Kind.String()
	}
	if d.Int && d.Kind != KindRandInt && d.Kind != KindChoice {
		s += " int"
	}
	return s
}

// probTolerance is how far from 1 the probabilities of a PChoice may sum.
// They are then rescaled to sum to exactly 1.
const probTolerance = 1e-6

// check validates the arguments of d and returns a description of the first
// problem and its reason, or "" and nil.
func (d Dist) check() (msg string, err error) {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	finite := func(name string, x float64) (string, error) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprintf("%v %s must be finite, got %s", d.Kind, name, g(x)), ErrNotFinite
		}
		return "", nil
	}
	for _, a := range d.args() {
		if msg, err := finite(a.name, a.v); err != nil {
			return msg, err
		}
	}
	switch d.Kind {
	case KindUniform, KindQUniform, KindLogUniform, KindQLogUniform:
		if d.Kind.Log() && d.Low <= 0 {
			return fmt.Sprintf("%v low must be > 0 (bounds are natural values, not logarithms), got %s", d.Kind, g(d.Low)), ErrNotPositive
		}
		if d.Low >= d.High {
			return fmt.Sprintf("%v low must be less than high, got low=%s high=%s", d.Kind, g(d.Low), g(d.High)), ErrBounds
		}
	case KindNormal, KindQNormal, KindLogNormal, KindQLogNormal:
		if d.Sigma <= 0 {
			return fmt.Sprintf("%v sigma must be > 0, got %s", d.Kind, g(d.Sigma)), ErrNotPositive
		}
	case KindRandInt:
		if d.Low >= d.High {
			return fmt.Sprintf("randint upper must be greater than low, got low=%s upper=%s", g(d.Low), g(d.High)), ErrBounds
		}
		if d.Low != math.Trunc(d.Low) || d.High != math.Trunc(d.High) || math.Abs(d.Low) > 1<<53 || math.Abs(d.High) > 1<<53 {
			return fmt.Sprintf("randint bounds must be integers within ±2^53, got low=%s upper=%s", g(d.Low), g(d.High)), ErrBounds
		}
	case KindChoice:
		if d.High < 1 {
			return "choice must have at least one option", ErrEmptyChoice
		}
		if d.Probs != nil {
			if len(d.Probs) != int(d.High) {
				return fmt.Sprintf("pchoice has %d probabilities for %s options", len(d.Probs), g(d.High)), ErrProbabilities
			}
			sum := 0.0
			for i, p := range d.Probs {
				if math.IsNaN(p) || p < 0 || math.IsInf(p, 0) {
					return fmt.Sprintf("pchoice probability of option %d must be finite and >= 0, got %s", i, g(p)), ErrProbabilities
				}
				sum += p
			}
			if math.Abs(sum-1) > probTolerance {
				return fmt.Sprintf("pchoice probabilities must sum to 1 (within %g), got %s", probTolerance, g(sum)), ErrProbabilities
			}
		}
	default:
		return fmt.Sprintf("unknown distribution kind %v", d.Kind), ErrStructure
	}
	if d.Kind.Quantized() {
		if d.Q <= 0 {
			return fmt.Sprintf("%v q must be > 0, got %s", d.Kind, g(d.Q)), ErrNotPositive
		}
		if d.Int && d.Q != math.Trunc(d.Q) {
			return fmt.Sprintf("%v q of an integer hyperparameter must be a whole number, got %s", d.Kind, g(d.Q)), ErrNotPositive
		}
	}
	// Integer kinds must keep their values within ±2^53, where float64
	// holds every integer and Go's int converts exactly.
	if d.Int {
		lo, hi := d.Low, d.High
		if d.Kind == KindNormal || d.Kind == KindQNormal {
			lo, hi = d.Mu-normalReach*d.Sigma, d.Mu+normalReach*d.Sigma
		}
		if d.Kind != KindLogNormal && d.Kind != KindQLogNormal && (math.Abs(lo) > maxInt || math.Abs(hi) > maxInt) {
			return fmt.Sprintf("%v integer values must stay within ±2^53, got a range from %s to %s", d.Kind, g(lo), g(hi)), ErrBounds
		}
	}
	// Ranges whose arithmetic would overflow float64: draws or densities
	// would be infinite or NaN.
	switch d.Kind {
	case KindUniform, KindQUniform, KindLogUniform, KindQLogUniform:
		if math.IsInf(d.High-d.Low, 0) {
			return fmt.Sprintf("%v range from low=%s to high=%s is wider than float64 can hold", d.Kind, g(d.Low), g(d.High)), ErrBounds
		}
		// The algorithms model a range by its width (of logarithms for a
		// log kind): a subnormal one gives NaN proposals.
		w := d.High - d.Low
		if d.Kind.Log() {
			w = math.Log(d.High) - math.Log(d.Low)
		}
		if !(w >= math.SmallestNonzeroFloat64*(1<<52)) {
			return fmt.Sprintf("%v range from low=%s to high=%s is too narrow: its width %s (of logarithms for a log kind) must be a normal float64, at least %g",
				d.Kind, g(d.Low), g(d.High), g(w), math.SmallestNonzeroFloat64*(1<<52)), ErrBounds
		}
		if d.Kind.Quantized() && math.Max(math.Abs(d.Low), math.Abs(d.High))/d.Q > maxGridIndex {
			return fmt.Sprintf("%v q=%s is too small for bounds low=%s high=%s: the grid overflows float64", d.Kind, g(d.Q), g(d.Low), g(d.High)), ErrBounds
		}
	case KindNormal, KindQNormal:
		reach := math.Abs(d.Mu) + normalReach*d.Sigma
		if math.IsInf(reach, 0) {
			return fmt.Sprintf("%v mu=%s, sigma=%s: draws overflow float64", d.Kind, g(d.Mu), g(d.Sigma)), ErrBounds
		}
		if d.Kind == KindQNormal && reach/d.Q > maxGridIndex {
			return fmt.Sprintf("qnormal q=%s is too small for mu=%s, sigma=%s: the grid overflows float64", g(d.Q), g(d.Mu), g(d.Sigma)), ErrBounds
		}
	}
	return "", nil
}

// maxInt is the largest integer below which every integer is a float64.
const maxInt = 1 << 53

// maxGridIndex bounds |x|/q for a quantized kind, so that x/q and its
// rounding stay finite.
const maxGridIndex = 1e300

// normalReach is how many standard deviations from the mean a normal draw is
// assumed to stay within (math/rand/v2's NormFloat64 has never been seen
// beyond 10).
const normalReach = 64

type namedArg struct {
	name string
	v    float64
}

func (d Dist) args() []namedArg {
	switch d.Kind {
	case KindUniform, KindLogUniform, KindRandInt:
		return []namedArg{{"low", d.Low}, {"high", d.High}}
	case KindQUniform, KindQLogUniform:
		return []namedArg{{"low", d.Low}, {"high", d.High}, {"q", d.Q}}
	case KindNormal, KindLogNormal:
		return []namedArg{{"mu", d.Mu}, {"sigma", d.Sigma}}
	case KindQNormal, KindQLogNormal:
		return []namedArg{{"mu", d.Mu}, {"sigma", d.Sigma}, {"q", d.Q}}
	}
	return nil
}

// quantize rounds x to the nearest multiple of q, ties to even, as numpy's
// np.round does.
func quantize(x, q float64) float64 { return math.RoundToEven(x/q) * q }

// Sample draws one value from d using r. Quantized kinds round half to even
// (numpy's rounding), so a quantized draw may lie up to Q/2 outside
// [Low, High], as in HyperOpt (quniform(-4.999, 5, 1) can give -5).
func (d Dist) Sample(r *rand.Rand) float64 {
	switch d.Kind {
	case KindUniform:
		return d.Low + (d.High-d.Low)*r.Float64()
	case KindQUniform:
		return quantize(d.Low+(d.High-d.Low)*r.Float64(), d.Q)
	case KindLogUniform:
		return d.logUniform(r)
	case KindQLogUniform:
		return quantize(d.logUniform(r), d.Q)
	case KindNormal:
		return d.Mu + d.Sigma*r.NormFloat64()
	case KindQNormal:
		return quantize(d.Mu+d.Sigma*r.NormFloat64(), d.Q)
	case KindLogNormal:
		return d.logNormal(r)
	case KindQLogNormal:
		return quantize(d.logNormal(r), d.Q)
	case KindRandInt:
		return float64(int64(d.Low) + r.Int64N(int64(d.High-d.Low)))
	case KindChoice:
		n := int(d.High)
		if d.Probs == nil {
			return float64(r.IntN(n))
		}
		return float64(DrawCategorical(r, d.Probs))
	}
	return math.NaN()
}

// DrawCategorical draws an index with probabilities p (not negative,
// summing to 1), as a PChoice is sampled, with one r.Float64(): the first
// index whose cumulative probability passes the draw. An index of
// probability 0 is never drawn: when rounding leaves the draw past the
// total, the last index of positive probability is returned (0 if there is
// none). Algorithms draw from their categorical models with it, so that
// every categorical draw of the project is this one.
func DrawCategorical(r *rand.Rand, p []float64) int {
	u := r.Float64()
	last := 0
	for i, x := range p {
		if x == 0 {
			continue
		}
		last = i
		if u < x {
			return i
		}
		u -= x
	}
	return last // rounding left u just above the total
}

// logUniform draws exp(U(log Low, log High)), clamped to [Low, High] so that
// exp(log(x)) != x cannot put a draw outside the bounds.
func (d Dist) logUniform(r *rand.Rand) float64 {
	lo, hi := math.Log(d.Low), math.Log(d.High)
	x := math.Exp(lo + (hi-lo)*r.Float64())
	return math.Min(math.Max(x, d.Low), d.High)
}

// logNormal draws exp(N(Mu, Sigma)), clamped below a quarter of the largest
// float64 (and below q times that for QLogNormal, so that x/q is finite):
// priors wide in log space would otherwise overflow to +Inf now and then.
func (d Dist) logNormal(r *rand.Rand) float64 {
	return d.Clamp(math.Exp(d.Mu + d.Sigma*r.NormFloat64()))
}

// Clamp returns x moved into the range the kind's values are kept in: a
// log-uniform value into [Low, High] (exp(log x) may round past a bound); a
// log-normal value below a quarter of the largest float64 (q times that for
// QLogNormal with q < 1, so that x/q stays finite), below 2^53 for the
// integer kinds, and above 0 for LogNormal. Other values are returned as
// they are. Algorithms that work in log space apply it to their proposals.
func (d Dist) Clamp(x float64) float64 {
	switch d.Kind {
	case KindLogUniform:
		return math.Min(math.Max(x, d.Low), d.High)
	case KindLogNormal, KindQLogNormal:
		limit := math.MaxFloat64 / 4
		if d.Kind == KindQLogNormal && d.Q < 1 {
			limit *= d.Q
		}
		if d.Int {
			limit = maxInt
		}
		x = math.Min(x, limit)
		if d.Kind == KindLogNormal {
			x = math.Max(x, math.SmallestNonzeroFloat64)
		}
	}
	return x
}

// onGrid reports whether x is a multiple of q, up to the rounding error of
// computing q·round(x/q).
func onGrid(x, q float64) bool {
	return math.Abs(quantize(x, q)-x) <= 1e-9*math.Max(math.Abs(x), q)
}

// qRange returns the lowest and highest points of a quantized uniform
// kind's grid: q·round(low/q) and q·round(high/q).
func (d Dist) qRange() (qlo, qhi float64) {
	return quantize(d.Low, d.Q), quantize(d.High, d.Q)
}

// Contains reports whether x is a value d can produce: finite, within the
// bounds, on the grid of a quantized kind, a whole number of an integer kind.
func (d Dist) Contains(x float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return false
	}
	if d.Int && (x != math.Trunc(x) || math.Abs(x) > maxInt) {
		return false
	}
	switch d.Kind {
	case KindUniform, KindLogUniform:
		return d.Low <= x && x <= d.High
	case KindQUniform, KindQLogUniform:
		qlo, qhi := d.qRange()
		return onGrid(x, d.Q) && qlo-d.Q*1e-9 <= x && x <= qhi+d.Q*1e-9
	case KindNormal:
		return true
	case KindQNormal:
		return onGrid(x, d.Q)
	case KindLogNormal:
		return x > 0
	case KindQLogNormal:
		return x >= 0 && onGrid(x, d.Q)
	case KindRandInt, KindChoice:
		return x == math.Trunc(x) && d.Low <= x && x < d.High
	}
	return false
}

// LogProb returns the log density of x under d (continuous kinds) or its log
// probability mass (quantized and discrete kinds); -Inf outside the support.
// The quantized kinds follow HyperOpt's reference distributions
// (hyperopt/rdists.py):
//
//   - quniform: the grid from q·round(low/q) to q·round(high/q), interior
//     points of equal mass, the end points reduced to the part of their
//     rounding interval that lies inside [low, high], normalized;
//   - qloguniform: each point's mass is the loguniform CDF difference over its
//     rounding interval clipped to [low, high];
//   - qnormal, qlognormal: the normal CDF difference over the rounding
//     interval (in log space for qlognormal, where 0 collects all mass below
//     q/2), computed from the lower tail for accuracy far from Mu.
func (d Dist) LogProb(x float64) float64 {
	if !d.Contains(x) {
		return math.Inf(-1)
	}
	switch d.Kind {
	case KindUniform:
		return -math.Log(d.High - d.Low)
	case KindLogUniform:
		return -math.Log(x) - math.Log(math.Log(d.High)-math.Log(d.Low))
	case KindNormal:
		return normalLogPDF(x, d.Mu, d.Sigma)
	case KindLogNormal:
		lx := math.Log(x)
		return normalLogPDF(lx, d.Mu, d.Sigma) - lx
	case KindQUniform:
		return d.quniformLogPMF(x)
	case KindQLogUniform:
		lo, hi := math.Log(d.Low), math.Log(d.High)
		a := math.Max(x-d.Q/2, d.Low)
		b := math.Min(x+d.Q/2, d.High)
		if b <= a {
			return math.Inf(-1)
		}
		return math.Log((math.Log(b) - math.Log(a)) / (hi - lo))
	case KindQNormal:
		return logNormalMass(x-d.Q/2, x+d.Q/2, d.Mu, d.Sigma)
	case KindQLogNormal:
		lb := math.Inf(-1)
		if x > 0 {
			lb = math.Log(x - d.Q/2)
		}
		return logNormalMass(lb, math.Log(x+d.Q/2), d.Mu, d.Sigma)
	case KindRandInt:
		return -math.Log(d.High - d.Low)
	case KindChoice:
		if d.Probs == nil {
			return -math.Log(d.High)
		}
		return math.Log(d.Probs[int(x)])
	}
	return math.Inf(-1)
}

// logSqrt2Pi is log(√(2π)).
var logSqrt2Pi = 0.5 * math.Log(2*math.Pi)

// normalLogPDF is the log density of N(mu, sigma) at x. It standardizes
// first, so that it stays finite where (x-mu)² or sigma² would overflow or
// underflow (gonum's distuv.Normal squares them separately).
func normalLogPDF(x, mu, sigma float64) float64 {
	z := (x - mu) / sigma
	return -0.5*z*z - math.Log(sigma) - logSqrt2Pi
}

// quniformLogPMF is rdists.quniform_gen's pmf: the grid from qlo to qhi, the
// end points weighted by the fraction of their rounding interval inside
// [Low, High].
func (d Dist) quniformLogPMF(x float64) float64 {
	qlo, qhi := d.qRange()
	n := math.RoundToEven((qhi-qlo)/d.Q) + 1
	if n == 1 {
		return 0
	}
	lowMass := 1 - (d.Low-qlo+d.Q/2)/d.Q
	highMass := (d.High - qhi + d.Q/2) / d.Q
	total := lowMass + highMass + (n - 2)
	k := math.RoundToEven((x - qlo) / d.Q)
	var m float64
	switch k {
	case 0:
		m = lowMass
	case n - 1:
		m = highMass
	default:
		m = 1
	}
	if m <= 0 {
		return math.Inf(-1)
	}
	return math.Log(m / total)
}

// logNormalMass returns log P(a < X < b) for X ~ N(mu, sigma), a < b, taking
// the CDF difference in whichever tail keeps it accurate.
func logNormalMass(a, b, mu, sigma float64) float64 {
	if a > mu {
		// Reflect the interval to the left of mu, where the CDF is small and
		// its difference does not cancel.
		a, b = 2*mu-b, 2*mu-a
	}
	la := logNormCDF((a - mu) / sigma)
	lb := logNormCDF((b - mu) / sigma)
	if math.IsInf(la, -1) {
		return lb
	}
	return lb + math.Log1p(-math.Exp(la-lb))
}

// logNormCDF returns log Φ(z) for the standard normal CDF Φ, accurate in the
// far lower tail where Φ(z) underflows (an asymptotic series below -20).
func logNormCDF(z float64) float64 {
	switch {
	case math.IsInf(z, -1):
		return math.Inf(-1)
	case z > 0:
		return math.Log1p(-0.5 * math.Erfc(z/math.Sqrt2))
	case z > -20:
		return math.Log(0.5 * math.Erfc(-z/math.Sqrt2))
	}
	// Φ(z) = φ(z)/(-z) · (1 - 1/z² + 3/z⁴ - 15/z⁶ + 105/z⁸ - ...)
	z2 := z * z
	s := 1 - 1/z2 + 3/(z2*z2) - 15/(z2*z2*z2) + 105/(z2*z2*z2*z2)
	return -0.5*z2 - math.Log(-z) - 0.5*math.Log(2*math.Pi) + math.Log(s)
}
