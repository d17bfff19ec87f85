package fmin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustSpace(t testing.TB, root any) *space.Space {
	t.Helper()
	s, err := space.New(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func xOf(cfg any) float64 { return cfg.(map[string]any)["x"].(float64) }

var quadratic = fmin.LossFunc(func(_ context.Context, cfg any) (float64, error) {
	x := xOf(cfg)
	return (x - 3) * (x - 3), nil
})

// HyperOpt's test_fmin quadratic: random search, 500 evals, argmin within
// 0.25 of 3.
func TestQuadratic(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	res, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{MaxEvals: 500, Seed: 123})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stop != fmin.StopMaxEvals || res.Trials.Len() != 500 || res.Evaluated != 500 {
		t.Errorf("stop %v, %d trials, %d evaluated; want max evals, 500, 500", res.Stop, res.Trials.Len(), res.Evaluated)
	}
	if x := xOf(res.Config); math.Abs(x-3) >= 0.25 {
		t.Errorf("argmin x = %v, want within 0.25 of 3", x)
	}
	if res.Seed != 123 {
		t.Errorf("Seed = %d, want 123", res.Seed)
	}
}

func TestNoStopRule(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Uniform("x", 0, 1))
	if _, err := fmin.Minimize(context.Background(), quadratic, s, nil); !errors.Is(err, fmin.ErrNoStopRule) {
		t.Errorf("Minimize without a stop rule: error = %v, want ErrNoStopRule", err)
	}
	if _, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{Timeout: -time.Second}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative Timeout: error = %v", err)
	}
	if _, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{MaxEvals: -1}); err == nil {
		t.Error("negative MaxEvals accepted")
	}
}

// A timeout stops the search between 1x and 1x + 3 s, and the trials it
// interrupted are canceled. The first four trials return at once and every
// later one blocks until its context ends, so that whatever the machine's
// load, four trials are done and the ones running at the timeout are
// canceled by it.
func TestTimeout(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	const quick = 4
	slow := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		if tr.ID() < quick {
			return trials.OK(xOf(tr.Config())), nil
		}
		<-ctx.Done()
		return trials.Result{}, ctx.Err()
	}
	const timeout = 300 * time.Millisecond
	start := time.Now()
	res, err := fmin.Minimize(context.Background(), slow, s, &fmin.Options{Timeout: timeout, Parallelism: 2, Seed: 1})
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.Equal(t, fmin.StopTimeout, res.Stop)
	assert.GreaterOrEqual(t, elapsed, timeout)
	assert.LessOrEqual(t, elapsed, timeout+3*time.Second)
	c := res.Trials.Counts()
	assert.Equal(t, quick, c[trials.StateDone], "counts %v", c)
	assert.Positive(t, c[trials.StateCanceled], "counts %v: the trials running at the timeout must be canceled", c)
	assert.Zero(t, c[trials.StateRunning], "counts %v", c)
}

// HyperOpt's loss_threshold test: x² on U(-10, 10), no budget.
func TestLossThreshold(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -10, 10)})
	sq := fmin.LossFunc(func(_ context.Context, cfg any) (float64, error) { x := xOf(cfg); return x * x, nil })
	res, err := fmin.Minimize(context.Background(), sq, s, &fmin.Options{LossThreshold: fmin.Threshold(0.001), Seed: 0x5eed})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stop != fmin.StopLossThreshold || res.Best.Result.Loss >= 0.001 {
		t.Errorf("stop %v with best %v, want loss threshold below 0.001", res.Stop, res.Best.Result.Loss)
	}
	// The last trial is the one that crossed the threshold.
	all := res.Trials.All()
	if last := all[len(all)-1]; last.ID != res.Best.ID {
		t.Errorf("trial %d crossed the threshold but the search went on to %d", res.Best.ID, last.ID)
	}
}

