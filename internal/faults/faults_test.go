package faults_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/internal/pgtest"
	"github.com/hyperopt-go/hyperopt/internal/storeurl"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// The child process's settings, in its environment.
const (
	envRole     = "FAULTS_ROLE" // "worker" or "peer"
	envStore    = "FAULTS_STORE"
	envExp      = "FAULTS_EXP"
	envLog      = "FAULTS_LOG"
	envTTL      = "FAULTS_TTL"
	envSleep    = "FAULTS_SLEEP"
	envMaxEvals = "FAULTS_MAX_EVALS"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "worker", "peer":
		os.Exit(child())
	}
	os.Exit(pgtest.Main(m, &cluster))
}

func searchSpace() *space.Space {
	s, err := space.New(space.Dict{"x": space.Uniform("x", -5, 5), "y": space.Uniform("y", -5, 5)})
	if err != nil {
		panic(err)
	}
	return s
}

// child runs a worker or a peer as the environment says, with an objective
// that logs the start and end of each evaluation to its own file.
func child() int {
	ctx := context.Background()
	store, err := storeurl.Open(ctx, os.Getenv(envStore))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer store.Close()
	ttl, _ := time.ParseDuration(os.Getenv(envTTL))
	sleep, _ := time.ParseDuration(os.Getenv(envSleep))
	f, err := os.OpenFile(os.Getenv(envLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer f.Close()
	var mu sync.Mutex
	logLine := func(kind string, t *fmin.Trial) {
		mu.Lock()
		defer mu.Unlock()
		// One write per line, with O_APPEND: a kill leaves whole lines.
		fmt.Fprintf(f, "%s %d %d %d %d\n", kind, t.ID(), t.Attempt(), os.Getpid(), time.Now().UnixNano())
	}
	obj := func(ctx context.Context, t *fmin.Trial) (trials.Result, error) {
		logLine("S", t)
		if sleep > 0 {
			select {
			case <-time.After(sleep):
			case <-ctx.Done():
				return trials.Result{}, ctx.Err()
			}
		}
		v := t.Values()
		logLine("E", t)
		return trials.OK(v[0]*v[0] + v[1]*v[1]), nil
	}
	s := searchSpace()
	if os.Getenv(envRole) == "peer" {
		n, _ := strconv.Atoi(os.Getenv(envMaxEvals))
		_, err = fmin.Minimize(ctx, obj, s, &fmin.Options{Store: store, Experiment: os.Getenv(envExp), MaxEvals: n,
			Algorithm: random.Search{}, LeaseTTL: ttl, Parallelism: 2, Progress: fmin.ProgressOff})
	} else {
		w := &fmin.Worker{Store: store, Experiment: os.Getenv(envExp), LeaseTTL: ttl, IdleTimeout: time.Minute}
		_, err = w.Run(ctx, obj, s)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// run is a test's setting: the store, the experiment and where the
// children's evidence goes.
type run struct {
	t     *testing.T
	store string
	dir   string
	exp   string
	ttl   time.Duration
	sleep time.Duration

	mu    sync.Mutex
	procs []*exec.Cmd
	logs  map[int]string // each child's evidence file, by pid
	n     int
}

func newRun(t *testing.T, store string, ttl, sleep time.Duration) *run {
	return &run{t: t, store: store, dir: t.TempDir(), exp: "e", ttl: ttl, sleep: sleep, logs: map[int]string{}}
}

// start starts a child of the given role.
func (r *run) start(role string, maxEvals int) *exec.Cmd {
	r.t.Helper()
	self, err := os.Executable()
	require.NoError(r.t, err)
	r.mu.Lock()
	r.n++
	logFile := filepath.Join(r.dir, fmt.Sprintf("child-%d.log", r.n))
	r.mu.Unlock()
	c := exec.Command(self)
	c.Env = append(os.Environ(), envRole+"="+role, envStore+"="+r.store, envExp+"="+r.exp, envLog+"="+logFile,
		envTTL+"="+r.ttl.String(), envSleep+"="+r.sleep.String(), envMaxEvals+"="+strconv.Itoa(maxEvals))
	c.Stderr = os.Stderr
	require.NoError(r.t, c.Start())
	r.mu.Lock()
	r.procs = append(r.procs, c)
	r.logs[c.Process.Pid] = logFile
	r.mu.Unlock()
	return c
}

// ended counts the evaluations the children logged as ended so far. It
// reports no failure, so goroutines other than the test's may call it.
func (r *run) ended() int {
	files, _ := filepath.Glob(filepath.Join(r.dir, "child-*.log"))
	n := 0
	for _, name := range files {
		b, _ := os.ReadFile(name)
		n += strings.Count(string(b), "E ")
	}
	return n
}

// idleChildren counts the children that have not logged an evaluation yet.
func (r *run) idleChildren() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, name := range r.logs {
		if fi, err := os.Stat(name); err != nil || fi.Size() == 0 {
			n++
		}
	}
	return n
}

// busy reports whether child pid is evaluating a trial: the last line of
// its evidence is a start.
func (r *run) busy(pid int) bool {
	r.mu.Lock()
	name := r.logs[pid]
	r.mu.Unlock()
	b, err := os.ReadFile(name)
	if err != nil {
		return false
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.HasPrefix(lines[len(lines)-1], "S ")
}

// waitAll waits for every child; a child killed on purpose is expected to
// fail, others must exit 0.
func (r *run) waitAll(killed map[int]bool) {
	r.t.Helper()
	r.mu.Lock()
	procs := r.procs
	r.mu.Unlock()
	for _, c := range procs {
		err := c.Wait()
		if !killed[c.Process.Pid] {
			assert.NoError(r.t, err, "child %d", c.Process.Pid)
		}
	}
}

// evidence is what the children's files say.
type evidence struct {
	starts map[[2]int64][]line // by (trial, attempt)
	ends   map[[2]int64][]line
}

type line struct {
	pid  int
	time int64
}

func (r *run) evidence() evidence {
	r.t.Helper()
	ev := evidence{starts: map[[2]int64][]line{}, ends: map[[2]int64][]line{}}
	files, err := filepath.Glob(filepath.Join(r.dir, "child-*.log"))
	require.NoError(r.t, err)
	for _, name := range files {
		f, err := os.Open(name)
		require.NoError(r.t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			require.Len(r.t, fs, 5, "evidence line %q", sc.Text())
			id, _ := strconv.ParseInt(fs[1], 10, 64)
			att, _ := strconv.ParseInt(fs[2], 10, 64)
			pid, _ := strconv.Atoi(fs[3])
			at, _ := strconv.ParseInt(fs[4], 10, 64)
			m := ev.starts
			if fs[0] == "E" {
				m = ev.ends
			}
			m[[2]int64{id, att}] = append(m[[2]int64{id, att}], line{pid, at})
		}
		f.Close()
	}
	return ev
}

// check checks the store's accounting of an experiment of n trials against
// the evidence: exactly n trials, all finished, each done trial's result
// from an evaluation that ended (by the evidence), no attempt evaluated
// twice, and every evaluation cut short by a kill run again at a later
// attempt (or the trial in error after its max attempts).
func (r *run) check(ctx context.Context, n int) []trials.Trial {
	r.t.Helper()
	store, err := storeurl.Open(ctx, r.store)
	require.NoError(r.t, err)
	defer store.Close()
	ts, _, err := store.Changes(ctx, r.exp, 0, 0)
	require.NoError(r.t, err)
	require.Len(r.t, ts, n, "trials in the store")
	ev := r.evidence()
	byID := map[int64]trials.Trial{}
	for _, tr := range ts {
		byID[int64(tr.ID)] = tr
		switch tr.State {
		case trials.StateDone:
			key := [2]int64{int64(tr.ID), int64(tr.Attempt)}
			assert.Len(r.t, ev.ends[key], 1, "trial %d is done at attempt %d: want one evaluation of it that ended", tr.ID, tr.Attempt)
		case trials.StateError:
			assert.Contains(r.t, tr.Result.Err, "lease expired", "trial %d in error: %s", tr.ID, tr.Result.Err)
		default:
			r.t.Errorf("trial %d is %v at the end, want finished", tr.ID, tr.State)
		}
		assert.Less(r.t, int64(tr.ID), int64(n), "trial ID %d past the budget", tr.ID)
	}
	for key, s := range ev.starts {
		assert.Len(r.t, s, 1, "trial %d attempt %d started %d times", key[0], key[1], len(s))
		if len(ev.ends[key]) > 0 {
			continue
		}
		// Cut short: the trial ran again later, or ended in error.
		tr := byID[key[0]]
		assert.True(r.t, int64(tr.Attempt) > key[1] || tr.State == trials.StateError,
			"trial %d attempt %d was cut short, and the store has it %v at attempt %d", key[0], key[1], tr.State, tr.Attempt)
	}
	return ts
}

// driver runs the search's driver in this process until the budget's
// trials are all finished.
func (r *run) driver(ctx context.Context, n int, queue int) *fmin.Result {
	r.t.Helper()
	store, err := storeurl.Open(ctx, r.store)
	require.NoError(r.t, err)
	defer store.Close()
	res, err := fmin.Minimize(ctx, nil, searchSpace(), &fmin.Options{Store: store, Experiment: r.exp, MaxEvals: n,
		RemoteWorkers: true, QueueLen: queue, Algorithm: random.Search{}, Seed: 1, LeaseTTL: r.ttl, Progress: fmin.ProgressOff})
	require.NoError(r.t, err)
	return res
}

// createExperiment opens the experiment once so that workers started
// before the driver find it.
func (r *run) createExperiment(ctx context.Context, n int) {
	r.t.Helper()
	store, err := storeurl.Open(ctx, r.store)
	require.NoError(r.t, err)
	defer store.Close()
	o, err := fmin.NewOptimizer(ctx, searchSpace(), &fmin.Options{Store: store, Experiment: r.exp, MaxEvals: n, Algorithm: random.Search{}, Seed: 1})
	require.NoError(r.t, err)
	require.NoError(r.t, o.Close())
}

// killTest runs a 300-trial search with 4 workers and kills a worker every
// interval on a seeded schedule, starting a new one in its place.
func killTest(t *testing.T, store string) {
	const n, workers = 300, 4
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	r := newRun(t, store, time.Second, 20*time.Millisecond)
	r.createExperiment(ctx, n)
	live := make([]*exec.Cmd, workers)
	for i := range live {
		live[i] = r.start("worker", 0)
	}
	killed := map[int]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		// Every 100 to 400 ms, a worker in the middle of an evaluation
		// (by its evidence) is killed and a new one started.
		rng := rand.New(rand.NewPCG(2026, 12))
		for k := 0; k < 5; k++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(100+rng.IntN(300)) * time.Millisecond):
			}
			i := rng.IntN(workers)
			for !r.busy(live[i].Process.Pid) {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
			p := live[i].Process
			r.mu.Lock()
			killed[p.Pid] = true
			r.mu.Unlock()
			_ = p.Signal(syscall.SIGKILL)
			live[i] = r.start("worker", 0)
		}
	})
	res := r.driver(ctx, n, workers)
	close(stop)
	wg.Wait()
	r.waitAll(killed)
	assert.Equal(t, fmin.StopMaxEvals, res.Stop)
	ts := r.check(ctx, n)
	retried := 0
	for _, tr := range ts {
		if tr.Attempt > 1 {
			retried++
		}
	}
	t.Logf("%d trials, %d workers killed, %d trials run again", n, len(killed), retried)
	assert.Positive(t, retried, "no trial was run again although %d workers were killed", len(killed))
}

