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
	"github.com/hyperopt-go/hyperopt/trials"
)

// fakeClock is a settable clock for trials.Memory: a lease expires when the
// test advances it, never because the machine is slow.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// beatWatch is a store that counts the heartbeats of each trial made since
// the last call of Expire. (Embedding the Store interface hides the
// optional interfaces, trials.Batcher among them.)
type beatWatch struct {
	trials.Store
	clock *fakeClock

	mu    sync.Mutex
	gen   int
	beats map[trials.ID]int // heartbeats begun in generation gen
}

// Expire advances the clock past every lease, then starts counting
// heartbeats afresh: a heartbeat counted afterwards began after the
// advance, so it extended its lease from the new time.
func (w *beatWatch) Expire() {
	w.clock.Advance(time.Hour)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gen++
	w.beats = map[trials.ID]int{}
}

func (w *beatWatch) Heartbeat(ctx context.Context, exp string, l trials.Lease, ttl time.Duration) error {
	w.mu.Lock()
	gen := w.gen
	w.mu.Unlock()
	err := w.Store.Heartbeat(ctx, exp, l, ttl)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil && gen == w.gen && w.beats != nil {
		w.beats[l.ID]++
	}
	return err
}

// WaitBeats waits until each trial of want had at least its number of
// heartbeats since Expire, and reports whether it happened within 10 s.
func (w *beatWatch) WaitBeats(want map[trials.ID]int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		ok := true
		for id, n := range want {
			ok = ok && w.beats[id] >= n
		}
		w.mu.Unlock()
		if ok {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// finishWatch is a store that closes first when the first Finish of trial
// 0 returned.
type finishWatch struct {
	trials.Store
	once  sync.Once
	first chan struct{}
}

func (f *finishWatch) Finish(ctx context.Context, exp string, l trials.Lease, st trials.State, r trials.Result) error {
	err := f.Store.Finish(ctx, exp, l, st, r)
	if l.ID == 0 {
		f.once.Do(func() { close(f.first) })
	}
	return err
}

// The driver once recorded an outcome with the lease its Trials view held
// at record time, not the lease the evaluation ran under. When another
// process had taken the trial over (its lease expired) and the view was
// refreshed in between, the stale evaluation's result was written under
// the new owner's lease, and the new owner's own Finish was then refused,
// breaking the exactly-once rule ("a finish with a stale token is
// ErrConflict"). The stale result must be refused and the new owner's
// accepted.
func TestStaleEvaluationDoesNotFinishUnderNewLease(t *testing.T) {
	clock := newFakeClock()
	mem := trials.NewMemory(&trials.MemoryOptions{Now: clock.Now})
	store := &finishWatch{Store: mem, first: make(chan struct{})}
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	ctx := context.Background()

	var peer trials.Trial
	var peerErr error
	trial1Recorded := make(chan struct{})
	obj := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		switch tr.ID() {
		case 0:
			// Return only after the driver recorded trial 1 (and so
			// refreshed its view).
			select {
			case <-trial1Recorded:
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
			}
			return trials.OK(0.5), nil // the stale attempt's result
		default:
			// Meanwhile trial 0's lease expires and a peer takes it over.
			clock.Advance(2 * time.Hour)
			peer, peerErr = mem.Reserve(ctx, "e", "peer", time.Hour)
			return trials.OK(1), nil
		}
	}
	// The peer finishes its attempt once the driver tried to record its
	// stale one; the driver waits for it (the budget is spent but a trial
	// still runs), so Minimize returns after it.
	peerFinish := make(chan error, 1)
	_, err := fmin.Minimize(ctx, obj, s, &fmin.Options{
		Algorithm: random.Search{}, MaxEvals: 2, Parallelism: 2, Seed: 1,
		Store: store, Experiment: "e", LeaseTTL: time.Hour, Progress: fmin.ProgressOff,
		OnTrial: func(tr trials.Trial) {
			if tr.ID == 1 {
				close(trial1Recorded)
				go func() {
					select {
					case <-store.first:
					case <-time.After(10 * time.Second):
						peerFinish <- errors.New("the driver never recorded trial 0")
						return
					}
					peerFinish <- mem.Finish(ctx, "e", peer.Lease(), trials.StateDone, trials.OK(7))
				}()
			}
		},
	})
	require.NoError(t, err)
	require.NoError(t, peerErr)
	require.Equal(t, trials.ID(0), peer.ID, "the peer's Reserve")
	require.Equal(t, 2, peer.Attempt, "the peer's Reserve")
	assert.NoError(t, <-peerFinish, "the peer's Finish with its current lease %+v", peer.Lease())
	got, err := mem.Get(ctx, "e", 0)
	require.NoError(t, err)
	assert.Equal(t, trials.StateDone, got.State)
	assert.Equal(t, 7.0, got.Result.Loss, "trial 0 must have the peer's loss 7 (the driver's stale attempt 1 had 0.5)")
}

// The driver once canceled by trial ID (the same root cause as above): when
// the search was canceled after a peer had taken a trial over, the driver
// canceled the peer's running attempt. It must leave it running.
func TestCancelSparesNewOwnersAttempt(t *testing.T) {
	clock := newFakeClock()
	store := trials.NewMemory(&trials.MemoryOptions{Now: clock.Now})
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var peer trials.Trial
	var peerErr error
	obj := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		clock.Advance(2 * time.Hour)
		peer, peerErr = store.Reserve(context.Background(), "e", "peer", time.Hour)
		cancel()
		<-ctx.Done()
		return trials.Result{}, ctx.Err()
	}
	_, err := fmin.Minimize(ctx, obj, s, &fmin.Options{
		Algorithm: random.Search{}, MaxEvals: 1, Seed: 1,
		Store: store, Experiment: "e", LeaseTTL: time.Hour, Progress: fmin.ProgressOff,
	})
	assert.ErrorIs(t, err, context.Canceled)
	require.NoError(t, peerErr)
	require.Equal(t, trials.ID(0), peer.ID, "the peer's Reserve")
	require.Equal(t, 2, peer.Attempt, "the peer's Reserve")
	got, err := store.Get(context.Background(), "e", 0)
	require.NoError(t, err)
	assert.Equal(t, trials.StateRunning, got.State, "trial 0, running for the peer (attempt 2), after the driver's stale attempt 1 was canceled")
	assert.NoError(t, store.Finish(context.Background(), "e", peer.Lease(), trials.StateDone, trials.OK(7)), "the peer's Finish with its current lease")
}

