package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/sqlite"
)

// lockFile takes the file's write lock from another connection and holds
// it until the returned function is called.
func lockFile(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_txlock=immediate")
	require.NoError(t, err)
	tx, err := db.Begin()
	require.NoError(t, err)
	// A write makes sure the lock is held.
	_, err = tx.Exec(`PRAGMA user_version = 1`)
	require.NoError(t, err)
	return func() {
		_ = tx.Rollback()
		_ = db.Close()
	}
}

// TestBusyRetried holds the write lock longer than the busy timeout: the
// store retries and the call succeeds once the lock is released.
func TestBusyRetried(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "trials.db")
	s, err := sqlite.Open(ctx, path, &sqlite.Options{BusyTimeout: 5 * time.Millisecond})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Open(ctx, testSpec("e", 0))
	require.NoError(t, err)

	release := lockFile(t, path)
	timer := time.AfterFunc(300*time.Millisecond, release)
	defer timer.Stop()
	start := time.Now()
	ids, err := s.Claim(ctx, "e", 1, "")
	require.NoError(t, err)
	assert.Equal(t, []trials.ID{0}, ids)
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "Claim did not wait for the lock")
}

// TestBusyDeadline: a file that stays locked ends the call with the
// context's error, not with "database is locked".
func TestBusyDeadline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trials.db")
	s, err := sqlite.Open(t.Context(), path, &sqlite.Options{BusyTimeout: 5 * time.Millisecond})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Open(t.Context(), testSpec("e", 0))
	require.NoError(t, err)

	release := lockFile(t, path)
	defer release()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = s.Claim(ctx, "e", 1, "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestWaitOtherStore: a change made through another Store (another
// process, as far as the waiter can tell) wakes Wait by polling.
func TestWaitOtherStore(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "trials.db")
	a, err := sqlite.Open(ctx, path, &sqlite.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	defer a.Close()
	b, err := sqlite.Open(ctx, path, nil)
	require.NoError(t, err)
	defer b.Close()
	x, err := a.Open(ctx, testSpec("e", 0))
	require.NoError(t, err)
	_, err = b.Open(ctx, testSpec("e", 0))
	require.NoError(t, err)

	got := make(chan int64, 1)
	go func() {
		seq, err := a.Wait(ctx, "e", x.Seq)
		assert.NoError(t, err)
		got <- seq
	}()
	time.Sleep(50 * time.Millisecond)
	ids, err := b.Claim(ctx, "e", 1, "")
	require.NoError(t, err)
	require.NoError(t, b.Propose(ctx, "e", []trials.Proposal{{ID: ids[0], Values: []float64{1}}}))
	select {
	case seq := <-got:
		assert.Greater(t, seq, x.Seq)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not see another Store's change")
	}
}

// TestBusyRetryTimeout: a file locked for longer than RetryTimeout ends
// the call with an error that says so.
func TestBusyRetryTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trials.db")
	s, err := sqlite.Open(t.Context(), path, &sqlite.Options{BusyTimeout: 5 * time.Millisecond, RetryTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Open(t.Context(), testSpec("e", 0))
	require.NoError(t, err)

	release := lockFile(t, path)
	defer release()
	start := time.Now()
	_, err = s.Claim(t.Context(), "e", 1, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "RetryTimeout")
	assert.Less(t, time.Since(start), 5*time.Second)
}
