package trialstest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
)

// ---- benchmarks ----

// Bench runs the store benchmarks against stores made by newStore, one
// fresh store per sub-benchmark:
//
//   - Op/Claim, Op/Propose, Op/Reserve, Op/Heartbeat, Op/Report,
//     Op/Finish: one call of each operation (the others it needs are
//     outside the timer);
//   - Op/ChangesSince/trials=10000: Changes after the last of 10,000
//     trials changed, in an experiment of 10,000 trials: its cost must be
//     that of the one change, not of the trials;
//   - Life: the whole life of one trial as a worker sees it (Claim,
//     Propose as queued, Reserve, Finish), reported as trials/s;
//   - LifeBatch8: the same for 8 trials at a time, reserved with ReserveN
//     and finished with FinishN, for a store that is a [trials.Batcher]
//     (skipped otherwise); trials/s;
//   - Cycle/trials=N: the per-trial cycle of a search, Claim(1), Propose
//     as running for the proposer, Finish and an incremental Changes, in
//     an experiment that starts with N finished trials;
//   - ReserveFinish: a worker's Reserve and Finish of a queued trial.
func Bench(b *testing.B, newStore func(b *testing.B) trials.Store) {
	b.Run("Op", func(b *testing.B) {
		b.Run("Claim", func(b *testing.B) { benchClaim(b, newStore(b)) })
		b.Run("Propose", func(b *testing.B) { benchPropose(b, newStore(b)) })
		b.Run("Reserve", func(b *testing.B) { benchReserve(b, newStore(b)) })
		b.Run("Heartbeat", func(b *testing.B) { benchHeartbeat(b, newStore(b)) })
		b.Run("Report", func(b *testing.B) { benchReport(b, newStore(b)) })
		b.Run("Finish", func(b *testing.B) { benchFinish(b, newStore(b)) })
		b.Run("ChangesSince/trials=10000", func(b *testing.B) { benchChangesSince(b, newStore(b), 10_000) })
	})
	b.Run("Life", func(b *testing.B) { benchLife(b, newStore(b)) })
	b.Run("LifeBatch8", func(b *testing.B) { benchLifeBatch(b, newStore(b), 8) })
	b.Run("Cycle", func(b *testing.B) {
		for _, n := range []int{100, 10_000} {
			b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) { benchCycle(b, newStore(b), n) })
		}
	})
	b.Run("ReserveFinish", func(b *testing.B) { benchReserveFinish(b, newStore(b)) })
}

// benchBatch is how many trials the operation benchmarks prepare at a
// time, outside the timer.
const benchBatch = 256

func benchClaim(b *testing.B, s trials.Store) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Claim(ctx, exp, 1, ""); err != nil {
			b.Fatalf("Claim(1) = %v", err)
		}
	}
}

func benchPropose(b *testing.B, s trials.Store) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	var ids []trials.ID
	values := []float64{0.5}
	b.ReportAllocs()
	for b.Loop() {
		if len(ids) == 0 {
			b.StopTimer()
			ids = claim(b, s, exp, benchBatch)
			b.StartTimer()
		}
		if err := s.Propose(ctx, exp, []trials.Proposal{{ID: ids[0], Values: values}}); err != nil {
			b.Fatalf("Propose(%d) = %v", ids[0], err)
		}
		ids = ids[1:]
	}
}

func benchReserve(b *testing.B, s trials.Store) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	left := 0
	b.ReportAllocs()
	for b.Loop() {
		if left == 0 {
			b.StopTimer()
			queue(b, s, exp, benchBatch)
			left = benchBatch
			b.StartTimer()
		}
		if _, err := s.Reserve(ctx, exp, owner, longTTL); err != nil {
			b.Fatalf("Reserve() = %v", err)
		}
		left--
	}
}

func benchHeartbeat(b *testing.B, s trials.Store) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	l := start(b, s, exp, owner, longTTL).Lease()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Heartbeat(ctx, exp, l, longTTL); err != nil {
			b.Fatalf("Heartbeat(%+v) = %v", l, err)
		}
	}
}

func benchReport(b *testing.B, s trials.Store) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	l := start(b, s, exp, owner, longTTL).Lease()
	step := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		step++
		if err := s.Report(ctx, exp, l, trials.Report{Step: step, Value: 1 / float64(step)}); err != nil {
			b.Fatalf("Report(%+v, step %d) = %v", l, step, err)
		}
	}
}

