package postgres_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/internal/pgtest"
	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/postgres"
)

// proxy forwards TCP connections to a server and can drop the server's
// next reply and the connection with it: a commit whose acknowledgement is
// lost.
type proxy struct {
	l      net.Listener
	target string
	cut    atomic.Bool  // drop the next reply
	cuts   atomic.Int32 // replies dropped
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{l: l, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) port() int { return p.l.Addr().(*net.TCPAddr).Port }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(s, c)
			s.Close()
			c.Close()
		}()
		go func() {
			defer p.wg.Done()
			defer s.Close()
			defer c.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && p.cut.CompareAndSwap(true, false) {
					p.cuts.Add(1)
					return
				}
				if n > 0 {
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

func (p *proxy) close() {
	p.l.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestRestart restarts PostgreSQL in the middle of a search, on a
// private, durable cluster (fsync on), reaching it through a proxy that
// can lose a reply: the store reconnects and retries; a Finish whose
// commit's acknowledgement was lost is retried and succeeds (not a
// conflict), and so does a Reserve (the same trial, not another); a waiter is woken after the reconnection; and every finish
// the workers saw acknowledged (recorded by the test, not the store) is in
// the store once, with its result.
func TestRestart(t *testing.T) {
	t.Parallel()
	cl := pgtest.StartT(t, &pgtest.Options{Durable: true})
	u, err := url.Parse(cl.NewDatabase(t))
	require.NoError(t, err)
	px := newProxy(t, u.Host)
	u.Host = fmt.Sprintf("127.0.0.1:%d", px.port())
	c := ctx(t)
	s, err := postgres.Open(c, u.String(), &postgres.Options{RetryTimeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	const budget = 120
	_, err = s.Open(c, trials.ExperimentSpec{Key: "e", Fingerprint: "f", Algorithm: "random", MaxEvals: budget, MaxAttempts: 10})
	require.NoError(t, err)

	var mu sync.Mutex
	acked := map[trials.ID]float64{} // the test's own record of acknowledged finishes

	// A lost acknowledgement: the Finish commits, its reply is dropped
	// with the connection, and the store's retry succeeds.
	ids, err := s.Claim(c, "e", 1, "first")
	require.NoError(t, err)
	require.NoError(t, s.Propose(c, "e", []trials.Proposal{{ID: ids[0], Values: []float64{0}}}))
	tr, err := s.Reserve(c, "e", "w0", time.Minute)
	require.NoError(t, err)
	px.cut.Store(true)
	require.NoError(t, s.Finish(c, "e", tr.Lease(), trials.StateDone, trials.OK(0.5)))
	require.Equal(t, int32(1), px.cuts.Load(), "no reply was dropped")
	g, err := s.Get(c, "e", tr.ID)
	require.NoError(t, err)
	require.Equal(t, trials.StateDone, g.State)
	require.Equal(t, tr.Seq+1, g.Seq, "the finish was recorded more than once")
	acked[tr.ID] = 0.5

	// A Reserve whose reply is lost: its retry returns the trial the
	// first call took, not the next one.
	ids, err = s.Claim(c, "e", 2, "second")
	require.NoError(t, err)
	require.NoError(t, s.Propose(c, "e", []trials.Proposal{{ID: ids[0], Values: []float64{1}}, {ID: ids[1], Values: []float64{2}}}))
	px.cut.Store(true)
	tr, err = s.Reserve(c, "e", "w0", time.Minute)
	require.NoError(t, err)
	require.Equal(t, int32(2), px.cuts.Load(), "no reply was dropped")
	require.Equal(t, trials.Lease{ID: ids[0], Attempt: 1}, tr.Lease())
	g, err = s.Get(c, "e", ids[1])
	require.NoError(t, err)
	require.Equal(t, trials.StateQueued, g.State, "the retried Reserve took a second trial")
	require.NoError(t, s.Finish(c, "e", tr.Lease(), trials.StateDone, trials.OK(0.5)))
	acked[tr.ID] = 0.5

	// A waiter across the restarts returns (early) once the store has
	// listened again.
	waited := make(chan error, 1)
	go func() {
		_, err := s.Wait(c, "e", 1<<40)
		waited <- err
	}()

	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("w%d", w+1)
			for n := 0; ; n++ {
				mu.Lock()
				finished := len(acked) == budget
				mu.Unlock()
				if finished || c.Err() != nil {
					return
				}
				ids, err := s.Claim(c, "e", 1, fmt.Sprintf("%s-%d", owner, n))
				if err == nil {
					err = s.Propose(c, "e", []trials.Proposal{{ID: ids[0], Values: []float64{float64(ids[0])}}})
				}
				if err != nil && !errors.Is(err, trials.ErrBudget) {
					t.Errorf("%s: claim or propose: %v", owner, err)
					return
				}
				tr, err := s.Reserve(c, "e", owner, 3*time.Second)
				if errors.Is(err, trials.ErrNoQueued) {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if err != nil {
					t.Errorf("%s: reserve: %v", owner, err)
					return
				}
				loss := float64(tr.ID) / 2
				err = s.Finish(c, "e", tr.Lease(), trials.StateDone, trials.OK(loss))
				switch {
				case err == nil:
					mu.Lock()
					if _, twice := acked[tr.ID]; twice {
						t.Errorf("trial %d acknowledged twice", tr.ID)
					}
					acked[tr.ID] = loss
					mu.Unlock()
				case errors.Is(err, trials.ErrConflict):
					// Its lease expired during a restart and another
					// worker took it over: not acknowledged.
				default:
					t.Errorf("%s: finish: %v", owner, err)
					return
				}
			}
		}()
	}
	waitFor := func(n int) {
		for {
			mu.Lock()
			k := len(acked)
			mu.Unlock()
			if k >= n || t.Failed() {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(30)
	require.NoError(t, cl.Restart(true)) // as in a crash: recovery from the WAL
	waitFor(70)
	require.NoError(t, cl.Restart(false))
	wg.Wait()
	select {
	case err := <-waited:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Wait was not woken after the reconnection")
	}

	require.Len(t, acked, budget)
	ts, _, err := s.Changes(c, "e", 0, 0)
	require.NoError(t, err)
	require.Len(t, ts, budget)
	for _, tr := range ts {
		loss, ok := acked[tr.ID]
		require.True(t, ok, "trial %d is in the store but was never acknowledged", tr.ID)
		require.Equal(t, trials.StateDone, tr.State, "trial %d", tr.ID)
		require.Equal(t, loss, tr.Result.Loss, "trial %d", tr.ID)
	}
}
