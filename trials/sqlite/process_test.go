package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/sqlite"
)

// The environment of a helper process: what it runs and on which file.
const (
	envMode = "HYPEROPT_SQLITE_HELPER"
	envPath = "HYPEROPT_SQLITE_PATH"
)

const helperExp = "search"

// TestHelperProcess is not a test: it is the body of the child processes
// that the tests below start from the test binary.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(envMode)
	if mode == "" {
		t.Skip("a helper of the multi-process tests, run by them")
	}
	err := runHelper(mode, os.Getenv(envPath))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runHelper(mode, path string) error {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Open(ctx, trials.ExperimentSpec{Key: helperExp, Fingerprint: "fp", Seed: 1}); err != nil {
		return err
	}
	owner := strconv.Itoa(os.Getpid())
	out := bufio.NewWriter(os.Stdout)
	finish := func(id trials.ID, attempt int) error {
		if err := s.Finish(ctx, helperExp, trials.Lease{ID: id, Attempt: attempt}, trials.StateDone, trials.OK(float64(id))); err != nil {
			return fmt.Errorf("finish %d: %w", id, err)
		}
		// Only now is the trial known to be finished.
		fmt.Fprintln(out, id)
		return out.Flush()
	}
	switch mode {
	case "search":
		// A search: claim, propose as running, finish, one trial at a time.
		for n := 0; ; n++ {
			ids, err := s.Claim(ctx, helperExp, 1, owner+"-"+strconv.Itoa(n))
			if errors.Is(err, trials.ErrBudget) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := s.Propose(ctx, helperExp, []trials.Proposal{{ID: ids[0], Values: []float64{float64(ids[0])}, Owner: owner, LeaseTTL: time.Minute}}); err != nil {
				return err
			}
			if err := finish(ids[0], 1); err != nil {
				return err
			}
		}
	case "mixed":
		// A peer that also works: it takes queued trials first, and
		// claims new ones, proposing every other one for anyone to take.
		for {
			t, err := s.Reserve(ctx, helperExp, owner, time.Minute)
			if err == nil {
				if err := finish(t.ID, t.Attempt); err != nil {
					return err
				}
				continue
			}
			if !errors.Is(err, trials.ErrNoQueued) {
				return err
			}
			ids, err := s.Claim(ctx, helperExp, 1, "")
			if errors.Is(err, trials.ErrBudget) {
				// Nothing queued and nothing left to claim; what this
				// process queued, it reserved or another one did.
				return nil
			}
			if err != nil {
				return err
			}
			p := trials.Proposal{ID: ids[0], Values: []float64{float64(ids[0])}}
			if ids[0]%2 == 1 {
				p.Owner, p.LeaseTTL = owner, time.Minute
			}
			if err := s.Propose(ctx, helperExp, []trials.Proposal{p}); err != nil {
				return err
			}
			if p.Owner != "" {
				if err := finish(ids[0], 1); err != nil {
					return err
				}
			}
		}
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// helper starts a child process in mode on path.
func helper(t *testing.T, mode, path string) (*exec.Cmd, *bufio.Scanner, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envMode+"="+mode, envPath+"="+path)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, bufio.NewScanner(stdout), stderr
}

func createExperiment(t *testing.T, path string, maxEvals int) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	_, err = s.Open(t.Context(), trials.ExperimentSpec{Key: helperExp, Fingerprint: "fp", Seed: 1, MaxEvals: maxEvals})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var res string
	require.NoError(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&res))
	assert.Equal(t, "ok", res)
}

