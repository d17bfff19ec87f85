package space_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// Integer kinds once accepted ranges beyond ±2^53, and Eval turned a value
// of 1e19 into a negative int. New refuses such ranges; QLogNormalInt,
// unbounded, keeps its draws below 2^53.
func TestIntKindWithin2To53(t *testing.T) {
	for _, p := range []*space.Param{
		space.QUniformInt("x", 0, 1e20, 1),
		space.QLogUniformInt("x", 1, 1e20, 1),
		space.QNormalInt("x", 0, 1e18, 1),
	} {
		if _, err := space.New(p); !errors.Is(err, space.ErrBounds) || !strings.Contains(err.Error(), "2^53") {
			t.Errorf("New(%v) = %v, want ErrBounds naming 2^53", p.Dist(), err)
		}
	}
	s, err := space.New(space.QLogNormalInt("x", 40, 10, 1))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		v := s.Sample(r)
		cfg, err := s.Eval(v)
		if err != nil {
			t.Fatalf("Eval(%v): %v", v, err)
		}
		if n := cfg.(int); n < 0 || float64(n) != v[0] {
			t.Fatalf("Eval(%v) = %d", v, n)
		}
	}
	v := s.NewValues()
	v[0] = 1e19
	if err := s.Validate(v); !errors.Is(err, space.ErrOutOfSupport) {
		t.Errorf("Validate(1e19) for an integer kind = %v, want ErrOutOfSupport", err)
	}
}
