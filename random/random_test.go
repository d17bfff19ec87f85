package random_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/internal/domains"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// randomDomains returns the domains HyperOpt's random-search test runs on
// (test_domains.py, DomainExperimentMixin): every domain of domains.All()
// with a Random budget, and q1_choice.
func randomDomains(t *testing.T) []domains.Domain {
	t.Helper()
	var ds []domains.Domain
	for _, d := range domains.All() {
		if d.Random.Evals > 0 {
			ds = append(ds, d)
		}
	}
	d, ok := domains.ByName("q1_choice")
	if !ok {
		t.Fatal(`domains.ByName("q1_choice") found nothing`)
	}
	return append(ds, d)
}

// averageBestError runs random search on d for evals trials with the given
// seed and returns HyperOpt's average_best_error of the result. The noise of
// the noisy domains for trial id comes from PCG(seed, id + 2³²): fixed per
// trial, and independent of the proposal stream PCG(seed, id).
func averageBestError(t *testing.T, d domains.Domain, seed uint64, evals int) float64 {
	t.Helper()
	s, err := space.New(d.Root())
	if err != nil {
		t.Fatalf("space.New: %v", err)
	}
	objective := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		r := rand.New(rand.NewPCG(seed, uint64(tr.ID())+1<<32))
		loss, v := d.Loss(tr.Config(), r)
		return trials.Result{Loss: loss, Status: trials.StatusOK, LossVariance: v}, nil
	}
	res, err := fmin.Minimize(context.Background(), objective, s, &fmin.Options{
		Algorithm: random.Search{},
		MaxEvals:  evals,
		Seed:      seed,
		Progress:  fmin.ProgressOff,
	})
	if err != nil {
		t.Fatalf("seed %d: Minimize: %v", seed, err)
	}
	if n := res.Trials.Len(); n != evals || res.Evaluated != evals || res.Stop != fmin.StopMaxEvals {
		t.Fatalf("seed %d: %d trials, %d evaluated, stop %v; want %d, %d, max evals", seed, n, res.Evaluated, res.Stop, evals, evals)
	}
	abe, err := res.Trials.AverageBestError()
	if err != nil {
		t.Fatalf("seed %d: AverageBestError: %v", seed, err)
	}
	return abe
}

// manyDistsBound replaces HyperOpt's threshold for many_dists, which random
// search does not reach at 500 evaluations except by luck.
//
// many_dists' loss is log(1e-12 + z²), z the sum of its twelve
// hyperparameters, so HyperOpt's bound loss_target + 0.2 asks for a draw with
// |z| < e^0.1 ≈ 1.105. z has mean ≈ 54 and its only wide negative tails are
// g ~ N(4, 7) and i ~ qnormal(0, 10, 2), so one draw lands there with
// probability ≈ 1.9e-4, and the best of 500 draws with probability ≈ 0.094
// (2·10⁷ draws of this package's sampler, and the same from an independent
// simulation of numpy's definitions, agree). HyperOpt's one run
// (default_rng(4)) passes with that chance; here it would take 8 of 10 seeds,
// a chance of about 1e-7. The distribution of random search's best loss after
// 500 draws (4·10⁴ simulated runs) has quantiles 0.25: 2.2, 0.5: 3.6,
// 0.9: 4.8, 0.95: 5.06, 0.99: 5.4; the bound 5.0 (the 0.94 quantile) is
// passed by 8 of 10 seeds with probability ≈ 0.98 and by the median with
// probability ≈ 1, and a sampler that shifts or widens z fails it.
const manyDistsBound = 5.0

// TestDomainThresholds is HyperOpt's test of random search
// (test_domains.py, DomainExperimentMixin; reference §7.2 A): on each domain,
// d.Random.Evals evaluations, then average_best_error < d.Random.Threshold
// (many_dists: < manyDistsBound, see there). HyperOpt runs one seed; a
// single Go seed would pass or fail by luck of the draw, so this runs ten
// fixed seeds and asks that at least 8 of them, and their median, pass.
// The margin is thin on branin: one run of 500 draws passes with probability
// ≈ 0.854 (the region below 0.598 is 0.38% of the box), so 8 of 10 holds
// for about 83% of seed sets. Seeds 1..10 give 9 of 10; if a change of the
// sampling streams alone makes branin fail, that is not evidence of a bug.
//
// All of it (10 seeds on the nine domains, ~95,000 trials, half of them
// gauss_wave2's 5,000 per seed) takes about 1.3 s, or 8 s under -race on
// two cores, so there is no short version.
func TestDomainThresholds(t *testing.T) {
	t.Parallel()
	const seeds, need = 10, 8
	for _, d := range randomDomains(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			bound := d.Random.Threshold
			if d.Name == "many_dists" {
				bound = manyDistsBound
			}
			vals := make([]float64, seeds)
			pass, passHyperOpt := 0, 0
			for i := range seeds {
				vals[i] = averageBestError(t, d, uint64(i+1), d.Random.Evals)
				if vals[i] < bound {
					pass++
				}
				if vals[i] < d.Random.Threshold {
					passHyperOpt++
				}
			}
			med := median(vals)
			t.Logf("%s: %d evals, bound %v: %d/%d seeds pass (HyperOpt's %v: %d), median %.4f, values %s",
				d.Name, d.Random.Evals, bound, pass, seeds, d.Random.Threshold, passHyperOpt, med, fmtVals(vals))
			if pass < need || !(med < bound) {
				t.Errorf("%s: %d/%d seeds below %v (want >= %d), median %.4f (want < %v); values %s",
					d.Name, pass, seeds, bound, need, med, bound, fmtVals(vals))
			}
		})
	}
}

