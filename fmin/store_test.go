package fmin_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
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

// lossyStore is a Memory whose every third Claim commits and then reports
// an error, as a store whose connection drops before the reply arrives.
type lossyStore struct {
	*trials.Memory
	mu       sync.Mutex
	calls    int
	requests []string
}

var errDropped = errors.New("connection reset by peer")

func (s *lossyStore) Claim(ctx context.Context, exp string, n int, requestID string) ([]trials.ID, error) {
	ids, err := s.Memory.Claim(ctx, exp, n, requestID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.requests = append(s.requests, requestID)
	if err == nil && s.calls%3 == 0 {
		return nil, errDropped
	}
	return ids, err
}

// A claim whose reply is lost is retried with the same request ID, so the
// trials it claimed are used, not claimed a second time.
func TestClaimRetriedWithRequestID(t *testing.T) {
	t.Parallel()
	s, err := space.New(space.Dict{"x": space.Uniform("x", -1, 1)})
	require.NoError(t, err)
	store := &lossyStore{Memory: trials.NewMemory(nil)}
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		return trials.OK(tr.Values()[0] * tr.Values()[0]), nil
	}
	const n = 20
	res, err := fmin.Minimize(t.Context(), f, s, &fmin.Options{MaxEvals: n, Store: store, Algorithm: random.Search{}, Seed: 3})
	require.NoError(t, err)
	assert.Equal(t, fmin.StopMaxEvals, res.Stop)

	e, err := store.Open(t.Context(), trials.ExperimentSpec{Key: "default"})
	require.NoError(t, err)
	assert.Equal(t, trials.ID(n), e.NextID, "IDs handed out: a lost reply's IDs must not be claimed again")
	assert.Equal(t, map[trials.State]int{trials.StateDone: n}, res.Trials.Counts())

	// Every call carried a request ID; a retry repeated its predecessor's.
	store.mu.Lock()
	defer store.mu.Unlock()
	retried := 0
	for i, r := range store.requests {
		require.NotEmpty(t, r, "claim %d had no request ID", i)
		if i > 0 && r == store.requests[i-1] {
			retried++
		}
	}
	assert.Positive(t, retried, "no claim was retried with its request ID: %v", store.requests)
	assert.Len(t, slices.Compact(slices.Clone(store.requests)), len(store.requests)-retried)
}

// An asked trial whose evaluation outlasts its lease is not handed out
// again while its optimizer lives: the optimizer keeps the lease alive.
// After Close, the lease expires and the trial is taken over. Leases
// expire when the test advances the store's clock, never because the
// machine is slow.
func TestAskKeepsLeasesAlive(t *testing.T) {
	t.Parallel()
	s, err := space.New(space.Dict{"x": space.Uniform("x", -1, 1)})
	require.NoError(t, err)
	ctx := t.Context()
	clock := newFakeClock()
	mem := trials.NewMemory(&trials.MemoryOptions{Now: clock.Now})
	store := &beatWatch{Store: mem, clock: clock}
	const ttl = 60 * time.Millisecond // heartbeats every 20 ms of real time
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{MaxEvals: 10, Store: store, Algorithm: random.Search{}, LeaseTTL: ttl, Owner: "a"})
	require.NoError(t, err)
	first, err := o.Ask(ctx, 1)
	require.NoError(t, err)
	// A long evaluation: the lease expires, and the optimizer extends it.
	store.Expire()
	require.True(t, store.WaitBeats(map[trials.ID]int{first[0].ID: 1}), "the optimizer never extended the asked trial's lease")

	// Another evaluator looking for work finds nothing to take over.
	_, err = mem.Reserve(ctx, "default", "b", ttl)
	require.ErrorIs(t, err, trials.ErrNoQueued, "the asked trial was taken over while its asker lived")
	second, err := o.Ask(ctx, 1)
	require.NoError(t, err)
	assert.NotEqual(t, first[0].ID, second[0].ID, "Ask handed out a running trial again")

	require.NoError(t, o.Report(ctx, first[0].ID, 1, 0.5))
	require.NoError(t, o.Heartbeat(ctx, first[0].ID))
	require.NoError(t, o.Tell(ctx, first[0].ID, trials.OK(0.25)))
	got, err := mem.Get(ctx, "default", first[0].ID)
	require.NoError(t, err)
	assert.Equal(t, trials.StateDone, got.State)
	assert.Equal(t, 1, got.Attempt)
	assert.Equal(t, []trials.Report{{Step: 1, Value: 0.5}}, got.Reports)

	// Close: the second trial's lease is no longer kept, and another
	// evaluator takes it over once it expires.
	// (A heartbeat begun before Close may still land: the clock advances
	// again until the lease stays expired.)
	require.NoError(t, o.Close())
	require.Eventually(t, func() bool {
		clock.Advance(time.Hour)
		tr, err := mem.Reserve(ctx, "default", "b", time.Hour)
		return err == nil && tr.ID == second[0].ID && tr.Attempt == 2
	}, 5*time.Second, 10*time.Millisecond)
	err = o.Tell(ctx, second[0].ID, trials.OK(1))
	assert.ErrorIs(t, err, trials.ErrConflict, "a result told under a lease taken over must be refused")
}

