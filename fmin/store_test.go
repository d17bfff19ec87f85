package fmin_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
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
