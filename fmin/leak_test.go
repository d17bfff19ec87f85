package fmin_test

import (
	"context"
	"testing"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// The driver once left a claimed ID without values when the search was
// canceled between Claim and Propose: the budget lost a trial for good and
// the IDs of a resumed search had a gap.

// cancelOnCall is random search that cancels the search's context during
// its nth Suggest call, as a caller's cancel or a Timeout can at any moment.
type cancelOnCall struct {
	n, calls int
	cancel   context.CancelFunc
}

func (c *cancelOnCall) Suggest(ctx context.Context, s *space.Space, h *trials.History, ids []trials.ID, seed uint64) ([]space.Values, error) {
	c.calls++
	if c.calls == c.n {
		c.cancel()
	}
	return random.Search{}.Suggest(ctx, s, h, ids, seed)
}

func TestCancelDuringAskLeavesNoGap(t *testing.T) {
	s := detSpace(t)
	store := trials.NewMemory(nil)
	ctx, cancel := context.WithCancel(context.Background())
	alg := &cancelOnCall{n: 5, cancel: cancel}
	res, err := fmin.Minimize(ctx, detObjective, s, &fmin.Options{Algorithm: alg, MaxEvals: 10, Seed: 3, Store: store, Experiment: "e", Progress: fmin.ProgressOff})
	t.Logf("first run: err %v, %d trials, evaluated %d", err, res.Trials.Len(), res.Evaluated)
	exps, _ := store.Experiments(context.Background())
	t.Logf("store: claimed %d, next id %d", exps[0].Claimed, exps[0].NextID)
	res2, err := fmin.Minimize(context.Background(), detObjective, s, &fmin.Options{Algorithm: alg, MaxEvals: 10, Store: store, Experiment: "e", Progress: fmin.ProgressOff})
	if err != nil {
		t.Fatal(err)
	}
	ids := []trials.ID{}
	for _, tr := range res2.Trials.All() {
		ids = append(ids, tr.ID)
	}
	if res2.Trials.Len() != 10 || ids[9] != 9 {
		t.Errorf("resumed to MaxEvals 10: %d trials %v, stop %v; want IDs 0..9", res2.Trials.Len(), ids, res2.Stop)
	}
	if c := res2.Trials.Counts(); c[trials.StateDone] != 10 {
		t.Errorf("counts %v, want 10 done", c)
	}
}
