package trialstest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// ---- Changes ----

func testChangesOrder(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	if ts, next := changes(t, s, exp, 0); len(ts) != 0 || next != 0 {
		t.Errorf("Changes(0) of a new experiment = %v, %d; want none, 0", idsOf(ts), next)
	}
	queue(t, s, exp, 3)                                           // 0, 1, 2 queued
	tr := reserve(t, s, exp, owner, longTTL)                      // 0 running
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(1)) // 0 done
	if err := s.Cancel(ctx, exp, leases(t, s, exp, 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ctx, exp, leases(t, s, exp, 2)); err != nil { // 2 queued again
		t.Fatal(err)
	}

	ts, next := changes(t, s, exp, 0)
	if !slices.Equal(idsOf(ts), []trials.ID{1, 0, 2}) {
		t.Errorf("Changes(0) = %v, want [1 0 2] (each trial once, in the order of its last change)", idsOf(ts))
	}
	if seqs := seqsOf(ts); !increasing(seqs) {
		t.Errorf("Changes(0) seqs = %v, want strictly increasing", seqs)
	}
	if len(ts) > 0 && next != ts[len(ts)-1].Seq {
		t.Errorf("Changes(0) next = %d, want the last change's seq %d", next, ts[len(ts)-1].Seq)
	}
	for _, c := range ts {
		if g := get(t, s, exp, c.ID); g.Seq != c.Seq || g.State != c.State {
			t.Errorf("Changes(0): trial %d %v seq %d, Get: %v seq %d; want the same", c.ID, c.State, c.Seq, g.State, g.Seq)
		}
	}
	if e := experiment(t, s, exp); e.Seq != next {
		t.Errorf("Experiments().Seq = %d, want %d (the seq Changes returned)", e.Seq, next)
	}

	if again, n := changes(t, s, exp, next); len(again) != 0 || n != next {
		t.Errorf("Changes(%d) with nothing new = %v, %d; want none, %d", next, idsOf(again), n, next)
	}
	if len(ts) == 3 {
		mid := ts[0].Seq
		if got, n := changes(t, s, exp, mid); !slices.Equal(idsOf(got), []trials.ID{0, 2}) || n != next {
			t.Errorf("Changes(%d) = %v, %d; want [0 2], %d", mid, idsOf(got), n, next)
		}
	}

	if err := s.Cancel(ctx, exp, leases(t, s, exp, 1)); err != nil {
		t.Fatal(err)
	}
	got, n := changes(t, s, exp, next)
	if len(got) != 1 || got[0].ID != 1 || got[0].State != trials.StateCanceled || got[0].Seq <= next || n != got[0].Seq {
		t.Errorf("Changes(%d) after Cancel(1) = %v (seqs %v), %d; want trial 1 canceled with seq > %d", next, idsOf(got), seqsOf(got), n, next)
	}
}

func testChangesConcurrent(t *testing.T, s trials.Store) {
	const perWriter = 15
	ctx := t.Context()
	open(t, s, spec(exp, 0))

	var (
		writers sync.WaitGroup
		begin   = make(chan struct{}) // closed once every goroutine is started
		stop    = make(chan struct{})
		polled  = make(chan map[trials.ID]trials.Trial)
		last    int64
	)
	// The poller reads the changes incrementally, as Trials.Refresh does.
	go func() {
		<-begin
		view := map[trials.ID]trials.Trial{}
		var since int64
		failed := false
		poll := func() {
			if failed {
				return
			}
			ts, next, err := s.Changes(ctx, exp, since, 0)
			if err != nil {
				t.Errorf("Changes(%d) = %v, want nil", since, err)
				failed = true
				return
			}
			seen := map[trials.ID]bool{}
			prev := since
			for _, c := range ts {
				if c.Seq <= prev || c.Seq > next || seen[c.ID] {
					t.Errorf("Changes(%d) = trials %v with seqs %v, next %d; want each trial once, seqs increasing in (%d, %d]", since, idsOf(ts), seqsOf(ts), next, since, next)
					failed = true
					return
				}
				prev = c.Seq
				seen[c.ID] = true
				view[c.ID] = c
			}
			if next < since {
				t.Errorf("Changes(%d) next = %d, want >= %d", since, next, since)
			}
			since = next
		}
		for {
			select {
			case <-stop:
				poll() // the writers are done: read the rest
				last = since
				polled <- view
				return
			default:
				poll()
				runtime.Gosched()
			}
		}
	}()

	for g := range workers {
		writers.Go(func() {
			<-begin
			w := fmt.Sprintf("worker-%d", g)
			for i := range perWriter {
				ids, err := s.Claim(ctx, exp, 1, "")
				if err != nil {
					t.Errorf("Claim(1) = %v, want nil", err)
					return
				}
				id := ids[0]
				runtime.Gosched() // let the poller in between the writes
				switch (g + i) % 3 {
				case 0: // run by its proposer
					if err := s.Propose(ctx, exp, []trials.Proposal{{ID: id, Values: value(id), Owner: w, LeaseTTL: longTTL}}); err != nil {
						t.Errorf("Propose(%d, owner %q) = %v, want nil", id, w, err)
						continue
					}
					runtime.Gosched()
					l := trials.Lease{ID: id, Attempt: 1}
					if err := s.Report(ctx, exp, l, trials.Report{Step: 1, Value: float64(id)}); err != nil {
						t.Errorf("Report(%+v) = %v, want nil", l, err)
					}
					runtime.Gosched()
					if err := s.Finish(ctx, exp, l, trials.StateDone, trials.OK(float64(id))); err != nil {
						t.Errorf("Finish(%+v) = %v, want nil", l, err)
					}
				default: // queued, then reserved by any writer
					if err := s.Propose(ctx, exp, []trials.Proposal{{ID: id, Values: value(id)}}); err != nil {
						t.Errorf("Propose(%d) = %v, want nil", id, err)
						continue
					}
					runtime.Gosched()
					tr, err := s.Reserve(ctx, exp, w, longTTL)
					if errors.Is(err, trials.ErrNoQueued) {
						continue
					}
					if err != nil {
						t.Errorf("Reserve(%q) = %v, want nil", w, err)
						continue
					}
					runtime.Gosched()
					state, r := trials.StateDone, trials.OK(float64(tr.ID))
					if i%2 == 1 {
						state, r = trials.StateError, trials.Result{Err: w}
					}
					if err := s.Finish(ctx, exp, tr.Lease(), state, r); err != nil {
						t.Errorf("Finish(%+v) = %v, want nil", tr.Lease(), err)
					}
				}
			}
		})
	}
	close(begin)
	writers.Wait()
	close(stop)
	view := <-polled

	all, next := changes(t, s, exp, 0)
	if last != next {
		t.Errorf("the poller ended at seq %d, Changes(0) at %d", last, next)
	}
	if len(view) != len(all) || len(all) != workers*perWriter {
		t.Errorf("the poller saw %d trials, Changes(0) lists %d, want %d", len(view), len(all), workers*perWriter)
	}
	for _, want := range all {
		got, ok := view[want.ID]
		switch {
		case !ok:
			t.Errorf("the poller never saw trial %d", want.ID)
		case got.Seq != want.Seq || got.State != want.State || got.Attempt != want.Attempt || got.Owner != want.Owner ||
			!got.Result.Equal(want.Result) || !space.Values.Equal(got.Values, want.Values) || !slices.Equal(got.Reports, want.Reports):
			t.Errorf("the poller's trial %d = %v attempt %d owner %q seq %d %+v, Changes(0): %v attempt %d owner %q seq %d %+v; want the same",
				want.ID, got.State, got.Attempt, got.Owner, got.Seq, got.Result, want.State, want.Attempt, want.Owner, want.Seq, want.Result)
		}
	}
}

