package trialstest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// ---- Claim ----

func testClaimDense(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0)) // no budget
	if ids := claim(t, s, exp, 3); !slices.Equal(ids, []trials.ID{0, 1, 2}) {
		t.Errorf("Claim(3) = %v, want [0 1 2]", ids)
	}
	if ids := claim(t, s, exp, 2); !slices.Equal(ids, []trials.ID{3, 4}) {
		t.Errorf("Claim(2) = %v, want [3 4]", ids)
	}
	if ids := claim(t, s, exp, 100); ids[0] != 5 || ids[99] != 104 {
		t.Errorf("Claim(100) = [%d ... %d], want [5 ... 104]", ids[0], ids[99])
	}
	if e := experiment(t, s, exp); e.Claimed != 105 || e.NextID != 105 {
		t.Errorf("Experiments() after claiming 105 = Claimed %d, NextID %d; want 105, 105", e.Claimed, e.NextID)
	}
}

func testClaimBudget(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 5))
	if ids := claim(t, s, exp, 3); !slices.Equal(ids, []trials.ID{0, 1, 2}) {
		t.Errorf("Claim(3) = %v, want [0 1 2]", ids)
	}
	ids, err := s.Claim(t.Context(), exp, 3, "")
	if err != nil || !slices.Equal(ids, []trials.ID{3, 4}) {
		t.Errorf("Claim(3) with 2 left = %v, %v; want [3 4], nil", ids, err)
	}
	for range 2 {
		ids, err = s.Claim(t.Context(), exp, 1, "")
		wantErr(t, err, trials.ErrBudget, "Claim(1) with 5 of 5 claimed")
		if len(ids) != 0 {
			t.Errorf("Claim(1) with 5 of 5 claimed = %v, want no IDs", ids)
		}
	}
	if e := experiment(t, s, exp); e.Claimed != 5 || e.NextID != 5 {
		t.Errorf("Experiments() = Claimed %d, NextID %d; want 5, 5", e.Claimed, e.NextID)
	}
}

func testClaimRequestID(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 4))
	first, err := s.Claim(ctx, exp, 2, "req-1")
	if err != nil || !slices.Equal(first, []trials.ID{0, 1}) {
		t.Fatalf(`Claim(2, "req-1") = %v, %v; want [0 1], nil`, first, err)
	}
	again, err := s.Claim(ctx, exp, 2, "req-1")
	if err != nil || !slices.Equal(again, first) {
		t.Errorf(`Claim(2, "req-1") again = %v, %v; want %v, nil`, again, err, first)
	}
	other, err := s.Claim(ctx, exp, 2, "req-2")
	if err != nil || !slices.Equal(other, []trials.ID{2, 3}) {
		t.Errorf(`Claim(2, "req-2") = %v, %v; want [2 3], nil`, other, err)
	}
	// Once the budget is used up, a retried request still gets its IDs.
	again, err = s.Claim(ctx, exp, 2, "req-1")
	if err != nil || !slices.Equal(again, first) {
		t.Errorf(`Claim(2, "req-1") with the budget used up = %v, %v; want %v, nil`, again, err, first)
	}
	_, err = s.Claim(ctx, exp, 1, "req-3")
	wantErr(t, err, trials.ErrBudget, `Claim(1, "req-3") with 4 of 4 claimed`)
	if e := experiment(t, s, exp); e.Claimed != 4 || e.NextID != 4 {
		t.Errorf("Experiments() = Claimed %d, NextID %d; want 4, 4", e.Claimed, e.NextID)
	}
}

