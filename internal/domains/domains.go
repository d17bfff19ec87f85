package domains

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/hyperopt-go/hyperopt/space"
)

// A Domain is one of HyperOpt's test problems.
type Domain struct {
	// Name is the name of HyperOpt's domain constructor, e.g. "quadratic1".
	Name string
	// LossTarget is HyperOpt's loss_target: the best loss the domain
	// admits (coin_flip has none in HyperOpt; it is 0, its minimum, here).
	LossTarget float64
	// Root returns a fresh space root on each call, to pass to space.New.
	Root func() any
	// Loss evaluates a config (as (*space.Space).Eval returns it, or as it
	// reads back from encoding/json, where integers become float64). r
	// supplies the noise of the noisy domains (n_arms, gauss_wave2) and is
	// unused by the others; it must not be nil for them. lossVariance is
	// HyperOpt's loss_variance, 0 where HyperOpt gives none. Loss panics on
	// a config that is not a point of the domain's space.
	Loss func(cfg any, r *rand.Rand) (loss, lossVariance float64)
	// Random is HyperOpt's test of random search (test_domains.py,
	// DomainExperimentMixin): Evals evaluations from rstate
	// default_rng(4), then trials.average_best_error(domain) < Threshold
	// (HyperOpt's "avg_best_error - loss_target < 0.2", stored as the
	// absolute bound LossTarget + 0.2).
	Random Budget
	// TPE is HyperOpt's test of TPE (test_tpe.py, TestOpt): Evals
	// evaluations with the given gamma, prior_weight and n_EI_candidates
	// (n_startup_jobs 20), then min(losses) < Threshold. Zero for the
	// domains that test does not run.
	TPE TPEBudget
	// Anneal is HyperOpt's test of annealing (test_anneal.py,
	// TestItAtLeastSortOfWorks, default options): Evals evaluations, then
	// min(losses) < Threshold. Zero for the domains that test does not run.
	Anneal Budget
}

// A Budget is the number of evaluations of one of HyperOpt's tests of an
// algorithm on a domain and the bound the result must stay below to pass.
type Budget struct {
	// Evals is the number of evaluations (HyperOpt's max_evals).
	Evals int
	// Threshold is the pass bound: the result must be < Threshold.
	Threshold float64
}

// A TPEBudget is a [Budget] with the options HyperOpt's TPE test passes to
// tpe.suggest.
type TPEBudget struct {
	// Evals is the number of evaluations (HyperOpt's max_evals).
	Evals int
	// Gamma is tpe.suggest's gamma.
	Gamma float64
	// PriorWeight is tpe.suggest's prior_weight.
	PriorWeight float64
	// Candidates is tpe.suggest's n_EI_candidates.
	Candidates int
	// Threshold is the pass bound: min(losses) must be < Threshold.
	Threshold float64
}

// All returns the domains of HyperOpt's CasePerDomain, in its order:
// quadratic1, q1_lognormal, n_arms, distractor, gauss_wave, gauss_wave2,
// many_dists, branin. The slice is new on each call.
func All() []Domain {
	return []Domain{
		quadratic1(), q1Lognormal(), nArms(), distractor(),
		gaussWave(), gaussWave2(), manyDists(), branin(),
	}
}

// ByName returns the domain with the given name: one of [All], or coin_flip
// or q1_choice, which HyperOpt defines but CasePerDomain does not use.
func ByName(name string) (Domain, bool) {
	for _, d := range append(All(), coinFlip(), q1Choice()) {
		if d.Name == name {
			return d, true
		}
	}
	return Domain{}, false
}

// coinFlip is coin_flip: loss = hp.choice("flip", [0.0, 1.0]).
func coinFlip() Domain {
	return Domain{
		Name: "coin_flip",
		Root: func() any { return space.Dict{"flip": space.Choice("flip", 0.0, 1.0)} },
		Loss: func(cfg any, _ *rand.Rand) (float64, float64) {
			return num(cfg, "coin_flip", "flip"), 0
		},
	}
}

