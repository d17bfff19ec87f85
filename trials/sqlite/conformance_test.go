package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/sqlite"
	"github.com/hyperopt-go/hyperopt/trials/trialstest"
)

// newStore opens a store in a new file of a temporary directory.
func newStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "trials.db"), nil)
	if err != nil {
		tb.Fatalf("Open() = %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	trialstest.Run(t, func(t *testing.T) trials.Store { return newStore(t) })
}

func BenchmarkStore(b *testing.B) {
	trialstest.Bench(b, func(b *testing.B) trials.Store { return newStore(b) })
}

// BenchmarkWorkers measures the throughput of workers that each have their
// own Store on one file (so that they contend for its write lock as
// processes do): each reserves a queued trial and finishes it.
func BenchmarkWorkers(b *testing.B) {
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			ctx := b.Context()
			path := filepath.Join(b.TempDir(), "trials.db")
			stores := make([]*sqlite.Store, n)
			for i := range stores {
				s, err := sqlite.Open(ctx, path, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				stores[i] = s
			}
			s := stores[0]
			if _, err := s.Open(ctx, trials.ExperimentSpec{Key: "e", Fingerprint: "fp", Seed: 1}); err != nil {
				b.Fatal(err)
			}
			// Queue b.N trials.
			for left := b.N; left > 0; {
				ids, err := s.Claim(ctx, "e", min(left, 500), "")
				if err != nil {
					b.Fatal(err)
				}
				ps := make([]trials.Proposal, len(ids))
				for i, id := range ids {
					ps[i] = trials.Proposal{ID: id, Values: []float64{0.5}}
				}
				if err := s.Propose(ctx, "e", ps); err != nil {
					b.Fatal(err)
				}
				left -= len(ids)
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for i, s := range stores {
				wg.Go(func() {
					owner := fmt.Sprint("w", i)
					for {
						t, err := s.Reserve(ctx, "e", owner, time.Minute)
						if errors.Is(err, trials.ErrNoQueued) {
							return
						}
						if err != nil {
							b.Error(err)
							return
						}
						if err := s.Finish(ctx, "e", t.Lease(), trials.StateDone, trials.OK(0.5)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "trials/s")
		})
	}
}

// BenchmarkIdleReservers measures the life of a trial (Claim, Propose,
// Reserve, Finish) by one Store while 7 others on the same file, idle
// workers, call Reserve in a loop and find nothing to take: what their
// looking costs the one that works.
func BenchmarkIdleReservers(b *testing.B) {
	ctx := b.Context()
	path := filepath.Join(b.TempDir(), "trials.db")
	open := func() *sqlite.Store {
		s, err := sqlite.Open(ctx, path, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	s := open()
	if _, err := s.Open(ctx, trials.ExperimentSpec{Key: "e", Fingerprint: "fp", Seed: 1}); err != nil {
		b.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	defer func() { stop.Store(true); wg.Wait() }()
	var idle atomic.Int64
	for i := range 7 {
		o := open()
		wg.Go(func() {
			for !stop.Load() {
				_, err := o.Reserve(ctx, "e", fmt.Sprint("idle", i), time.Minute)
				if err == nil {
					b.Error("an idle worker took a trial")
					return
				}
				if !errors.Is(err, trials.ErrNoQueued) {
					b.Error(err)
					return
				}
				idle.Add(1)
			}
		})
	}
	b.ResetTimer()
	for b.Loop() {
		ids, err := s.Claim(ctx, "e", 1, "")
		if err != nil {
			b.Fatal(err)
		}
		// Proposed as running for its proposer: the idle ones never see it queued.
		if err := s.Propose(ctx, "e", []trials.Proposal{{ID: ids[0], Values: []float64{0.5}, Owner: "w", LeaseTTL: time.Minute}}); err != nil {
			b.Fatal(err)
		}
		if err := s.Finish(ctx, "e", trials.Lease{ID: ids[0], Attempt: 1}, trials.StateDone, trials.OK(0.5)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "trials/s")
	b.ReportMetric(float64(idle.Load())/b.Elapsed().Seconds(), "idle-reserves/s")
}
