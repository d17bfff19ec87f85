package tpe_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

func reviewHistory(s *space.Space, vals []space.Values, losses []float64) *trials.History {
	h := trials.NewHistory(s.Len())
	ts := make([]trials.Trial, len(vals))
	for i := range vals {
		ts[i] = trials.Trial{ID: trials.ID(i), State: trials.StateDone, Values: vals[i], Result: trials.OK(losses[i])}
	}
	h.Apply(ts, int64(len(ts)))
	return h
}

func TestReviewHugeRandIntPanics(t *testing.T) {
	s, err := space.New(space.RandIntRange("n", 0, 1<<50))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	var vals []space.Values
	var losses []float64
	for i := 0; i < 30; i++ {
		vals = append(vals, s.Sample(r))
		losses = append(losses, float64(i))
	}
	h := reviewHistory(s, vals, losses)
	defer func() {
		if e := recover(); e != nil {
			t.Errorf("Suggest panics on RandIntRange(0, 2^50) accepted by New: %v", e)
		}
	}()
	out, err := tpe.Search{}.Suggest(context.Background(), s, h, []trials.ID{30}, 1)
	if err != nil || len(out) != 1 || s.Validate(out[0]) != nil {
		t.Errorf("Suggest = %v, %v", out, err)
	}
}

func TestReviewNoDuplicatesNegativeZero(t *testing.T) {
	s, err := space.New(space.Dict{"x": space.QUniform("x", -1, 1, 1), "c": space.Choice("c", "a", "b")})
	if err != nil {
		t.Fatal(err)
	}
	ix, _ := s.Index("x")
	ic, _ := s.Index("c")
	mk := func(x, c float64) space.Values {
		v := s.NewValues()
		v[ix], v[ic] = x, c
		return v
	}
	// Every point but (x=1, c=1) has been evaluated.
	vals := []space.Values{mk(-1, 0), mk(-1, 1), mk(0, 0), mk(0, 1), mk(1, 0)}
	h := reviewHistory(s, vals, []float64{1, 2, 3, 4, 5})
	dups := 0
	for seed := uint64(0); seed < 20; seed++ {
		out, err := tpe.Search{}.Suggest(context.Background(), s, h, []trials.ID{5}, seed)
		if err != nil {
			t.Fatal(err)
		}
		if v := out[0]; !(v[ix] == 1 && v[ic] == 1) {
			dups++
			if dups == 1 {
				t.Errorf("seed %d: the default TPE proposed x=%v (signbit %v), c=%v, an evaluated point; only (1, 1) is unseen", seed, v[ix], math.Signbit(v[ix]), v[ic])
			}
		}
	}
	if dups > 0 {
		t.Errorf("%d of 20 seeds proposed a duplicate", dups)
	}
}

