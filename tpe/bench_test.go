package tpe_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// uniformSpace has dim uniform hyperparameters on [-5, 5].
func uniformSpace(tb testing.TB, dim int) *space.Space {
	d := space.Dict{}
	for i := range dim {
		l := fmt.Sprintf("x%02d", i)
		d[l] = space.Uniform(l, -5, 5)
	}
	s, err := space.New(d)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// benchConditional is a conditional space of 10 hyperparameters of mixed
// kinds.
func benchConditional(tb testing.TB) *space.Space {
	s, err := space.New(space.Dict{
		"lr":    space.LogUniform("lr", 1e-5, 1),
		"batch": space.QLogUniformInt("batch", 16, 512, 16),
		"model": space.Choice("model",
			space.Dict{"C": space.LogUniform("C", 1e-3, 1e3), "kernel": space.Choice("kernel", "linear", "rbf")},
			space.Dict{"depth": space.QUniformInt("depth", 1, 20, 1), "trees": space.QUniform("trees", 10, 500, 10)},
			space.Dict{"dropout": space.Uniform("dropout", 0, 0.5), "units": space.RandIntRange("units", 16, 1024)},
		),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// sphere is the loss of a point: the sum of squares of its active values'
// offsets from 1, on a log scale for the log kinds.
func sphere(s *space.Space, v space.Values) float64 {
	sum := 0.0
	for i, x := range v {
		if math.IsNaN(x) {
			continue
		}
		if s.Dist(i).Kind.Log() {
			x = math.Log(x)
		}
		sum += (x - 1) * (x - 1)
	}
	return sum
}

// history returns a history of n finished trials drawn from the prior.
func history(s *space.Space, n int, seed uint64) (*trials.History, int) {
	h := trials.NewHistory(s.Len())
	r := rand.New(rand.NewPCG(seed, 0))
	ts := make([]trials.Trial, n)
	for i := range ts {
		v := s.Sample(r)
		ts[i] = trials.Trial{ID: trials.ID(i), State: trials.StateDone, Values: v, Result: trials.OK(sphere(s, v))}
	}
	h.Apply(ts, int64(n))
	return h, n
}

// BenchmarkSuggest measures one TPE suggestion, the default's and
// HyperoptCompat's, by history size and dimension. Each iteration first
// records one more finished trial, so that whatever TPE derives from the
// history is rebuilt as in a real search; the history is rebuilt (off the
// clock) whenever it passes 1.1 times its nominal size, so a row's size
// holds whatever -benchtime is.
func BenchmarkSuggest(b *testing.B) {
	type cfg struct {
		name string
		s    func(testing.TB) *space.Space
	}
	var spaces []cfg
	for _, dim := range []int{1, 10, 50} {
		spaces = append(spaces, cfg{fmt.Sprintf("dim=%d", dim), func(tb testing.TB) *space.Space { return uniformSpace(tb, dim) }})
	}
	spaces = append(spaces, cfg{"conditional", benchConditional})
	algs := []struct {
		name string
		alg  tpe.Search
	}{{"default", tpe.Search{}}, {"compat", tpe.HyperoptCompat()}}
	for _, a := range algs {
		for _, n := range []int{100, 1000, 10000} {
			for _, sc := range spaces {
				b.Run(fmt.Sprintf("algo=%s/trials=%d/%s", a.name, n, sc.name), func(b *testing.B) {
					s := sc.s(b)
					h, next := history(s, n, 1)
					r := rand.New(rand.NewPCG(2, 0))
					alg := a.alg
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						if next >= n+n/10+1 {
							// Keep the history between n and 1.1n trials.
							b.StopTimer()
							h, next = history(s, n, uint64(next))
							b.StartTimer()
						}
						v := s.Sample(r)
						h.Apply([]trials.Trial{{ID: trials.ID(next), State: trials.StateDone, Values: v, Result: trials.OK(sphere(s, v))}}, int64(next+1))
						next++
						if _, err := alg.Suggest(ctx, s, h, []trials.ID{trials.ID(next)}, 7); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
