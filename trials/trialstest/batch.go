package trialstest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

func batcher(t *testing.T, s trials.Store) trials.Batcher {
	t.Helper()
	b, ok := s.(trials.Batcher)
	if !ok {
		t.Skip("the store does not implement trials.Batcher")
	}
	return b
}

func testReserveN(t *testing.T, s trials.Store) {
	b := batcher(t, s)
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	_, err := b.ReserveN(ctx, exp, owner, longTTL, 3)
	wantErr(t, err, trials.ErrNoQueued, "ReserveN(3) of an empty experiment")
	_, err = b.ReserveN(ctx, noExp, owner, longTTL, 3)
	wantErr(t, err, trials.ErrNotFound, "ReserveN(unknown experiment)")
	if _, err := b.ReserveN(ctx, exp, owner, longTTL, 0); err == nil {
		t.Errorf("ReserveN(0) = nil error, want one")
	}
	queue(t, s, exp, 5)
	_, seq := changes(t, s, exp, 0)
	ts, err := b.ReserveN(ctx, exp, owner, longTTL, 3)
	if err != nil || !slices.Equal(idsOf(ts), []trials.ID{0, 1, 2}) {
		t.Fatalf("ReserveN(3) with 5 queued = %v, %v; want trials 0, 1, 2", idsOf(ts), err)
	}
	for _, tr := range ts {
		if tr.State != trials.StateRunning || tr.Attempt != 1 || tr.Owner != owner || !space.Values.Equal(tr.Values, value(tr.ID)) {
			t.Errorf("ReserveN: trial %d %v attempt %d owner %q values %v; want running, 1, %q, %v", tr.ID, tr.State, tr.Attempt, tr.Owner, tr.Values, owner, value(tr.ID))
		}
	}
	if got, _ := changes(t, s, exp, seq); !slices.Equal(idsOf(got), []trials.ID{0, 1, 2}) {
		t.Errorf("Changes(%d) after ReserveN = %v, want [0 1 2]", seq, idsOf(got))
	}
	ts, err = b.ReserveN(ctx, exp, owner, longTTL, 10)
	if err != nil || !slices.Equal(idsOf(ts), []trials.ID{3, 4}) {
		t.Errorf("ReserveN(10) with 2 queued = %v, %v; want trials 3, 4", idsOf(ts), err)
	}

	// Expired leases, and the max attempts rule, as Reserve.
	sp := spec("expiring", 0)
	sp.MaxAttempts = 1
	open(t, s, sp)
	a := start(t, s, "expiring", owner, shortTTL)
	c := start(t, s, "expiring", owner, shortTTL)
	time.Sleep(shortTTL)
	deadline := time.Now().Add(expiryWait)
	for {
		_, err := b.ReserveN(ctx, "expiring", "worker-b", longTTL, 2)
		wantErr(t, err, trials.ErrNoQueued, "ReserveN() with only trials at their last attempt")
		ga, gc := get(t, s, "expiring", a.ID), get(t, s, "expiring", c.ID)
		if (ga.State == trials.StateError && gc.State == trials.StateError) || time.Now().After(deadline) {
			if ga.State != trials.StateError || gc.State != trials.StateError {
				t.Errorf("trials at their last attempt after their leases expired = %v, %v; want error, error", ga.State, gc.State)
			}
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testReserveNConcurrent(t *testing.T, s trials.Store) {
	b := batcher(t, s)
	const n = 60
	open(t, s, spec(exp, 0))
	queue(t, s, exp, n)
	var mu sync.Mutex
	got := map[trials.ID]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				ts, err := b.ReserveN(t.Context(), exp, owner, longTTL, 3)
				if errors.Is(err, trials.ErrNoQueued) {
					return
				}
				if err != nil {
					t.Errorf("ReserveN() in goroutine %d = %v", w, err)
					return
				}
				mu.Lock()
				for _, tr := range ts {
					got[tr.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("%d goroutines reserved %d distinct trials, want %d", workers, len(got), n)
	}
	for id, k := range got {
		if k != 1 {
			t.Errorf("trial %d reserved %d times", id, k)
		}
	}
}

func testFinishN(t *testing.T, s trials.Store) {
	b := batcher(t, s)
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	x := start(t, s, exp, owner, longTTL)
	y := start(t, s, exp, owner, longTTL)
	z := start(t, s, exp, owner, longTTL)
	fs := []trials.Finishing{
		{Lease: x.Lease(), State: trials.StateDone, Result: trials.OK(0.5)},
		{Lease: trials.Lease{ID: y.ID, Attempt: 2}, State: trials.StateDone, Result: trials.OK(0.1)}, // stale
		{Lease: trials.Lease{ID: noID, Attempt: 1}, State: trials.StateDone, Result: trials.OK(0.1)}, // unknown
		{Lease: z.Lease(), State: trials.StateError, Result: trials.Result{Err: "boom"}},
	}
	errs, err := b.FinishN(ctx, exp, fs)
	if err != nil || len(errs) != len(fs) {
		t.Fatalf("FinishN(4) = %d errors, %v; want 4, nil", len(errs), err)
	}
	wantErr(t, errs[0], nil, "FinishN: finish of trial %d", x.ID)
	wantErr(t, errs[1], trials.ErrConflict, "FinishN: finish of trial %d under a stale lease", y.ID)
	wantErr(t, errs[2], trials.ErrNotFound, "FinishN: finish of an unknown trial")
	wantErr(t, errs[3], nil, "FinishN: error finish of trial %d", z.ID)
	if g := get(t, s, exp, x.ID); g.State != trials.StateDone || g.Result.Loss != 0.5 {
		t.Errorf("Get(%d) after FinishN = %v loss %v, want done 0.5", x.ID, g.State, g.Result.Loss)
	}
	if g := get(t, s, exp, y.ID); g.State != trials.StateRunning {
		t.Errorf("Get(%d) after a refused finish = %v, want running", y.ID, g.State)
	}
	if g := get(t, s, exp, z.ID); g.State != trials.StateError || g.Result.Err != "boom" {
		t.Errorf("Get(%d) after FinishN = %v %q, want error boom", z.ID, g.State, g.Result.Err)
	}
	// A retry of the whole call: the recorded finishes are repeats.
	errs, err = b.FinishN(ctx, exp, []trials.Finishing{fs[0], fs[3]})
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Errorf("FinishN(retry) = %v, %v; want nil errors", errs, err)
	}
	_, err = b.FinishN(ctx, noExp, fs[:1])
	wantErr(t, err, trials.ErrNotFound, "FinishN(unknown experiment)")
	if _, err := b.FinishN(ctx, exp, []trials.Finishing{{Lease: y.Lease(), State: trials.StateQueued}}); err == nil {
		t.Errorf("FinishN(state queued) = nil error, want one")
	}
}
