package trials_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// This example moves an experiment from one store to another through the
// JSON export format (to keep a search in a file, or to send it to another
// machine), then reads it back as a Trials view.
func ExampleExport() {
	ctx := context.Background()
	s, _ := space.New(space.Dict{"x": space.Uniform("x", 0, 1), "kind": space.Choice("kind", "a", "b")})
	spaceJSON, _ := s.MarshalJSON()
	fp, _ := s.Fingerprint()

	// Record two finished trials in an in-memory store.
	src := trials.NewMemory(nil)
	if _, err := src.Open(ctx, trials.ExperimentSpec{Key: "demo", Space: spaceJSON, Fingerprint: fp, Seed: 1, MaxEvals: 10}); err != nil {
		fmt.Println(err)
		return
	}
	ids, _ := src.Claim(ctx, "demo", 2, "")
	for i, id := range ids {
		v, _ := s.Encode(map[string]any{"x": 0.25 * float64(i+1), "kind": "b"})
		_ = src.Propose(ctx, "demo", []trials.Proposal{{ID: id, Values: v, Owner: "me", LeaseTTL: time.Minute}})
		_ = src.Finish(ctx, "demo", trials.Lease{ID: id, Attempt: 1}, trials.StateDone, trials.OK(1-0.25*float64(i+1)))
	}

	var doc bytes.Buffer
	if err := trials.Export(ctx, &doc, src, "demo"); err != nil {
		fmt.Println(err)
		return
	}
	dst := trials.NewMemory(nil)
	e, err := trials.Import(ctx, &doc, dst, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	view := trials.New(dst, e.Key, s)
	if err := view.Refresh(ctx); err != nil {
		fmt.Println(err)
		return
	}
	best, _ := view.Argmin()
	fmt.Printf("%s: %d trials, budget %d, best %v\n", e.Key, view.Len(), e.MaxEvals, best)
	// Output:
	// demo: 2 trials, budget 10, best map[kind:b x:0.5]
}
