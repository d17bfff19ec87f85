package space_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// Encode and Fix once failed on function options: they compared options
// by value, which Go cannot do for functions. They match them by identity,
// so that Encode(Eval(v)) holds.
func TestFuncChoiceRoundTrip(t *testing.T) {
	relu := func(x float64) float64 { return math.Max(x, 0) }
	tanh := math.Tanh
	s, err := space.New(space.Dict{"act": space.Choice("act", relu, tanh)})
	if err != nil {
		t.Fatal(err)
	}
	v := s.NewValues()
	v[0] = 1
	cfg, err := s.Eval(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Encode(cfg); err != nil {
		t.Errorf("Encode(Eval(v)) with function options: %v", err)
	}
	if _, err := s.Fix(map[string]any{"act": tanh}); err != nil {
		t.Errorf("Fix with function option: %v", err)
	}
}

// Encode once failed on a NaN constant, as NaN equals nothing. It matches
// NaN constants by NaN, so that Encode(Eval(v)) holds.
func TestNaNConstRoundTrip(t *testing.T) {
	s, err := space.New(space.Dict{"a": math.NaN(), "x": space.Uniform("x", 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	v := s.Sample(rand.New(rand.NewPCG(1, 2)))
	cfg, err := s.Eval(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Encode(cfg); err != nil {
		t.Errorf("Encode(Eval(v)) with a NaN constant: %v", err)
	}
}
