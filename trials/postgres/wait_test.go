package postgres_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/trials"
)

// TestWaitLongKeyAndClose wakes a waiter on an experiment whose key is too
// long for a notification's payload, then checks that Close ends a waiter
// and leaves no goroutine of the store behind. It does not run in parallel
// with other tests, whose goroutines it would count.
func TestWaitLongKeyAndClose(t *testing.T) {
	s, _ := open(t, nil)
	c := ctx(t)
	before := runtime.NumGoroutine()
	key := strings.Repeat("k", 5000)
	_, err := s.Open(c, trials.ExperimentSpec{Key: key, Fingerprint: "f", Algorithm: "random"})
	require.NoError(t, err)
	woken := make(chan int64, 1)
	go func() {
		// Wait may return early, with the same Seq: wait again then.
		seq, err := int64(0), error(nil)
		for seq == 0 && err == nil {
			seq, err = s.Wait(c, key, 0)
		}
		if err != nil {
			seq = -1
		}
		woken <- seq
	}()
	time.Sleep(100 * time.Millisecond) // let it wait, most likely
	ids, err := s.Claim(c, key, 1, "")
	require.NoError(t, err)
	require.NoError(t, s.Propose(c, key, []trials.Proposal{{ID: ids[0], Values: []float64{1}}}))
	select {
	case seq := <-woken:
		require.Equal(t, int64(1), seq)
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not woken")
	}

	closed := make(chan error, 1)
	go func() {
		_, err := s.Wait(c, key, 1)
		closed <- err
	}()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, s.Close())
	select {
	case err := <-closed:
		require.ErrorIs(t, err, trials.ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the waiter")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left after Close")
}
