package fmin_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

func workerSpace(t *testing.T) *space.Space {
	t.Helper()
	s, err := space.New(space.Dict{"x": space.Uniform("x", -2, 2), "y": space.Uniform("y", -2, 2)})
	require.NoError(t, err)
	return s
}

func bowl(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
	v := tr.Values()
	return trials.OK(v[0]*v[0] + v[1]*v[1]), nil
}

// A driver and four workers in goroutines share one store: every trial of
// the budget is evaluated exactly once, and the driver sees them all.
func TestDriverAndWorkers(t *testing.T) {
	t.Parallel()
	s := workerSpace(t)
	store := trials.NewMemory(nil)
	ctx := t.Context()
	const n = 60
	var mu sync.Mutex
	evaluated := map[trials.ID]int{}
	obj := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		mu.Lock()
		evaluated[tr.ID()]++
		mu.Unlock()
		return bowl(ctx, tr)
	}
	type driverOut struct {
		res *fmin.Result
		err error
	}
	driven := make(chan driverOut, 1)
	// Leases of a minute: no worker here dies, and no trial may be taken
	// over because a loaded machine delayed a heartbeat.
	go func() {
		res, err := fmin.Minimize(ctx, nil, s, &fmin.Options{MaxEvals: n, Store: store, RemoteWorkers: true, QueueLen: 4, Seed: 7, LeaseTTL: time.Minute})
		driven <- driverOut{res, err}
	}()
	// Workers start once the driver created the experiment.
	require.Eventually(t, func() bool {
		es, _ := store.Experiments(ctx)
		return len(es) == 1
	}, 5*time.Second, time.Millisecond)
	var wg sync.WaitGroup
	results := make([]*fmin.WorkerResult, 4)
	for i := range results {
		wg.Go(func() {
			w := &fmin.Worker{Store: store, LeaseTTL: time.Minute, IdleTimeout: 30 * time.Second}
			res, err := w.Run(ctx, obj, s)
			assert.NoError(t, err)
			results[i] = res
		})
	}
	wg.Wait()
	d := <-driven
	require.NoError(t, d.err)
	assert.Equal(t, fmin.StopMaxEvals, d.res.Stop)
	assert.Equal(t, map[trials.State]int{trials.StateDone: n}, d.res.Trials.Counts())
	total := 0
	for _, r := range results {
		assert.Equal(t, fmin.WorkerFinished, r.Stop)
		total += r.Evaluated
	}
	assert.Equal(t, n, total)
	assert.Len(t, evaluated, n)
	for id, k := range evaluated {
		assert.Equal(t, 1, k, "trial %d evaluated %d times", id, k)
	}
	assert.Less(t, d.res.Best.Result.Loss, 0.5)
}

// A worker built with another space is refused with an error naming what
// differs; a worker for an experiment that does not exist is refused too.
func TestWorkerRefusesAnotherSpace(t *testing.T) {
	t.Parallel()
	s := workerSpace(t)
	store := trials.NewMemory(nil)
	ctx := t.Context()
	w := &fmin.Worker{Store: store, IdleTimeout: time.Millisecond}
	_, err := w.Run(ctx, bowl, s)
	require.ErrorIs(t, err, trials.ErrNotFound)

	_, err = fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, MaxEvals: 5})
	require.NoError(t, err)
	other, err := space.New(space.Dict{"x": space.Uniform("x", -2, 3), "z": space.Uniform("z", 0, 1)})
	require.NoError(t, err)
	_, err = w.Run(ctx, bowl, other)
	require.ErrorIs(t, err, trials.ErrSpaceMismatch)
	assert.ErrorContains(t, err, `"z"`)
	assert.ErrorContains(t, err, `"y"`)
	assert.ErrorContains(t, err, `"x"`)
}

// A trial whose worker died (its lease is never renewed) is taken over by
// a live worker once the lease expires; past the experiment's max attempts
// it ends in error with the reason.
func TestWorkerTakesOverDeadWorkersTrials(t *testing.T) {
	t.Parallel()
	s := workerSpace(t)
	store := trials.NewMemory(nil)
	ctx := t.Context()
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, MaxEvals: 3, Algorithm: random.Search{}})
	require.NoError(t, err)
	_, err = o.Enqueue(ctx, []any{map[string]any{"x": 0.5, "y": 0.5}, map[string]any{"x": 1.0, "y": 1.0}})
	require.NoError(t, err)
	require.NoError(t, o.Close())
	// A worker reserves trial 0 and dies.
	dead, err := store.Reserve(ctx, "default", "dead", 50*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, trials.ID(0), dead.ID)

	w := &fmin.Worker{Store: store, LeaseTTL: time.Second, Poll: 10 * time.Millisecond, IdleTimeout: 3 * time.Second}
	res, err := w.Run(ctx, bowl, s)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Evaluated)
	got, err := store.Get(ctx, "default", 0)
	require.NoError(t, err)
	assert.Equal(t, trials.StateDone, got.State)
	assert.Equal(t, 2, got.Attempt, "the dead worker's trial is run again as attempt 2")
	assert.ErrorIs(t, store.Finish(ctx, "default", dead.Lease(), trials.StateDone, trials.OK(0)), trials.ErrConflict,
		"the dead worker's late result must be refused")
}

