package tpe

import "testing"

// The good group's size: HyperOpt's square-root rule, or Optuna's linear
// one with LinearGamma, both capped at 25.
func TestNBelow(t *testing.T) {
	cases := []struct {
		s    Search
		n    int
		want int
	}{
		{Search{}, 100, 3},    // ceil(0.25·10)
		{Search{}, 10000, 25}, // the cap
		{Search{LinearGamma: 0.1}, 100, 10},
		{Search{LinearGamma: 0.1}, 21, 3},
		{Search{LinearGamma: 0.1}, 1000, 25},
	}
	for _, c := range cases {
		if got := c.s.withDefaults().nBelow(c.n); got != c.want {
			t.Errorf("%+v: nBelow(%d) = %d, want %d", c.s, c.n, got, c.want)
		}
	}
}
