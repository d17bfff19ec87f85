package trialstest

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// ---- Reserve, Heartbeat, Report ----

func testReserveLowestFirst(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0))
	ids := claim(t, s, exp, 5)
	for _, i := range []int{3, 1, 4, 0, 2} {
		propose(t, s, exp, trials.Proposal{ID: ids[i], Values: value(ids[i])})
	}
	before := time.Now()
	for _, want := range ids {
		tr := reserve(t, s, exp, owner, longTTL)
		if tr.ID != want {
			t.Errorf("Reserve() = trial %d, want %d (the lowest queued ID)", tr.ID, want)
		}
		if tr.State != trials.StateRunning || tr.Owner != owner || tr.Attempt != 1 {
			t.Errorf("Reserve() = %v, owner %q, attempt %d; want running, %q, 1", tr.State, tr.Owner, tr.Attempt, owner)
		}
		if !tr.LeaseUntil.After(before.Add(longTTL/2)) || tr.Started.IsZero() {
			t.Errorf("Reserve() = LeaseUntil %v, Started %v; want about %v and set", tr.LeaseUntil, tr.Started, before.Add(longTTL))
		}
		if !space.Values.Equal(tr.Values, value(tr.ID)) {
			t.Errorf("Reserve().Values = %v, want %v", tr.Values, value(tr.ID))
		}
		if g := get(t, s, exp, tr.ID); g.State != trials.StateRunning || g.Attempt != 1 || g.Owner != owner || g.Seq != tr.Seq {
			t.Errorf("Get(%d) after Reserve = %v, attempt %d, owner %q, seq %d; want running, 1, %q, %d", tr.ID, g.State, g.Attempt, g.Owner, g.Seq, owner, tr.Seq)
		}
	}
	_, err := s.Reserve(t.Context(), exp, owner, longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with all trials running")
}

