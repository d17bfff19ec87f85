package hyperopt_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// BenchmarkSuggest measures one suggestion of each algorithm by history
// size and dimension (uniform hyperparameters on [-5, 5], loss the sum of
// squares), named algorithm first so that rows compare plainly:
//
//	go test -run '^$' -bench 'Suggest/algo=' -benchtime 200x .
//
// Each iteration first records one more finished trial, as a search would,
// and the history is rebuilt off the clock when it passes 1.1 times its
// size. The tpe package's own BenchmarkSuggest adds a conditional space.
func BenchmarkSuggest(b *testing.B) {
	algos := []struct {
		name string
		alg  fmin.Algorithm
	}{
		{"compat", tpe.HyperoptCompat()},
		{"default", tpe.Search{}},
		{"random", random.Search{}},
	}
	for _, a := range algos {
		for _, n := range []int{1000, 10000} {
			for _, dim := range []int{10} {
				b.Run(fmt.Sprintf("algo=%s/trials=%d/dim=%d", a.name, n, dim), func(b *testing.B) {
					d := space.Dict{}
					for i := range dim {
						l := fmt.Sprintf("x%02d", i)
						d[l] = space.Uniform(l, -5, 5)
					}
					s, err := space.New(d)
					if err != nil {
						b.Fatal(err)
					}
					r := rand.New(rand.NewPCG(1, 2))
					trial := func(id int) trials.Trial {
						v := s.Sample(r)
						loss := 0.0
						for _, x := range v {
							loss += x * x
						}
						return trials.Trial{ID: trials.ID(id), State: trials.StateDone, Values: v, Result: trials.OK(loss)}
					}
					build := func() (*trials.History, int) {
						h := trials.NewHistory(s.Len())
						ts := make([]trials.Trial, n)
						for i := range ts {
							ts[i] = trial(i)
						}
						h.Apply(ts, int64(n))
						return h, n
					}
					h, next := build()
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						if next >= n+n/10 {
							b.StopTimer()
							h, next = build()
							b.StartTimer()
						}
						h.Apply([]trials.Trial{trial(next)}, int64(next+1))
						next++
						if _, err := a.alg.Suggest(ctx, s, h, []trials.ID{trials.ID(next)}, 7); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
