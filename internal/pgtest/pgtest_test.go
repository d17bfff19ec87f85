package pgtest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/internal/pgtest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

func query(t *testing.T, dsn, sql string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	if strings.HasPrefix(sql, "SELECT") {
		require.NoError(t, conn.QueryRow(ctx, sql).Scan(&n))
	} else {
		_, err = conn.Exec(ctx, sql)
		require.NoError(t, err)
	}
	return n
}

func TestNewDatabase(t *testing.T) {
	t.Parallel()
	a, b := cluster.NewDatabase(t), cluster.NewDatabase(t)
	require.NotEqual(t, a, b)
	query(t, a, "CREATE TABLE x (v int)")
	require.Equal(t, 0, query(t, a, "SELECT count(*) FROM x"))
	require.Equal(t, 0, query(t, b, "SELECT count(*) FROM pg_tables WHERE tablename = 'x'"))
	// Only the loopback address.
	require.Equal(t, 1, query(t, a, "SELECT count(*) FROM pg_settings WHERE name = 'listen_addresses' AND setting = '127.0.0.1'"))
}

func TestRestart(t *testing.T) {
	t.Parallel()
	c := pgtest.StartT(t, &pgtest.Options{Durable: true})
	dsn := c.NewDatabase(t)
	query(t, dsn, "CREATE TABLE x (v int); INSERT INTO x VALUES (1)")
	for _, immediate := range []bool{false, true} {
		require.NoError(t, c.Restart(immediate))
		require.Equal(t, 1, query(t, dsn, "SELECT count(*) FROM x"))
	}
	require.NoError(t, c.StopServer(false))
	_, err := pgx.Connect(context.Background(), dsn)
	require.Error(t, err)
	require.NoError(t, c.StartServer())
	require.Equal(t, 1, query(t, dsn, "SELECT count(*) FROM x"))
}

func TestStopRemovesFolder(t *testing.T) {
	t.Parallel()
	c, err := pgtest.Start(nil)
	if err != nil {
		pgtest.Skip(t, err)
	}
	dir := c.Dir()
	_, err = os.Stat(dir)
	require.NoError(t, err)
	require.NoError(t, c.Stop())
	require.NoError(t, c.Stop())
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "folder %s left behind", dir)
}

func TestNilCluster(t *testing.T) {
	if pgtest.Required() {
		t.Skip("HYPEROPT_REQUIRE_POSTGRES=1: a nil cluster fails instead of skipping")
	}
	var c *pgtest.Cluster
	ok := t.Run("skips", func(t *testing.T) { c.NewDatabase(t) })
	require.True(t, ok)
}

func TestFindBinEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(pgtest.EnvBin, dir)
	_, err := pgtest.FindBin()
	require.ErrorIs(t, err, pgtest.ErrNoPostgres)
	for _, p := range []string{"initdb", "postgres"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), nil, 0o755))
	}
	got, err := pgtest.FindBin()
	require.NoError(t, err)
	require.Equal(t, dir, got)
}
