package fmin_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// BenchmarkMinimize measures the driver's overhead per trial: random search
// on a flat 4-hyperparameter space with an objective that does nothing, so
// that what is timed is the proposal, the store's bookkeeping, the
// goroutines and the Trials view. Each iteration is one Minimize of the
// given number of trials on a new in-memory store; ns/trial and
// allocs/trial divide by that number, and should not grow with it.
func BenchmarkMinimize(b *testing.B) {
	s, err := space.New(space.Dict{
		"lr":    space.LogUniform("lr", 1e-5, 1e-1),
		"x":     space.Uniform("x", -5, 5),
		"units": space.QUniformInt("units", 16, 512, 16),
		"act":   space.Choice("act", "relu", "tanh", "gelu"),
	})
	if err != nil {
		b.Fatal(err)
	}
	objective := func(context.Context, *fmin.Trial) (trials.Result, error) { return trials.OK(0), nil }
	for _, n := range []int{100, 10000} {
		for _, par := range []int{1, 4} {
			b.Run(fmt.Sprintf("trials=%d/par=%d", n, par), func(b *testing.B) {
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				iters := 0
				for b.Loop() {
					res, err := fmin.Minimize(context.Background(), objective, s, &fmin.Options{
						Algorithm:   random.Search{},
						MaxEvals:    n,
						Seed:        uint64(iters + 1),
						Parallelism: par,
						Progress:    fmin.ProgressOff,
					})
					if err != nil {
						b.Fatal(err)
					}
					if res.Evaluated != n {
						b.Fatalf("evaluated %d trials, want %d", res.Evaluated, n)
					}
					iters++
				}
				runtime.ReadMemStats(&after)
				total := float64(iters * n)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/trial")
				b.ReportMetric(math.Round(float64(after.Mallocs-before.Mallocs)/total*10)/10, "allocs/trial")
			})
		}
	}
}