// A worker stops after MaxConsecutiveErrors errors in a row, with the last
// error's text, instead of burning the budget.
func TestWorkerConsecutiveErrors(t *testing.T) {
	t.Parallel()
	s := workerSpace(t)
	store := trials.NewMemory(nil)
	ctx := t.Context()
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, MaxEvals: 20, Algorithm: random.Search{}})
	require.NoError(t, err)
	for range 10 {
		_, err = o.Enqueue(ctx, []any{map[string]any{"x": 0.0, "y": 0.0}})
		require.NoError(t, err)
	}
	broken := func(context.Context, *fmin.Trial) (trials.Result, error) {
		return trials.Result{}, errors.New("cannot load the data set")
	}
	w := &fmin.Worker{Store: store, MaxConsecutiveErrors: 3}
	res, err := w.Run(ctx, broken, s)
	require.ErrorIs(t, err, fmin.ErrWorkerErrors)
	assert.ErrorContains(t, err, "cannot load the data set")
	assert.Equal(t, fmin.WorkerErrors, res.Stop)
	assert.Equal(t, 3, res.Errors)
}

// When its context ends, a worker gives the trial it evaluates back to the
// queue, and another worker finishes it.
func TestWorkerGivesBackOnCancel(t *testing.T) {
	t.Parallel()
	s := workerSpace(t)
	store := trials.NewMemory(nil)
	ctx := t.Context()
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, MaxEvals: 1, Algorithm: tpe.Search{}})
	require.NoError(t, err)
	_, err = o.Enqueue(ctx, []any{map[string]any{"x": 0.0, "y": 0.0}})
	require.NoError(t, err)
	started := make(chan struct{})
	slow := func(ctx context.Context, _ *fmin.Trial) (trials.Result, error) {
		close(started)
		<-ctx.Done()
		return trials.Result{}, ctx.Err()
	}
	wctx, cancel := context.WithCancel(ctx)
	go func() { <-started; cancel() }()
	res, err := (&fmin.Worker{Store: store}).Run(wctx, slow, s)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, res.GivenBack)
	got, err := store.Get(ctx, "default", 0)
	require.NoError(t, err)
	assert.Equal(t, trials.StateQueued, got.State)

	res, err = (&fmin.Worker{Store: store}).Run(ctx, bowl, s)
	require.NoError(t, err)
	assert.Equal(t, fmin.WorkerFinished, res.Stop)
	assert.Equal(t, 1, res.Evaluated)
}

// Workers that reserve and record 8 trials at a time (a trials.Batcher
// store) evaluate every trial exactly once, and stop at MaxTrials.
func TestWorkerBatches(t *testing.T) {
	t.Parallel()
	s := workerSpace(t)
	store := trials.NewMemory(nil)
	ctx := t.Context()
	const n = 100
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, MaxEvals: n, Algorithm: random.Search{}})
	require.NoError(t, err)
	configs := make([]any, n)
	for i := range configs {
		configs[i] = map[string]any{"x": float64(i) / n, "y": 0.0}
	}
	_, err = o.Enqueue(ctx, configs)
	require.NoError(t, err)
	var mu sync.Mutex
	seen := map[trials.ID]int{}
	obj := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		mu.Lock()
		seen[tr.ID()]++
		mu.Unlock()
		return bowl(ctx, tr)
	}
	first, err := (&fmin.Worker{Store: store, Batch: 8, MaxTrials: 20}).Run(ctx, obj, s)
	require.NoError(t, err)
	assert.Equal(t, fmin.WorkerMaxTrials, first.Stop)
	assert.Equal(t, 20, first.Evaluated)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			res, err := (&fmin.Worker{Store: store, Batch: 8}).Run(ctx, obj, s)
			assert.NoError(t, err)
			assert.Equal(t, fmin.WorkerFinished, res.Stop)
		})
	}
	wg.Wait()
	require.NoError(t, o.Refresh(ctx))
	assert.Equal(t, map[trials.State]int{trials.StateDone: n}, o.Trials().Counts())
	assert.Len(t, seen, n)
	for id, k := range seen {
		assert.Equal(t, 1, k, "trial %d evaluated %d times", id, k)
	}
}
