package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/sqlite"
	"github.com/hyperopt-go/hyperopt/trials/trialstest"
)

// newStore opens a store in a new file of a temporary directory.
func newStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "trials.db"), nil)
	if err != nil {
		tb.Fatalf("Open() = %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	trialstest.Run(t, func(t *testing.T) trials.Store { return newStore(t) })
}

func BenchmarkStore(b *testing.B) {
	trialstest.Bench(b, func(b *testing.B) trials.Store { return newStore(b) })
}