func testReserveNoQueued(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	_, err := s.Reserve(ctx, exp, owner, longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() of an empty experiment")
	// One trial in each state but queued: running (a valid lease), done,
	// error and canceled.
	start(t, s, exp, owner, longTTL)
	tr := start(t, s, exp, owner, longTTL)
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(1))
	tr = start(t, s, exp, owner, longTTL)
	finish(t, s, exp, tr.Lease(), trials.StateError, trials.Result{Err: "boom"})
	id := queue(t, s, exp, 1)[0]
	if err := s.Cancel(ctx, exp, leases(t, s, exp, id)); err != nil {
		t.Fatalf("Cancel(%d) = %v, want nil", id, err)
	}
	_, err = s.Reserve(ctx, exp, "worker-b", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with trials running (valid lease), done, error and canceled")
}

func testReserveConcurrent(t *testing.T, s trials.Store) {
	const n = 40
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	queue(t, s, exp, n)
	var (
		mu  sync.Mutex
		got = map[trials.ID]int{}
		wg  sync.WaitGroup
	)
	for g := range workers {
		wg.Go(func() {
			w := fmt.Sprintf("worker-%d", g)
			for {
				tr, err := s.Reserve(ctx, exp, w, longTTL)
				if errors.Is(err, trials.ErrNoQueued) {
					return
				}
				if err != nil {
					t.Errorf("Reserve(%q) = %v, want a trial or ErrNoQueued", w, err)
					return
				}
				if tr.State != trials.StateRunning || tr.Attempt != 1 || tr.Owner != w {
					t.Errorf("Reserve(%q) = trial %d %v, attempt %d, owner %q; want running, 1, %q", w, tr.ID, tr.State, tr.Attempt, tr.Owner, w)
				}
				mu.Lock()
				got[tr.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id := range trials.ID(n) {
		if got[id] != 1 {
			t.Errorf("%d goroutines reserving %d queued trials reserved trial %d %d times, want once", workers, n, id, got[id])
		}
	}
	if len(got) != n {
		t.Errorf("%d goroutines reserved %d distinct trials, want %d", workers, len(got), n)
	}
}

func testReserveExpiredLease(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	a := start(t, s, exp, owner, shortTTL) // trial 0: running for its proposer
	queue(t, s, exp, 1)                    // trial 1: queued
	// A queued trial comes before an expired lease.
	b := reserve(t, s, exp, owner, shortTTL)
	if b.ID != 1 {
		t.Fatalf("Reserve() = trial %d, want the queued trial 1", b.ID)
	}
	time.Sleep(shortTTL)
	got := map[trials.ID]trials.Trial{}
	for range 2 {
		tr := reserveEventually(t, s, exp, "worker-b", longTTL)
		if tr.State != trials.StateRunning || tr.Attempt != 2 || tr.Owner != "worker-b" {
			t.Errorf("Reserve() of an expired lease = trial %d %v, attempt %d, owner %q; want running, 2, %q", tr.ID, tr.State, tr.Attempt, tr.Owner, "worker-b")
		}
		got[tr.ID] = tr
	}
	if _, ok := got[a.ID]; !ok || len(got) != 2 {
		t.Fatalf("Reserve() twice after both leases expired = trials %v, want 0 and 1", slices.Sorted(maps.Keys(got)))
	}
	_, err := s.Reserve(ctx, exp, "worker-c", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with both trials taken over")

	for _, old := range []trials.Lease{a.Lease(), b.Lease()} {
		wantErr(t, s.Heartbeat(ctx, exp, old, longTTL), trials.ErrConflict, "Heartbeat(%+v) after the lease was taken over", old)
		wantErr(t, s.Report(ctx, exp, old, trials.Report{Step: 1, Value: 1}), trials.ErrConflict, "Report(%+v) after the lease was taken over", old)
		wantErr(t, s.Finish(ctx, exp, old, trials.StateDone, trials.OK(0.5)), trials.ErrConflict, "Finish(%+v) after the lease was taken over", old)
	}
	for _, tr := range got {
		finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(0.5))
	}
	// The old lease stays stale once the new attempt finished, even with
	// the same result.
	wantErr(t, s.Finish(ctx, exp, a.Lease(), trials.StateDone, trials.OK(0.5)), trials.ErrConflict, "Finish(%+v, same result) after attempt 2 finished", a.Lease())
	if tr := get(t, s, exp, a.ID); tr.State != trials.StateDone || tr.Attempt != 2 || tr.Owner != "worker-b" {
		t.Errorf("Get(%d) = %v, attempt %d, owner %q; want done, 2, %q", a.ID, tr.State, tr.Attempt, tr.Owner, "worker-b")
	}
}

func testHeartbeat(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, shortTTL)
	before := time.Now()
	if err := s.Heartbeat(ctx, exp, tr.Lease(), longTTL); err != nil {
		t.Fatalf("Heartbeat(%+v) = %v, want nil", tr.Lease(), err)
	}
	if g := get(t, s, exp, tr.ID); !g.LeaseUntil.After(before.Add(longTTL / 2)) {
		t.Errorf("Get().LeaseUntil after Heartbeat(%v) = %v, want about %v", longTTL, g.LeaseUntil, before.Add(longTTL))
	}
	time.Sleep(2 * shortTTL)
	_, err := s.Reserve(ctx, exp, "worker-b", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() after a heartbeat extended the only lease")

	wantErr(t, s.Heartbeat(ctx, exp, trials.Lease{ID: tr.ID, Attempt: 2}, longTTL), trials.ErrConflict, "Heartbeat(lease of a later attempt)")
	wantErr(t, s.Heartbeat(ctx, exp, trials.Lease{ID: tr.ID, Attempt: 0}, longTTL), trials.ErrConflict, "Heartbeat(lease of attempt 0)")
	q := queue(t, s, exp, 1)[0]
	wantErr(t, s.Heartbeat(ctx, exp, trials.Lease{ID: q, Attempt: 0}, longTTL), trials.ErrConflict, "Heartbeat(queued trial)")
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(1))
	wantErr(t, s.Heartbeat(ctx, exp, tr.Lease(), longTTL), trials.ErrConflict, "Heartbeat(finished trial)")
}

// ---- Finish ----

func testFinishDone(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	r := trials.Result{Loss: 0.25, LossVariance: 0.01, TrueLoss: 0.3, HasTrueLoss: true, Extras: map[string]any{"epochs": 3, "note": "x"}}
	finish(t, s, exp, tr.Lease(), trials.StateDone, r)
	g := get(t, s, exp, tr.ID)
	want := r.Normalize()
	if g.State != trials.StateDone || g.Result.Status != trials.StatusOK || !g.Result.Equal(want) {
		t.Errorf("Get() after Finish(done, %+v) = %v %+v, want done %+v", r, g.State, g.Result, want)
	}
	if g.Ended.IsZero() || g.Ended.Before(g.Started) {
		t.Errorf("Get() after Finish: Started %v, Ended %v; want Ended set, not before Started", g.Started, g.Ended)
	}
	if g.Seq <= tr.Seq {
		t.Errorf("Get().Seq after Finish = %d, want > %d", g.Seq, tr.Seq)
	}

	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r), nil, "Finish(same lease, same result) again")
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, trials.OK(0.5)), trials.ErrConflict, "Finish(same lease, other loss)")
	r2 := r
	r2.Extras = map[string]any{"epochs": 4, "note": "x"}
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r2), trials.ErrConflict, "Finish(same lease, other extras)")
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateError, r), trials.ErrConflict, "Finish(same lease, same result, state error)")
	if g2 := get(t, s, exp, tr.ID); g2.State != trials.StateDone || !g2.Result.Equal(want) || g2.Seq != g.Seq {
		t.Errorf("Get() after refused Finishes = %v %+v seq %d, want unchanged: done %+v seq %d", g2.State, g2.Result, g2.Seq, want, g.Seq)
	}

	// A Finish with a state other than done or error is refused.
	tr = start(t, s, exp, owner, longTTL)
	for _, st := range []trials.State{trials.StateQueued, trials.StateRunning, trials.StateCanceled} {
		if err := s.Finish(ctx, exp, tr.Lease(), st, trials.OK(1)); err == nil {
			t.Errorf("Finish(state %v) = nil, want an error", st)
		}
	}
	if g := get(t, s, exp, tr.ID); g.State != trials.StateRunning {
		t.Errorf("Get() after refused Finishes = %v, want running", g.State)
	}
}