// HyperOpt's early_stop test: a rule that stops at the 100th trial leaves
// exactly 100 of a budget of 500.
func TestEarlyStop(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	count := 0
	stop := func(_ *trials.Trials, _ trials.Trial) bool { count++; return count >= 100 }
	res, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{MaxEvals: 500, EarlyStop: stop, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stop != fmin.StopEarly || res.Trials.Len() != 100 {
		t.Errorf("stop %v after %d trials, want early stop after 100", res.Stop, res.Trials.Len())
	}
}

// HyperOpt's no_progress_loss test: a first point no draw can beat, then
// exactly patience trials.
func TestNoProgressLoss(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	ident := fmin.LossFunc(func(_ context.Context, cfg any) (float64, error) { return xOf(cfg), nil })
	res, err := fmin.Minimize(context.Background(), ident, s, &fmin.Options{
		MaxEvals: 500, Points: []any{map[string]any{"x": -5.0}}, EarlyStop: fmin.NoProgressLoss(10, 0), Seed: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stop != fmin.StopEarly || res.Trials.Len() != 10 {
		t.Errorf("stop %v after %d trials, want early stop after 10", res.Stop, res.Trials.Len())
	}
	// Failed trials count as no progress and do not crash the rule.
	failing := func(_ context.Context, _ *fmin.Trial) (trials.Result, error) { return trials.Fail("no"), nil }
	res, err = fmin.Minimize(context.Background(), failing, s, &fmin.Options{MaxEvals: 500, EarlyStop: fmin.NoProgressLoss(7, 0), Seed: 3})
	if !errors.Is(err, trials.ErrNoResult) || res.Stop != fmin.StopEarly || res.Trials.Len() != 7 {
		t.Errorf("all failing: stop %v after %d trials, err %v; want early stop after 7 and ErrNoResult", res.Stop, res.Trials.Len(), err)
	}
}

// HyperOpt's points_to_evaluate test, and points in a conditional space
// given as configs.
func TestPoints(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5), "y": space.Uniform("y", -5, 5)})
	f := fmin.LossFunc(func(_ context.Context, cfg any) (float64, error) {
		c := cfg.(map[string]any)
		x, y := c["x"].(float64), c["y"].(float64)
		return x*x + y*y, nil
	})
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{
		MaxEvals: 10, Seed: 4, Points: []any{map[string]any{"x": 0, "y": 0}, map[string]any{"x": 1.0, "y": 1.0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Trials.Len() != 10 || res.Best.ID != 0 || res.Best.Result.Loss != 0 {
		t.Errorf("%d trials, best %d with loss %v; want 10, the first point, 0", res.Trials.Len(), res.Best.ID, res.Best.Result.Loss)
	}

	cond := mustSpace(t, space.Dict{"m": space.Choice("m",
		space.Dict{"kind": "a", "u": space.Uniform("u", 0, 1)},
		space.Dict{"kind": "b", "n": space.RandInt("n", 5)},
	)})
	var seen []any
	var mu sync.Mutex
	rec := fmin.LossFunc(func(_ context.Context, cfg any) (float64, error) {
		mu.Lock()
		seen = append(seen, cfg)
		mu.Unlock()
		return 0, nil
	})
	_, err = fmin.Minimize(context.Background(), rec, cond, &fmin.Options{MaxEvals: 3, Seed: 5, Points: []any{
		map[string]any{"m": map[string]any{"kind": "b", "n": 3}},
		map[string]any{"m": map[string]any{"kind": "a", "u": 0.5}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(seen[:2])
	if string(b) != `[{"m":{"kind":"b","n":3}},{"m":{"kind":"a","u":0.5}}]` {
		t.Errorf("points evaluated as %s", b)
	}
	_, err = fmin.Minimize(context.Background(), rec, cond, &fmin.Options{MaxEvals: 3, Points: []any{map[string]any{"m": map[string]any{"kind": "c"}}}})
	if !errors.Is(err, space.ErrNoMatch) || !strings.Contains(err.Error(), "point 0") {
		t.Errorf("a point outside the space: error = %v", err)
	}
}

// HyperOpt's test_status_fail: failures are recorded and never win.
func TestFailedTrials(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		x := xOf(tr.Config())
		if x >= 0 {
			return trials.Fail("x >= 0"), nil
		}
		return trials.OK((x - 3) * (x - 3)), nil
	}
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 50, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	if x := xOf(res.Config); x >= 0 || res.Best.Result.Loss < 9 || res.Trials.Len() != 50 {
		t.Errorf("best x %v loss %v over %d trials; want x < 0, loss >= 9, 50 trials", x, res.Best.Result.Loss, res.Trials.Len())
	}
	fails := 0
	for _, s := range res.Trials.Statuses() {
		if s == trials.StatusFail {
			fails++
		}
	}
	if fails == 0 {
		t.Error("no trial recorded as failed")
	}
}

// Errors, panics, NaN and infinite losses are recorded and the search goes
// on when ErrorLimit is negative.
func TestOutcomes(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		switch tr.ID() % 5 {
		case 0:
			return trials.Result{}, errors.New("boom")
		case 1:
			panic("kaboom")
		case 2:
			return trials.OK(math.NaN()), nil
		case 3:
			return trials.OK(math.Inf(-1)), nil
		}
		return trials.OK(xOf(tr.Config())), nil
	}
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 50, Seed: 7, Parallelism: 4, ErrorLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Trials.All() {
		var ok bool
		switch tr.ID % 5 {
		case 0:
			ok = tr.State == trials.StateError && tr.Result.Err == "boom"
		case 1:
			ok = tr.State == trials.StateError && strings.Contains(tr.Result.Err, "kaboom") && strings.Contains(tr.Result.Stack, "fmin_test.go")
		case 2, 3:
			ok = tr.State == trials.StateDone && tr.Result.Status == trials.StatusFail && math.IsInf(tr.Result.Loss, 1)
		default:
			ok = tr.State == trials.StateDone && tr.Result.Status == trials.StatusOK
		}
		if !ok {
			t.Errorf("trial %d recorded as %v %+v", tr.ID, tr.State, tr.Result)
		}
	}
	if res.Best.ID%5 != 4 {
		t.Errorf("best trial %d is not an ok one", res.Best.ID)
	}
	if res.Trials.Len() != 50 {
		t.Errorf("%d trials, want 50: errors count toward the budget", res.Trials.Len())
	}
}

func TestAllFailed(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Uniform("x", 0, 1))
	f := func(context.Context, *fmin.Trial) (trials.Result, error) { return trials.Result{}, errors.New("nope") }
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 10, Seed: 8, ErrorLimit: -1})
	if !errors.Is(err, trials.ErrNoResult) || !strings.Contains(err.Error(), "the first error, trial 0: nope") {
		t.Fatalf("error = %v, want ErrNoResult naming the first error", err)
	}
	if res == nil || res.Trials.Len() != 10 || res.Config != nil || res.Stop != fmin.StopMaxEvals {
		t.Errorf("result %+v: want 10 trials, no config, stop max evals", res)
	}
}

// By default, an objective that fails before any trial succeeded stops the
// search at once with its error and stack, instead of burning the budget;
// every error is logged at Warn.
func TestFirstErrorStops(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", 0, 1)})
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		var v any = 1
		return trials.OK(v.(float64)), nil // a bug: interface conversion panics
	}
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 200, Seed: 8, Logger: log})
	require.ErrorIs(t, err, fmin.ErrObjective)
	assert.ErrorContains(t, err, "interface conversion")
	assert.ErrorContains(t, err, "fmin_test.go", "the error carries the panic's stack")
	assert.Equal(t, fmin.StopError, res.Stop)
	assert.Equal(t, 1, res.Trials.Len(), "the budget was burned")
	assert.Contains(t, logs.String(), "trial ended in error")
	assert.Contains(t, logs.String(), "interface conversion")
}