func benchFinish(b *testing.B, s trials.Store) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	var ls []trials.Lease
	r := trials.OK(0.5)
	b.ReportAllocs()
	for b.Loop() {
		if len(ls) == 0 {
			b.StopTimer()
			ids := claim(b, s, exp, benchBatch)
			ps := make([]trials.Proposal, len(ids))
			for i, id := range ids {
				ps[i] = trials.Proposal{ID: id, Values: value(id), Owner: owner, LeaseTTL: longTTL}
				ls = append(ls, trials.Lease{ID: id, Attempt: 1})
			}
			propose(b, s, exp, ps...)
			b.StartTimer()
		}
		if err := s.Finish(ctx, exp, ls[0], trials.StateDone, r); err != nil {
			b.Fatalf("Finish(%+v) = %v", ls[0], err)
		}
		ls = ls[1:]
	}
}

// benchChangesSince reads the one change after since in an experiment of n
// trials: Requeue and Cancel one trial in turn, outside the timer.
func benchChangesSince(b *testing.B, s trials.Store, n int) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	const batch = 1000
	for left := n; left > 0; left -= batch {
		queue(b, s, exp, min(batch, left))
	}
	_, since := changes(b, s, exp, 0)
	l := trials.Lease{ID: trials.ID(n / 2)}
	canceled := false
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		var err error
		if canceled {
			err = s.Requeue(ctx, exp, []trials.Lease{l})
		} else {
			err = s.Cancel(ctx, exp, []trials.Lease{l})
		}
		if err != nil {
			b.Fatal(err)
		}
		canceled = !canceled
		b.StartTimer()
		ts, next, err := s.Changes(ctx, exp, since, 0)
		if err != nil || len(ts) != 1 {
			b.Fatalf("Changes(%d) = %d trials, %v; want 1", since, len(ts), err)
		}
		since = next
	}
}

// benchLife runs whole trial lives as a worker sees them: Claim, Propose
// as queued, Reserve, Finish. It reports trials/s.
func benchLife(b *testing.B, s trials.Store) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	values := []float64{0.5}
	r := trials.OK(0.5)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		ids, err := s.Claim(ctx, exp, 1, "")
		if err != nil {
			b.Fatalf("Claim(1) = %v", err)
		}
		if err := s.Propose(ctx, exp, []trials.Proposal{{ID: ids[0], Values: values}}); err != nil {
			b.Fatalf("Propose(%d) = %v", ids[0], err)
		}
		tr, err := s.Reserve(ctx, exp, owner, longTTL)
		if err != nil {
			b.Fatalf("Reserve() = %v", err)
		}
		if err := s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r); err != nil {
			b.Fatalf("Finish(%+v) = %v", tr.Lease(), err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "trials/s")
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

// benchLifeBatch runs trial lives k at a time: Claim(k), Propose of k as
// queued, ReserveN(k), FinishN of k. It reports trials/s.
func benchLifeBatch(b *testing.B, s trials.Store, k int) {
	bs, ok := s.(trials.Batcher)
	if !ok {
		b.Skip("the store does not implement trials.Batcher")
	}
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	values := []float64{0.5}
	r := trials.OK(0.5)
	ps := make([]trials.Proposal, k)
	fs := make([]trials.Finishing, k)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		ids, err := s.Claim(ctx, exp, k, "")
		if err != nil {
			b.Fatalf("Claim(%d) = %v", k, err)
		}
		for i, id := range ids {
			ps[i] = trials.Proposal{ID: id, Values: values}
		}
		if err := s.Propose(ctx, exp, ps); err != nil {
			b.Fatalf("Propose() = %v", err)
		}
		ts, err := bs.ReserveN(ctx, exp, owner, longTTL, k)
		if err != nil || len(ts) != k {
			b.Fatalf("ReserveN(%d) = %d trials, %v", k, len(ts), err)
		}
		for i, t := range ts {
			fs[i] = trials.Finishing{Lease: t.Lease(), State: trials.StateDone, Result: r}
		}
		if _, err := bs.FinishN(ctx, exp, fs); err != nil {
			b.Fatalf("FinishN() = %v", err)
		}
	}
	b.ReportMetric(float64(b.N*k)/time.Since(start).Seconds(), "trials/s")
}
