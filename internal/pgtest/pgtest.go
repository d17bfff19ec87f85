// Package pgtest runs private PostgreSQL servers for tests: one cluster per
// test package, started from its TestMain, and a fresh database per test.
//
//	var cluster *pgtest.Cluster
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }
//
//	func TestSomething(t *testing.T) {
//		dsn := cluster.NewDatabase(t) // skips the test without PostgreSQL
//		...
//	}
//
// A cluster is a folder under the system's temporary folder, made by initdb
// and served by the postgres program, listening on 127.0.0.1 on a free port
// (and on a unix socket inside the folder), with trust authentication for
// local connections of the superuser "postgres" (other roles log in with
// their passwords over TCP). The folder is removed when the cluster stops, also
// after a failure.
//
// PostgreSQL's server programs are looked for in the folder named by the
// environment variable HYPEROPT_PG_BIN, then in the newest version's folder
// of /usr/lib/postgresql/<version>/bin (where Debian and Ubuntu keep them,
// off PATH), then on PATH. Without them the tests that need a server skip,
// saying how to install them, unless HYPEROPT_REQUIRE_POSTGRES=1, in which
// case they fail.
//
// initdb refuses to run as root: under root the cluster's folder is given
// to the "postgres" user and the server's programs run as that user.
//
// Durability: unless Options.Durable is set, a cluster runs with fsync=off
// and full_page_writes=off, which makes it start and commit faster. Data
// then survives a crash or kill of the server process (the operating
// system still has every write), but not a crash of the machine; tests of
// restarts stop the server (even with an immediate shutdown, which skips
// the checkpoint and makes the next start recover from the WAL), never the
// machine, so their claims hold either way. Synchronous commit is never
// turned off.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPostgres is returned by Start when PostgreSQL's server programs are
// not installed.
var ErrNoPostgres = errors.New("pgtest: PostgreSQL server programs (initdb, postgres) not found; install them (Debian, Ubuntu: apt-get install postgresql) or set HYPEROPT_PG_BIN to their folder")

// EnvBin names the environment variable that may hold the folder of
// PostgreSQL's server programs.
const EnvBin = "HYPEROPT_PG_BIN"

// EnvRequire names the environment variable that, set to 1, turns a skip
// for want of PostgreSQL into a failure.
const EnvRequire = "HYPEROPT_REQUIRE_POSTGRES"

// Options configures a cluster. The zero value is the default.
type Options struct {
	// Durable keeps fsync and full_page_writes on, as a production server
	// has them; the default turns them off (see the package documentation).
	Durable bool
	// Settings are more server settings, name to value (e.g.
	// "max_connections": "50").
	Settings map[string]string
}

// Cluster is a private PostgreSQL server. Its methods are safe for
// concurrent use. A nil *Cluster is what Main leaves when PostgreSQL is not
// installed: its NewDatabase and DSN skip (or fail) the test.
type Cluster struct {
	dir  string // the cluster's folder: data, socket, log
	bin  string
	port int
	cred *credential
	opts Options

	mu      sync.Mutex
	server  *exec.Cmd
	exited  chan struct{} // closed when server exits
	stopped bool          // Stop was called

	dbs atomic.Int64 // numbers the databases
}