// quadratic1 is quadratic1: loss = (U("x", -5, 5) - 3)².
func quadratic1() Domain {
	return Domain{
		Name:       "quadratic1",
		LossTarget: 0,
		Root:       func() any { return space.Dict{"x": space.Uniform("x", -5, 5)} },
		Loss: func(cfg any, _ *rand.Rand) (float64, float64) {
			x := num(cfg, "quadratic1", "x")
			return (x - 3) * (x - 3), 0
		},
		Random: Budget{Evals: 500, Threshold: 0.2},
		TPE:    TPEBudget{Evals: 1000, Gamma: 0.25, PriorWeight: 1, Candidates: 5, Threshold: 1e-5},
		Anneal: Budget{Evals: 1000, Threshold: 1e-5},
	}
}

// q1Choice is q1_choice: o_x = hp.choice("o_x", [(-3, U("x_neg", -5, 5)),
// (3, U("x_pos", -5, 5))]), loss = (o_x[0] - o_x[1])². Each option is a Dict
// {"offset": ±3, "x": ...}.
func q1Choice() Domain {
	return Domain{
		Name:       "q1_choice",
		LossTarget: 0,
		Root: func() any {
			return space.Dict{"o_x": space.Choice("o_x",
				space.Dict{"offset": -3.0, "x": space.Uniform("x_neg", -5, 5)},
				space.Dict{"offset": 3.0, "x": space.Uniform("x_pos", -5, 5)},
			)}
		},
		Loss: func(cfg any, _ *rand.Rand) (float64, float64) {
			d := num(cfg, "q1_choice", "o_x", "offset") - num(cfg, "q1_choice", "o_x", "x")
			return d * d, 0
		},
		Random: Budget{Evals: 500, Threshold: 0.2},
	}
}

// q1Lognormal is q1_lognormal: loss = min(0.1·(lognormal("x", 0, 2) - 10)², 10).
func q1Lognormal() Domain {
	return Domain{
		Name:       "q1_lognormal",
		LossTarget: 0,
		Root:       func() any { return space.Dict{"x": space.LogNormal("x", 0, 2)} },
		Loss: func(cfg any, _ *rand.Rand) (float64, float64) {
			x := num(cfg, "q1_lognormal", "x")
			return math.Min(0.1*(x-10)*(x-10), 10), 0
		},
		Random: Budget{Evals: 500, Threshold: 0.2},
		TPE:    TPEBudget{Evals: 250, Gamma: 0.25, PriorWeight: 1, Candidates: 24, Threshold: 0.01},
		Anneal: Budget{Evals: 50, Threshold: 0.01},
	}
}

// nArms is n_arms(N=2): x = hp.choice("x", [0, 1]), loss ~ Normal(mus[x], 1)
// with mus = [-1, 0], loss_variance 1. A noisy bandit where arm 0 is better.
func nArms() Domain {
	mus := [2]float64{-1, 0}
	return Domain{
		Name:       "n_arms",
		LossTarget: -2,
		Root:       func() any { return space.Dict{"x": space.Choice("x", 0, 1)} },
		Loss: func(cfg any, r *rand.Rand) (float64, float64) {
			x := index(cfg, "n_arms", len(mus), "x")
			return mus[x] + r.NormFloat64(), 1
		},
		Random: Budget{Evals: 500, Threshold: -1.8},
		TPE:    TPEBudget{Evals: 50, Gamma: 0.25, PriorWeight: 1, Candidates: 24, Threshold: -2.5},
		Anneal: Budget{Evals: 50, Threshold: -2.5},
	}
}

// distractor is distractor: x = U("x", -15, 15),
// loss = -1/(1+exp(-x)) - 2·exp(-(x+10)²): a narrow spike to about
// -2.0000454 at x = -10 and an easy asymptote to -1 as x grows.
func distractor() Domain {
	return Domain{
		Name:       "distractor",
		LossTarget: -2,
		Root:       func() any { return space.Dict{"x": space.Uniform("x", -15, 15)} },
		Loss: func(cfg any, _ *rand.Rand) (float64, float64) {
			x := num(cfg, "distractor", "x")
			f1 := 1.0 / (1.0 + math.Exp(-x))
			f2 := 2 * math.Exp(-((x + 10) * (x + 10)))
			return -f1 - f2, 0
		},
		Random: Budget{Evals: 500, Threshold: -1.8},
		TPE:    TPEBudget{Evals: 100, Gamma: 0.05, PriorWeight: 0.01, Candidates: 15, Threshold: -1.96},
		Anneal: Budget{Evals: 150, Threshold: -0.96},
	}
}

