package tpe

import (
	"fmt"
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
	for _, g := range jointGroups(s) {
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
