package tpe

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// The good group's size: the linear rule (the default, γ = 0.05), or
// HyperOpt's square-root one, both capped at 25.
func TestNBelow(t *testing.T) {
	cases := []struct {
		s    Search
		n    int
		want int
	}{
		{Search{GammaRule: GammaSqrt}, 100, 3},    // ceil(0.25·10)
		{Search{GammaRule: GammaSqrt}, 10000, 25}, // the cap
		{HyperoptCompat(), 100, 3},
		{Search{}, 100, 5},
		{Search{}, 101, 6},
		{Search{}, 10, 1},
		{Search{}, 1000, 25},
		{Search{Gamma: 0.1}, 21, 3},
	}
	for _, c := range cases {
		if got := c.s.withDefaults().nBelow(c.n); got != c.want {
			t.Errorf("%+v: nBelow(%d) = %d, want %d", c.s, c.n, got, c.want)
		}
	}
}

// The multivariate model's groups are the hyperparameters active under the
// same conditions.
func TestJointGroups(t *testing.T) {
	s, err := space.New(space.Dict{
		"lr": space.LogUniform("lr", 1e-5, 1),
		"model": space.Choice("model",
			space.Dict{"C": space.LogUniform("C", 1e-3, 1e3), "kernel": space.Choice("kernel", "linear", "rbf")},
			space.Dict{"depth": space.QUniformInt("depth", 1, 20, 1)},
		),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, g := range jointGroups(s.Params()) {
		var names []string
		for _, p := range g {
			names = append(names, s.Label(p))
		}
		got = append(got, names)
	}
	want := [][]string{{"lr", "model"}, {"C", "kernel"}, {"depth"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("groups %v, want %v", got, want)
	}
}

// The joint model's kernel width follows the good points' spread, within
// its floor and ceiling.
func TestAdaptiveWidth(t *testing.T) {
	// A tight cluster far from the prior's centre (0): the centre keeps
	// the width from collapsing.
	wide := adaptiveWidth([]float64{3, 3.01, 2.99, 0}, 10, 0.02)
	if !(wide > 0.5 && wide <= 5) {
		t.Errorf("cluster at 3 with the centre at 0: width %v, want in (0.5, 5]", wide)
	}
	// A tight cluster at the centre: down to the floor, 2% of the range.
	if got := adaptiveWidth([]float64{0.001, -0.001, 0, 0}, 10, 0.02); got != 0.2 {
		t.Errorf("cluster at the centre: width %v, want the floor 0.2", got)
	}
	// Spread over the whole range: Scott's width, 1.059·5·5^(-1/5).
	if got, want := adaptiveWidth([]float64{-5, 5, -5, 5, 0}, 10, 0.02), 1.059*5*math.Pow(5, -0.2); math.Abs(got-want) > 1e-12 {
		t.Errorf("points at both ends: width %v, want %v", got, want)
	}
	// Spread over 10 prior σ of a normal kind (scale 1): the ceiling, σ/2.
	if got := adaptiveWidth([]float64{-5, 5, 0}, 1, 0.02); got != 0.5 {
		t.Errorf("points 5σ out: width %v, want the ceiling 0.5", got)
	}
	// One point (the centre alone): the floor.
	if got := adaptiveWidth([]float64{0}, 10, 0.02); got != 0.2 {
		t.Errorf("one value: width %v, want the floor 0.2", got)
	}
}

// A trial in flight lowers the joint model's score at its own point by a
// lot and barely changes it a few penalty widths away: a local penalty.
func TestJointPenalty(t *testing.T) {
	dims := []jdim{jdimOf(space.Dist{Kind: space.KindUniform, Low: -5, High: 5}, 0), jdimOf(space.Dist{Kind: space.KindUniform, Low: -5, High: 5}, 1)}
	good := []float64{1, 1, 1.2, 0.9, 0.8, 1.1}
	var bad []float64
	for i := range 7 {
		for j := range 6 {
			bad = append(bad, -4.5+1.5*float64(i), -4+1.6*float64(j))
		}
	}
	at := []float64{1.05, 1}
	without := jointFit{dims, 1, 0.02}.model(good, bad, nil)
	with := jointFit{dims, 1, 0.02}.model(good, bad, at)
	if drop := without.score(at) - with.score(at); !(drop > 1) {
		t.Errorf("the score at the point in flight drops by %v, want more than 1", drop)
	}
	far := []float64{at[0] + 4*penaltyWidth*with.l.sigma[0], at[1] - 4*penaltyWidth*with.l.sigma[1]}
	if d := math.Abs(without.score(far) - with.score(far)); !(d < 0.05) {
		t.Errorf("4 penalty widths away the score changes by %v, want less than 0.05", d)
	}
	if without.pen != nil || with.pen == nil {
		t.Error("penalty component: want one exactly when a point is in flight")
	}
}

// Groups are keyed without ambiguity: a label that spells out another
// group's conditions does not join it.
func TestJointGroupsQuotedLabels(t *testing.T) {
	s, err := space.New(space.Dict{
		"a": space.Choice("a", space.Dict{"b": space.Choice("b", space.Dict{"q": space.Uniform("q", 0, 1)}, 1)}, 2),
		"c": space.Choice("a=0&b", space.Dict{"p": space.Uniform("p", 0, 1)}, 3),
	})
	if err != nil {
		t.Fatal(err)
	}
	iq, _ := s.Index("q")
	ip, _ := s.Index("p")
	for _, g := range jointGroups(s.Params()) {
		if slices.Contains(g, iq) && slices.Contains(g, ip) {
			t.Errorf("q and p, active under different conditions, share the group %v", g)
		}
	}
}

// A component with no mass inside the bounds (a quantized value rounded far
// outside them) gets weight 0 instead of making every score NaN.
func TestJointMassUnderflow(t *testing.T) {
	dims := []jdim{jdimOf(space.Dist{Kind: space.KindQUniform, Low: 100, High: 101, Q: 1000}, 0),
		jdimOf(space.Dist{Kind: space.KindUniform, Low: 0, High: 1}, 1)}
	var good, bad []float64
	for i := range 40 {
		p := []float64{0, float64(i) / 40}
		if i < 2 {
			good = append(good, p...)
		} else {
			bad = append(bad, p...)
		}
	}
	m := jointFit{dims, 1, 0.02}.model(good, bad, nil)
	for _, c := range m.l.cst {
		if math.IsNaN(c) || math.IsInf(c, 1) {
			t.Errorf("a component's constant is %v", c)
		}
	}
	if sc := m.score([]float64{100.5, 0.02}); math.IsNaN(sc) {
		t.Errorf("score = NaN")
	}
}