// The same trials applied to a History in a different row order (IDs
// unchanged) must give the same proposal.
func TestReviewRowOrderDependence(t *testing.T) {
	s, err := space.New(space.Uniform("x", 0, 10))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	n := 200
	ts := make([]trials.Trial, n)
	for i := range ts {
		v := s.Sample(r)
		v[0] = math.Floor(v[0]) // repeated values, as from enqueued points
		ts[i] = trials.Trial{ID: trials.ID(i), State: trials.StateDone, Values: v, Result: trials.OK(math.Abs(v[0]-3) + r.Float64())}
	}
	h1 := trials.NewHistory(s.Len())
	h1.Apply(ts, int64(n))
	rev := make([]trials.Trial, n)
	for i := range ts {
		rev[i] = ts[n-1-i]
	}
	h2 := trials.NewHistory(s.Len())
	h2.Apply(rev, int64(n))
	diff := 0
	for seed := uint64(0); seed < 50; seed++ {
		a, _ := tpe.Search{}.Suggest(context.Background(), s, h1, []trials.ID{trials.ID(n)}, seed)
		b, _ := tpe.Search{}.Suggest(context.Background(), s, h2, []trials.ID{trials.ID(n)}, seed)
		if a[0][0] != b[0][0] {
			if diff == 0 {
				t.Errorf("seed %d: proposal %v with trials in ID order, %v with the same trials in reverse row order", seed, a[0][0], b[0][0])
			}
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%d of 50 seeds differ", diff)
	}
}

// Space.Sample clamps LogNormal/QLogNormal draws below MaxFloat64/4 (dist.go
// logNormal); TPE's draw does not, so it proposes +Inf.
func TestReviewLogNormalOverflow(t *testing.T) {
	for _, root := range []*space.Param{space.LogNormal("a", 700, 10), space.QLogNormal("a", 700, 10, 1)} {
		s, err := space.New(root)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		var vals []space.Values
		var losses []float64
		for i := 0; i < 30; i++ {
			vals = append(vals, s.Sample(r))
			losses = append(losses, r.Float64())
		}
		h := reviewHistory(s, vals, losses)
		for _, alg := range []tpe.Search{{}, {Candidates: 1}} {
			bad := 0
			for seed := uint64(0); seed < 100; seed++ {
				out, err := alg.Suggest(context.Background(), s, h, []trials.ID{30}, seed)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Validate(out[0]); err != nil {
					if bad == 0 {
						t.Errorf("%v candidates=%d seed %d: proposal fails Validate: %v", s.Dist(0), alg.Candidates, seed, err)
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%v candidates=%d: %d of 100 proposals invalid", s.Dist(0), alg.Candidates, bad)
			}
		}
	}
}

// Options out of range are refused by Suggest with an error naming the
// field and the value; zero values (the defaults) and HyperoptCompat are
// valid.
func TestValidate(t *testing.T) {
	for _, ok := range []tpe.Search{{}, tpe.HyperoptCompat(), {Gamma: 1}, {GammaRule: tpe.GammaSqrt, Gamma: 2}, {MinBandwidth: 0.5}, {Liar: tpe.LieBest}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	s, _ := space.New(space.Dict{"x": space.Uniform("x", 0, 1)})
	h := trials.NewHistory(s.Len())
	for _, c := range []struct {
		s    tpe.Search
		want string
	}{
		{tpe.Search{Gamma: -0.1}, "Gamma = -0.1"},
		{tpe.Search{Gamma: 1.5}, "Gamma = 1.5"},
		{tpe.Search{Gamma: math.NaN()}, "Gamma = NaN"},
		{tpe.Search{GammaRule: 7}, "GammaRule = GammaRule(7)"},
		{tpe.Search{MinBandwidth: 0.6}, "MinBandwidth = 0.6"},
		{tpe.Search{MinBandwidth: -1}, "MinBandwidth = -1"},
		{tpe.Search{MinBandwidth: 1e-320}, "MinBandwidth = 1e-320"},
		{tpe.Search{PriorWeight: -1}, "PriorWeight = -1"},
		{tpe.Search{Candidates: -3}, "Candidates = -3"},
		{tpe.Search{LinearForgetting: -1}, "LinearForgetting = -1"},
		{tpe.Search{Liar: 9}, "Liar = Lie(9)"},
	} {
		_, err := c.s.Suggest(context.Background(), s, h, []trials.ID{0}, 1)
		if !errors.Is(err, tpe.ErrInvalidOption) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: Suggest error %v, want ErrInvalidOption naming %q", c.s, err, c.want)
		}
	}
}

// A joint group of wide randints is modelled as quantized uniforms, as on
// the independent path, not as categoricals of 2^40 options (which took
// hours per proposal), and its proposals are valid integers.
func TestReviewWideRandIntJoint(t *testing.T) {
	s, err := space.New(space.Dict{"a": space.RandIntRange("a", 0, 1<<40), "b": space.RandIntRange("b", 5, 1<<40)})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := history(s, 30, 1)
	for seed := range uint64(20) {
		out, err := tpe.Search{}.Suggest(context.Background(), s, h, []trials.ID{30, 31}, seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out {
			if err := s.Validate(v); err != nil {
				t.Fatalf("seed %d: invalid proposal %v: %v", seed, v, err)
			}
		}
	}
}

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
	h := reviewHistory(s, vals, losses)
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
