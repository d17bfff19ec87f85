package fmin_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// detSpace is a conditional space with every family of kinds, so that
// points have inactive (NaN) hyperparameters.
func detSpace(t testing.TB) *space.Space {
	t.Helper()
	s, err := space.New(space.Dict{
		"x":  space.Uniform("x", -5, 5),
		"lr": space.LogUniform("lr", 1e-4, 1),
		"n":  space.QUniformInt("n", 1, 64, 1),
		"model": space.Choice("model",
			space.Dict{"kind": "a", "a": space.Normal("a", 0, 2)},
			space.Dict{"kind": "b", "b": space.QLogUniform("b", 1, 100, 1), "c": space.RandInt("c", 5)},
		),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// detLoss is a loss that depends on the point alone: the sum of the squares
// of its active values.
func detLoss(v space.Values) float64 {
	sum := 0.0
	for _, x := range v {
		if !math.IsNaN(x) {
			sum += x * x
		}
	}
	return sum
}

func detObjective(_ context.Context, t *fmin.Trial) (trials.Result, error) {
	return trials.OK(detLoss(t.Values())), nil
}

// detRun runs random search with the detObjective objective (or obj, if not
// nil) and fails the test on an error.
func detRun(t *testing.T, s *space.Space, obj fmin.Objective, opts fmin.Options) *fmin.Result {
	t.Helper()
	if obj == nil {
		obj = detObjective
	}
	opts.Algorithm = random.Search{}
	opts.Progress = fmin.ProgressOff
	res, err := fmin.Minimize(context.Background(), obj, s, &opts)
	if err != nil {
		t.Fatalf("Minimize(seed %d, max evals %d, parallelism %d): %v", opts.Seed, opts.MaxEvals, opts.Parallelism, err)
	}
	return res
}

// detCompare reports every difference between two runs' trials in IDs,
// states, values and results.
func detCompare(t *testing.T, what string, got, want []trials.Trial) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d trials, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.State != w.State || !space.Values.Equal(g.Values, w.Values) ||
			g.Result.Status != w.Result.Status || g.Result.Loss != w.Result.Loss {
			bad++
			if bad <= 5 {
				t.Errorf("%s: trial %d: got ID %d %v %v loss %v (%v), want ID %d %v %v loss %v (%v)",
					what, i, g.ID, g.State, g.Values, g.Result.Loss, g.Result.Status, w.ID, w.State, w.Values, w.Result.Loss, w.Result.Status)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d trials differ in all", what, bad)
	}
}

// checkDense checks that ts are n done trials with IDs 0..n-1 in order.
func checkDense(t *testing.T, what string, ts []trials.Trial, n int) {
	t.Helper()
	if len(ts) != n {
		t.Fatalf("%s: %d trials, want %d", what, len(ts), n)
	}
	for i, tr := range ts {
		if tr.ID != trials.ID(i) || tr.State != trials.StateDone || tr.Result.Status != trials.StatusOK {
			t.Fatalf("%s: trial %d is ID %d, %v, %v; want ID %d, done, ok", what, i, tr.ID, tr.State, tr.Result.Status, i)
		}
	}
}

// TestSeedDeterminism: the same seed gives the same trials (IDs, values,
// losses) and the same best; different seeds give different points.
func TestSeedDeterminism(t *testing.T) {
	t.Parallel()
	s := detSpace(t)
	const n = 100
	a := detRun(t, s, nil, fmin.Options{MaxEvals: n, Seed: 7})
	b := detRun(t, s, nil, fmin.Options{MaxEvals: n, Seed: 7})
	if a.Seed != 7 || b.Seed != 7 {
		t.Errorf("Result.Seed = %d and %d, want 7", a.Seed, b.Seed)
	}
	checkDense(t, "seed 7", a.Trials.All(), n)
	detCompare(t, "seed 7 twice", b.Trials.All(), a.Trials.All())
	if a.Best.ID != b.Best.ID || a.Best.Result.Loss != b.Best.Result.Loss {
		t.Errorf("best: trial %d (%v), then trial %d (%v)", a.Best.ID, a.Best.Result.Loss, b.Best.ID, b.Best.Result.Loss)
	}

	c := detRun(t, s, nil, fmin.Options{MaxEvals: n, Seed: 8})
	checkDense(t, "seed 8", c.Trials.All(), n)
	same := 0
	for i, tr := range c.Trials.All() {
		if space.Values.Equal(tr.Values, a.Trials.All()[i].Values) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 7 and 8 proposed the same point for %d of %d trials", same, n)
	}

	// Seed 0 draws a seed, reported in Result.Seed; running again with it
	// gives the same trials.
	d := detRun(t, s, nil, fmin.Options{MaxEvals: 20})
	if d.Seed == 0 {
		t.Fatal("Result.Seed = 0 for a search with Seed 0")
	}
	e := detRun(t, s, nil, fmin.Options{MaxEvals: 20, Seed: d.Seed})
	detCompare(t, "drawn seed, then given", e.Trials.All(), d.Trials.All())
}

// TestParallelSameTrials: random search proposes the same point for each ID
// whatever the parallelism, even when trials finish out of order. Each
// even trial returns only once the next trial is recorded, so that trials
// finish out of ID order, two at least at once, whatever the machine's load.
func TestParallelSameTrials(t *testing.T) {
	t.Parallel()
	s := detSpace(t)
	const n, seed = 200, 11
	var inFlight, maxInFlight atomic.Int64
	recorded := make([]chan struct{}, n)
	for i := range recorded {
		recorded[i] = make(chan struct{})
	}
	swapped := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		k := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if k <= m || maxInFlight.CompareAndSwap(m, k) {
				break
			}
		}
		if id := int(tr.ID()); id%2 == 0 && id+1 < n {
			select {
			case <-recorded[id+1]:
			case <-time.After(10 * time.Second):
				return trials.Result{}, fmt.Errorf("trial %d was never recorded", id+1)
			}
		}
		return detObjective(ctx, tr)
	}
	var order []trials.ID // trials in the order they were recorded
	par := detRun(t, s, swapped, fmin.Options{MaxEvals: n, Seed: seed, Parallelism: 8,
		OnTrial: func(tr trials.Trial) {
			order = append(order, tr.ID)
			close(recorded[tr.ID])
		}})
	seq := detRun(t, s, nil, fmin.Options{MaxEvals: n, Seed: seed, Parallelism: 1})

	if par.Evaluated != n || seq.Evaluated != n {
		t.Errorf("Evaluated = %d (parallel) and %d (sequential), want %d", par.Evaluated, seq.Evaluated, n)
	}
	checkDense(t, "parallelism 8", par.Trials.All(), n)
	detCompare(t, "parallelism 8 vs 1", par.Trials.All(), seq.Trials.All())
	if par.Best.ID != seq.Best.ID {
		t.Errorf("best trial: %d with parallelism 8, %d with 1", par.Best.ID, seq.Best.ID)
	}
	if m := maxInFlight.Load(); m < 2 || m > 8 {
		t.Errorf("at most %d objectives ran at once, want 2..8", m)
	}
	if len(order) != n {
		t.Fatalf("OnTrial saw %d trials, want %d", len(order), n)
	}
	for i := 0; i+1 < n; i += 2 {
		if a, b := slices.Index(order, trials.ID(i)), slices.Index(order, trials.ID(i+1)); a < b {
			t.Fatalf("trial %d was recorded before trial %d: the test did not exercise out-of-order completion", i, i+1)
		}
	}
	t.Logf("max in flight %d; first trials to finish: %v", maxInFlight.Load(), order[:16])
}

// TestResumeMatchesOneRun: a search stopped at 40 trials and resumed from
// its store to 100, with Seed 0 so the stored seed is used, has the trials of
// one uninterrupted 100-trial search with that seed.
func TestResumeMatchesOneRun(t *testing.T) {
	t.Parallel()
	s := detSpace(t)
	for _, tc := range []struct {
		name string
		seed uint64
	}{{"given seed", 12345}, {"drawn seed", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := trials.NewMemory(nil)
			first := detRun(t, s, nil, fmin.Options{MaxEvals: 40, Seed: tc.seed, Store: store, Experiment: "resume"})
			if first.Evaluated != 40 || first.Trials.Len() != 40 || first.Stop != fmin.StopMaxEvals {
				t.Fatalf("first run: %d evaluated, %d trials, stop %v; want 40, 40, max evals", first.Evaluated, first.Trials.Len(), first.Stop)
			}
			if tc.seed != 0 && first.Seed != tc.seed {
				t.Errorf("first run: Result.Seed = %d, want %d", first.Seed, tc.seed)
			}
			second := detRun(t, s, nil, fmin.Options{MaxEvals: 100, Seed: 0, Store: store, Experiment: "resume"})
			if second.Seed != first.Seed {
				t.Errorf("resumed run used seed %d, want the stored %d", second.Seed, first.Seed)
			}
			if second.Evaluated != 60 {
				t.Errorf("resumed run: Evaluated = %d, want 60", second.Evaluated)
			}
			checkDense(t, "resumed", second.Trials.All(), 100)

			whole := detRun(t, s, nil, fmin.Options{MaxEvals: 100, Seed: first.Seed})
			detCompare(t, "40 + 60 vs 100", second.Trials.All(), whole.Trials.All())
			if second.Best.ID != whole.Best.ID {
				t.Errorf("best trial: %d resumed, %d in one run", second.Best.ID, whole.Best.ID)
			}
		})
	}
}

