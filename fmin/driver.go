package fmin

import (
	"context"
	"errors"

	"github.com/hyperopt-go/hyperopt/trials"
)

// drive is the search loop of a driver (Options.RemoteWorkers): it keeps
// QueueLen trials queued for the workers, and handles the trials they
// finish, until every trial of the budget is finished, a stop rule fires
// or ctx ends. Its queued trials are canceled when it stops early.
func (m *minimizer) drive(ctx context.Context) (*Result, error) {
	st, end := m.begin(ctx)
	defer end()
	depth := m.opts.QueueLen
	if depth == 0 {
		depth = m.par
	}
	for st.res.Stop == 0 && st.ctx.Err() == nil {
		if err := m.o.Refresh(st.bg); err != nil {
			st.fatal, st.res.Stop = err, StopError
			break
		}
		m.collectFinished(st)
		if st.res.Stop != 0 {
			break
		}
		counts := m.o.t.Counts()
		pending := counts[trials.StateQueued] + counts[trials.StateRunning]
		if q := counts[trials.StateQueued]; !st.noMore && q < depth {
			m.enqueue(st, depth-q)
			continue // read what was proposed, and look again
		}
		if st.noMore && pending == 0 {
			break // every trial of the budget is finished
		}
		if !m.waitOthers(st.ctx) {
			break
		}
	}
	if st.res.Stop != 0 || st.ctx.Err() != nil {
		m.cancelQueued(st)
	}
	return m.conclude(ctx, st)
}

// enqueue asks the algorithm for n trials to queue for the workers.
func (m *minimizer) enqueue(st *search, n int) {
	o := m.o
	o.askMu.Lock()
	ts, err := o.ask(st.ctx, n, true)
	o.askMu.Unlock()
	switch {
	case errors.Is(err, trials.ErrBudget):
		st.noMore = true
	case errors.Is(err, ErrExhausted):
		st.noMore = true
		if m.o.t.Counts()[trials.StateQueued]+m.o.t.Counts()[trials.StateRunning] == 0 {
			st.res.Stop = StopExhausted
		}
	case err != nil && st.ctx.Err() != nil:
	case err != nil:
		st.fatal, st.res.Stop = err, StopError
		st.cancel(err)
	default:
		st.res.Evaluated += len(ts)
	}
}

// collectFinished applies the stop rules and callbacks to the trials the
// workers finished since the last look, in ID order.
func (m *minimizer) collectFinished(st *search) {
	for _, t := range m.o.t.All() {
		if !t.State.Finished() || st.finished[t.ID] {
			continue
		}
		if t.State == trials.StateCanceled {
			st.finished[t.ID] = true
			continue
		}
		m.finished(st, t)
	}
}

// cancelQueued cancels the driver's trials still queued when it stops
// early, so that workers do not evaluate them; trials the workers are
// running finish and are recorded. A trial a worker reserved meanwhile is
// left to it.
func (m *minimizer) cancelQueued(st *search) {
	if err := m.o.Refresh(st.bg); err != nil {
		return
	}
	var ls []trials.Lease
	for _, t := range m.o.t.All() {
		if t.State == trials.StateQueued {
			ls = append(ls, t.Lease())
		}
	}
	if len(ls) == 0 {
		return
	}
	err := m.o.store.Cancel(st.bg, m.o.exp.Key, ls)
	if errors.Is(err, trials.ErrConflict) {
		// Some were reserved since the read: cancel the others one by one.
		for _, l := range ls {
			_ = m.o.cancelLease(st.bg, l)
		}
	} else if err != nil {
		m.o.log.Warn("cannot cancel queued trials", "err", err)
	}
	_ = m.o.Refresh(st.bg)
}
