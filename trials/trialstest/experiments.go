package trialstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/hyperopt-go/hyperopt/trials"
)

// ---- Open and Experiments ----

func testOpenCreate(t *testing.T, s trials.Store) {
	sp := spec(exp, 10)
	e, err := s.Open(t.Context(), sp)
	if err != nil {
		t.Fatalf("Open(new experiment) = %v, want nil", err)
	}
	checkExperiment(t, "Open(new experiment)", e, sp)
	if e.Claimed != 0 || e.NextID != 0 || e.Seq != 0 {
		t.Errorf("Open(new experiment) = Claimed %d, NextID %d, Seq %d; want 0, 0, 0", e.Claimed, e.NextID, e.Seq)
	}
	if e.Created.IsZero() {
		t.Errorf("Open(new experiment).Created is zero, want the time it was created")
	}

	again := open(t, s, sp)
	checkExperiment(t, "Open(existing, same spec)", again, sp)
	if !again.Created.Equal(e.Created) {
		t.Errorf("Open(existing, same spec).Created = %v, want %v", again.Created, e.Created)
	}

	// Another key is another experiment, with its own IDs.
	open(t, s, spec("other", 10))
	claim(t, s, exp, 2)
	if ids := claim(t, s, "other", 1); ids[0] != 0 {
		t.Errorf("Claim(%q, 1) = %v after 2 claims in %q, want [0]", "other", ids, exp)
	}
	if e := open(t, s, sp); e.Claimed != 2 || e.NextID != 2 {
		t.Errorf("Open(existing) after Claim(2) = Claimed %d, NextID %d; want 2, 2", e.Claimed, e.NextID)
	}
}

func testOpenSpaceMismatch(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 10))
	sp := spec(exp, 20)
	sp.Fingerprint, sp.Space = otherFP, json.RawMessage(otherSpaceJSON)
	_, err := s.Open(t.Context(), sp)
	checkMismatch(t, "Open(other fingerprint)", err, trials.ErrSpaceMismatch, "space", fp, otherFP)

	// The refused Open changed nothing.
	checkExperiment(t, "Experiments() after a refused Open", experiment(t, s, exp), spec(exp, 10))
}

func testOpenAlgorithmMismatch(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 10))

	sp := spec(exp, 20)
	sp.Algorithm = "tpe"
	_, err := s.Open(t.Context(), sp)
	checkMismatch(t, "Open(other algorithm)", err, trials.ErrAlgorithm, "algorithm", algorithm, "tpe")

	sp = spec(exp, 20)
	sp.AlgorithmOptions = json.RawMessage(`{"k":2}`)
	_, err = s.Open(t.Context(), sp)
	wantErr(t, err, trials.ErrAlgorithm, "Open(other algorithm options)")
	var me *trials.MismatchError
	if errors.As(err, &me) && me.What != "algorithm" {
		t.Errorf("Open(other algorithm options) = MismatchError{What: %q}, want %q", me.What, "algorithm")
	}

	// The refused Opens changed nothing.
	checkExperiment(t, "Experiments() after refused Opens", experiment(t, s, exp), spec(exp, 10))

	// An empty algorithm takes the stored one.
	sp = spec(exp, 0)
	sp.Algorithm, sp.AlgorithmOptions = "", nil
	e, err := s.Open(t.Context(), sp)
	if err != nil {
		t.Fatalf("Open(empty algorithm) = %v, want nil", err)
	}
	checkExperiment(t, "Open(empty algorithm)", e, spec(exp, 10))
}

func testOpenSeed(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 10))

	sp := spec(exp, 20)
	sp.Seed = 7
	_, err := s.Open(t.Context(), sp)
	checkMismatch(t, "Open(seed 7)", err, trials.ErrSeed, "seed", "42", "7")
	checkExperiment(t, "Experiments() after a refused Open", experiment(t, s, exp), spec(exp, 10))

	sp = spec(exp, 0)
	sp.Seed = 0
	e, err := s.Open(t.Context(), sp)
	if err != nil {
		t.Fatalf("Open(seed 0) = %v, want nil", err)
	}
	if e.Seed != seed {
		t.Errorf("Open(seed 0).Seed = %d, want the stored %d", e.Seed, seed)
	}
}

