package fmin_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// reviewClock is a settable clock for trials.Memory.
type reviewClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *reviewClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *reviewClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The driver records an outcome with the lease its Trials view holds at
// record time, not the lease the evaluation ran under. When another process
// took the trial over (its lease expired) and the view was refreshed in
// between, the stale evaluation's result is written under the new owner's
// lease, and the new owner's own Finish is then refused: the exactly-once
// rule ("a finish with a stale token is ErrConflict") is broken.
func TestReviewStaleEvaluationFinishesUnderNewLease(t *testing.T) {
	clock := &reviewClock{t: time.Unix(1_000_000, 0)}
	store := trials.NewMemory(&trials.MemoryOptions{Now: clock.Now})
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
			case <-time.After(5 * time.Second):
			}
			return trials.OK(0.5), nil // the stale attempt's result
		default:
			// Meanwhile trial 0's lease expires and a peer takes it over.
			clock.Advance(2 * time.Hour)
			peer, peerErr = store.Reserve(ctx, "e", "peer", time.Hour)
			return trials.OK(1), nil
		}
	}
	// The peer finishes its attempt a little after the driver's stale
	// attempt returns; the driver waits for it (the budget is spent but a
	// trial still runs), so Minimize returns after it.
	peerFinish := make(chan error, 1)
	_, err := fmin.Minimize(ctx, obj, s, &fmin.Options{
		Algorithm: random.Search{}, MaxEvals: 2, Parallelism: 2, Seed: 1,
		Store: store, Experiment: "e", LeaseTTL: time.Hour, Progress: fmin.ProgressOff,
		OnTrial: func(tr trials.Trial) {
			if tr.ID == 1 {
				close(trial1Recorded)
				go func() {
					time.Sleep(100 * time.Millisecond)
					peerFinish <- store.Finish(ctx, "e", peer.Lease(), trials.StateDone, trials.OK(7))
				}()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if peerErr != nil || peer.ID != 0 || peer.Attempt != 2 {
		t.Fatalf("peer Reserve = trial %d attempt %d, %v; want trial 0 attempt 2", peer.ID, peer.Attempt, peerErr)
	}
	if err := <-peerFinish; err != nil {
		t.Errorf("the peer's Finish with its current lease %+v = %v, want nil", peer.Lease(), err)
	}
	got, _ := store.Get(ctx, "e", 0)
	if got.State != trials.StateDone || got.Result.Loss != 7 {
		t.Errorf("trial 0 is %v with loss %v, want done with the peer's 7 (the driver's stale attempt 1 had 0.5)", got.State, got.Result.Loss)
	}
}

// Optimizer.Ask only proposes new trials: it never hands out queued ones.
// Points given to NewOptimizer (which it enqueues) and the canceled trials
// it requeues are therefore never returned to an ask/tell user, yet they use
// the budget.
func TestReviewAskNeverReturnsQueuedPoints(t *testing.T) {
	ctx := context.Background()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{
		Algorithm: random.Search{}, MaxEvals: 2, Seed: 1,
		Points: []any{map[string]any{"x": 1.0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []trials.Trial
	for {
		ts, err := o.Ask(ctx, 1)
		if err != nil {
			break
		}
		got = append(got, ts...)
	}
	evaluated := false
	for _, tr := range got {
		if tr.ID == 0 {
			evaluated = true
		}
	}
	if !evaluated {
		t.Errorf("Ask handed out trials %v until the budget ran out, never the point (trial 0, still %v)", ids(got), state(o, 0))
	}
}

func ids(ts []trials.Trial) []trials.ID {
	var out []trials.ID
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func state(o *fmin.Optimizer, id trials.ID) trials.State {
	t, _ := o.Trials().Get(id)
	return t.State
}

// Options.MaxEvals once said "0 means no limit", but resuming with
// MaxEvals 0 keeps the stored budget (the store only changes it for a
// non-zero MaxEvals). The doc now says so; this pins that behaviour.
func TestReviewMaxEvalsZeroOnResume(t *testing.T) {
	ctx := context.Background()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	store := trials.NewMemory(nil)
	base := fmin.Options{Algorithm: random.Search{}, Seed: 1, Store: store, Experiment: "e", Progress: fmin.ProgressOff}
	first := base
	first.MaxEvals = 3
	if _, err := fmin.Minimize(ctx, quadratic, s, &first); err != nil {
		t.Fatal(err)
	}
	// Options.MaxEvals documents 0 as "the stored budget" on resume: the
	// experiment is complete, so nothing more runs.
	n := 0
	second := base
	second.EarlyStop = func(*trials.Trials, trials.Trial) bool { n++; return n >= 2 }
	res, err := fmin.Minimize(ctx, quadratic, s, &second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Evaluated != 0 || res.Stop != fmin.StopMaxEvals || res.Trials.Len() != 3 {
		t.Errorf("resume with MaxEvals 0 of a finished 3-trial experiment: evaluated %d, stop %v, %d trials; want 0, max evals, 3", res.Evaluated, res.Stop, res.Trials.Len())
	}
	// A larger MaxEvals raises the stored budget.
	third := second
	third.MaxEvals = 10
	n = 0
	res, err = fmin.Minimize(ctx, quadratic, s, &third)
	if err != nil {
		t.Fatal(err)
	}
	if res.Evaluated != 2 || res.Stop != fmin.StopEarly {
		t.Errorf("resume with MaxEvals 10 and an early stop after 2: evaluated %d, stop %v; want 2, early stop", res.Evaluated, res.Stop)
	}
}

// Peers (DESIGN, Distributed search): every process runs Minimize on the
// same experiment and "the search ends when every trial is finished". A
// peer whose Claim is refused for the budget returns at once, while the
// other peer's trials are still running (and so also after a crash, before
// the dead process's leases expire), with no result.
func TestReviewPeerReturnsWhileTrialsRun(t *testing.T) {
	ctx := context.Background()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	store := trials.NewMemory(nil)
	opts := func() *fmin.Options {
		return &fmin.Options{Algorithm: random.Search{}, MaxEvals: 2, Parallelism: 2, Seed: 1, Store: store, Experiment: "e", Progress: fmin.ProgressOff}
	}
	release := make(chan struct{})
	var started atomic.Int32
	allStarted := make(chan struct{})
	slow := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		if started.Add(1) == 2 {
			close(allStarted)
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return trials.OK(1), nil
	}
	aDone := make(chan error, 1)
	go func() {
		_, err := fmin.Minimize(ctx, slow, s, opts())
		aDone <- err
	}()
	<-allStarted

	type out struct {
		res *fmin.Result
		err error
	}
	bDone := make(chan out, 1)
	go func() {
		res, err := fmin.Minimize(ctx, quadratic, s, opts())
		bDone <- out{res, err}
	}()
	select {
	case b := <-bDone:
		t.Errorf("peer B returned while peer A's 2 trials were still running: stop %v, err %v", b.res.Stop, b.err)
		close(release)
	case <-time.After(300 * time.Millisecond):
		close(release)
		if b := <-bDone; b.err != nil {
			t.Errorf("peer B after every trial finished: %v", b.err)
		}
	}
	if err := <-aDone; err != nil {
		t.Errorf("peer A: %v", err)
	}
}

// An algorithm's error ends the search with StopCanceled, documented as "the
// caller's context was canceled", although nobody canceled anything.
type failingAlg struct{}

var errAlg = errors.New("review: algorithm failed")

func (failingAlg) Suggest(context.Context, *space.Space, *trials.History, []trials.ID, uint64) ([]space.Values, error) {
	return nil, errAlg
}

func TestReviewAlgorithmErrorStopReason(t *testing.T) {
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	res, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{Algorithm: failingAlg{}, MaxEvals: 3, Progress: fmin.ProgressOff})
	if !errors.Is(err, errAlg) {
		t.Errorf("err = %v, want the algorithm's error", err)
	}
	if res != nil && res.Stop == fmin.StopCanceled {
		t.Errorf("stop = %v (\"the caller's context was canceled\"), but the context was never canceled", res.Stop)
	}
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
// with the caller's ctx: if ctx ends in between, Add returns an error for a
// trial it recorded, and the natural retry records the point twice.
func TestReviewAddErrorAfterRecording(t *testing.T) {
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mem := trials.NewMemory(nil)
	store := &cancelingStore{Store: mem, cancel: cancel}
	o, err := fmin.NewOptimizer(context.Background(), s, &fmin.Options{Algorithm: random.Search{}, MaxEvals: 5, Seed: 1, Store: store, Experiment: "e"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Add(ctx, map[string]any{"x": 1.0}, trials.OK(1))
	ts, _, cerr := mem.Changes(context.Background(), "e", 0, 0)
	if cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil && len(ts) == 1 && ts[0].State == trials.StateDone {
		t.Errorf("Add = %v, but the trial was recorded (trial %d, %v): a retry adds it twice", err, ts[0].ID, ts[0].State)
	}
}

// Same root cause as TestReviewStaleEvaluationFinishesUnderNewLease, for a
// cancellation: the driver cancels by trial ID, so when the search is
// canceled after a peer took a trial over, the driver cancels the peer's
// running attempt.
func TestReviewCancelHitsNewOwnersAttempt(t *testing.T) {
	clock := &reviewClock{t: time.Unix(1_000_000, 0)}
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
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if peerErr != nil || peer.ID != 0 || peer.Attempt != 2 {
		t.Fatalf("peer Reserve = trial %d attempt %d, %v; want trial 0 attempt 2", peer.ID, peer.Attempt, peerErr)
	}
	if got, _ := store.Get(context.Background(), "e", 0); got.State != trials.StateRunning {
		t.Errorf("trial 0, running for the peer (attempt 2), is %v after the driver's stale attempt 1 was canceled; want running", got.State)
	}
	if err := store.Finish(context.Background(), "e", peer.Lease(), trials.StateDone, trials.OK(7)); err != nil {
		t.Errorf("the peer's Finish with its current lease = %v, want nil", err)
	}
}

// Deterministic mode holds a finished trial's outcome until the whole batch
// is in, but its evaluate goroutine (and so its heartbeat) has ended: while
// the batch's slowest trial runs, the finished trial's lease expires in the
// store and any other process can Reserve it and evaluate it again, though
// the driver that evaluated it is alive and will record it.
func TestReviewDeterministicBatchLetsLeasesExpire(t *testing.T) {
	store := trials.NewMemory(nil)
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	ctx := context.Background()
	const ttl = 30 * time.Millisecond
	var peer trials.Trial
	var peerErr error
	obj := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		if tr.ID() == 1 {
			time.Sleep(10 * ttl) // trial 0 is finished and held meanwhile
			peer, peerErr = store.Reserve(ctx, "e", "peer", time.Hour)
		}
		return trials.OK(float64(tr.ID())), nil
	}
	_, err := fmin.Minimize(ctx, obj, s, &fmin.Options{
		Algorithm: random.Search{}, MaxEvals: 2, Parallelism: 2, Deterministic: true, Seed: 1,
		Store: store, Experiment: "e", LeaseTTL: ttl, Progress: fmin.ProgressOff,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(peerErr, trials.ErrNoQueued) {
		t.Errorf("a peer's Reserve while the driver held trial 0's result = trial %d attempt %d, %v; want ErrNoQueued (the driver is alive)", peer.ID, peer.Attempt, peerErr)
	}
}
