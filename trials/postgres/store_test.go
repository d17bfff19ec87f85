package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/internal/pgtest"
	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/postgres"
	"github.com/hyperopt-go/hyperopt/trials/trialstest"
)

// cluster is this package's private PostgreSQL server (nil without
// PostgreSQL: the tests skip).
var cluster *pgtest.Cluster

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, &cluster))
}

// open opens a store on a fresh database for tb, closed in its cleanup.
func open(tb testing.TB, opts *postgres.Options) (*postgres.Store, string) {
	tb.Helper()
	dsn := cluster.NewDatabase(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, dsn, opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s, dsn
}

func TestConformance(t *testing.T) {
	trialstest.Run(t, func(t *testing.T) trials.Store {
		s, _ := open(t, nil)
		return s
	})
}