// With ErrorLimit n, n errors in a row stop the search, even after trials
// succeeded; fewer do not.
func TestErrorLimit(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", 0, 1)})
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		switch id := tr.ID(); {
		case id < 2, id == 4:
			return trials.OK(1), nil
		case id == 3 || id >= 5:
			return trials.Result{}, fmt.Errorf("disk full at trial %d", id)
		}
		return trials.Result{}, errors.New("flaky")
	}
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 50, Seed: 8, ErrorLimit: 3})
	require.ErrorIs(t, err, fmin.ErrObjective)
	assert.ErrorContains(t, err, "3 trials in a row")
	assert.ErrorContains(t, err, "disk full at trial 7")
	assert.Equal(t, 8, res.Trials.Len())

	// The default tolerates errors once a trial succeeded.
	res, err = fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 12, Seed: 8})
	require.NoError(t, err)
	assert.Equal(t, 12, res.Trials.Len())
}

// Canceling the caller's context stops the search with its error; the
// running trials are canceled, and resuming runs them again. The first five
// trials return at once and every later one blocks until its context ends;
// the test cancels once five are recorded and a blocking one runs, so that
// the cancellation always finds a trial to cancel.
func TestCancel(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const quick = 5
	blocking := make(chan struct{})
	var once sync.Once
	f := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		if tr.ID() < quick {
			return trials.OK(xOf(tr.Config())), nil
		}
		once.Do(func() { close(blocking) })
		<-ctx.Done()
		return trials.Result{}, ctx.Err()
	}
	recorded := make(chan struct{})
	go func() {
		select {
		case <-recorded:
		case <-ctx.Done():
			return
		}
		select {
		case <-blocking:
		case <-ctx.Done():
		}
		cancel()
	}()
	store := trials.NewMemory(nil)
	done := 0
	res, err := fmin.Minimize(ctx, f, s, &fmin.Options{MaxEvals: 100, Parallelism: 3, Store: store, Experiment: "e", Seed: 9,
		OnTrial: func(trials.Trial) {
			if done++; done == quick {
				close(recorded)
			}
		}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, fmin.StopCanceled, res.Stop)
	c := res.Trials.Counts()
	assert.Equal(t, quick, c[trials.StateDone], "counts after cancel %v", c)
	assert.Positive(t, c[trials.StateCanceled], "counts after cancel %v", c)
	assert.Zero(t, c[trials.StateRunning], "counts after cancel %v", c)

	res2, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{MaxEvals: 20, Store: store, Experiment: "e"})
	require.NoError(t, err)
	assert.Equal(t, map[trials.State]int{trials.StateDone: 20}, res2.Trials.Counts(), "resumed")
	assert.Equal(t, 20, res2.Trials.Len())
}

