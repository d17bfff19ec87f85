package tpe_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
)

// TestNestedChoicesSearch runs 30 trials of the default TPE on a 200-deep
// chain of choices. It took 20 s when every suggestion worked out the
// space's conditions afresh, in time cubic in the depth; it now takes well
// under a second.
func TestNestedChoicesSearch(t *testing.T) {
	const depth = 200
	var n any = space.Uniform("leaf", 0, 1)
	for i := depth - 1; i >= 0; i-- {
		n = space.Choice(fmt.Sprintf("c%d", i),
			space.Dict{"x": space.Uniform(fmt.Sprintf("x%d", i), 0, 1), "next": n},
			fmt.Sprintf("stop%d", i))
	}
	s, err := space.New(n)
	if err != nil {
		t.Fatal(err)
	}
	// The loss falls with the depth the config reaches.
	obj := fmin.LossFunc(func(_ context.Context, cfg any) (float64, error) {
		d := 0
		for {
			m, ok := cfg.(map[string]any)
			if !ok {
				break
			}
			d++
			cfg = m["next"]
		}
		return -float64(d), nil
	})
	for _, alg := range []struct {
		name string
		alg  fmin.Algorithm
	}{{"default", tpe.Search{}}, {"compat", tpe.HyperoptCompat()}} {
		start := time.Now()
		res, err := fmin.Minimize(context.Background(), obj, s, &fmin.Options{Algorithm: alg.alg, MaxEvals: 30, Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", alg.name, err)
		}
		if res.Trials.Len() != 30 {
			t.Errorf("%s: %d trials, want 30", alg.name, res.Trials.Len())
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: 30 trials on a %d-deep chain of choices took %v", alg.name, depth, d)
		}
	}
}
