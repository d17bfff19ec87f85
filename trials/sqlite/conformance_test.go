package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
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
