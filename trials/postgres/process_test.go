package postgres_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/postgres"
)

// workerEnv names the environment variable that makes the test binary a
// worker process of TestProcesses instead of running tests.
const workerEnv = "HYPEROPT_PG_TEST_WORKER"

// event is what a worker process prints for each acknowledged call.
type event struct {
	Op  string      `json:"op"` // "claim" or "finish"
	IDs []trials.ID `json:"ids"`
	PID int         `json:"pid"`
}

// workerMain is a worker process: it claims, proposes, reserves and
// finishes trials of experiment "e" until the budget is used and nothing
// is queued, printing an event per acknowledged claim and finish.
func workerMain() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, os.Getenv(workerEnv), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	if _, err := s.Open(ctx, trials.ExperimentSpec{Key: "e", Fingerprint: "f", Algorithm: "random"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := json.NewEncoder(os.Stdout)
	owner := "pid-" + strconv.Itoa(os.Getpid())
	budget := true
	for n := 0; ; n++ {
		if budget {
			ids, err := s.Claim(ctx, "e", 1+n%3, fmt.Sprintf("%s-%d", owner, n))
			switch {
			case errors.Is(err, trials.ErrBudget):
				budget = false
			case err != nil:
				fmt.Fprintln(os.Stderr, err)
				return 1
			default:
				_ = out.Encode(event{Op: "claim", IDs: ids, PID: os.Getpid()})
				ps := make([]trials.Proposal, len(ids))
				for i, id := range ids {
					ps[i] = trials.Proposal{ID: id, Values: []float64{float64(id)}}
				}
				if err := s.Propose(ctx, "e", ps); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
			}
		}
		t, err := s.Reserve(ctx, "e", owner, time.Minute)
		if errors.Is(err, trials.ErrNoQueued) {
			if !budget {
				return 0
			}
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := s.Finish(ctx, "e", t.Lease(), trials.StateDone, trials.OK(t.Values[0])); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		_ = out.Encode(event{Op: "finish", IDs: []trials.ID{t.ID}, PID: os.Getpid()})
	}
}

// TestProcesses runs several processes that claim, reserve and finish on
// one experiment at once: no ID is claimed or finished twice and the
// budget is never exceeded, by the processes' own records.
func TestProcesses(t *testing.T) {
	t.Parallel()
	const procs, budget = 4, 300
	s, dsn := open(t, nil)
	c := ctx(t)
	_, err := s.Open(c, trials.ExperimentSpec{Key: "e", Fingerprint: "f", Algorithm: "random", MaxEvals: budget})
	require.NoError(t, err)

	var mu sync.Mutex
	var events []event
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), workerEnv+"="+dsn)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr bufferWriter
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var e event
				if err := json.Unmarshal(sc.Bytes(), &e); err == nil {
					mu.Lock()
					events = append(events, e)
					mu.Unlock()
				}
			}
			if err := cmd.Wait(); err != nil {
				errs <- fmt.Errorf("worker: %w: %s", err, stderr.String())
				return
			}
			errs <- nil
		}()
	}
	wg.Wait()
	for range procs {
		require.NoError(t, <-errs)
	}

	claimed := map[trials.ID]int{}
	finished := map[trials.ID]int{}
	pids := map[int]bool{}
	for _, e := range events {
		for _, id := range e.IDs {
			if e.Op == "claim" {
				claimed[id]++
			} else {
				finished[id]++
				pids[e.PID] = true
			}
		}
	}
	require.Len(t, claimed, budget, "claimed IDs")
	require.Len(t, finished, budget, "finished IDs")
	for id := range trials.ID(budget) {
		require.Equal(t, 1, claimed[id], "claims of trial %d", id)
		require.Equal(t, 1, finished[id], "finishes of trial %d", id)
	}
	require.Greater(t, len(pids), 1, "one process did all the work")
	ts, _, err := s.Changes(c, "e", 0, 0)
	require.NoError(t, err)
	require.Len(t, ts, budget)
	for _, tr := range ts {
		require.Equal(t, trials.StateDone, tr.State)
		require.Equal(t, 1, tr.Attempt)
		require.Equal(t, float64(tr.ID), tr.Result.Loss)
	}
	_, err = s.Claim(c, "e", 1, "")
	require.ErrorIs(t, err, trials.ErrBudget)
}

// bufferWriter is a goroutine-safe buffer for a process's stderr.
type bufferWriter struct {
	mu sync.Mutex
	b  []byte
}

func (w *bufferWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *bufferWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