func testChangesPaging(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	queue(t, s, exp, 10)
	seen := map[trials.ID]int64{}
	since, pages := int64(0), 0
	for {
		ts, next, err := s.Changes(ctx, exp, since, 3)
		if err != nil {
			t.Fatalf("Changes(%d, 3) = %v", since, err)
		}
		if len(ts) > 3 || !increasing(seqsOf(ts)) || (len(ts) > 0 && ts[0].Seq <= since) {
			t.Fatalf("Changes(%d, 3) = %v (seqs %v), want at most 3 with increasing seqs > %d", since, idsOf(ts), seqsOf(ts), since)
		}
		if len(ts) == 3 && next != ts[2].Seq {
			t.Fatalf("Changes(%d, 3) next = %d, want the last trial's seq %d", since, next, ts[2].Seq)
		}
		for _, c := range ts {
			seen[c.ID] = c.Seq
		}
		since = next
		pages++
		if pages == 1 {
			// A change between pages: trial 0, already read, comes again.
			if err := s.Cancel(ctx, exp, leases(t, s, exp, 0)); err != nil {
				t.Fatal(err)
			}
		}
		if len(ts) < 3 || pages > 20 {
			break
		}
	}
	if len(seen) != 10 {
		t.Errorf("paging Changes by 3 saw %d trials, want 10", len(seen))
	}
	if g := get(t, s, exp, 0); seen[0] != g.Seq || g.State != trials.StateCanceled {
		t.Errorf("paging saw trial 0 last at seq %d, Get: %v seq %d; want the cancel's seq", seen[0], g.State, g.Seq)
	}
	if e := experiment(t, s, exp); since != e.Seq {
		t.Errorf("paging ended at seq %d, want the experiment's %d", since, e.Seq)
	}
}

func testWait(t *testing.T, s trials.Store) {
	w, ok := s.(trials.Waiter)
	if !ok {
		t.Skip("the store does not implement trials.Waiter")
	}
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	queue(t, s, exp, 1)
	_, seq := changes(t, s, exp, 0)
	if got, err := w.Wait(ctx, exp, seq-1); err != nil || got < seq {
		t.Errorf("Wait(%d) with seq %d = %d, %v; want %d at once", seq-1, seq, got, err, seq)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := w.Wait(short, exp, seq)
	cancel()
	wantErr(t, err, context.DeadlineExceeded, "Wait(%d) with nothing changing", seq)
	_, err = w.Wait(ctx, noExp, 0)
	wantErr(t, err, trials.ErrNotFound, "Wait(unknown experiment)")

	// A waiter is woken by a change; a store may wake it early, so it
	// loops as the contract says callers do.
	type result struct {
		seq int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for {
			got, err := w.Wait(wctx, exp, seq)
			if err != nil || got > seq {
				done <- result{got, err}
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	queue(t, s, exp, 1)
	r := <-done
	if r.err != nil || r.seq <= seq {
		t.Errorf("Wait(%d) across a Propose = %d, %v; want a seq > %d", seq, r.seq, r.err, seq)
	}
}

func testWaitClose(t *testing.T, s trials.Store) {
	w, ok := s.(trials.Waiter)
	if !ok {
		t.Skip("the store does not implement trials.Waiter")
	}
	open(t, s, spec(exp, 0))
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for {
			if _, err := w.Wait(ctx, exp, 0); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	select {
	case err := <-done:
		wantErr(t, err, trials.ErrClosed, "Wait() across Close")
	case <-time.After(5 * time.Second):
		t.Fatal("Wait() still blocked 5s after Close")
	}
}
