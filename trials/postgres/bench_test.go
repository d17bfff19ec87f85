package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/internal/pgtest"
	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/postgres"
	"github.com/hyperopt-go/hyperopt/trials/trialstest"
)

// BenchmarkStore runs the store benchmarks on the package's cluster, which
// runs with fsync=off (see pgtest): the figures are those of the store
// and the server's work, not of the disk's flushes.
func BenchmarkStore(b *testing.B) {
	trialstest.Bench(b, func(b *testing.B) trials.Store { return benchStore(b, cluster) })
}

// BenchmarkStoreDurable runs them on a private cluster with fsync on, as
// a production server runs: every commit waits for its WAL flush.
func BenchmarkStoreDurable(b *testing.B) {
	cl := pgtest.StartT(b, &pgtest.Options{Durable: true})
	trialstest.Bench(b, func(b *testing.B) trials.Store { return benchStore(b, cl) })
}

func benchStore(b *testing.B, cl *pgtest.Cluster) trials.Store {
	dsn := cl.NewDatabase(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, dsn, nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	return s
}