func testClaimConcurrent(t *testing.T, s trials.Store) {
	const budget = 60
	ctx := t.Context()
	open(t, s, spec(exp, budget))
	var (
		mu  sync.Mutex
		got []trials.ID
		wg  sync.WaitGroup
	)
	for g := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				n := 1 + (g+i)%3
				req := fmt.Sprintf("w%d-%d", g, i)
				ids, err := s.Claim(ctx, exp, n, req)
				if errors.Is(err, trials.ErrBudget) {
					return
				}
				if err != nil || len(ids) == 0 || len(ids) > n {
					t.Errorf("Claim(%d, %q) = %v, %v; want 1 to %d IDs", n, req, ids, err, n)
					return
				}
				// A retry of the same request gets the same IDs.
				again, err := s.Claim(ctx, exp, n, req)
				if err != nil || !slices.Equal(again, ids) {
					t.Errorf("Claim(%d, %q) again = %v, %v; want %v, nil", n, req, again, err, ids)
				}
				mu.Lock()
				got = append(got, ids...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	want := make([]trials.ID, budget)
	for i := range want {
		want[i] = trials.ID(i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%d goroutines claiming a budget of %d got IDs %v, want each of 0..%d once", workers, budget, got, budget-1)
	}
	if e := experiment(t, s, exp); e.Claimed != budget || e.NextID != budget {
		t.Errorf("Experiments() = Claimed %d, NextID %d; want %d, %d", e.Claimed, e.NextID, budget, budget)
	}
}

// ---- Propose and Release ----

func testProposeClaimedUnlisted(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0))
	ids := claim(t, s, exp, 3)
	if ts, _ := changes(t, s, exp, 0); len(ts) != 0 {
		t.Errorf("Changes(0) with 3 claimed trials and no values = %v, want none", idsOf(ts))
	}
	propose(t, s, exp, trials.Proposal{ID: ids[1], Values: value(ids[1])})
	if ts, _ := changes(t, s, exp, 0); !slices.Equal(idsOf(ts), []trials.ID{ids[1]}) {
		t.Errorf("Changes(0) with trial %d proposed = %v, want [%d]", ids[1], idsOf(ts), ids[1])
	}
	_, err := s.Get(t.Context(), exp, ids[0])
	wantErr(t, err, trials.ErrNotFound, "Get(claimed trial without values)")
	if tr := reserve(t, s, exp, owner, longTTL); tr.ID != ids[1] {
		t.Errorf("Reserve() = trial %d, want %d", tr.ID, ids[1])
	}
	_, err = s.Reserve(t.Context(), exp, owner, longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with only claimed trials left")
}

func testProposeQueued(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0))
	ids := claim(t, s, exp, 2)
	propose(t, s, exp,
		trials.Proposal{ID: ids[0], Values: []float64{0.25}},
		trials.Proposal{ID: ids[1], Values: []float64{math.NaN()}})
	for i, want := range [][]float64{{0.25}, {math.NaN()}} {
		tr := get(t, s, exp, ids[i])
		if tr.ID != ids[i] || tr.Experiment != exp || tr.State != trials.StateQueued || tr.Attempt != 0 || tr.Owner != "" {
			t.Errorf("Get(%d) after Propose = ID %d, experiment %q, %v, attempt %d, owner %q; want %d, %q, queued, 0, \"\"",
				ids[i], tr.ID, tr.Experiment, tr.State, tr.Attempt, tr.Owner, ids[i], exp)
		}
		if !space.Values.Equal(tr.Values, want) {
			t.Errorf("Get(%d).Values = %v, want %v", ids[i], tr.Values, want)
		}
		if tr.Booked.IsZero() {
			t.Errorf("Get(%d).Booked is zero, want the time it was proposed", ids[i])
		}
		if tr.Seq <= 0 {
			t.Errorf("Get(%d).Seq = %d, want > 0", ids[i], tr.Seq)
		}
	}
}

func testProposeOwner(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0))
	before := time.Now()
	tr := start(t, s, exp, owner, longTTL)
	if tr.State != trials.StateRunning || tr.Attempt != 1 || tr.Owner != owner {
		t.Errorf("Get() after Propose with Owner = %v, attempt %d, owner %q; want running, 1, %q", tr.State, tr.Attempt, tr.Owner, owner)
	}
	if !tr.LeaseUntil.After(before.Add(longTTL / 2)) {
		t.Errorf("Get().LeaseUntil = %v after Propose with a lease of %v at %v, want about %v", tr.LeaseUntil, longTTL, before, before.Add(longTTL))
	}
	if tr.Started.IsZero() || tr.Booked.IsZero() {
		t.Errorf("Get() after Propose with Owner: Started %v, Booked %v; want both set", tr.Started, tr.Booked)
	}
	if tr.Lease() != (trials.Lease{ID: tr.ID, Attempt: 1}) {
		t.Errorf("Lease() = %+v, want {ID:%d Attempt:1}", tr.Lease(), tr.ID)
	}
	_, err := s.Reserve(t.Context(), exp, "worker-b", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with the only trial running for its proposer")
	if err := s.Heartbeat(t.Context(), exp, tr.Lease(), longTTL); err != nil {
		t.Errorf("Heartbeat(proposer's lease) = %v, want nil", err)
	}
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(0.5))
}

