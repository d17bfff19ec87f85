package tpe_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// historyOf is a History of done trials with the given values and losses,
// IDs 0 to len(vals)-1.
func historyOf(s *space.Space, vals []space.Values, losses []float64) *trials.History {
	h := trials.NewHistory(s.Len())
	ts := make([]trials.Trial, len(vals))
	for i := range vals {
		ts[i] = trials.Trial{ID: trials.ID(i), State: trials.StateDone, Values: vals[i], Result: trials.OK(losses[i])}
	}
	h.Apply(ts, int64(len(ts)))
	return h
}

// Suggest once panicked on RandIntRange(0, 2^50), which New accepts: it
// allocated one count per option. A randint of more than 2^16 options is
// now modelled as a quantized uniform, and its proposals must be valid.
func TestHugeRandIntRange(t *testing.T) {
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
	h := historyOf(s, vals, losses)
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

// NoDuplicates once told -0 from 0, so the default TPE could propose a
// point it had evaluated. On a space whose every point but (x=1, c=1) was
// evaluated, it must propose that one.
func TestNoDuplicatesNegativeZero(t *testing.T) {
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
	h := historyOf(s, vals, []float64{1, 2, 3, 4, 5})
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

// History.Sorted once broke ties by row, so TPE's proposals depended on the
// order in which rows arrived (a resumed search reads them anew). The same
// trials applied to a History in a different row order (IDs unchanged)
// must give the same proposal.
func TestRowOrderIndependence(t *testing.T) {
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
// logNormal); TPE's draw once did not, and proposed +Inf. Its proposals now
// go through Dist.Clamp and must be valid.
func TestLogNormalNoOverflow(t *testing.T) {
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
		h := historyOf(s, vals, losses)
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

// A joint group of wide randints was once modelled as categoricals of 2^40
// options, which took hours per proposal. It is modelled as quantized
// uniforms, as on the independent path, and its proposals are valid
// integers.
func TestWideRandIntJoint(t *testing.T) {
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