// A trial over TrialTimeout ends in error; one that ignores its context is
// abandoned after the grace period.
func TestTrialTimeout(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	release := make(chan struct{})
	defer close(release)
	f := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		switch tr.ID() {
		case 1:
			<-ctx.Done()
			return trials.Result{}, ctx.Err()
		case 2:
			<-release // ignores its context
			return trials.OK(0), nil
		}
		return trials.OK(1), nil
	}
	start := time.Now()
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 5, TrialTimeout: 30 * time.Millisecond, Grace: 50 * time.Millisecond, Seed: 10})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v: the hung objective was not abandoned", el)
	}
	for _, id := range []trials.ID{1, 2} {
		tr, _ := res.Trials.Get(id)
		if tr.State != trials.StateError || !strings.Contains(tr.Result.Err, "trial timeout") {
			t.Errorf("trial %d: %v %q, want error with trial timeout", id, tr.State, tr.Result.Err)
		}
	}
	if c := res.Trials.Counts(); c[trials.StateDone] != 3 {
		t.Errorf("counts %v, want 3 done", c)
	}
}

// Parallelism 8 runs 8 objectives at once, and never more, race-free. The
// first 8 objectives wait until all 8 run (the wait's deadline only turns
// a driver that cannot run 8 at once into a failure instead of a hang).
func TestParallelism(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	const par = 8
	var now, peak, started atomic.Int32
	allIn := make(chan struct{})
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		n := now.Add(1)
		defer now.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if k := started.Add(1); k == par {
			close(allIn)
		}
		if tr.ID() < par {
			select {
			case <-allIn:
			case <-time.After(10 * time.Second):
				return trials.Result{}, errors.New("the first 8 objectives never ran at once")
			}
		}
		return trials.OK(xOf(tr.Config())), nil
	}
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 200, Parallelism: par, Seed: 11, ErrorLimit: -1})
	require.NoError(t, err)
	assert.Equal(t, int32(par), peak.Load(), "peak concurrency")
	assert.Equal(t, map[trials.State]int{trials.StateDone: 200}, res.Trials.Counts())
}

