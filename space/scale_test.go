package space_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
)

// nestedChoices returns a chain of depth choices, each either a constant or
// a dict holding a uniform and the next choice; the innermost option holds
// a uniform.
func nestedChoices(depth int) any {
	var n any = space.Uniform("leaf", 0, 1)
	for i := depth - 1; i >= 0; i-- {
		n = space.Choice(fmt.Sprintf("c%d", i),
			space.Dict{"x": space.Uniform(fmt.Sprintf("x%d", i), 0, 1), "next": n},
			fmt.Sprintf("stop%d", i))
	}
	return n
}

// deepestPoint is the point of a nestedChoices space that selects the dict
// at every level, and its config.
func deepestPoint(tb testing.TB, s *space.Space) (space.Values, any) {
	v := s.NewValues()
	for i := range v {
		if s.Dist(i).Kind == space.KindChoice {
			v[i] = 0
		} else {
			v[i] = 0.5
		}
	}
	cfg, err := s.Eval(v)
	if err != nil {
		tb.Fatal(err)
	}
	return v, cfg
}

// TestNestedChoicesScale checks that Params and Encode take time about
// linear in the size of their output on a 200-deep chain of choices (they
// were cubic and exponential: seconds at 24 levels for Encode).
func TestNestedChoicesScale(t *testing.T) {
	const depth = 200
	s := mustNew(t, nestedChoices(depth))
	start := time.Now()
	ps := s.Params()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Params of a %d-deep chain of choices took %v", depth, d)
	}
	leaf, _ := s.Index("leaf")
	x0, _ := s.Index("x0")
	if got := len(ps[leaf].Conditions[0]); got != depth {
		t.Errorf("the leaf has %d conditions, want %d", got, depth)
	}
	// Params returns copies: changing one leaves the next call intact.
	ps[leaf].Conditions[0][0] = space.Condition{Label: "changed"}
	ps[leaf-1].Conditions[0] = append(ps[leaf-1].Conditions[0], space.Condition{Label: "appended"})
	ps[x0].Conditions = nil
	again := s.Params()
	if again[leaf].Conditions[0][0].Label != "c0" || len(again[leaf-1].Conditions[0]) != depth-1 || again[leaf].Conditions[0][depth-1].Label != fmt.Sprintf("c%d", depth-1) || len(again[x0].Conditions) != 1 {
		t.Errorf("changing the result of Params changed the space's")
	}
	v, cfg := deepestPoint(t, s)
	start = time.Now()
	got, err := s.Encode(cfg)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Encode in a %d-deep chain of choices took %v", depth, d)
	}
	if err != nil || !got.Equal(v) {
		t.Errorf("Encode = %v, %v; want %v", got, err, v)
	}
	// A config that fits nothing at the bottom is refused, quickly too.
	cfgBad, _ := s.Eval(v)
	bottom := cfgBad
	for i := 0; i < depth-1; i++ {
		bottom = bottom.(map[string]any)["next"]
	}
	bottom.(map[string]any)["next"] = "neither"
	start = time.Now()
	if _, err := s.Encode(cfgBad); !errors.Is(err, space.ErrNoMatch) {
		t.Errorf("Encode of a config that fits no option: error = %v, want ErrNoMatch", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing a config in a %d-deep chain of choices took %v", depth, d)
	}
}

func BenchmarkNestedChoices(b *testing.B) {
	for _, depth := range []int{25, 100, 400} {
		s := mustNew(b, nestedChoices(depth))
		b.Run(fmt.Sprintf("Params/depth=%d", depth), func(b *testing.B) {
			for b.Loop() {
				s.Params()
			}
		})
		b.Run(fmt.Sprintf("Encode/depth=%d", depth), func(b *testing.B) {
			_, cfg := deepestPoint(b, s)
			for b.Loop() {
				if _, err := s.Encode(cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNestedChoicesEncodeSmall shows Encode's growth at depths the
// exponential walk could still finish.
func BenchmarkNestedChoicesEncodeSmall(b *testing.B) {
	for _, depth := range []int{10, 15, 20} {
		s := mustNew(b, nestedChoices(depth))
		_, cfg := deepestPoint(b, s)
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Encode(cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestParamsConcurrent calls Params of a fresh space from several
// goroutines: the conditions are worked out once, safely (run with -race).
func TestParamsConcurrent(t *testing.T) {
	s := mustNew(t, nestedChoices(30))
	want := fmt.Sprint(s.Params())
	s = mustNew(t, nestedChoices(30))
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() { got[i] = fmt.Sprint(s.Params()) })
	}
	wg.Wait()
	for i, g := range got {
		if g != want {
			t.Errorf("goroutine %d: Params differs", i)
		}
	}
}