// Workers killed with SIGKILL on a seeded schedule while they share an
// SQLite file: the search completes with exactly 300 finished trials,
// none lost, none counted twice, and every killed trial run again.
func TestKillWorkersSQLite(t *testing.T) {
	t.Parallel()
	killTest(t, filepath.Join(t.TempDir(), "search.db"))
}

// The same on PostgreSQL.
func TestKillWorkersPostgres(t *testing.T) {
	t.Parallel()
	killTest(t, cluster.NewDatabase(t))
}

// Eight workers, 2,000 trials of a trivial objective on PostgreSQL: each
// trial evaluated exactly once, never by two workers at once.
func TestEightWorkersExactlyOnce(t *testing.T) {
	t.Parallel()
	const n, workers = 2000, 8
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	r := newRun(t, cluster.NewDatabase(t), 10*time.Second, 0)
	r.createExperiment(ctx, n)
	for range workers {
		r.start("worker", 0)
	}
	res := r.driver(ctx, n, 2*workers)
	r.waitAll(nil)
	assert.Equal(t, fmin.StopMaxEvals, res.Stop)
	r.check(ctx, n)
	ev := r.evidence()
	assert.Len(t, ev.starts, n, "evaluations started")
	for key, s := range ev.starts {
		assert.Equal(t, int64(1), key[1], "trial %d evaluated at attempt %d without any kill", key[0], key[1])
		e := ev.ends[key]
		require.Len(t, e, 1)
		assert.Equal(t, s[0].pid, e[0].pid)
	}
}

