package fmin_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// Optimizer.Ask once only proposed new trials and never handed out queued
// ones, so the points given to NewOptimizer (which it enqueues) and the
// canceled trials it requeued were never returned to an ask/tell user, yet
// they used the budget. Ask must hand out the point.
func TestAskReturnsQueuedPoints(t *testing.T) {
	ctx := context.Background()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{
		Algorithm: random.Search{}, MaxEvals: 2, Seed: 1,
		Points: []any{map[string]any{"x": 1.0}},
	})
	require.NoError(t, err)
	var got []trials.ID
	for {
		ts, err := o.Ask(ctx, 1)
		if err != nil {
			require.ErrorIs(t, err, trials.ErrBudget)
			break
		}
		for _, tr := range ts {
			got = append(got, tr.ID)
		}
	}
	p, _ := o.Trials().Get(0)
	assert.Contains(t, got, trials.ID(0), "Ask handed out trials %v until the budget ran out, never the point (trial 0, still %v)", got, p.State)
	assert.Len(t, got, 2)
}

// cancelingStore cancels a context during Finish, as a caller's cancel can
// at any moment.
type cancelingStore struct {
	trials.Store
	cancel context.CancelFunc
}

func (c *cancelingStore) Finish(ctx context.Context, exp string, l trials.Lease, st trials.State, r trials.Result) error {
	err := c.Store.Finish(ctx, exp, l, st, r)
	c.cancel()
	return err
}

// Optimizer.Add writes the trial (Claim, Propose, Finish), then refreshes
// its view. It once refreshed with the caller's ctx: if ctx ended in
// between, Add returned an error for a trial it had recorded, and the
// natural retry recorded the point twice. A recorded trial must give no
// error.
func TestAddRecordedDespiteCancel(t *testing.T) {
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mem := trials.NewMemory(nil)
	store := &cancelingStore{Store: mem, cancel: cancel}
	o, err := fmin.NewOptimizer(context.Background(), s, &fmin.Options{Algorithm: random.Search{}, MaxEvals: 5, Seed: 1, Store: store, Experiment: "e"})
	require.NoError(t, err)
	_, err = o.Add(ctx, map[string]any{"x": 1.0}, trials.OK(1))
	require.Error(t, ctx.Err(), "the store did not cancel the context: the test tests nothing")
	ts, _, cerr := mem.Changes(context.Background(), "e", 0, 0)
	require.NoError(t, cerr)
	require.Len(t, ts, 1)
	require.Equal(t, trials.StateDone, ts[0].State, "the trial Add recorded")
	assert.NoError(t, err, "Add failed, but the trial was recorded: a retry adds it twice")
}