// HyperoptNoProgressLoss follows HyperOpt 0.2.7's no_progress_loss: a
// relative margin, and the first trial counting as one without progress.
func TestHyperoptNoProgressLoss(t *testing.T) {
	t.Parallel()
	done := func(loss float64) trials.Trial {
		return trials.Trial{State: trials.StateDone, Result: trials.OK(loss)}
	}
	// Losses 10, then 9.5 (not below 10 - 10% = 9: no progress), 8.9
	// (progress), then no progress: with a count of 3 it stops at the
	// third trial after 8.9.
	stop := fmin.HyperoptNoProgressLoss(3, 10)
	var got []bool
	for _, l := range []float64{10, 9.5, 8.9, 8.5, 8.2, 8.1} {
		got = append(got, stop(nil, done(l)))
	}
	assert.Equal(t, []bool{false, false, false, false, false, true}, got)

	// Never improving: it stops after iterationStopCount trials in all,
	// the first included, as HyperOpt's does.
	stop = fmin.HyperoptNoProgressLoss(3, 0)
	got = got[:0]
	for range 3 {
		got = append(got, stop(nil, done(1)))
	}
	assert.Equal(t, []bool{false, false, true}, got)

	// A negative best: the margin is on its magnitude (-10.5 is not below
	// -11, -11.5 is).
	stop = fmin.HyperoptNoProgressLoss(3, 10)
	got = got[:0]
	for _, l := range []float64{-10, -10.5, -11.5, -12, -12.1, -12.2} {
		got = append(got, stop(nil, done(l)))
	}
	assert.Equal(t, []bool{false, false, false, false, false, true}, got)
}

// After an import into a fresh store, forgetting Options.Experiment is an
// error naming the stored experiments, not a new "default" search beside
// them.
func TestEmptyExperimentKeyAmbiguous(t *testing.T) {
	t.Parallel()
	s, err := space.New(space.Dict{"x": space.Uniform("x", -1, 1)})
	require.NoError(t, err)
	store := trials.NewMemory(nil)
	ctx := t.Context()
	_, err = fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, Experiment: "votes", MaxEvals: 5})
	require.NoError(t, err)
	_, err = fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, MaxEvals: 5})
	require.ErrorIs(t, err, fmin.ErrAmbiguousExperiment)
	assert.ErrorContains(t, err, `"votes"`)
	_, err = fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, Experiment: "default", MaxEvals: 5})
	require.NoError(t, err, "an explicit \"default\" starts a new search")
	_, err = fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, MaxEvals: 5})
	require.NoError(t, err, "with a \"default\" experiment, the empty key is it")
}