func testOpenMaxEvals(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 2))
	claim(t, s, exp, 2)
	_, err := s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) with 2 of 2 claimed")

	// MaxEvals 0 keeps the budget.
	if e := open(t, s, spec(exp, 0)); e.MaxEvals != 2 || e.Claimed != 2 {
		t.Errorf("Open(MaxEvals 0) = MaxEvals %d, Claimed %d; want 2, 2", e.MaxEvals, e.Claimed)
	}
	_, err = s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) after Open(MaxEvals 0)")

	// A second opener with another budget is refused: it must not change
	// the budget the first one stored.
	_, err = s.Open(ctx, spec(exp, 4))
	checkMismatch(t, "Open(MaxEvals 4) without Update", err, trials.ErrSettings, "max evals", "2", "4")
	if e := experiment(t, s, exp); e.MaxEvals != 2 {
		t.Errorf("Experiments().MaxEvals after a refused Open = %d, want 2", e.MaxEvals)
	}

	// Update changes it.
	sp := spec(exp, 4)
	sp.Update = true
	if e := open(t, s, sp); e.MaxEvals != 4 {
		t.Errorf("Open(MaxEvals 4, Update).MaxEvals = %d, want 4", e.MaxEvals)
	}
	ids, err := s.Claim(ctx, exp, 5, "")
	if err != nil || !slices.Equal(ids, []trials.ID{2, 3}) {
		t.Errorf("Claim(5) after Open(MaxEvals 4, Update) = %v, %v; want [2 3], nil", ids, err)
	}
	_, err = s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) with 4 of 4 claimed")

	// The same budget again is no change.
	open(t, s, spec(exp, 4))

	// A budget lowered below the claimed trials keeps them and claims no more.
	sp = spec(exp, 3)
	sp.Update = true
	if e := open(t, s, sp); e.MaxEvals != 3 || e.Claimed != 4 {
		t.Errorf("Open(MaxEvals 3, Update) with 4 claimed = MaxEvals %d, Claimed %d; want 3, 4", e.MaxEvals, e.Claimed)
	}
	_, err = s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) with 4 claimed of 3")
}

func testOpenMaxAttempts(t *testing.T, s trials.Store) {
	ctx := t.Context()
	e := open(t, s, spec(exp, 0))
	if e.MaxAttempts != trials.DefaultMaxAttempts {
		t.Errorf("Open(MaxAttempts 0).MaxAttempts = %d, want the default %d", e.MaxAttempts, trials.DefaultMaxAttempts)
	}
	sp := spec(exp, 0)
	sp.MaxAttempts = 5
	_, err := s.Open(ctx, sp)
	checkMismatch(t, "Open(MaxAttempts 5) without Update", err, trials.ErrSettings, "max attempts", "3", "5")
	sp.Update = true
	if e := open(t, s, sp); e.MaxAttempts != 5 {
		t.Errorf("Open(MaxAttempts 5, Update).MaxAttempts = %d, want 5", e.MaxAttempts)
	}
	if e := open(t, s, spec(exp, 0)); e.MaxAttempts != 5 {
		t.Errorf("Open(MaxAttempts 0) after the update = %d, want the stored 5", e.MaxAttempts)
	}
	sp = spec("other", 0)
	sp.MaxAttempts = 1
	if e := open(t, s, sp); e.MaxAttempts != 1 {
		t.Errorf("Open(new, MaxAttempts 1).MaxAttempts = %d, want 1", e.MaxAttempts)
	}
}

func testOpenSeedZero(t *testing.T, s trials.Store) {
	sp := spec(exp, 0)
	sp.Seed = 0
	e := open(t, s, sp)
	if e.Seed == 0 {
		t.Fatalf("Open(new, seed 0).Seed = 0, want a seed chosen by the store")
	}
	if again := open(t, s, sp); again.Seed != e.Seed {
		t.Errorf("Open(existing, seed 0).Seed = %d, want the stored %d", again.Seed, e.Seed)
	}
	sp.Key = "other"
	if o := open(t, s, sp); o.Seed == 0 || o.Seed == e.Seed {
		t.Errorf("Open(another new, seed 0).Seed = %d, want a new non-zero seed (the first was %d)", o.Seed, e.Seed)
	}
}

// testOpenConcurrent opens one new key from several goroutines with seed 0:
// the experiment is created once and every opener gets the same seed.
func testOpenConcurrent(t *testing.T, s trials.Store) {
	sp := spec(exp, 100)
	sp.Seed = 0
	seeds := make([]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			e, err := s.Open(t.Context(), sp)
			if err != nil {
				t.Errorf("Open() in goroutine %d = %v, want nil", w, err)
				return
			}
			seeds[w] = e.Seed
		})
	}
	wg.Wait()
	for w, sd := range seeds {
		if sd == 0 || sd != seeds[0] {
			t.Fatalf("concurrent Open(seed 0) seeds = %v, want one non-zero seed for all (goroutine %d)", seeds, w)
		}
	}
	es, err := s.Experiments(t.Context())
	if err != nil || len(es) != 1 {
		t.Errorf("Experiments() after concurrent Opens = %d, %v; want 1, nil", len(es), err)
	}
}