// exhausting proposes n points, then none.
type exhausting struct{ n int }

func (e *exhausting) Suggest(ctx context.Context, s *space.Space, h *trials.History, ids []trials.ID, seed uint64) ([]space.Values, error) {
	if h.Len() >= e.n {
		return nil, nil
	}
	return random.Search{}.Suggest(ctx, s, h, ids, seed)
}

func TestExhausted(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	store := trials.NewMemory(nil)
	res, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{Algorithm: &exhausting{3}, MaxEvals: 10, Store: store, Experiment: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stop != fmin.StopExhausted || res.Trials.Len() != 3 {
		t.Errorf("stop %v with %d trials, want exhausted with 3", res.Stop, res.Trials.Len())
	}
	es, _ := store.Experiments(context.Background())
	if es[0].Claimed != 3 {
		t.Errorf("budget used %d, want 3: the exhausted claim is released", es[0].Claimed)
	}
}

func TestAskTell(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5), "c": space.Choice("c", "a", "b")})
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{MaxEvals: 5, Seed: 12})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := o.Ask(ctx, 3)
	if err != nil || len(ts) != 3 {
		t.Fatalf("Ask(3) = %d trials, %v", len(ts), err)
	}
	for _, tr := range ts {
		if tr.State != trials.StateRunning {
			t.Errorf("asked trial %d is %v, want running", tr.ID, tr.State)
		}
	}
	if err := o.Tell(ctx, ts[0].ID, trials.OK(1)); err != nil {
		t.Fatal(err)
	}
	if err := o.Tell(ctx, ts[0].ID, trials.OK(1)); err != nil {
		t.Errorf("telling the same result again: %v, want nil", err)
	}
	if err := o.Tell(ctx, ts[0].ID, trials.OK(2)); !errors.Is(err, trials.ErrConflict) {
		t.Errorf("telling another result: %v, want ErrConflict", err)
	}
	if err := o.Tell(ctx, 99, trials.OK(2)); !errors.Is(err, trials.ErrNotFound) {
		t.Errorf("telling an unknown trial: %v, want ErrNotFound", err)
	}
	if err := o.TellError(ctx, ts[1].ID, errors.New("oom")); err != nil {
		t.Fatal(err)
	}
	added, err := o.Add(ctx, map[string]any{"x": 3.0, "c": "b"}, trials.OK(-1))
	if err != nil || added.State != trials.StateDone || added.Values[0] != 1 {
		t.Fatalf("Add = %+v, %v", added, err)
	}
	if _, err := o.Ask(ctx, 5); err != nil { // one left in the budget of 5
		t.Fatalf("Ask near the budget: %v", err)
	}
	if _, err := o.Ask(ctx, 1); !errors.Is(err, trials.ErrBudget) {
		t.Errorf("Ask past the budget: %v, want ErrBudget", err)
	}
	best, err := o.Trials().Best()
	if err != nil || best.ID != added.ID {
		t.Errorf("best = %d, %v; want the added trial %d", best.ID, err, added.ID)
	}
}