func testProposeTwice(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	ids := claim(t, s, exp, 3)

	// Queued.
	p := trials.Proposal{ID: ids[0], Values: []float64{0.5}}
	propose(t, s, exp, p)
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{p}), nil, "Propose(queued trial again, same values)")
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: ids[0], Values: []float64{0.6}}}), trials.ErrConflict, "Propose(queued trial again, other values)")
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: ids[0], Values: []float64{0.5}, Owner: owner, LeaseTTL: longTTL}}), trials.ErrConflict, "Propose(queued trial again, same values, with an owner)")
	if tr := get(t, s, exp, ids[0]); tr.State != trials.StateQueued || !space.Values.Equal(tr.Values, p.Values) {
		t.Errorf("Get(%d) after refused Proposes = %v %v, want queued %v", ids[0], tr.State, tr.Values, p.Values)
	}

	// Running for its proposer; NaN values compare equal.
	p = trials.Proposal{ID: ids[1], Values: []float64{math.NaN()}, Owner: owner, LeaseTTL: longTTL}
	propose(t, s, exp, p)
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{p}), nil, "Propose(running trial again, same values [NaN] and owner)")
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: ids[1], Values: []float64{0.1}, Owner: owner, LeaseTTL: longTTL}}), trials.ErrConflict, "Propose(running trial again, other values)")
	if tr := get(t, s, exp, ids[1]); tr.State != trials.StateRunning || tr.Attempt != 1 || !space.Values.Equal(tr.Values, p.Values) {
		t.Errorf("Get(%d) after Proposes = %v, attempt %d, %v; want running, 1, [NaN]", ids[1], tr.State, tr.Attempt, tr.Values)
	}
	// Once it has moved on, the first proposal is no longer a retry.
	finish(t, s, exp, trials.Lease{ID: ids[1], Attempt: 1}, trials.StateDone, trials.OK(1))
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{p}), trials.ErrConflict, "Propose(finished trial again, same values)")

	// Twice in one call with different values.
	err := s.Propose(ctx, exp, []trials.Proposal{{ID: ids[2], Values: []float64{0.1}}, {ID: ids[2], Values: []float64{0.2}}})
	wantErr(t, err, trials.ErrConflict, "Propose(trial %d twice in one call, different values)", ids[2])
}

func testProposeNeverClaimed(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: 0, Values: value(0)}}), trials.ErrConflict, "Propose(trial 0, nothing claimed)")
	claim(t, s, exp, 2)
	for _, id := range []trials.ID{2, 5, -1, noID} {
		wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: id, Values: value(id)}}), trials.ErrConflict, "Propose(trial %d, never claimed)", id)
	}
	if ts, _ := changes(t, s, exp, 0); len(ts) != 0 {
		t.Errorf("Changes(0) after refused Proposes = %v, want none", idsOf(ts))
	}
}

func testRelease(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 3))
	ids := claim(t, s, exp, 3)
	propose(t, s, exp, trials.Proposal{ID: ids[0], Values: value(ids[0])})
	if err := s.Release(ctx, exp, []trials.ID{ids[1]}); err != nil {
		t.Fatalf("Release(claimed trial %d) = %v, want nil", ids[1], err)
	}
	// The budget is given back, and IDs are not reused.
	got, err := s.Claim(ctx, exp, 2, "")
	if err != nil || !slices.Equal(got, []trials.ID{3}) {
		t.Errorf("Claim(2) after releasing one of 3 = %v, %v; want [3], nil", got, err)
	}
	_, err = s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) with 3 of 3 claimed")
	if e := experiment(t, s, exp); e.Claimed != 3 || e.NextID != 4 {
		t.Errorf("Experiments() = Claimed %d, NextID %d; want 3, 4", e.Claimed, e.NextID)
	}

	// The released ID never gets values and is in no listing.
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: ids[1], Values: value(ids[1])}}), trials.ErrConflict, "Propose(released trial)")
	propose(t, s, exp, trials.Proposal{ID: ids[2], Values: value(ids[2])}, trials.Proposal{ID: 3, Values: value(3)})
	_, err = s.Get(ctx, exp, ids[1])
	wantErr(t, err, trials.ErrNotFound, "Get(released trial)")
	if ts, _ := changes(t, s, exp, 0); !slices.Equal(idsOf(ts), []trials.ID{0, 2, 3}) {
		t.Errorf("Changes(0) = %v, want [0 2 3] (1 was released)", idsOf(ts))
	}
	for range 3 {
		if tr := reserve(t, s, exp, owner, longTTL); tr.ID == ids[1] {
			t.Errorf("Reserve() = released trial %d", tr.ID)
		}
	}
}

func testReleaseProposed(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 2))
	ids := queue(t, s, exp, 2)
	wantErr(t, s.Release(ctx, exp, []trials.ID{ids[0]}), trials.ErrConflict, "Release(proposed trial)")
	tr := reserve(t, s, exp, owner, longTTL)
	wantErr(t, s.Release(ctx, exp, []trials.ID{tr.ID}), trials.ErrConflict, "Release(running trial)")
	_, err := s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) after refused Releases")
	if got := get(t, s, exp, ids[1]); got.State != trials.StateQueued {
		t.Errorf("Get(%d) after a refused Release = %v, want queued", ids[1], got.State)
	}
}