// Four peers each run Minimize on one PostgreSQL experiment with MaxEvals
// 200: together they create exactly 200 trials.
func TestPeersPostgres(t *testing.T) {
	t.Parallel()
	const n = 200
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	r := newRun(t, cluster.NewDatabase(t), 5*time.Second, time.Millisecond)
	for range 4 {
		r.start("peer", n)
	}
	r.waitAll(nil)
	r.check(ctx, n)
	ev := r.evidence()
	pids := map[int]bool{}
	for _, s := range ev.starts {
		pids[s[0].pid] = true
	}
	assert.Len(t, pids, 4, "every peer evaluated trials")
}

// PostgreSQL stopped and started again in the middle of a search with a
// driver and four workers: they ride it out and the accounting is exact.
func TestPostgresRestartMidSearch(t *testing.T) {
	t.Parallel()
	const n, workers = 300, 4
	c := pgtest.StartT(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	r := newRun(t, c.NewDatabase(t), 2*time.Second, 10*time.Millisecond)
	r.createExperiment(ctx, n)
	for range workers {
		r.start("worker", 0)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// Once every worker is at work (they connect when they start: a
		// worker that cannot reach the server at its start exits, and its
		// supervisor starts it again), stop the server for a second.
		for (r.ended() < 50 || r.idleChildren() > 0) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		assert.NoError(t, c.StopServer(false))
		time.Sleep(time.Second)
		assert.NoError(t, c.StartServer())
	})
	res := r.driver(ctx, n, workers)
	wg.Wait()
	r.waitAll(nil)
	assert.Equal(t, fmin.StopMaxEvals, res.Stop)
	r.check(ctx, n)
}