func testFinishNormalizes(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	for _, r := range []trials.Result{
		{Loss: math.NaN(), Status: trials.StatusOK},
		{Loss: math.NaN()},
		{Loss: math.Inf(1), Status: trials.StatusOK},
		{Loss: math.Inf(-1)},
		trials.Fail("diverged"),
		{Loss: 3, Status: trials.StatusFail},
	} {
		tr := start(t, s, exp, owner, longTTL)
		finish(t, s, exp, tr.Lease(), trials.StateDone, r)
		g := get(t, s, exp, tr.ID)
		if g.State != trials.StateDone || g.Result.Status != trials.StatusFail || !math.IsInf(g.Result.Loss, 1) || g.Result.Err != r.Err {
			t.Errorf("Get() after Finish(done, loss %v status %v err %q) = %v, status %v, loss %v, err %q; want done, fail, +Inf, %q",
				r.Loss, r.Status, r.Err, g.State, g.Result.Status, g.Result.Loss, g.Result.Err, r.Err)
		}
		wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r), nil, "Finish(done, loss %v status %v) again", r.Loss, r.Status)
	}
}

func testFinishError(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	r := trials.Result{Err: "objective: boom", Stack: "goroutine 7 [running]:\nmain.objective()\n"}
	finish(t, s, exp, tr.Lease(), trials.StateError, r)
	g := get(t, s, exp, tr.ID)
	if g.State != trials.StateError || g.Result.Err != r.Err || g.Result.Stack != r.Stack {
		t.Errorf("Get() after Finish(error) = %v, Err %q, Stack %q; want error, %q, %q", g.State, g.Result.Err, g.Result.Stack, r.Err, r.Stack)
	}
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateError, r), nil, "Finish(error, same result) again")
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateError, trials.Result{Err: "other"}), trials.ErrConflict, "Finish(error, other reason)")
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(done) of an error trial")
}