// A search over an edited space (a range widened, an option added) carries
// over the earlier experiment's trials that fit it.
func TestCarryOver(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := trials.NewMemory(nil)
	v1, err := space.New(space.Dict{"x": space.Uniform("x", 0, 1), "kind": space.Choice("kind", "a", "b")})
	require.NoError(t, err)
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		return trials.OK(tr.Values()[0]), nil
	}
	_, err = fmin.Minimize(ctx, f, v1, &fmin.Options{Store: store, Experiment: "v1", MaxEvals: 20, Algorithm: random.Search{}, Seed: 2})
	require.NoError(t, err)
	old := trials.New(store, "v1", v1)
	require.NoError(t, old.Refresh(ctx))

	// x narrowed to [0, 0.5] (some old trials no longer fit); kind gains
	// an option.
	v2, err := space.New(space.Dict{"x": space.Uniform("x", 0, 0.5), "kind": space.Choice("kind", "a", "b", "c")})
	require.NoError(t, err)
	fits := 0
	for _, tr := range old.All() {
		if tr.Values[0] <= 0.5 {
			fits++
		}
	}
	require.Positive(t, fits)
	res, err := fmin.Minimize(ctx, f, v2, &fmin.Options{Store: store, Experiment: "v2", MaxEvals: 30, CarryOver: old, Algorithm: random.Search{}, Seed: 3})
	require.NoError(t, err)
	assert.Equal(t, 30, res.Trials.Len())
	for _, tr := range res.Trials.All()[:fits] {
		cfg, err := v2.Eval(tr.Values)
		require.NoError(t, err)
		assert.Equal(t, tr.Values[0], tr.Result.Loss, "a carried trial keeps its result")
		assert.LessOrEqual(t, cfg.(map[string]any)["x"].(float64), 0.5)
	}
}

// A panic in OnTrial stops the search with an error naming it; the trial is
// recorded, none is left running.
func TestOnTrialPanic(t *testing.T) {
	t.Parallel()
	s, err := space.New(space.Dict{"x": space.Uniform("x", -1, 1)})
	require.NoError(t, err)
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) { return trials.OK(1), nil }
	res, err := fmin.Minimize(t.Context(), f, s, &fmin.Options{MaxEvals: 10, Parallelism: 2, OnTrial: func(trials.Trial) { panic("callback bug") }})
	require.ErrorContains(t, err, "OnTrial panicked: callback bug")
	assert.Equal(t, fmin.StopError, res.Stop)
	assert.Zero(t, res.Trials.Counts()[trials.StateRunning], "a trial was left running")
}

// Registering a nil constructor or an empty name is an error, and a
// constructor that returns no algorithm is caught by New.
func TestRegistryRefuses(t *testing.T) {
	t.Parallel()
	r := fmin.NewRegistry()
	require.Error(t, r.Register("", func(json.RawMessage) (fmin.Algorithm, error) { return random.Search{}, nil }))
	require.Error(t, r.Register("x", nil))
	require.NoError(t, r.Register("nil", func(json.RawMessage) (fmin.Algorithm, error) { return nil, nil }))
	_, err := r.New("nil", nil)
	require.ErrorContains(t, err, "returned no algorithm")
}

// Spaces at the edges of what space.New accepts give valid proposals with
// every algorithm: tiny normal sigmas and quantization steps.
func TestExtremeSpacesPropose(t *testing.T) {
	t.Parallel()
	s, err := space.New(space.Dict{
		"n":  space.Normal("n", 0, 1e-300),
		"ln": space.LogNormal("ln", 0, 1e-300),
		"q":  space.QNormal("q", 0, 1e-300, 1e-300),
		"u":  space.Uniform("u", 0, 3e-308),
	})
	require.NoError(t, err)
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		return trials.OK(float64(tr.ID()%7) - 3), nil
	}
	for name, alg := range map[string]fmin.Algorithm{"random": random.Search{}, "tpe": tpe.Search{}, "compat": tpe.HyperoptCompat()} {
		res, err := fmin.Minimize(t.Context(), f, s, &fmin.Options{MaxEvals: 30, Seed: 5, Algorithm: alg})
		require.NoError(t, err, name)
		for _, tr := range res.Trials.All() {
			require.NoError(t, s.Validate(tr.Values), "%s: trial %d proposed %v", name, tr.ID, tr.Values)
		}
	}
}
