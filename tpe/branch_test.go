package tpe_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// When the search tries a branch that has none of the best trials overall,
// it proposes that branch's hyperparameters near the branch's own best
// trial (its own good group), for a joint group (b1, b2) and for a lone
// hyperparameter (c) alike, instead of drawing them from the prior, which
// cannot refine a branch that another leads. (HyperOpt's estimator, which
// splits the trials only overall, puts the branch's trials all in the bad
// group and so proposes as far from the branch's best as it can: median
// distances 10.8 and 8.7 here.)
func TestBranchOwnGoodGroup(t *testing.T) {
	s, err := space.New(space.Choice("model",
		space.Dict{"a": space.Uniform("a", -5, 5)},
		space.Dict{"b1": space.Uniform("b1", -5, 5), "b2": space.Uniform("b2", -5, 5)},
		space.Dict{"c": space.Uniform("c", -5, 5)},
	))
	if err != nil {
		t.Fatal(err)
	}
	at := func(m map[string]float64) space.Values {
		v, err := s.FromLabeled(m)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	r := rand.New(rand.NewPCG(1, 2))
	var vals []space.Values
	var losses []float64
	// The oldest trials: four in branches 1 and 2 each, every one worse than
	// all of branch 0's; each branch's best is at b = (3, -3) and c = -4.
	for i := range 4 {
		b1, b2, c := 3.0, -3.0, -4.0
		if i > 0 {
			b1, b2, c = 10*r.Float64()-5, 10*r.Float64()-5, 10*r.Float64()-5
		}
		vals = append(vals, at(map[string]float64{"model": 1, "b1": b1, "b2": b2}), at(map[string]float64{"model": 2, "c": c}))
		losses = append(losses, 10+float64(i), 10+float64(i))
	}
	for i := range 100 {
		vals = append(vals, at(map[string]float64{"model": 0, "a": 10*r.Float64() - 5}))
		losses = append(losses, 5*float64(i)/100)
	}
	h := historyOf(s, vals, losses)
	var distB, distC []float64
	for seed := range uint64(400) {
		out, err := tpe.Search{}.Suggest(context.Background(), s, h, []trials.ID{trials.ID(len(vals))}, seed)
		if err != nil {
			t.Fatal(err)
		}
		m := s.Labeled(out[0])
		switch m["model"] {
		case 1:
			distB = append(distB, math.Hypot(m["b1"]-3, m["b2"]+3))
		case 2:
			distC = append(distC, math.Abs(m["c"]+4))
		}
	}
	// From the prior the medians would be about 4.6 and 4.
	for _, c := range []struct {
		name string
		d    []float64
		max  float64
	}{{"(b1, b2) from (3, -3)", distB, 2.5}, {"c from -4", distC, 2}} {
		if len(c.d) < 20 {
			t.Fatalf("%s: the branch was tried %d times in 400 proposals, want at least 20", c.name, len(c.d))
		}
		slices.Sort(c.d)
		med := c.d[len(c.d)/2]
		t.Logf("%s: median distance %.2f over %d proposals", c.name, med, len(c.d))
		if !(med < c.max) {
			t.Errorf("%s: median distance %.2f over %d proposals, want under %v", c.name, med, len(c.d), c.max)
		}
	}
}

// The split by branch never makes failed trials, or trials in flight, a
// branch's good group: a branch whose only trials failed, or whose only
// trial is still running, is proposed away from them (as with the overall
// split), and within one call the points a branch gets are not drawn
// toward its first one by a lie taken from another branch's losses.
func TestBranchFailuresAndFlight(t *testing.T) {
	s, err := space.New(space.Choice("m",
		space.Dict{"a": space.Uniform("a", -5, 5)},
		space.Dict{"b": space.Uniform("b", -5, 5)},
	))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	build := func(branch1 []trials.Trial, n int) (*trials.History, trials.ID) {
		ts := slices.Clone(branch1)
		for i := range n {
			v, err := s.FromLabeled(map[string]float64{"m": 0, "a": 10*r.Float64() - 5})
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, trials.Trial{ID: trials.ID(len(ts)), State: trials.StateDone, Values: v, Result: trials.OK(float64(i))})
		}
		h := trials.NewHistory(s.Len())
		h.Apply(ts, 1)
		return h, trials.ID(len(ts))
	}
	inB := func(id int, b float64, st trials.State, res trials.Result) trials.Trial {
		v, err := s.FromLabeled(map[string]float64{"m": 1, "b": b})
		if err != nil {
			t.Fatal(err)
		}
		return trials.Trial{ID: trials.ID(id), State: st, Values: v, Result: res}
	}
	// median returns the median of dist(b, first b of the call) over the
	// proposals in branch 1 (all of them, or those after the call's first).
	median := func(alg tpe.Search, h *trials.History, ids []trials.ID, dist func(b, first float64) float64, afterFirst bool) float64 {
		var d []float64
		for seed := range uint64(400) {
			out, err := alg.Suggest(ctx, s, h, ids, seed)
			if err != nil {
				t.Fatal(err)
			}
			first := math.NaN()
			for _, v := range out {
				m := s.Labeled(v)
				if m["m"] != 1 {
					continue
				}
				if math.IsNaN(first) {
					first = m["b"]
					if afterFirst {
						continue
					}
				}
				d = append(d, dist(m["b"], first))
			}
		}
		if len(d) < 20 {
			t.Fatalf("%+v: branch 1 got %d proposals, want at least 20", alg, len(d))
		}
		slices.Sort(d)
		return d[len(d)/2]
	}
	one := func(id trials.ID) []trials.ID { return []trials.ID{id} }

	h, id := build([]trials.Trial{inB(0, 4, trials.StateDone, trials.Fail("diverged"))}, 30)
	from4 := func(b, _ float64) float64 { return math.Abs(b - 4) }
	for _, alg := range []tpe.Search{{}, {OverallSplit: true}} {
		if m := median(alg, h, one(id), from4, false); !(m > 3) {
			t.Errorf("%+v: failed branch: median distance to the failed point %.2f, want over 3", alg, m)
		}
	}

	h, id = build([]trials.Trial{inB(0, 2.5, trials.StateRunning, trials.Result{})}, 30)
	from := func(b, _ float64) float64 { return math.Abs(b - 2.5) }
	for _, lie := range []tpe.Lie{tpe.LieInf, tpe.LieMean} {
		if m := median(tpe.Search{Liar: lie}, h, one(id), from, false); !(m > 3) {
			t.Errorf("%v: branch in flight: median distance to the running point %.2f, want over 3", lie, m)
		}
	}

	h, id = build(nil, 40)
	ids := []trials.ID{id, id + 1, id + 2, id + 3, id + 4, id + 5, id + 6, id + 7}
	spread := func(b, first float64) float64 { return math.Abs(b - first) }
	for _, lie := range []tpe.Lie{tpe.LieInf, tpe.LieMean} {
		if m := median(tpe.Search{Liar: lie}, h, ids, spread, true); !(m > 3.5) {
			t.Errorf("%v: a batch's later points in a new branch lie %.2f from its first (median), want over 3.5", lie, m)
		}
	}
}
