// Package quality is the quality benchmark of the search algorithms: test
// problems with known minima, one search per (problem, algorithm, seed),
// and a table of the regret (best loss found minus the known minimum) after
// 25, 50, 100 and 200 evaluations, median and [25th, 75th] percentiles over
// seeds.
//
// Three forms run it: the command (go run ./cmd/quality, which prints the
// table; -h lists its flags), the root benchmark (go test -run '^$' -bench
// Quality -benchtime 20x ., which reports regret@100 and regret@200 per
// problem and algorithm), and a cheap test of this package.
//
// # Shifted optima
//
// An algorithm that merely seeks the centre of the box (or any fixed point)
// must gain nothing, so each constructed problem moves its optimum by a
// per-seed offset, the shift: [Problem.Shift] draws it from the seed,
// uniformly in [-ShiftRange, ShiftRange]^ShiftDim, from a stream of its own
// (the algorithm's draws come from other streams of the same seed). The
// space's bounds never move; how each problem applies the shift is said at
// its constructor, and a test checks that the optimum stays inside the box
// for many seeds. HyperOpt's domains (the "hp-" problems) are kept as
// HyperOpt defines them, unshifted: they are HyperOpt's own tests, and their
// optima are off-centre already.
//
// # Which problems choose the defaults
//
// The defaults of an algorithm are chosen on the problems with
// Selection = true, 9 of the 19, and all of them are reported, so that the
// other 10 show whether a choice overfits: sphere-2, rosenbrock-10, branin,
// ackley-10, log-scale, mixed, conditional, hp-many_dists and
// hp-gauss_wave2 choose (low and high dimension, log scale, integer and
// categorical, conditional, noisy); sphere-10, rosenbrock-2, hartmann-6,
// styblinski-tang-10 and the other six of HyperOpt's domains are held out.
//
// # Noise
//
// Two of HyperOpt's domains are noisy (hp-n_arms, hp-gauss_wave2). Their
// Loss is the noise-free expected loss (for tests); a search sees
// [Problem.Noisy], whose noise for trial id of a search with seed s comes
// from the PCG stream (s, id + 2³²), the same for every algorithm (common
// random numbers, which sharpen comparisons). Their regret is that of the best
// observed (noisy) loss, as HyperOpt's tests measure it, so it can be
// negative.
package quality

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/hyperopt-go/hyperopt/internal/domains"
	"github.com/hyperopt-go/hyperopt/space"
)

// A Problem is a test function over a search space, with its known
// minimum.
type Problem struct {
	// Name names the problem in tables and benchmark names (no spaces or
	// slashes).
	Name string
	// Dim is the number of hyperparameters of the space (of every branch,
	// for a conditional space).
	Dim int
	// Root returns a fresh space root to pass to space.New. The bounds are
	// fixed: the shift moves the function, never the box.
	Root func(shift []float64) any
	// Loss is the loss of a config (as space.Eval returns it) for the
	// given shift; for a noisy problem, the noise-free expected loss.
	Loss func(cfg any, shift []float64) float64
	// Optimum is the minimum of Loss over the space, for every shift.
	Optimum float64
	// Selection is true for the half of the problems on which defaults are
	// chosen (see the package documentation).
	Selection bool

	// ShiftDim is the length of the shift vector (0 for an unshifted
	// problem), and ShiftRange the half-width of the interval each of its
	// entries is drawn from.
	ShiftDim   int
	ShiftRange float64
	// Argmin returns a config at which Loss equals Optimum for the shift
	// (one of them, when there are several).
	Argmin func(shift []float64) any
	// Noisy, if not nil, is the loss a search observes: Loss plus noise
	// drawn from r.
	Noisy func(cfg any, shift []float64, r *rand.Rand) float64
}

// shiftStream is the PCG stream of the shift; the algorithms draw from
// the streams of trial IDs, and the noise from those past 2³².
const shiftStream = 0x5348494654 // "SHIFT"

// Shift returns the problem's shift for a seed: ShiftDim numbers drawn
// uniformly from [-ShiftRange, ShiftRange], nil if ShiftDim is 0.
func (p Problem) Shift(seed uint64) []float64 {
	if p.ShiftDim == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(seed, shiftStream))
	s := make([]float64, p.ShiftDim)
	for i := range s {
		s[i] = (2*r.Float64() - 1) * p.ShiftRange
	}
	return s
}