// FindBin returns the folder of PostgreSQL's server programs, or an error
// wrapping ErrNoPostgres.
func FindBin() (string, error) {
	has := func(dir string) bool {
		for _, p := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv(EnvBin); d != "" {
		if has(d) {
			return d, nil
		}
		return "", fmt.Errorf("%w (%s=%q has no initdb and postgres)", ErrNoPostgres, EnvBin, d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int {
		switch va, vb := version(a), version(b); {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

// Required reports whether HYPEROPT_REQUIRE_POSTGRES=1 asks tests to fail,
// not skip, without PostgreSQL.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// Skip skips tb (or fails it, if Required) for want of PostgreSQL, with err
// saying why.
func Skip(tb testing.TB, err error) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s=1 but no PostgreSQL server to test with: %v", EnvRequire, err)
	}
	tb.Skipf("no PostgreSQL server to test with: %v", err)
}

// Main starts a cluster for a test package, stores it in *c, runs the
// tests and stops the cluster, returning the exit code for os.Exit. Without
// PostgreSQL's programs, *c is left nil (tests that need it skip) unless
// Required, which makes Main fail at once. An Options value, if given,
// configures the cluster.
func Main(m *testing.M, c **Cluster, opts ...Options) int {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	cl, err := Start(&o)
	switch {
	case errors.Is(err, ErrNoPostgres) && !Required():
		fmt.Fprintf(os.Stderr, "%v; tests that need PostgreSQL skip\n", err)
	case err != nil:
		fmt.Fprintf(os.Stderr, "%v\n", err)
		return 1
	}
	*c = cl
	code := m.Run()
	if cl != nil {
		if err := cl.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "%v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// StartT starts a private cluster for one test (a restart test, say) and
// stops it in tb's cleanup; it skips tb without PostgreSQL, as Skip does.
func StartT(tb testing.TB, opts *Options) *Cluster {
	tb.Helper()
	c, err := Start(opts)
	if errors.Is(err, ErrNoPostgres) {
		Skip(tb, err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// Start makes a new cluster in a fresh folder and starts its server. opts
// may be nil. The caller must call Stop, which removes the folder.
func Start(opts *Options) (c *Cluster, err error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hyperopt-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	c = &Cluster{dir: dir, bin: bin, cred: cred}
	if opts != nil {
		c.opts = *opts
	}
	defer func() {
		if err != nil {
			c.kill()
			_ = os.RemoveAll(dir)
		}
	}()
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := chown(dir, cred); err != nil {
		return nil, fmt.Errorf("pgtest: give the cluster folder to the server's user: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", c.dataDir(), "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir = dir
	setUser(cmd, cred, false)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb in %s: %w\n%s", dir, err, out)
	}
	// The superuser needs no password; other roles do over TCP, so that
	// tests can check what a wrong password does.
	hba := "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(c.dataDir(), "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := chown(filepath.Join(c.dataDir(), "pg_hba.conf"), cred); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	// A free port may be taken by someone else between our look and the
	// server's bind: try a few.
	for try := 0; ; try++ {
		if c.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = c.StartServer(); err == nil || try == 4 {
			break
		}
		if !strings.Contains(err.Error(), "already in use") {
			return nil, err
		}
	}
	return c, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) logFile() string { return filepath.Join(c.dir, "server.log") }

// Port returns the TCP port the server listens on (on 127.0.0.1); it stays
// the same across restarts.
func (c *Cluster) Port() int { return c.port }

// DSN returns the URL of database db on the cluster, as the superuser
// "postgres", over TCP.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// StartServer starts the cluster's server and waits until it accepts
// connections (up to a minute).
func (c *Cluster) StartServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return errors.New("pgtest: cluster stopped")
	}
	if c.server != nil {
		return errors.New("pgtest: server already running")
	}
	args := []string{"-D", c.dataDir(),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(c.port),
		"-c", "unix_socket_directories=" + c.dir,
		"-c", "max_connections=300",
		"-c", "shared_buffers=32MB",
		"-c", "log_min_messages=warning",
	}
	if !c.opts.Durable {
		args = append(args, "-c", "fsync=off", "-c", "full_page_writes=off")
	}
	for k, v := range c.opts.Settings {
		args = append(args, "-c", k+"="+v)
	}
	log, err := os.OpenFile(c.logFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), args...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = log, log
	setUser(cmd, c.cred, true)
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	log.Close()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	c.server, c.exited = cmd, exited

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		select {
		case <-exited:
			c.server = nil
			return fmt.Errorf("pgtest: postgres exited at start: %s", c.logTail())
		case <-ctx.Done():
			c.killLocked()
			return fmt.Errorf("pgtest: postgres did not accept connections within a minute: %w; log: %s", err, c.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logFile())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// StopServer stops the server and waits for it to exit: a fast shutdown
// (clients disconnected, a checkpoint written), or if immediate an
// immediate one (the processes quit at once, as in a crash; the next start
// recovers from the WAL). The data stays; StartServer starts it again.
func (c *Cluster) StopServer(immediate bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server == nil {
		return nil
	}
	if err := interrupt(c.server.Process, immediate); err != nil {
		c.killLocked()
		return fmt.Errorf("pgtest: stop postgres: %w", err)
	}
	select {
	case <-c.exited:
	case <-time.After(time.Minute):
		c.killLocked()
		return errors.New("pgtest: postgres did not stop within a minute; killed")
	}
	c.server = nil
	return nil
}

// Restart stops the server (immediately, as in a crash, or with a fast
// shutdown) and starts it again on the same port.
func (c *Cluster) Restart(immediate bool) error {
	if err := c.StopServer(immediate); err != nil {
		return err
	}
	return c.StartServer()
}

func (c *Cluster) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.killLocked()
}

func (c *Cluster) killLocked() {
	if c.server == nil {
		return
	}
	_ = c.server.Process.Kill()
	<-c.exited
	c.server = nil
}

// Stop stops the server and removes the cluster's folder. It may be called
// more than once.
func (c *Cluster) Stop() error {
	if c == nil {
		return nil
	}
	err := c.StopServer(false)
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.kill()
	if rerr := os.RemoveAll(c.dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("pgtest: %w", rerr))
	}
	return err
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDatabase creates a fresh, empty database for tb and returns its DSN;
// the database is dropped in tb's cleanup (its connections closed first).
// On a nil cluster (no PostgreSQL) it skips tb, or fails it if Required.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	if c == nil {
		Skip(tb, ErrNoPostgres)
		return ""
	}
	name := unsafeName.ReplaceAllString(strings.ToLower(tb.Name()), "_")
	name = fmt.Sprintf("t%d_%s", c.dbs.Add(1), name)
	if len(name) > 63 {
		name = name[:63]
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.DSN(name)
}

// Exec runs sql on the cluster's "postgres" database as the superuser.
func (c *Cluster) Exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// Dir returns the cluster's folder.
func (c *Cluster) Dir() string { return c.dir }
