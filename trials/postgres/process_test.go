package postgres_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
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

// crashEnv names the environment variable that makes a worker process
// reserve trials under short leases and then hang until it is killed.
const crashEnv = "HYPEROPT_PG_TEST_CRASH"

// workerMain is a worker process: it claims, proposes, reserves and
// finishes trials of experiment "e" until every trial is finished,
// printing an event per acknowledged claim, reservation and finish. As a
// crashing worker it reserves three trials under leases of a second and
// hangs.
func workerMain() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := postgres.Open(ctx, os.Getenv(workerEnv), nil)
	if err != nil {
		return fail(err)
	}
	defer s.Close()
	x, err := s.Open(ctx, trials.ExperimentSpec{Key: "e", Fingerprint: "f", Algorithm: "random"})
	if err != nil {
		return fail(err)
	}
	out := json.NewEncoder(os.Stdout)
	owner := "pid-" + strconv.Itoa(os.Getpid())
	if os.Getenv(crashEnv) != "" {
		ids, err := s.Claim(ctx, "e", 3, owner)
		if err != nil {
			return fail(err)
		}
		_ = out.Encode(event{Op: "claim", IDs: ids, PID: os.Getpid()})
		ps := make([]trials.Proposal, len(ids))
		for i, id := range ids {
			ps[i] = trials.Proposal{ID: id, Values: []float64{float64(id)}, Owner: owner, LeaseTTL: time.Second}
		}
		if err := s.Propose(ctx, "e", ps); err != nil {
			return fail(err)
		}
		_ = out.Encode(event{Op: "reserve", IDs: ids, PID: os.Getpid()})
		<-ctx.Done() // killed before
		return 1
	}
	budget := true
	for n := 0; ; n++ {
		if budget {
			ids, err := s.Claim(ctx, "e", 1+n%3, fmt.Sprintf("%s-%d", owner, n))
			switch {
			case errors.Is(err, trials.ErrBudget):
				budget = false
			case err != nil:
				return fail(err)
			default:
				_ = out.Encode(event{Op: "claim", IDs: ids, PID: os.Getpid()})
				ps := make([]trials.Proposal, len(ids))
				for i, id := range ids {
					ps[i] = trials.Proposal{ID: id, Values: []float64{float64(id)}}
				}
				if err := s.Propose(ctx, "e", ps); err != nil {
					return fail(err)
				}
			}
		}
		t, err := s.Reserve(ctx, "e", owner, time.Minute)
		if errors.Is(err, trials.ErrNoQueued) {
			if budget {
				continue
			}
			// Done when every trial is finished; until then a killed
			// worker's trials wait for their leases to expire.
			ts, _, err := s.Changes(ctx, "e", 0, 0)
			if err != nil {
				return fail(err)
			}
			left := 0
			for _, t := range ts {
				if !t.State.Finished() {
					left++
				}
			}
			if left == 0 && len(ts) == x.MaxEvals {
				return 0
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			return fail(err)
		}
		if err := s.Finish(ctx, "e", t.Lease(), trials.StateDone, trials.OK(t.Values[0])); err != nil {
			return fail(err)
		}
		_ = out.Encode(event{Op: "finish", IDs: []trials.ID{t.ID}, PID: os.Getpid()})
	}
}

// worker is a running worker process and the events it printed.
type worker struct {
	cmd    *exec.Cmd
	stderr bufferWriter
	events chan event
	done   chan error
}

func startWorker(t *testing.T, dsn string, crash bool) *worker {
	w := &worker{events: make(chan event, 1000), done: make(chan error, 1)}
	w.cmd = exec.Command(os.Args[0], "-test.run=^$")
	w.cmd.Env = append(os.Environ(), workerEnv+"="+dsn)
	if crash {
		w.cmd.Env = append(w.cmd.Env, crashEnv+"=1")
	}
	stdout, err := w.cmd.StdoutPipe()
	require.NoError(t, err)
	w.cmd.Stderr = &w.stderr
	require.NoError(t, w.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err == nil {
				w.events <- e
			}
		}
		close(w.events)
		if err := w.cmd.Wait(); err != nil {
			w.done <- fmt.Errorf("worker: %w: %s", err, w.stderr.String())
			return
		}
		w.done <- nil
	}()
	return w
}

// TestProcesses runs several processes that claim, reserve and finish on
// one experiment at once, after killing (SIGKILL) one that held three
// reservations: no ID is claimed or finished twice, the budget is never
// exceeded, and the killed worker's trials are finished by the others
// once their leases expire, by the processes' own records.
func TestProcesses(t *testing.T) {
	t.Parallel()
	const procs, budget = 4, 300
	s, dsn := open(t, nil)
	c := ctx(t)
	_, err := s.Open(c, trials.ExperimentSpec{Key: "e", Fingerprint: "f", Algorithm: "random", MaxEvals: budget})
	require.NoError(t, err)

	var events []event
	crash := startWorker(t, dsn, true)
	for e := range crash.events {
		events = append(events, e)
		if e.Op == "reserve" {
			break
		}
	}
	require.NoError(t, crash.cmd.Process.Kill())
	require.Error(t, <-crash.done)
	crashed := events[len(events)-1].IDs
	require.Len(t, crashed, 3)

	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for range procs {
		w := startWorker(t, dsn, false)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range w.events {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			}
			errs <- <-w.done
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
			switch e.Op {
			case "claim":
				claimed[id]++
			case "finish":
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
		require.Equal(t, float64(tr.ID), tr.Result.Loss)
		want := 1
		if slices.Contains(crashed, tr.ID) {
			want = 2 // the killed worker's attempt, then another's
		}
		require.Equal(t, want, tr.Attempt, "attempts of trial %d", tr.ID)
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