// With Deterministic, a parallel TPE search gives the same trials whatever
// the order in which its objectives finish. Deterministic proposes in
// batches of Parallelism (IDs 4b to 4b+3 here): in one run each trial of a
// batch returns only after the one before it in ID order, in the other
// only after the one after it, so the completion orders differ by
// construction; the test checks that they did.
func TestDeterministicParallelTPE(t *testing.T) {
	t.Parallel()
	s, err := space.New(space.Dict{"x": space.Uniform("x", -5, 5), "y": space.LogUniform("y", 1e-3, 10), "c": space.Choice("c", "a", "b", "c")})
	if err != nil {
		t.Fatal(err)
	}
	const n, par = 60, 4
	run := func(reverse bool) (ts []trials.Trial, order []trials.ID) {
		returned := make([]chan struct{}, n)
		for i := range returned {
			returned[i] = make(chan struct{})
		}
		var mu sync.Mutex
		f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
			id := int(tr.ID())
			// The trial this one waits for, in the same batch.
			after := id - 1
			if reverse {
				after = id + 1
			}
			if after/par == id/par && after >= 0 && after < n {
				select {
				case <-returned[after]:
				case <-time.After(10 * time.Second):
					return trials.Result{}, fmt.Errorf("trial %d never returned", after)
				}
			}
			c := tr.Config().(map[string]any)
			x, y := c["x"].(float64), c["y"].(float64)
			mu.Lock()
			order = append(order, tr.ID())
			mu.Unlock()
			close(returned[id])
			return trials.OK((x-1)*(x-1) + math.Abs(math.Log10(y))), nil
		}
		res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: n, Parallelism: par, Deterministic: true, Seed: 21, Progress: fmin.ProgressOff})
		if err != nil {
			t.Fatal(err)
		}
		return res.Trials.All(), order
	}
	a, orderA := run(false)
	b, orderB := run(true)
	if len(a) != n || len(b) != n {
		t.Fatalf("%d and %d trials, want %d", len(a), len(b), n)
	}
	if slices.Equal(orderA, orderB) {
		t.Fatalf("both runs' objectives finished in the order %v: the test did not vary the completion order", orderA)
	}
	t.Logf("completion orders begin %v and %v", orderA[:8], orderB[:8])
	for i := range a {
		if a[i].ID != b[i].ID || a[i].State != b[i].State || !space.Values.Equal(a[i].Values, b[i].Values) || a[i].Result.Loss != b[i].Result.Loss {
			t.Fatalf("trial %d differs between runs: %v %v and %v %v", a[i].ID, a[i].Values, a[i].Result.Loss, b[i].Values, b[i].Result.Loss)
		}
	}
}