// Reports and attachments made through the handle are kept with the trial.
func TestReportAttach(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	store := trials.NewMemory(nil)
	f := func(ctx context.Context, tr *fmin.Trial) (trials.Result, error) {
		for step := range 3 {
			if err := tr.Report(ctx, int64(step), float64(10-step)); err != nil {
				return trials.Result{}, err
			}
		}
		tr.Attach("model", []byte("weights"))
		tr.Logger().Info("done")
		return trials.Result{Loss: 1, Extras: map[string]any{"epochs": 3}}, nil
	}
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 2, Store: store, Experiment: "r"})
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Trials.All()[1]
	// Reports travel apart from the trial: the listing has none, the store
	// has them.
	if tr.Reports != nil {
		t.Errorf("listed trial carries reports %v, want none", tr.Reports)
	}
	got, err := store.Get(context.Background(), "r", tr.ID)
	if err != nil || len(got.Reports) != 3 || got.Reports[2] != (trials.Report{Step: 2, Value: 8}) {
		t.Errorf("Get(%d).Reports = %v, %v", tr.ID, got.Reports, err)
	}
	if rs, _, err := store.Reports(context.Background(), "r", 0, 0); err != nil || len(rs) != 6 {
		t.Errorf("Reports(0) = %d reports, %v; want 6 (3 per trial)", len(rs), err)
	}
	b, err := store.Attachment(context.Background(), "r", tr.ID, "model")
	if err != nil || string(b) != "weights" {
		t.Errorf("attachment %q, %v", b, err)
	}
	if got := string(res.Best.Result.Attachments["model"]); got != "weights" {
		t.Errorf("res.Best's attachment = %q, want its bytes", got)
	}
	if tr.Result.Extras["epochs"] != 3 || tr.Result.Status != trials.StatusOK {
		t.Errorf("result %+v", tr.Result)
	}
}

func TestTyped(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"lr": space.LogUniform("lr", 1e-4, 1), "layers": space.QUniformInt("layers", 1, 8, 1)})
	type cfg struct {
		LR     float64 `hyperopt:"lr"`
		Layers int
	}
	f := fmin.Typed(func(_ context.Context, c cfg, _ *fmin.Trial) (trials.Result, error) {
		return trials.OK(math.Abs(math.Log10(c.LR)+2) + float64(c.Layers)), nil
	})
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 50, Seed: 13})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Config.(map[string]any)["layers"].(int); !ok {
		t.Errorf("best config %v: layers is not an int", res.Config)
	}
}

func TestRegistryAndMismatch(t *testing.T) {
	t.Parallel()
	r := fmin.NewRegistry()
	a, err := r.New("random", nil)
	if err != nil || a == nil {
		t.Fatalf("New(random) = %v, %v", a, err)
	}
	if _, err := r.New("bogus", nil); !errors.Is(err, fmin.ErrUnknownAlgorithm) {
		t.Errorf("New(bogus): %v", err)
	}
	if a, err := r.New("tpe", json.RawMessage(`{"gamma_rule":"sqrt","gamma":0.25,"candidates":48,"overall_split":true}`)); err != nil || a != (tpe.Search{GammaRule: tpe.GammaSqrt, Gamma: 0.25, Candidates: 48, OverallSplit: true}) {
		t.Errorf("New(tpe, options) = %+v, %v", a, err)
	}
	if _, err := r.New("tpe", json.RawMessage(`{"gamma":2}`)); !errors.Is(err, tpe.ErrInvalidOption) {
		t.Errorf("New(tpe, gamma 2): %v, want ErrInvalidOption", err)
	}
	// An option of another version, or misspelt, is refused, not dropped.
	if _, err := r.New("tpe", json.RawMessage(`{"linear_gamma":0.1}`)); err == nil || !strings.Contains(err.Error(), "linear_gamma") {
		t.Errorf("New(tpe, an unknown option): %v, want an error naming it", err)
	}
	if err := r.Register("random", nil); err == nil {
		t.Error("registering a name twice succeeded")
	}
	ctx := context.Background()
	store := trials.NewMemory(nil)
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	if _, err := fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, Experiment: "k"}); err != nil {
		t.Fatal(err)
	}
	other := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 6)})
	_, err = fmin.NewOptimizer(ctx, other, &fmin.Options{Store: store, Experiment: "k"})
	var me *trials.MismatchError
	if !errors.Is(err, trials.ErrSpaceMismatch) || !errors.As(err, &me) || me.What != "space" {
		t.Errorf("another space: %v, want a space mismatch", err)
	}
	_, err = fmin.NewOptimizer(ctx, s, &fmin.Options{Store: store, Experiment: "k", Algorithm: &exhausting{1}})
	if !errors.Is(err, trials.ErrAlgorithm) {
		t.Errorf("another algorithm: %v, want ErrAlgorithm", err)
	}
}