// Deterministic mode handles a batch's outcomes (stop rules, callbacks)
// once the whole batch is in. It once held a finished trial's outcome
// unrecorded until then, while its evaluate goroutine (which heartbeats)
// had ended: the trial's lease expired while the batch's slowest trial ran,
// and any other process could Reserve it and evaluate it again though the
// driver was alive and would record it. (The driver now records each
// outcome at once.) While trial 1 runs, the test waits until trial 0 is
// recorded, expires every lease on the store's clock and waits for a
// heartbeat of trial 1 begun afterwards: a peer must then find nothing to
// take over.
func TestDeterministicBatchLeavesNothingToTakeOver(t *testing.T) {
	clock := newFakeClock()
	store := &beatWatch{Store: trials.NewMemory(&trials.MemoryOptions{Now: clock.Now}), clock: clock}
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	ctx := context.Background()
	const ttl = 30 * time.Millisecond // heartbeats every 10 ms of real time
	var peer trials.Trial
	var peerErr error
	beaten := false
	obj := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		if tr.ID() == 1 {
			// Wait until trial 0 is finished in the store (never, once).
			deadline := time.Now().Add(10 * time.Second)
			for {
				got, err := store.Get(ctx, "e", 0)
				if err == nil && got.State.Finished() {
					break
				}
				if time.Now().After(deadline) {
					return trials.Result{}, errors.New("trial 0 was never recorded while trial 1 ran")
				}
				time.Sleep(time.Millisecond)
			}
			store.Expire()
			beaten = store.WaitBeats(map[trials.ID]int{1: 1})
			peer, peerErr = store.Reserve(ctx, "e", "peer", time.Hour)
		}
		return trials.OK(float64(tr.ID())), nil
	}
	_, err := fmin.Minimize(ctx, obj, s, &fmin.Options{
		Algorithm: random.Search{}, MaxEvals: 2, Parallelism: 2, Deterministic: true, Seed: 1,
		Store: store, Experiment: "e", LeaseTTL: ttl, Progress: fmin.ProgressOff,
	})
	require.NoError(t, err)
	assert.True(t, beaten, "the running trial 1 had no heartbeat after its lease expired")
	assert.ErrorIs(t, peerErr, trials.ErrNoQueued,
		"a peer's Reserve while the driver held trial 0's result = trial %d attempt %d; want none (the driver is alive)", peer.ID, peer.Attempt)
}