func testFinishStaleLease(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	for _, a := range []int{0, 2} {
		l := trials.Lease{ID: tr.ID, Attempt: a}
		wantErr(t, s.Finish(ctx, exp, l, trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) of a trial at attempt 1", l)
	}
	if g := get(t, s, exp, tr.ID); g.State != trials.StateRunning {
		t.Errorf("Get() after stale Finishes = %v, want running", g.State)
	}
	q := queue(t, s, exp, 1)[0]
	for _, a := range []int{0, 1} {
		l := trials.Lease{ID: q, Attempt: a}
		wantErr(t, s.Finish(ctx, exp, l, trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) of a queued trial", l)
	}
	if g := get(t, s, exp, q); g.State != trials.StateQueued {
		t.Errorf("Get(queued) after refused Finishes = %v, want queued", g.State)
	}
}

func testFinishNotFound(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	start(t, s, exp, owner, longTTL)
	l := trials.Lease{ID: noID, Attempt: 1}
	wantErr(t, s.Finish(ctx, exp, l, trials.StateDone, trials.OK(1)), trials.ErrNotFound, "Finish(unknown trial)")
	wantErr(t, s.Finish(ctx, noExp, trials.Lease{ID: 0, Attempt: 1}, trials.StateDone, trials.OK(1)), trials.ErrNotFound, "Finish(unknown experiment)")
}

func testUnknownTrial(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	start(t, s, exp, owner, longTTL)
	claimed := claim(t, s, exp, 1)[0]
	for _, id := range []trials.ID{noID, claimed} {
		l := trials.Lease{ID: id, Attempt: 1}
		_, err := s.Get(ctx, exp, id)
		wantErr(t, err, trials.ErrNotFound, "Get(trial %d)", id)
		wantErr(t, s.Heartbeat(ctx, exp, l, longTTL), trials.ErrNotFound, "Heartbeat(trial %d)", id)
		wantErr(t, s.Report(ctx, exp, l, trials.Report{Step: 1}), trials.ErrNotFound, "Report(trial %d)", id)
		_, err = s.Attachment(ctx, exp, id, "a")
		wantErr(t, err, trials.ErrNotFound, "Attachment(trial %d)", id)
	}
	wantErr(t, s.Requeue(ctx, exp, []trials.Lease{{ID: noID}}), trials.ErrNotFound, "Requeue(unknown trial)")
	wantErr(t, s.Cancel(ctx, exp, []trials.Lease{{ID: noID}}), trials.ErrNotFound, "Cancel(unknown trial)")
}

// ---- Requeue, Cancel ----

// mixed makes trials 0 queued, 1 running, 2 done, 3 error and returns the
// running one's lease.
func mixed(tb testing.TB, s trials.Store) trials.Lease {
	tb.Helper()
	queue(tb, s, exp, 1)
	r := start(tb, s, exp, owner, longTTL)
	d := start(tb, s, exp, owner, longTTL)
	finish(tb, s, exp, d.Lease(), trials.StateDone, trials.OK(0.5))
	e := start(tb, s, exp, owner, longTTL)
	finish(tb, s, exp, e.Lease(), trials.StateError, trials.Result{Err: "boom"})
	return r.Lease()
}

func testRequeue(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	running := mixed(t, s)
	c := queue(t, s, exp, 1)[0] // 4: canceled
	if err := s.Cancel(ctx, exp, leases(t, s, exp, c)); err != nil {
		t.Fatalf("Cancel(%d) = %v, want nil", c, err)
	}
	done := get(t, s, exp, 2)
	_, seq := changes(t, s, exp, 0)

	if err := s.Requeue(ctx, exp, leases(t, s, exp, 0, 1, 2, 3, 4)); err != nil {
		t.Fatalf("Requeue(0..4) = %v, want nil", err)
	}
	for id, want := range []trials.State{trials.StateQueued, trials.StateQueued, trials.StateDone, trials.StateQueued, trials.StateQueued} {
		if g := get(t, s, exp, trials.ID(id)); g.State != want {
			t.Errorf("Get(%d) after Requeue = %v, want %v", id, g.State, want)
		}
	}
	if g := get(t, s, exp, 2); !g.Result.Equal(done.Result) || g.Seq != done.Seq {
		t.Errorf("Get(2) after Requeue = %+v seq %d, want the done trial unchanged: %+v seq %d", g.Result, g.Seq, done.Result, done.Seq)
	}
	ts, _ := changes(t, s, exp, seq)
	if got := slices.Sorted(slices.Values(idsOf(ts))); !slices.Equal(got, []trials.ID{1, 3, 4}) {
		t.Errorf("Changes(%d) after Requeue = %v, want 1, 3 and 4 (the running, error and canceled trials)", seq, idsOf(ts))
	}

	// The requeued running trial's lease ended.
	wantErr(t, s.Heartbeat(ctx, exp, running, longTTL), trials.ErrConflict, "Heartbeat(%+v) after Requeue", running)
	wantErr(t, s.Finish(ctx, exp, running, trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) after Requeue", running)

	// They are reserved again, lowest ID first, each as a new attempt.
	for _, w := range []trials.Lease{{ID: 0, Attempt: 1}, {ID: 1, Attempt: 2}, {ID: 3, Attempt: 2}, {ID: 4, Attempt: 1}} {
		if tr := reserve(t, s, exp, "worker-b", longTTL); tr.Lease() != w || tr.State != trials.StateRunning {
			t.Errorf("Reserve() after Requeue = %+v %v, want %+v running", tr.Lease(), tr.State, w)
		}
	}
	_, err := s.Reserve(ctx, exp, "worker-b", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() after reserving every requeued trial")
}

func testCancel(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	running := mixed(t, s)
	done, failed := get(t, s, exp, 2), get(t, s, exp, 3)
	_, seq := changes(t, s, exp, 0)

	if err := s.Cancel(ctx, exp, leases(t, s, exp, 0, 1, 2, 3)); err != nil {
		t.Fatalf("Cancel(0..3) = %v, want nil", err)
	}
	for id, want := range []trials.State{trials.StateCanceled, trials.StateCanceled, trials.StateDone, trials.StateError} {
		if g := get(t, s, exp, trials.ID(id)); g.State != want {
			t.Errorf("Get(%d) after Cancel = %v, want %v", id, g.State, want)
		}
	}
	for _, old := range []trials.Trial{done, failed} {
		if g := get(t, s, exp, old.ID); !g.Result.Equal(old.Result) || g.Seq != old.Seq {
			t.Errorf("Get(%d) after Cancel = %+v seq %d, want the finished trial unchanged: %+v seq %d", old.ID, g.Result, g.Seq, old.Result, old.Seq)
		}
	}
	ts, _ := changes(t, s, exp, seq)
	if got := slices.Sorted(slices.Values(idsOf(ts))); !slices.Equal(got, []trials.ID{0, 1}) {
		t.Errorf("Changes(%d) after Cancel = %v, want 0 and 1", seq, idsOf(ts))
	}
	for _, c := range ts {
		if c.State != trials.StateCanceled {
			t.Errorf("Changes(%d) after Cancel: trial %d is %v, want canceled", seq, c.ID, c.State)
		}
	}

	// The canceled running trial's lease is no longer valid.
	wantErr(t, s.Heartbeat(ctx, exp, running, longTTL), trials.ErrConflict, "Heartbeat(%+v) of a canceled trial", running)
	wantErr(t, s.Report(ctx, exp, running, trials.Report{Step: 1}), trials.ErrConflict, "Report(%+v) of a canceled trial", running)
	wantErr(t, s.Finish(ctx, exp, running, trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) of a canceled trial", running)

	// Canceled trials are not reserved until requeued.
	_, err := s.Reserve(ctx, exp, owner, longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with only canceled and finished trials")
	if err := s.Requeue(ctx, exp, leases(t, s, exp, 0)); err != nil {
		t.Fatalf("Requeue(0) = %v, want nil", err)
	}
	if tr := reserve(t, s, exp, owner, longTTL); tr.ID != 0 {
		t.Errorf("Reserve() after Requeue(0) = trial %d, want 0", tr.ID)
	}
}

// ---- max attempts, acting on an attempt ----

func testReserveMaxAttempts(t *testing.T, s trials.Store) {
	ctx := t.Context()
	sp := spec(exp, 0)
	sp.MaxAttempts = 2
	open(t, s, sp)
	a := start(t, s, exp, owner, shortTTL) // attempt 1
	time.Sleep(shortTTL)
	b := reserveEventually(t, s, exp, "worker-b", shortTTL)
	if b.ID != a.ID || b.Attempt != 2 {
		t.Fatalf("Reserve() after the first lease expired = trial %d attempt %d, want trial %d attempt 2", b.ID, b.Attempt, a.ID)
	}
	_, seq := changes(t, s, exp, 0)
	time.Sleep(shortTTL)
	// The second lease expires at the last attempt: Reserve ends the trial
	// in error instead of handing it out a third time.
	deadline := time.Now().Add(expiryWait)
	for {
		_, err := s.Reserve(ctx, exp, "worker-c", longTTL)
		if err == nil {
			t.Fatalf("Reserve() handed out trial %d past its 2 attempts", a.ID)
		}
		wantErr(t, err, trials.ErrNoQueued, "Reserve() with only a trial at its last attempt")
		if g := get(t, s, exp, a.ID); g.State == trials.StateError || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	g := get(t, s, exp, a.ID)
	if g.State != trials.StateError || g.Attempt != 2 {
		t.Fatalf("Get(%d) after its last lease expired = %v attempt %d, want error attempt 2", a.ID, g.State, g.Attempt)
	}
	if want := trials.ExpiredResult(2, 2, "worker-b").Err; g.Result.Err != want {
		t.Errorf("Get(%d).Result.Err = %q, want %q", a.ID, g.Result.Err, want)
	}
	if ts, _ := changes(t, s, exp, seq); len(ts) != 1 || ts[0].ID != a.ID || ts[0].State != trials.StateError {
		t.Errorf("Changes(%d) after the trial ended in error = %v, want trial %d in error", seq, idsOf(ts), a.ID)
	}
	wantErr(t, s.Finish(ctx, exp, b.Lease(), trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) of a trial ended by its expired lease", b.Lease())

	// Requeued by hand, it runs again.
	if gl := g.Lease(); s.Requeue(ctx, exp, []trials.Lease{gl}) != nil {
		t.Fatalf("Requeue(%+v) failed", gl)
	}
	if tr := reserve(t, s, exp, owner, longTTL); tr.ID != a.ID || tr.Attempt != 3 {
		t.Errorf("Reserve() after Requeue = trial %d attempt %d, want %d attempt 3", tr.ID, tr.Attempt, a.ID)
	}
}

// takenOver returns the lease of a trial that owner started and let expire,
// and the lease of worker-b, who took it over.
func takenOver(tb testing.TB, s trials.Store) (old, cur trials.Lease) {
	tb.Helper()
	a := start(tb, s, exp, owner, shortTTL)
	time.Sleep(shortTTL)
	b := reserveEventually(tb, s, exp, "worker-b", longTTL)
	if b.ID != a.ID {
		tb.Fatalf("Reserve() = trial %d, want the expired trial %d", b.ID, a.ID)
	}
	return a.Lease(), b.Lease()
}

func testCancelStaleAttempt(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	old, cur := takenOver(t, s)
	q := queue(t, s, exp, 1)[0]
	ql := leases(t, s, exp, q)[0]
	_, seq := changes(t, s, exp, 0)
	wantErr(t, s.Cancel(ctx, exp, []trials.Lease{ql, old}), trials.ErrConflict, "Cancel(queued trial, attempt taken over)")
	if g := get(t, s, exp, cur.ID); g.State != trials.StateRunning || g.Attempt != cur.Attempt || g.Owner != "worker-b" {
		t.Errorf("Get(%d) after a stale Cancel = %v attempt %d owner %q, want running, %d, worker-b", cur.ID, g.State, g.Attempt, g.Owner, cur.Attempt)
	}
	if g := get(t, s, exp, q); g.State != trials.StateQueued {
		t.Errorf("Get(%d) after a refused Cancel = %v, want queued (all or nothing)", q, g.State)
	}
	if ts, _ := changes(t, s, exp, seq); len(ts) != 0 {
		t.Errorf("Changes(%d) after a refused Cancel = %v, want none", seq, idsOf(ts))
	}
	if err := s.Cancel(ctx, exp, []trials.Lease{ql, cur}); err != nil {
		t.Fatalf("Cancel(current leases) = %v, want nil", err)
	}
	for _, id := range []trials.ID{cur.ID, q} {
		if g := get(t, s, exp, id); g.State != trials.StateCanceled {
			t.Errorf("Get(%d) after Cancel = %v, want canceled", id, g.State)
		}
	}
	wantErr(t, s.Finish(ctx, exp, cur, trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) of a canceled attempt", cur)
}

func testRequeueStaleAttempt(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	old, cur := takenOver(t, s)
	wantErr(t, s.Requeue(ctx, exp, []trials.Lease{old}), trials.ErrConflict, "Requeue(attempt taken over)")
	if g := get(t, s, exp, cur.ID); g.State != trials.StateRunning || g.Attempt != cur.Attempt {
		t.Errorf("Get(%d) after a stale Requeue = %v attempt %d, want running at %d", cur.ID, g.State, g.Attempt, cur.Attempt)
	}
	if err := s.Heartbeat(ctx, exp, cur, longTTL); err != nil {
		t.Errorf("Heartbeat(%+v) after a stale Requeue = %v, want nil", cur, err)
	}
	if err := s.Requeue(ctx, exp, []trials.Lease{cur}); err != nil {
		t.Fatalf("Requeue(%+v) = %v, want nil", cur, err)
	}
	if g := get(t, s, exp, cur.ID); g.State != trials.StateQueued || g.Attempt != cur.Attempt {
		t.Errorf("Get(%d) after Requeue = %v attempt %d, want queued, attempt kept at %d", cur.ID, g.State, g.Attempt, cur.Attempt)
	}
}

// testFinishNonFiniteExtras: every extra a store accepts reads back, a
// metric that was NaN or infinite included (and a key of the name stores
// may use to mark them), and a retry of such a finish is a repeat.
func testFinishNonFiniteExtras(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	r := trials.OK(0.5)
	r.Extras = map[string]any{
		"val_acc":          math.NaN(),
		"curve":            []any{1.0, math.Inf(1), math.Inf(-1)},
		"nested":           map[string]any{"x": math.NaN(), "s": "NaN"},
		"$hyperopt_extras": "a user's own key",
	}
	finish(t, s, exp, tr.Lease(), trials.StateDone, r)
	if err := s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r); err != nil {
		t.Errorf("Finish(same result with non-finite extras) again = %v, want nil (a retry)", err)
	}
	g := get(t, s, exp, tr.ID)
	if !g.Result.Equal(r) {
		t.Errorf("Get(%d).Result.Extras = %#v, want %#v", tr.ID, g.Result.Extras, r.Extras)
	}
	if s, ok := g.Result.Extras["nested"].(map[string]any)["s"].(string); !ok || s != "NaN" {
		t.Errorf("the string extra \"NaN\" read back as %#v, want the string", g.Result.Extras["nested"])
	}
	ts, _ := changes(t, s, exp, 0)
	if len(ts) != 1 || !ts[0].Result.Equal(r) {
		t.Errorf("Changes(0) = %d trials, want 1 with the extras as finished", len(ts))
	}
}

// testFinishBadResult: a result no store could read back is refused with
// ErrResult, and the trial stays running under its lease.
func testFinishBadResult(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for _, c := range []struct {
		name string
		r    trials.Result
	}{
		{"unknown status", trials.Result{Loss: 1, Status: 99}},
		{"extras that contain themselves", trials.Result{Loss: 1, Status: trials.StatusOK, Extras: cyclic}},
		{"extras that are not JSON-able", trials.Result{Loss: 1, Status: trials.StatusOK, Extras: map[string]any{"f": func() {}}}},
	} {
		wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, c.r), trials.ErrResult, "Finish(%s)", c.name)
	}
	if g := get(t, s, exp, tr.ID); g.State != trials.StateRunning {
		t.Errorf("Get(%d) after refused finishes = %v, want running", tr.ID, g.State)
	}
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(1))
}
