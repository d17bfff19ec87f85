package trialstest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hyperopt-go/hyperopt/trials"
)

// ---- benchmarks ----

// Bench runs the store benchmarks against stores made by newStore, one
// fresh store per sub-benchmark:
//
//   - Cycle/trials=N: the per-trial cycle of a search, Claim(1), Propose
//     as running for the proposer, Finish and an incremental Changes, in
//     an experiment that starts with N finished trials;
//   - ReserveFinish: a worker's Reserve and Finish of a queued trial.
func Bench(b *testing.B, newStore func(b *testing.B) trials.Store) {
	b.Run("Cycle", func(b *testing.B) {
		for _, n := range []int{100, 10_000} {
			b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) { benchCycle(b, newStore(b), n) })
		}
	})
	b.Run("ReserveFinish", func(b *testing.B) { benchReserveFinish(b, newStore(b)) })
}

// prefill adds n finished trials to exp.
func prefill(b *testing.B, s trials.Store, exp string, n int) {
	const batch = 500
	for n > 0 {
		k := min(n, batch)
		n -= k
		ids := claim(b, s, exp, k)
		ps := make([]trials.Proposal, k)
		for i, id := range ids {
			ps[i] = trials.Proposal{ID: id, Values: value(id), Owner: owner, LeaseTTL: longTTL}
		}
		propose(b, s, exp, ps...)
		for _, id := range ids {
			finish(b, s, exp, trials.Lease{ID: id, Attempt: 1}, trials.StateDone, trials.OK(float64(id%97)))
		}
	}
}

func benchCycle(b *testing.B, s trials.Store, n int) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	prefill(b, s, exp, n)
	_, since := changes(b, s, exp, 0)
	values := []float64{0.5}
	r := trials.OK(0.5)
	b.ReportAllocs()
	for b.Loop() {
		ids, err := s.Claim(ctx, exp, 1, "")
		if err != nil {
			b.Fatalf("Claim(1) = %v", err)
		}
		id := ids[0]
		if err := s.Propose(ctx, exp, []trials.Proposal{{ID: id, Values: values, Owner: owner, LeaseTTL: longTTL}}); err != nil {
			b.Fatalf("Propose(%d) = %v", id, err)
		}
		if err := s.Finish(ctx, exp, trials.Lease{ID: id, Attempt: 1}, trials.StateDone, r); err != nil {
			b.Fatalf("Finish(%d) = %v", id, err)
		}
		ts, next, err := s.Changes(ctx, exp, since, 0)
		if err != nil || len(ts) != 1 {
			b.Fatalf("Changes(%d) = %d trials, %v; want 1", since, len(ts), err)
		}
		since = next
	}
}

func benchReserveFinish(b *testing.B, s trials.Store) {
	const batch = 1000
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	queue(b, s, exp, batch)
	r := trials.OK(0.5)
	b.ReportAllocs()
	for b.Loop() {
		tr, err := s.Reserve(ctx, exp, owner, longTTL)
		if errors.Is(err, trials.ErrNoQueued) {
			b.StopTimer()
			queue(b, s, exp, batch)
			b.StartTimer()
			tr, err = s.Reserve(ctx, exp, owner, longTTL)
		}
		if err != nil {
			b.Fatalf("Reserve() = %v", err)
		}
		if err := s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r); err != nil {
			b.Fatalf("Finish(%+v) = %v", tr.Lease(), err)
		}
	}
}
