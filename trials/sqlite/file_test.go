package sqlite_test

import (
	"crypto/sha256"
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/sqlite"
)

func testSpec(key string, maxEvals int) trials.ExperimentSpec {
	return trials.ExperimentSpec{
		Key: key, Space: []byte(`{"x":1}`), Fingerprint: "fp", Seed: 7, MaxEvals: maxEvals, Algorithm: "random",
	}
}

// filledFile returns the path of a closed store with one experiment and a
// few finished trials.
func filledFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trials.db")
	s, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	ts := make([]trials.Trial, 200)
	for i := range ts {
		ts[i] = trials.Trial{ID: trials.ID(i), State: trials.StateDone, Values: []float64{float64(i)},
			Result: trials.Result{Loss: float64(i), Status: trials.StatusOK, Stack: string(make([]byte, 500))}}
	}
	_, err = s.Load(t.Context(), testSpec("e", 0), ts, nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	return path
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

// rawExec runs statements on the file with a plain connection.
func rawExec(t *testing.T, path string, qs ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	for _, q := range qs {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
}

// refused opens path, expects an error that names it, and checks that the
// file did not change.
func refused(t *testing.T, path string) error {
	t.Helper()
	var before [32]byte
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		before = fileSum(t, path)
	}
	s, err := sqlite.Open(t.Context(), path, nil)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) = nil error, want a refusal", path)
	}
	t.Logf("Open(%s) = %v", path, err)
	assert.Contains(t, err.Error(), path)
	if fi, statErr := os.Stat(path); statErr == nil && fi.Mode().IsRegular() {
		assert.Equal(t, before, fileSum(t, path), "Open changed a file it refused")
	}
	return err
}

func TestOpenNewerSchema(t *testing.T) {
	path := filledFile(t)
	rawExec(t, path, `PRAGMA user_version = 2`)
	err := refused(t, path)
	require.ErrorIs(t, err, trials.ErrSchema)
	assert.Contains(t, err.Error(), "version 2")
	assert.Contains(t, err.Error(), "newer version")
}

func TestOpenForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	rawExec(t, path, `CREATE TABLE people (name TEXT)`, `INSERT INTO people VALUES ('ada')`)
	err := refused(t, path)
	require.ErrorIs(t, err, trials.ErrSchema)
	assert.Contains(t, err.Error(), "another application")

	// Another application's ID, even without tables.
	path = filepath.Join(t.TempDir(), "app.db")
	rawExec(t, path, `PRAGMA application_id = 1234`, `PRAGMA user_version = 1`)
	require.ErrorIs(t, refused(t, path), trials.ErrSchema)

	// Our ID on a file whose tables were dropped is not silently recreated
	// either when its version is unknown.
	path = filledFile(t)
	rawExec(t, path, `PRAGMA user_version = 0`)
	require.ErrorIs(t, refused(t, path), trials.ErrSchema)
}

func TestOpenNotSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(path, []byte("these are my notes, not a database\n"), 0o644))
	err := refused(t, path)
	require.ErrorIs(t, err, trials.ErrSchema)
	assert.Contains(t, err.Error(), "not an SQLite database")
}

func TestOpenTruncated(t *testing.T) {
	path := filledFile(t)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(3*4096), "the store file is too small to truncate")
	require.NoError(t, os.Truncate(path, fi.Size()/2))
	err = refused(t, path)
	assert.Contains(t, err.Error(), "truncated")

	// Cut inside the header.
	require.NoError(t, os.Truncate(path, 40))
	assert.Contains(t, refused(t, path).Error(), "truncated")
}

func TestOpenCorrupted(t *testing.T) {
	path := filledFile(t)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	// Garbage over the first page's b-tree (the catalogue of tables).
	garbage := make([]byte, 3000)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	_, err = f.WriteAt(garbage, 100)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	err = refused(t, path)
	assert.Contains(t, err.Error(), "corrupt")
}

func TestOpenReadOnlyFile(t *testing.T) {
	path := filledFile(t)
	require.NoError(t, os.Chmod(path, 0o444))
	err := refused(t, path)
	assert.Contains(t, err.Error(), "read-only")
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "trials.db")
	err := refused(t, path)
	assert.Contains(t, err.Error(), "does not exist")
	_, statErr := os.Stat(filepath.Dir(path))
	assert.ErrorIs(t, statErr, os.ErrNotExist, "Open created the directory")
}