func testOpenInvalid(t *testing.T, s trials.Store) {
	ctx := t.Context()
	for _, c := range []struct {
		name string
		edit func(*trials.ExperimentSpec)
	}{
		{"empty key", func(sp *trials.ExperimentSpec) { sp.Key = "" }},
		{"negative MaxEvals", func(sp *trials.ExperimentSpec) { sp.MaxEvals = -1 }},
		{"negative MaxAttempts", func(sp *trials.ExperimentSpec) { sp.MaxAttempts = -2 }},
	} {
		sp := spec(exp, 0)
		c.edit(&sp)
		if _, err := s.Open(ctx, sp); err == nil {
			t.Errorf("Open(%s) = nil, want an error", c.name)
		}
	}
	if es, err := s.Experiments(ctx); err != nil || len(es) != 0 {
		t.Errorf("Experiments() after refused Opens = %d, %v; want 0, nil", len(es), err)
	}
}

func testExperiments(t *testing.T, s trials.Store) {
	es, err := s.Experiments(t.Context())
	if err != nil || len(es) != 0 {
		t.Errorf("Experiments() of an empty store = %d experiments, %v; want 0, nil", len(es), err)
	}
	for i, k := range []string{"b", "c", "a"} {
		open(t, s, spec(k, i+1))
	}
	claim(t, s, "c", 2)
	es, err = s.Experiments(t.Context())
	if err != nil {
		t.Fatalf("Experiments() = %v, want nil", err)
	}
	var keys []string
	for _, e := range es {
		keys = append(keys, e.Key)
	}
	if !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Fatalf("Experiments() = keys %q, want [a b c]", keys)
	}
	for i, budget := range []int{3, 1, 2} {
		checkExperiment(t, fmt.Sprintf("Experiments()[%d]", i), es[i], spec(es[i].Key, budget))
	}
	if c := es[2]; c.Claimed != 2 || c.NextID != 2 {
		t.Errorf("Experiments()[c] after Claim(2) = Claimed %d, NextID %d; want 2, 2", c.Claimed, c.NextID)
	}
}

func testUnknownExperiment(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	queue(t, s, exp, 1)
	l := trials.Lease{ID: 0, Attempt: 1}
	_, err := s.Claim(ctx, noExp, 1, "")
	wantErr(t, err, trials.ErrNotFound, "Claim(unknown experiment)")
	wantErr(t, s.Propose(ctx, noExp, []trials.Proposal{{ID: 0, Values: value(0)}}), trials.ErrNotFound, "Propose(unknown experiment)")
	wantErr(t, s.Release(ctx, noExp, []trials.ID{0}), trials.ErrNotFound, "Release(unknown experiment)")
	_, err = s.Reserve(ctx, noExp, owner, longTTL)
	wantErr(t, err, trials.ErrNotFound, "Reserve(unknown experiment)")
	wantErr(t, s.Heartbeat(ctx, noExp, l, longTTL), trials.ErrNotFound, "Heartbeat(unknown experiment)")
	wantErr(t, s.Report(ctx, noExp, l, trials.Report{Step: 1, Value: 1}), trials.ErrNotFound, "Report(unknown experiment)")
	wantErr(t, s.Finish(ctx, noExp, l, trials.StateDone, trials.OK(1)), trials.ErrNotFound, "Finish(unknown experiment)")
	wantErr(t, s.Requeue(ctx, noExp, []trials.Lease{{ID: 0}}), trials.ErrNotFound, "Requeue(unknown experiment)")
	wantErr(t, s.Cancel(ctx, noExp, []trials.Lease{{ID: 0}}), trials.ErrNotFound, "Cancel(unknown experiment)")
	_, err = s.Get(ctx, noExp, 0)
	wantErr(t, err, trials.ErrNotFound, "Get(unknown experiment)")
	_, _, err = s.Changes(ctx, noExp, 0, 0)
	wantErr(t, err, trials.ErrNotFound, "Changes(unknown experiment)")
	_, _, err = s.Reports(ctx, noExp, 0, 0)
	wantErr(t, err, trials.ErrNotFound, "Reports(unknown experiment)")
	_, err = s.Attachment(ctx, noExp, 0, "a")
	wantErr(t, err, trials.ErrNotFound, "Attachment(unknown experiment)")
}