// TestKillDurability kills a search process with SIGKILL in the middle of
// its run, then checks that every trial it reported finished is done with
// its result, that the file is sound, and that the search resumes to
// exactly its budget.
func TestKillDurability(t *testing.T) {
	const budget = 200
	path := filepath.Join(t.TempDir(), "trials.db")
	createExperiment(t, path, budget)
	cmd, out, stderr := helper(t, "search", path)
	var printed []trials.ID
	for len(printed) < 60 && out.Scan() {
		id, err := strconv.ParseInt(out.Text(), 10, 64)
		require.NoError(t, err, "child printed %q", out.Text())
		printed = append(printed, trials.ID(id))
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.Len(t, printed, 60, "the child stopped early: %s", stderr.String())
	require.Empty(t, stderr.String())

	integrityCheck(t, path)
	ctx := t.Context()
	s, err := sqlite.Open(ctx, path, nil)
	require.NoError(t, err)
	defer s.Close()
	for _, id := range printed {
		tr, err := s.Get(ctx, helperExp, id)
		require.NoError(t, err)
		assert.Equal(t, trials.StateDone, tr.State, "trial %d", id)
		assert.Equal(t, float64(id), tr.Result.Loss, "trial %d", id)
	}

	// Resume: requeue what the dead process was running, propose what it
	// claimed without values, then go on to the budget.
	all, _, err := s.Changes(ctx, helperExp, 0, 0)
	require.NoError(t, err)
	x := experimentOf(t, s)
	listed := map[trials.ID]bool{}
	var running []trials.Lease
	for _, tr := range all {
		listed[tr.ID] = true
		if tr.State == trials.StateRunning {
			running = append(running, tr.Lease())
		}
	}
	require.NoError(t, s.Requeue(ctx, helperExp, running))
	for id := trials.ID(0); id < x.NextID; id++ {
		if !listed[id] {
			require.NoError(t, s.Propose(ctx, helperExp, []trials.Proposal{{ID: id, Values: []float64{float64(id)}}}))
		}
	}
	for {
		ids, err := s.Claim(ctx, helperExp, 50, "")
		if errors.Is(err, trials.ErrBudget) {
			break
		}
		require.NoError(t, err)
		ps := make([]trials.Proposal, len(ids))
		for i, id := range ids {
			ps[i] = trials.Proposal{ID: id, Values: []float64{float64(id)}}
		}
		require.NoError(t, s.Propose(ctx, helperExp, ps))
	}
	for {
		tr, err := s.Reserve(ctx, helperExp, "resumer", time.Minute)
		if errors.Is(err, trials.ErrNoQueued) {
			break
		}
		require.NoError(t, err)
		require.NoError(t, s.Finish(ctx, helperExp, tr.Lease(), trials.StateDone, trials.OK(float64(tr.ID))))
	}
	all, _, err = s.Changes(ctx, helperExp, 0, 0)
	require.NoError(t, err)
	require.Len(t, all, budget)
	for _, tr := range all {
		assert.Equal(t, trials.StateDone, tr.State, "trial %d", tr.ID)
	}
	x = experimentOf(t, s)
	assert.Equal(t, budget, x.Claimed)
	assert.Equal(t, trials.ID(budget), x.NextID)
}

func experimentOf(t *testing.T, s *sqlite.Store) trials.Experiment {
	t.Helper()
	es, err := s.Experiments(t.Context())
	require.NoError(t, err)
	require.Len(t, es, 1)
	return es[0]
}

// TestProcesses runs four processes on one file until 1,000 trials are
// finished: no process sees the file locked as a failure, no trial is lost
// and each is finished once.
func TestProcesses(t *testing.T) {
	const budget, procs = 1000, 4
	path := filepath.Join(t.TempDir(), "trials.db")
	createExperiment(t, path, budget)
	type child struct {
		cmd    *exec.Cmd
		ids    []trials.ID
		stderr *strings.Builder
	}
	children := make([]*child, procs)
	var wg sync.WaitGroup
	for i := range children {
		cmd, out, stderr := helper(t, "mixed", path)
		c := &child{cmd: cmd, stderr: stderr}
		children[i] = c
		wg.Go(func() {
			for out.Scan() {
				id, err := strconv.ParseInt(out.Text(), 10, 64)
				if err != nil {
					c.stderr.WriteString("bad line " + out.Text())
					continue
				}
				c.ids = append(c.ids, trials.ID(id))
			}
		})
	}
	wg.Wait()
	finished := map[trials.ID]int{}
	for i, c := range children {
		err := c.cmd.Wait()
		assert.NoError(t, err, "child %d", i)
		assert.Empty(t, c.stderr.String(), "child %d", i)
		assert.NotContains(t, c.stderr.String(), "locked")
		t.Logf("child %d finished %d trials", i, len(c.ids))
		for _, id := range c.ids {
			finished[id]++
		}
	}
	assert.Len(t, finished, budget)
	for id, n := range finished {
		assert.Equal(t, 1, n, "trial %d finished %d times", id, n)
	}
	integrityCheck(t, path)
	s, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	defer s.Close()
	all, _, err := s.Changes(t.Context(), helperExp, 0, 0)
	require.NoError(t, err)
	require.Len(t, all, budget)
	for _, tr := range all {
		assert.Equal(t, trials.StateDone, tr.State, "trial %d", tr.ID)
		assert.Equal(t, 1, finished[tr.ID], "trial %d", tr.ID)
	}
}

// TestStoresOneFile runs 8 goroutines over three Stores (three connection
// pools) on one file, claiming, proposing, reserving and finishing at once.
func TestStoresOneFile(t *testing.T) {
	const budget, workers = 400, 8
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "trials.db")
	createExperiment(t, path, budget)
	stores := make([]*sqlite.Store, 3)
	for i := range stores {
		s, err := sqlite.Open(ctx, path, nil)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	var (
		mu       sync.Mutex
		finished = map[trials.ID]int{}
		errs     []error
		wg       sync.WaitGroup
	)
	for w := range workers {
		s := stores[w%len(stores)]
		owner := fmt.Sprint("g", w)
		wg.Go(func() {
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			done := func(id trials.ID, attempt int) bool {
				if err := s.Finish(ctx, helperExp, trials.Lease{ID: id, Attempt: attempt}, trials.StateDone, trials.OK(1)); err != nil {
					fail(err)
					return false
				}
				mu.Lock()
				finished[id]++
				mu.Unlock()
				return true
			}
			for {
				tr, err := s.Reserve(ctx, helperExp, owner, time.Minute)
				if err == nil {
					if !done(tr.ID, tr.Attempt) {
						return
					}
					continue
				}
				if !errors.Is(err, trials.ErrNoQueued) {
					fail(err)
					return
				}
				ids, err := s.Claim(ctx, helperExp, 2, "")
				if errors.Is(err, trials.ErrBudget) {
					return
				}
				if err != nil {
					fail(err)
					return
				}
				ps := make([]trials.Proposal, len(ids))
				for i, id := range ids {
					ps[i] = trials.Proposal{ID: id, Values: []float64{1}}
				}
				ps[0].Owner, ps[0].LeaseTTL = owner, time.Minute
				if err := s.Propose(ctx, helperExp, ps); err != nil {
					fail(err)
					return
				}
				if !done(ids[0], 1) {
					return
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	assert.Len(t, finished, budget)
	for id, n := range finished {
		assert.Equal(t, 1, n, "trial %d", id)
	}
	all, _, err := stores[0].Changes(ctx, helperExp, 0, 0)
	require.NoError(t, err)
	assert.Len(t, all, budget)
}