// median is the 0.5-quantile. The project's quantile is parzen.Quantile
// (internal/parzen), which random, even in its tests, may not import
// (deps_test.go: random imports only space and trials).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func fmtVals(xs []float64) string {
	out := "["
	for i, x := range xs {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%.4f", x)
	}
	return out + "]"
}

// streamSpaces are spaces with every kind of hyperparameter, conditional
// branches and a shared hyperparameter, to check the streams on.
func streamSpaces(t *testing.T) map[string]*space.Space {
	t.Helper()
	out := map[string]*space.Space{}
	for _, name := range []string{"many_dists", "gauss_wave", "gauss_wave2", "q1_choice"} {
		d, ok := domains.ByName(name)
		if !ok {
			t.Fatalf("domains.ByName(%q) found nothing", name)
		}
		s, err := space.New(d.Root())
		if err != nil {
			t.Fatalf("%s: space.New: %v", name, err)
		}
		out[name] = s
	}
	s, err := space.New(space.Dict{
		"lr":    space.LogUniform("lr", 1e-5, 1e-1),
		"batch": space.QLogUniformInt("batch", 16, 512, 16),
		"model": space.Choice("model",
			space.Dict{"type": "svm", "C": space.LogUniform("C", 1e-3, 1e3),
				"kernel": space.Choice("kernel", "linear", space.Dict{"rbf": space.LogUniform("gamma", 1e-4, 1)})},
			space.Dict{"type": "tree", "depth": space.UniformInt("depth", 1, 12), "n": space.RandIntRange("n", 5, 50)},
			space.Dict{"type": "mlp", "units": space.QNormalInt("units", 128, 32, 8), "drop": space.QLogNormal("drop", -2, 0.5, 0.01)},
		),
	})
	if err != nil {
		t.Fatalf("nested: space.New: %v", err)
	}
	out["nested"] = s
	return out
}

// TestSuggestStreams checks the contract of HyperOpt's Suggest_API test
// (tests/test_base.py) and more: the value proposed for an ID depends on the
// seed and the ID alone, not on the other IDs of the call nor on the order
// of calls; a different seed gives different values; every value is a
// point of the space.
func TestSuggestStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var alg random.Search
	if alg.Name() != "random" {
		t.Errorf("Name() = %q, want %q", alg.Name(), "random")
	}
	ids := []trials.ID{0, 1, 2, 3, 7, 100, 1 << 20, 1<<40 + 3}
	for name, s := range streamSpaces(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := trials.NewHistory(s.Len())
			suggest := func(seed uint64, ids ...trials.ID) []space.Values {
				t.Helper()
				vs, err := alg.Suggest(ctx, s, h, ids, seed)
				if err != nil {
					t.Fatalf("Suggest(seed %d, %v): %v", seed, ids, err)
				}
				if len(vs) != len(ids) {
					t.Fatalf("Suggest(seed %d, %v) returned %d points", seed, ids, len(vs))
				}
				for i, v := range vs {
					if err := s.Validate(v); err != nil {
						t.Errorf("Suggest(seed %d) for ID %d = %v: invalid: %v", seed, ids[i], v, err)
					}
				}
				return vs
			}
			for _, seed := range []uint64{1, 42, math.MaxUint64} {
				all := suggest(seed, ids...)
				byID := map[trials.ID]space.Values{}
				for i, id := range ids {
					byID[id] = all[i]
				}
				// One at a time, in reverse order.
				for i := len(ids) - 1; i >= 0; i-- {
					if got := suggest(seed, ids[i])[0]; !space.Values.Equal(got, byID[ids[i]]) {
						t.Errorf("seed %d, ID %d alone = %v, in a batch = %v", seed, ids[i], got, byID[ids[i]])
					}
				}
				// Shuffled, with other IDs mixed in, after other calls.
				r := rand.New(rand.NewPCG(seed, 99))
				mixed := append(slices.Clone(ids), 5, 6, 1000, 1<<30)
				r.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
				got := suggest(seed, mixed...)
				for i, id := range mixed {
					if want, ok := byID[id]; ok && !space.Values.Equal(got[i], want) {
						t.Errorf("seed %d, ID %d in %v = %v, in %v = %v", seed, id, mixed, got[i], ids, want)
					}
				}
				// A repeated ID gets the same value twice.
				if rep := suggest(seed, 3, 3); !space.Values.Equal(rep[0], rep[1]) {
					t.Errorf("seed %d: ID 3 twice in one call gave %v and %v", seed, rep[0], rep[1])
				}
				// Distinct IDs give distinct points.
				for i := range ids {
					for j := range i {
						if space.Values.Equal(all[i], all[j]) {
							t.Errorf("seed %d: IDs %d and %d got the same point %v", seed, ids[i], ids[j], all[i])
						}
					}
				}
			}
			// Different seeds give different values for every ID.
			a, b := suggest(1, ids...), suggest(2, ids...)
			for i, id := range ids {
				if space.Values.Equal(a[i], b[i]) {
					t.Errorf("ID %d: seeds 1 and 2 gave the same point %v", id, a[i])
				}
			}
			// The history does not matter: the same IDs with a history
			// holding other trials give the same values.
			h2 := trials.NewHistory(s.Len())
			h2.Apply([]trials.Trial{{ID: 500, State: trials.StateDone, Values: a[0], Result: trials.OK(1)}}, 1)
			c, err := alg.Suggest(ctx, s, h2, ids, 1)
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range ids {
				if !space.Values.Equal(a[i], c[i]) {
					t.Errorf("ID %d: the history changed the point: %v, then %v", id, a[i], c[i])
				}
			}
			if vs, err := alg.Suggest(ctx, s, h, nil, 1); err != nil || len(vs) != 0 {
				t.Errorf("Suggest with no IDs = %v, %v; want none, nil", vs, err)
			}
		})
	}
}