func TestProgressBar(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	var buf bytes.Buffer
	_, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{MaxEvals: 20, Progress: fmin.ProgressOn, ProgressWriter: &buf})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "best loss") || !strings.Contains(out, "20/20") {
		t.Errorf("progress output %q lacks the best loss or the count", out)
	}
	buf.Reset()
	if _, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{MaxEvals: 5, ProgressWriter: &buf}); err != nil || buf.Len() != 0 {
		t.Errorf("ProgressAuto drew %q on a writer that is not a terminal", buf.String())
	}
}

// A search exported, imported into another store and resumed gives the
// trials of one uninterrupted search.
func TestExportImportResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5), "m": space.Choice("m", space.Dict{"k": "a"}, space.Dict{"k": "b", "n": space.RandInt("n", 4)})})
	first := trials.NewMemory(nil)
	if _, err := fmin.Minimize(ctx, quadratic, s, &fmin.Options{MaxEvals: 30, Store: first, Experiment: "e", Seed: 14}); err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	if err := trials.Export(ctx, &doc, first, "e"); err != nil {
		t.Fatal(err)
	}
	second := trials.NewMemory(nil)
	if _, err := trials.Import(ctx, bytes.NewReader(doc.Bytes()), second, nil); err != nil {
		t.Fatal(err)
	}
	resumed, err := fmin.Minimize(ctx, quadratic, s, &fmin.Options{MaxEvals: 60, Store: second, Experiment: "e"})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := fmin.Minimize(ctx, quadratic, s, &fmin.Options{MaxEvals: 60, Seed: 14})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Evaluated != 30 || resumed.Trials.Len() != 60 {
		t.Fatalf("resumed search evaluated %d, has %d trials; want 30 and 60", resumed.Evaluated, resumed.Trials.Len())
	}
	for i, a := range whole.Trials.All() {
		b := resumed.Trials.All()[i]
		if a.ID != b.ID || !space.Values.Equal(a.Values, b.Values) || a.Result.Loss != b.Result.Loss {
			t.Fatalf("trial %d: uninterrupted %v %v, resumed from an import %v %v", i, a.Values, a.Result.Loss, b.Values, b.Result.Loss)
		}
	}
}

// An objective that ends its goroutine with runtime.Goexit (t.FailNow in a
// test) is recorded as an error at once, not waited for.
func TestObjectiveGoexit(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	f := func(_ context.Context, tr *fmin.Trial) (trials.Result, error) {
		if tr.ID() == 1 {
			runtime.Goexit()
		}
		return trials.OK(1), nil
	}
	start := time.Now()
	res, err := fmin.Minimize(context.Background(), f, s, &fmin.Options{MaxEvals: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := res.Trials.Get(1)
	if tr.State != trials.StateError || !strings.Contains(tr.Result.Err, "Goexit") {
		t.Errorf("trial 1: %v %q, want error naming Goexit", tr.State, tr.Result.Err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v", el)
	}
}

// A context canceled before the search starts gives a Result that says so.
func TestCanceledBeforeStart(t *testing.T) {
	t.Parallel()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := fmin.Minimize(ctx, quadratic, s, &fmin.Options{MaxEvals: 3})
	if !errors.Is(err, context.Canceled) || res == nil || res.Stop != fmin.StopCanceled {
		t.Errorf("Minimize on a canceled context = %+v, %v; want a Result stopped canceled and context.Canceled", res, err)
	}
}