// gaussWave is gauss_wave: x = U("x", -20, 20), t = hp.choice("curve",
// [x, x + π]), loss = -(sin(t) + 2·exp(-(t/5)²)). The choice's options are
// Dicts {"shift": 0 or π, "x": x} sharing the one hyperparameter x.
func gaussWave() Domain {
	return Domain{
		Name:       "gauss_wave",
		LossTarget: -1,
		Root: func() any {
			x := space.Uniform("x", -20, 20)
			return space.Dict{"curve": space.Choice("curve",
				space.Dict{"shift": 0.0, "x": x},
				space.Dict{"shift": math.Pi, "x": x},
			)}
		},
		Loss: func(cfg any, _ *rand.Rand) (float64, float64) {
			t := num(cfg, "gauss_wave", "curve", "x") + num(cfg, "gauss_wave", "curve", "shift")
			return -(math.Sin(t) + 2*math.Exp(-(t/5)*(t/5))), 0
		},
		Random: Budget{Evals: 500, Threshold: -0.8},
		TPE:    TPEBudget{Evals: 50, Gamma: 0.25, PriorWeight: 1, Candidates: 24, Threshold: -2},
		Anneal: Budget{Evals: 50, Threshold: -2},
	}
}

// gaussWave2Var is gauss_wave2's var: the standard deviation of its noise,
// which HyperOpt also reports as the loss_variance.
const gaussWave2Var = 0.1

// gaussWave2 is gauss_wave2: x = U("x", -20, 20), amp = U("amp", 0, 1),
// t = N(0, 0.1) + 2·exp(-(x/5)²), loss = -hp.choice("hf", [t, t + sin(x)·amp]),
// loss_variance 0.1. The choice's options are Dicts {"branch": 0} and
// {"branch": 1, "amp": amp}, so amp is active only when hf = 1.
func gaussWave2() Domain {
	return Domain{
		Name:       "gauss_wave2",
		LossTarget: -2.5,
		Root: func() any {
			return space.Dict{
				"x": space.Uniform("x", -20, 20),
				"hf": space.Choice("hf",
					space.Dict{"branch": 0},
					space.Dict{"branch": 1, "amp": space.Uniform("amp", 0, 1)},
				),
			}
		},
		Loss: func(cfg any, r *rand.Rand) (float64, float64) {
			x := num(cfg, "gauss_wave2", "x")
			t := gaussWave2Var*r.NormFloat64() + 2*math.Exp(-(x/5)*(x/5))
			if index(cfg, "gauss_wave2", 2, "hf", "branch") == 1 {
				t += math.Sin(x) * num(cfg, "gauss_wave2", "hf", "amp")
			}
			return -t, gaussWave2Var
		},
		Random: Budget{Evals: 5000, Threshold: -2.3},
		TPE:    TPEBudget{Evals: 75, Gamma: 0.25, PriorWeight: 1, Candidates: 24, Threshold: -2},
		Anneal: Budget{Evals: 50, Threshold: -2},
	}
}

// manyDistsLabels are the hyperparameters of many_dists in the order of
// HyperOpt's sum.
var manyDistsLabels = [...]string{"a", "b", "bb", "c", "d", "e", "f", "g", "h", "i", "j", "k"}