// Problems returns the problems of the benchmark, in a fixed order: the
// standard test functions, the log-scale, mixed and conditional problems,
// then HyperOpt's domains. The slice is new on each call.
func Problems() []Problem {
	ps := []Problem{
		sphere(2, true), sphere(10, false),
		rosenbrock(2, false), rosenbrock(10, true),
		branin(), hartmann6(), ackley(10), styblinskiTang(10),
		logScale(), mixed(), conditional(),
	}
	for _, d := range domains.All() {
		ps = append(ps, domain(d))
	}
	return ps
}

// label returns the label of coordinate i: "x00", "x01", ...
func label(i int) string { return fmt.Sprintf("x%02d", i) }

// box returns a Dict of d Uniform(lo, hi) hyperparameters x00, x01, ...
func box(d int, lo, hi float64) func([]float64) any {
	return func([]float64) any {
		m := space.Dict{}
		for i := range d {
			m[label(i)] = space.Uniform(label(i), lo, hi)
		}
		return m
	}
}

// coords reads x00.. x(d-1) from a config, minus the shift where it is
// given (y = x - shift).
func coords(cfg any, d int, shift []float64) []float64 {
	y := make([]float64, d)
	for i := range y {
		y[i] = num(cfg, label(i))
		if shift != nil {
			y[i] -= shift[i]
		}
	}
	return y
}

// point is the config {x00: x[0], ...}.
func point(x []float64) any {
	m := map[string]any{}
	for i, v := range x {
		m[label(i)] = v
	}
	return m
}

// sphere is Σ (x_i - s_i)² on [-5, 5]^d, shift in [-1.5, 1.5]^d: the
// minimum 0 is at x = s.
func sphere(d int, sel bool) Problem {
	return Problem{
		Name: fmt.Sprintf("sphere-%d", d), Dim: d, Selection: sel,
		Root: box(d, -5, 5),
		Loss: func(cfg any, shift []float64) float64 {
			f := 0.0
			for _, y := range coords(cfg, d, shift) {
				f += y * y
			}
			return f
		},
		ShiftDim: d, ShiftRange: 1.5,
		Argmin: func(shift []float64) any { return point(shift) },
	}
}

// rosenbrock is Σ 100(y_{i+1} - y_i²)² + (1 - y_i)² with y = x - s on
// [-5, 5]^d, shift in [-1.5, 1.5]^d: the minimum 0 is at x = 1 + s, inside
// [-0.5, 2.5]^d.
func rosenbrock(d int, sel bool) Problem {
	return Problem{
		Name: fmt.Sprintf("rosenbrock-%d", d), Dim: d, Selection: sel,
		Root: box(d, -5, 5),
		Loss: func(cfg any, shift []float64) float64 {
			y := coords(cfg, d, shift)
			f := 0.0
			for i := 0; i+1 < d; i++ {
				a, b := y[i+1]-y[i]*y[i], 1-y[i]
				f += 100*a*a + b*b
			}
			return f
		},
		ShiftDim: d, ShiftRange: 1.5,
		Argmin: func(shift []float64) any {
			x := make([]float64, d)
			for i := range x {
				x[i] = 1 + shift[i]
			}
			return point(x)
		},
	}
}

// braninMin is the minimum of the Branin function, 5/(4π).
const braninMin = 5 / (4 * math.Pi)

// braninF is the Branin function.
func braninF(x, y float64) float64 {
	a := y - 5.1/(4*math.Pi*math.Pi)*x*x + 5*x/math.Pi - 6
	return a*a + 10*(1-1/(8*math.Pi))*math.Cos(x) + 10
}

