package fmin_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// Options.MaxEvals once said "0 means no limit", but resuming with
// MaxEvals 0 keeps the stored budget (the store only changes it for a
// non-zero MaxEvals). The doc now says so; this pins that behaviour.
func TestMaxEvalsZeroOnResume(t *testing.T) {
	ctx := context.Background()
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	store := trials.NewMemory(nil)
	base := fmin.Options{Algorithm: random.Search{}, Seed: 1, Store: store, Experiment: "e", Progress: fmin.ProgressOff}
	first := base
	first.MaxEvals = 3
	_, err := fmin.Minimize(ctx, quadratic, s, &first)
	require.NoError(t, err)
	// Options.MaxEvals documents 0 as "the stored budget" on resume: the
	// experiment is complete, so nothing more runs.
	n := 0
	second := base
	second.EarlyStop = func(*trials.Trials, trials.Trial) bool { n++; return n >= 2 }
	res, err := fmin.Minimize(ctx, quadratic, s, &second)
	require.NoError(t, err)
	assert.Equal(t, 0, res.Evaluated, "resume with MaxEvals 0 of a finished 3-trial experiment")
	assert.Equal(t, fmin.StopMaxEvals, res.Stop)
	assert.Equal(t, 3, res.Trials.Len())
	// A larger MaxEvals raises the stored budget.
	third := second
	third.MaxEvals = 10
	n = 0
	res, err = fmin.Minimize(ctx, quadratic, s, &third)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Evaluated, "resume with MaxEvals 10 and an early stop after 2")
	assert.Equal(t, fmin.StopEarly, res.Stop)
}

// Peers (DESIGN, Distributed search): every process runs Minimize on the
// same experiment and "the search ends when every trial is finished". A
// peer whose Claim was refused for the budget once returned at once, while
// the other peer's trials were still running (and so also after a crash,
// before the dead process's leases expired), with no result. Peer B must
// still be waiting 300 ms later. (A slow machine can only make a
// regression pass unnoticed here, never make a correct driver fail.)
func TestPeerWaitsForRunningTrials(t *testing.T) {
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
		t.Errorf("peer B returned while peer A's 2 trials were still running: result %+v, err %v", b.res, b.err)
		close(release)
	case <-time.After(300 * time.Millisecond):
		close(release)
		b := <-bDone
		require.NoError(t, b.err, "peer B after every trial finished")
		assert.Equal(t, 2, b.res.Trials.Len(), "peer B's trials")
	}
	assert.NoError(t, <-aDone, "peer A")
}

// failingAlg is an algorithm whose every proposal fails.
type failingAlg struct{}

var errAlg = errors.New("test: algorithm failed")

func (failingAlg) Suggest(context.Context, *space.Space, *trials.History, []trials.ID, uint64) ([]space.Values, error) {
	return nil, errAlg
}

// An algorithm's error once ended the search with StopCanceled, documented
// as "the caller's context was canceled", although nobody had canceled
// anything. It ends it with StopError and a Result.
func TestAlgorithmErrorStopReason(t *testing.T) {
	s := mustSpace(t, space.Dict{"x": space.Uniform("x", -5, 5)})
	res, err := fmin.Minimize(context.Background(), quadratic, s, &fmin.Options{Algorithm: failingAlg{}, MaxEvals: 3, Progress: fmin.ProgressOff})
	require.ErrorIs(t, err, errAlg)
	require.NotNil(t, res, "Minimize returned no Result, so no stop reason")
	assert.Equal(t, fmin.StopError, res.Stop)
}
