package space_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

func TestReviewFuncChoiceRoundTrip(t *testing.T) {
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

func TestReviewNaNConstRoundTrip(t *testing.T) {
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

// Integer kinds once accepted ranges beyond ±2^53, and Eval turned a value
// of 1e19 into a negative int. New now refuses such ranges; QLogNormalInt,
// unbounded, keeps its draws below 2^53.
func TestReviewIntKindHugeEval(t *testing.T) {
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

func TestReviewUint64ConstJSON(t *testing.T) {
	s, err := space.New(space.Dict{"seed": uint64(1 << 63), "x": space.Uniform("x", 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var s2 space.Space
	if err := json.Unmarshal(b, &s2); err != nil {
		t.Errorf("MarshalJSON succeeded but UnmarshalJSON fails on its output: %v", err)
	}
}

func TestReviewPChoiceJSONIdempotent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 2000; trial++ {
		n := 2 + r.IntN(6)
		opts := make([]space.Option, n)
		ps := make([]float64, n)
		sum := 0.0
		for i := range ps {
			ps[i] = r.Float64()
			sum += ps[i]
		}
		for i := range ps {
			opts[i] = space.Option{P: ps[i] / sum, Value: i}
		}
		s, err := space.New(space.PChoice("c", opts...))
		if err != nil {
			continue
		}
		b1, _ := json.Marshal(s)
		var s2 space.Space
		if err := json.Unmarshal(b1, &s2); err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(&s2)
		if string(b1) != string(b2) {
			t.Errorf("pchoice JSON not stable under round trip:\n%s\n%s", b1, b2)
			return
		}
	}
}