func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	err := refused(t, dir)
	assert.Contains(t, err.Error(), "directory")
}

func TestOpenEmptyPath(t *testing.T) {
	_, err := sqlite.Open(t.Context(), "", nil)
	require.Error(t, err)
}

func TestOpenEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	s, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	_, err = s.Open(t.Context(), testSpec("e", 1))
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// TestReopen checks that everything a store wrote reads back the same from
// a new Store on the file: values with NaN, -0 and infinities bit for bit,
// results, extras, attachments, reports and times to the nanosecond.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "trials.db")
	clock := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	s, err := sqlite.Open(ctx, path, &sqlite.Options{Now: func() time.Time { return clock }})
	require.NoError(t, err)
	x, err := s.Open(ctx, testSpec("e", 0))
	require.NoError(t, err)
	ids, err := s.Claim(ctx, "e", 1, "req")
	require.NoError(t, err)
	values := []float64{math.NaN(), math.Copysign(0, -1), math.Inf(1), math.Inf(-1), 0.1, math.SmallestNonzeroFloat64}
	require.NoError(t, s.Propose(ctx, "e", []trials.Proposal{{ID: ids[0], Values: values, Owner: "w", LeaseTTL: time.Minute}}))
	l := trials.Lease{ID: ids[0], Attempt: 1}
	require.NoError(t, s.Report(ctx, "e", l, trials.Report{Step: 3, Value: math.NaN()}))
	r := trials.Result{Loss: 0.5, LossVariance: 0.25, TrueLoss: 0.4, HasTrueLoss: true,
		Extras: map[string]any{"epochs": 3.0, "tags": []any{"a", "b"}}, Attachments: map[string][]byte{"m": {0, 1, 255}}, Err: "e", Stack: "s"}
	require.NoError(t, s.Finish(ctx, "e", l, trials.StateDone, r))
	before, err := s.Get(ctx, "e", ids[0])
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s2, err := sqlite.Open(ctx, path, nil)
	require.NoError(t, err)
	defer s2.Close()
	es, err := s2.Experiments(ctx)
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.True(t, es[0].Created.Equal(clock))
	assert.Equal(t, x.Seed, es[0].Seed)
	got, err := s2.Get(ctx, "e", ids[0])
	require.NoError(t, err)
	require.Len(t, got.Values, len(values))
	for i := range values {
		assert.Equal(t, math.Float64bits(values[i]), math.Float64bits(got.Values[i]), "value %d", i)
	}
	assert.True(t, got.Result.Equal(before.Result))
	assert.Equal(t, map[string][]byte{"m": nil}, got.Result.Attachments)
	assert.Equal(t, r.Extras, got.Result.Extras)
	require.Len(t, got.Reports, 1)
	assert.True(t, math.IsNaN(got.Reports[0].Value))
	for _, p := range [][2]time.Time{{got.Booked, clock}, {got.Started, clock}, {got.Ended, clock}, {got.LeaseUntil, clock.Add(time.Minute)}} {
		assert.True(t, p[0].Equal(p[1]), "%v, want %v", p[0], p[1])
	}
	b, err := s2.Attachment(ctx, "e", ids[0], "m")
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 1, 255}, b)
	again, err := s2.Claim(ctx, "e", 1, "req")
	require.NoError(t, err)
	assert.Equal(t, ids, again, "a retried claim after reopening")
}

// TestOpenConcurrentNewFile: Stores that open a new file at once create its
// schema once, and all of them work on it.
func TestOpenConcurrentNewFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "trials.db")
	const n = 4
	stores := make([]*sqlite.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = sqlite.Open(ctx, path, nil) })
	}
	wg.Wait()
	for i, s := range stores {
		require.NoError(t, errs[i], "store %d", i)
		t.Cleanup(func() { s.Close() })
	}
	seeds := make([]uint64, n)
	for i, s := range stores {
		wg.Go(func() {
			x, err := s.Open(ctx, trials.ExperimentSpec{Key: "e", Fingerprint: "fp"})
			errs[i], seeds[i] = err, x.Seed
		})
	}
	wg.Wait()
	for i := range stores {
		require.NoError(t, errs[i], "store %d", i)
		assert.Equal(t, seeds[0], seeds[i], "store %d saw another seed", i)
	}
	assert.NotZero(t, seeds[0])
}