// branin is the Branin function of (x00 - s0, x01 - s1) on its usual box
// x00 in [-5, 10], x01 in [0, 15], shift in [-1.5, 1.5]²: of its three
// minima 5/(4π), the one at (π + s0, 2.275 + s1) always stays inside
// (inside [1.64, 4.64] × [0.775, 3.775]); the others may leave the box.
func branin() Problem {
	return Problem{
		Name: "branin", Dim: 2, Selection: true,
		Root: func([]float64) any {
			return space.Dict{"x00": space.Uniform("x00", -5, 10), "x01": space.Uniform("x01", 0, 15)}
		},
		Loss: func(cfg any, shift []float64) float64 {
			y := coords(cfg, 2, shift)
			return braninF(y[0], y[1])
		},
		Optimum:  braninMin,
		ShiftDim: 2, ShiftRange: 1.5,
		Argmin: func(shift []float64) any { return point([]float64{math.Pi + shift[0], 2.275 + shift[1]}) },
	}
}

// The Hartmann-6 function's constants.
var (
	h6Alpha = [4]float64{1.0, 1.2, 3.0, 3.2}
	h6A     = [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	h6P = [4][6]float64{
		{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
		{0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
		{0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
		{0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381},
	}
	// h6Argmin is the minimizer, refined by Newton's method from the
	// published (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
	h6Argmin = [6]float64{0.20168951100670543, 0.15001069182345797, 0.47687397422189703, 0.27533243049405609, 0.31165161660011326, 0.65730053406562039}
)

// h6Min is the minimum of Hartmann-6 (the published -3.32237), at h6Argmin.
const h6Min = -3.3223680114155152

// hartmann6 is the Hartmann-6 function of x - s on [0, 1]^6, shift in
// [-0.1, 0.1]^6: the minimum -3.32237 is at h6Argmin + s, which stays
// inside [0.05, 0.76]^6.
func hartmann6() Problem {
	return Problem{
		Name: "hartmann-6", Dim: 6,
		Root: box(6, 0, 1),
		Loss: func(cfg any, shift []float64) float64 {
			y := coords(cfg, 6, shift)
			f := 0.0
			for i := range 4 {
				in := 0.0
				for j := range 6 {
					d := y[j] - h6P[i][j]
					in += h6A[i][j] * d * d
				}
				f -= h6Alpha[i] * math.Exp(-in)
			}
			return f
		},
		Optimum:  h6Min,
		ShiftDim: 6, ShiftRange: 0.1,
		Argmin: func(shift []float64) any {
			x := make([]float64, 6)
			for i := range x {
				x[i] = h6Argmin[i] + shift[i]
			}
			return point(x)
		},
	}
}

// ackley is the Ackley function of y = x - s on [-5, 5]^d,
// -20·exp(-0.2·√(mean y²)) - exp(mean cos 2πy) + 20 + e, shift in
// [-1.5, 1.5]^d: the minimum 0 is at x = s.
func ackley(d int) Problem {
	return Problem{
		Name: fmt.Sprintf("ackley-%d", d), Dim: d, Selection: true,
		Root: box(d, -5, 5),
		Loss: func(cfg any, shift []float64) float64 {
			sq, cs := 0.0, 0.0
			for _, y := range coords(cfg, d, shift) {
				sq += y * y
				cs += math.Cos(2 * math.Pi * y)
			}
			n := float64(d)
			return -20*math.Exp(-0.2*math.Sqrt(sq/n)) - math.Exp(cs/n) + 20 + math.E
		},
		ShiftDim: d, ShiftRange: 1.5,
		Argmin: func(shift []float64) any { return point(shift) },
	}
}

// stArgmin is the coordinate of the minimum of Styblinski-Tang, the root
// of 4y³ - 32y + 5 near -2.9035, and stMin its value per coordinate (the
// published -39.16617).
const (
	stArgmin = -2.903534027771177
	stMin    = -39.166165703771412
)

// styblinskiTang is Σ (y⁴ - 16y² + 5y)/2 with y = x - s on [-5, 5]^d, shift
// in [-1.5, 1.5]^d: the minimum -39.16617·d is at x = -2.9035 + s, inside
// [-4.41, -1.40]^d.
func styblinskiTang(d int) Problem {
	return Problem{
		Name: fmt.Sprintf("styblinski-tang-%d", d), Dim: d,
		Root: box(d, -5, 5),
		Loss: func(cfg any, shift []float64) float64 {
			f := 0.0
			for _, y := range coords(cfg, d, shift) {
				f += y*y*y*y - 16*y*y + 5*y
			}
			return f / 2
		},
		Optimum:  stMin * float64(d),
		ShiftDim: d, ShiftRange: 1.5,
		Argmin: func(shift []float64) any {
			x := make([]float64, d)
			for i := range x {
				x[i] = stArgmin + shift[i]
			}
			return point(x)
		},
	}
}

// logCentres are the decades (log10) of the log-scale problem's unshifted
// targets.
var logCentres = [4]float64{-3.4, -2.5, -3.0, -1.6}

// logTarget returns the decade of the log-scale problem's target i.
func logTarget(i int, shift []float64) float64 { return logCentres[i] + shift[i] }

// logScale has four learning-rate-like hyperparameters lr0..lr3, each
// LogUniform over [1e-5, 1]; loss = Σ (log10 lr_i - t_i)², minimum 0 at
// lr_i = 10^t_i, with t = (-3.4, -2.5, -3.0, -1.6) + s, shift in
// [-1.5, 1.5]^4 (so every t_i lies in [-4.9, -0.1]).
func logScale() Problem {
	return Problem{
		Name: "log-scale", Dim: 4, Selection: true,
		Root: func([]float64) any {
			m := space.Dict{}
			for i := range 4 {
				l := fmt.Sprintf("lr%d", i)
				m[l] = space.LogUniform(l, 1e-5, 1)
			}
			return m
		},
		Loss: func(cfg any, shift []float64) float64 {
			f := 0.0
			for i := range 4 {
				d := math.Log10(num(cfg, fmt.Sprintf("lr%d", i))) - logTarget(i, shift)
				f += d * d
			}
			return f
		},
		ShiftDim: 4, ShiftRange: 1.5,
		Argmin: func(shift []float64) any {
			m := map[string]any{}
			for i := range 4 {
				m[fmt.Sprintf("lr%d", i)] = math.Pow(10, logTarget(i, shift))
			}
			return m
		},
	}
}

// mixedActs are the options of the mixed problem's categorical
// hyperparameter, and mixedPenalty the loss of option (best + k) mod 4.
var (
	mixedActs    = [4]string{"relu", "tanh", "sigmoid", "gelu"}
	mixedPenalty = [4]float64{0, 0.4, 0.8, 1.2}
)

// mixedTargets returns the mixed problem's optimum for a shift: units (a
// multiple of 5 in [20, 80]), layers (in [2, 6]), the index of the best
// activation, and x.
func mixedTargets(shift []float64) (units, layers, act int, x float64) {
	units = 5 * int(math.Round((50+20*shift[0])/5))
	layers = 4 + int(math.Round(shift[1]))
	act = min(3, int((shift[2]+1.5)/3*4))
	return units, layers, act, shift[3]
}

// mixed has an integer on a grid (units = QUniformInt(0, 100, 5)), a
// ranged integer (layers = RandIntRange(1, 9)), a choice of constants (act,
// four names) and a real (x = Uniform(-5, 5)); loss =
// ((units - tu)/10)² + (layers - tl)²/4 + penalty(act) + (x - tx)², minimum
// 0. The shift s in [-1.5, 1.5]^4 sets tu = 5·round((50 + 20·s0)/5),
// tl = 4 + round(s1), the best activation (s2's quarter of [-1.5, 1.5]; the
// others cost 0.4, 0.8 and 1.2 in turn after it) and tx = s3.
func mixed() Problem {
	return Problem{
		Name: "mixed", Dim: 4, Selection: true,
		Root: func([]float64) any {
			return space.Dict{
				"units":  space.QUniformInt("units", 0, 100, 5),
				"layers": space.RandIntRange("layers", 1, 9),
				"act":    space.Choice("act", mixedActs[0], mixedActs[1], mixedActs[2], mixedActs[3]),
				"x":      space.Uniform("x", -5, 5),
			}
		},
		Loss: func(cfg any, shift []float64) float64 {
			tu, tl, ta, tx := mixedTargets(shift)
			du := (num(cfg, "units") - float64(tu)) / 10
			dl := num(cfg, "layers") - float64(tl)
			dx := num(cfg, "x") - tx
			a := -1
			name := lookup(cfg, "act")
			for i, n := range mixedActs {
				if name == n {
					a = i
				}
			}
			if a < 0 {
				panic(fmt.Sprintf("quality: mixed: act = %v is not an option", name))
			}
			return du*du + dl*dl/4 + mixedPenalty[(a-ta+4)%4] + dx*dx
		},
		ShiftDim: 4, ShiftRange: 1.5,
		Argmin: func(shift []float64) any {
			tu, tl, ta, tx := mixedTargets(shift)
			return map[string]any{"units": tu, "layers": tl, "act": mixedActs[ta], "x": tx}
		},
	}
}

// condBest returns the conditional problem's best branch for a shift.
func condBest(shift []float64) int { return min(2, int((shift[0]+1.5)/3*3)) }

// condB2 returns the target of the conditional problem's b2.
func condB2(shift []float64) int { return 16 + int(math.Round(5*shift[4])) }

// conditional is a choice of three models, each with its own
// hyperparameters: "a" (a1, a2 Uniform(-5, 5)), "b" (b1 LogUniform(1e-4,
// 1), b2 QUniformInt(1, 32, 1)), "c" (c1, c2, c3 Uniform(-5, 5)). Each
// branch has its own minimum: 0 for the best branch, 0.5 and 1 for the
// next two in turn. The shift s in [-1.5, 1.5]^8 chooses the best branch
// (s0's third of [-1.5, 1.5]) and each branch's argmin: a = (s1, s2);
// log10 b1 = -2 + s3, b2 = 16 + round(5·s4); c = (s5, s6, s7). Branch
// losses: Σ (a - .)²; (log10 b1 - .)² + ((b2 - .)/4)²; Σ (c - .)².
func conditional() Problem {
	return Problem{
		Name: "conditional", Dim: 8, Selection: true,
		Root: func([]float64) any {
			return space.Dict{"model": space.Choice("model",
				space.Dict{"kind": "a", "a1": space.Uniform("a1", -5, 5), "a2": space.Uniform("a2", -5, 5)},
				space.Dict{"kind": "b", "b1": space.LogUniform("b1", 1e-4, 1), "b2": space.QUniformInt("b2", 1, 32, 1)},
				space.Dict{"kind": "c", "c1": space.Uniform("c1", -5, 5), "c2": space.Uniform("c2", -5, 5), "c3": space.Uniform("c3", -5, 5)},
			)}
		},
		Loss: func(cfg any, shift []float64) float64 {
			sq := func(x float64) float64 { return x * x }
			var branch int
			var f float64
			switch k := lookup(cfg, "model", "kind"); k {
			case "a":
				branch = 0
				f = sq(num(cfg, "model", "a1")-shift[1]) + sq(num(cfg, "model", "a2")-shift[2])
			case "b":
				branch = 1
				f = sq(math.Log10(num(cfg, "model", "b1"))-(-2+shift[3])) + sq((num(cfg, "model", "b2")-float64(condB2(shift)))/4)
			case "c":
				branch = 2
				f = sq(num(cfg, "model", "c1")-shift[5]) + sq(num(cfg, "model", "c2")-shift[6]) + sq(num(cfg, "model", "c3")-shift[7])
			default:
				panic(fmt.Sprintf("quality: conditional: model kind %v", k))
			}
			return 0.5*float64((branch-condBest(shift)+3)%3) + f
		},
		ShiftDim: 8, ShiftRange: 1.5,
		Argmin: func(shift []float64) any {
			var m map[string]any
			switch condBest(shift) {
			case 0:
				m = map[string]any{"kind": "a", "a1": shift[1], "a2": shift[2]}
			case 1:
				m = map[string]any{"kind": "b", "b1": math.Pow(10, -2+shift[3]), "b2": condB2(shift)}
			default:
				m = map[string]any{"kind": "c", "c1": shift[5], "c2": shift[6], "c3": shift[7]}
			}
			return map[string]any{"model": m}
		},
	}
}

// Constants of HyperOpt's domains' optima (computed by Newton's method).
const (
	// distractorArgmin and distractorMin: the spike's minimum, near x = -10.
	distractorArgmin = -9.9999886509192759
	distractorMin    = -2.0000453981263027
	// gaussWaveArgmin and gaussWaveMin: the minimum of
	// -(sin t + 2·exp(-(t/5)²)), at t ≈ 1.3665.
	gaussWaveArgmin = 1.3664765088473787
	gaussWaveMin    = -2.8352608859464388
)

// domainInfo is what this package adds to one of HyperOpt's domains: its
// minimum, a config there, whether it chooses defaults, and, for the noisy
// ones, the noise-free loss.
type domainInfo struct {
	optimum   float64
	argmin    any
	selection bool
	mean      func(cfg any) float64 // the expected loss of a noisy domain
}

var domainInfos = map[string]domainInfo{
	"quadratic1":   {optimum: 0, argmin: map[string]any{"x": 3.0}},
	"q1_lognormal": {optimum: 0, argmin: map[string]any{"x": 10.0}},
	"n_arms": {optimum: -1, argmin: map[string]any{"x": 0}, mean: func(cfg any) float64 {
		return []float64{-1, 0}[int(num(cfg, "x"))]
	}},
	"distractor": {optimum: distractorMin, argmin: map[string]any{"x": distractorArgmin}},
	"gauss_wave": {optimum: gaussWaveMin, argmin: map[string]any{"curve": map[string]any{"shift": 0.0, "x": gaussWaveArgmin}}},
	"gauss_wave2": {optimum: gaussWaveMin, selection: true,
		argmin: map[string]any{"x": gaussWaveArgmin, "hf": map[string]any{"branch": 1, "amp": 1.0}},
		mean: func(cfg any) float64 {
			x := num(cfg, "x")
			t := 2 * math.Exp(-(x/5)*(x/5))
			if num(cfg, "hf", "branch") == 1 {
				t += math.Sin(x) * num(cfg, "hf", "amp")
			}
			return -t
		}},
	// z = 12 + 4 + 1 + 1 - 18 = 0: loss log(1e-12).
	"many_dists": {optimum: math.Log(1e-12), selection: true, argmin: map[string]any{
		"a": 0, "b": 0, "bb": 12, "c": 4.0, "d": 1.0, "e": 0.0, "f": 0.0,
		"g": -18.0, "h": 1.0, "i": 0.0, "j": 0.0, "k": 0,
	}},
	"branin": {optimum: braninMin, argmin: map[string]any{"x": math.Pi, "y": 2.275}},
}

// domainDims are the numbers of hyperparameters of HyperOpt's domains.
var domainDims = map[string]int{
	"quadratic1": 1, "q1_lognormal": 1, "n_arms": 1, "distractor": 1,
	"gauss_wave": 2, "gauss_wave2": 3, "many_dists": 12, "branin": 2,
}

// domain is one of HyperOpt's domains, unshifted, named "hp-" + its name.
func domain(d domains.Domain) Problem {
	info, ok := domainInfos[d.Name]
	if !ok {
		panic("quality: no optimum known for domain " + d.Name)
	}
	p := Problem{
		Name: "hp-" + d.Name, Dim: domainDims[d.Name], Selection: info.selection,
		Root:    func([]float64) any { return d.Root() },
		Optimum: info.optimum,
		Argmin:  func([]float64) any { return info.argmin },
	}
	if info.mean != nil {
		p.Loss = func(cfg any, _ []float64) float64 { return info.mean(cfg) }
		p.Noisy = func(cfg any, _ []float64, r *rand.Rand) float64 {
			l, _ := d.Loss(cfg, r)
			return l
		}
	} else {
		p.Loss = func(cfg any, _ []float64) float64 {
			l, _ := d.Loss(cfg, nil)
			return l
		}
	}
	return p
}

// lookup follows keys through the nested maps of cfg, panicking with the
// path if one is missing.
func lookup(cfg any, keys ...string) any {
	v := cfg
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			panic(fmt.Sprintf("quality: config at %q is %T, not a map[string]any", k, v))
		}
		if v, ok = m[k]; !ok {
			panic(fmt.Sprintf("quality: config has no %q in %v", k, keys))
		}
	}
	return v
}

// num returns the number at keys in cfg, whatever its Go type.
func num(cfg any, keys ...string) float64 {
	switch x := lookup(cfg, keys...).(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
	}
	panic(fmt.Sprintf("quality: config%v = %v is not a number", keys, lookup(cfg, keys...)))
}