// manyDists is many_dists: twelve hyperparameters of every kind, z = the sum
// of their values, loss = log(1e-12 + z²), whose minimum log(1e-12) ≈ -27.63
// is at z = 0.
func manyDists() Domain {
	return Domain{
		Name:       "many_dists",
		LossTarget: 0,
		Root: func() any {
			return space.Dict{
				"a":  space.Choice("a", 0, 1, 2),
				"b":  space.RandInt("b", 10),
				"bb": space.RandIntRange("bb", 12, 25),
				"c":  space.Uniform("c", 4, 7),
				"d":  space.LogUniform("d", math.Exp(-2), math.Exp(0)),
				"e":  space.QUniform("e", 0, 10, 3),
				"f":  space.QLogUniform("f", math.Exp(0), math.Exp(3), 2),
				"g":  space.Normal("g", 4, 7),
				"h":  space.LogNormal("h", -2, 2),
				"i":  space.QNormal("i", 0, 10, 2),
				"j":  space.QLogNormal("j", 0, 2, 1),
				"k":  space.PChoice("k", space.Option{P: 0.1, Value: 0}, space.Option{P: 0.9, Value: 1}),
			}
		},
		Loss: func(cfg any, _ *rand.Rand) (float64, float64) {
			z := 0.0
			for _, l := range manyDistsLabels {
				z += num(cfg, "many_dists", l)
			}
			return math.Log(1e-12 + z*z), 0
		},
		Random: Budget{Evals: 500, Threshold: 0.2},
		TPE:    TPEBudget{Evals: 200, Gamma: 0.25, PriorWeight: 1, Candidates: 24, Threshold: 0.0005},
		Anneal: Budget{Evals: 200, Threshold: 0.0005},
	}
}

// branin is branin: x = U("x", -5, 10), y = U("y", 0, 15),
// loss = (y - 5.1/(4π²)·x² + 5x/π - 6)² + 10(1 - 1/(8π))·cos(x) + 10,
// loss_variance 0. Its minimum 0.397887 is at (-π, 12.275), (π, 2.275) and
// (9.42478, 2.475).
func branin() Domain {
	return Domain{
		Name:       "branin",
		LossTarget: 0.398,
		Root: func() any {
			return space.Dict{"x": space.Uniform("x", -5, 10), "y": space.Uniform("y", 0, 15)}
		},
		Loss: func(cfg any, _ *rand.Rand) (float64, float64) {
			x, y := num(cfg, "branin", "x"), num(cfg, "branin", "y")
			a := y - 5.1/(4*math.Pi*math.Pi)*x*x + 5*x/math.Pi - 6
			return a*a + 10*(1-1/(8*math.Pi))*math.Cos(x) + 10, 0
		},
		Random: Budget{Evals: 500, Threshold: 0.598},
		TPE:    TPEBudget{Evals: 200, Gamma: 0.25, PriorWeight: 1, Candidates: 24, Threshold: 0.7},
		Anneal: Budget{Evals: 200, Threshold: 0.7},
	}
}

// lookup follows keys through the nested maps of cfg. It panics, naming the
// domain, if a key is missing or a value on the way is not a map.
func lookup(cfg any, domain string, keys ...string) any {
	v := cfg
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			panic(fmt.Sprintf("domains: %s: config%s is %T, not a map[string]any", domain, path(keys[:i]), v))
		}
		if v, ok = m[k]; !ok {
			panic(fmt.Sprintf("domains: %s: config has no %s", domain, path(keys[:i+1])))
		}
	}
	return v
}

// num returns the number at keys in cfg, whatever its Go type (an int from
// Eval, a float64 from encoding/json, a json.Number). It panics, naming the
// domain, if there is none.
func num(cfg any, domain string, keys ...string) float64 {
	switch x := lookup(cfg, domain, keys...).(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		panic(fmt.Sprintf("domains: %s: config%s = %q is not a number", domain, path(keys), x))
	default:
		panic(fmt.Sprintf("domains: %s: config%s = %v (%T) is not a number", domain, path(keys), x, x))
	}
}

// index returns the number at keys in cfg as an int in [0, n). It panics,
// naming the domain, if it is not a whole number in that range.
func index(cfg any, domain string, n int, keys ...string) int {
	f := num(cfg, domain, keys...)
	if f != math.Trunc(f) || f < 0 || f >= float64(n) {
		panic(fmt.Sprintf("domains: %s: config%s = %v is not an integer in [0, %d)", domain, path(keys), f, n))
	}
	return int(f)
}

// path renders keys as config[...][...] subscripts for messages.
func path(keys []string) string {
	s := ""
	for _, k := range keys {
		s += fmt.Sprintf("[%q]", k)
	}
	return s
}
