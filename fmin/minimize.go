package fmin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// Minimize searches space s for the config that minimizes objective, as
// HyperOpt's fmin does: it asks the algorithm for points, evaluates them
// (Options.Parallelism at a time, each in its own goroutine), records every
// trial in the store, and stops at the first of MaxEvals, Timeout,
// LossThreshold, EarlyStop, the algorithm's exhaustion, or ctx's
// cancellation. Some stop rule must be set (ErrNoStopRule otherwise), so
// opts may not be nil.
//
// Result.Stop says why the search stopped; Result.Best and Result.Config
// give the best trial and its typed config. When no trial has an ok result,
// Minimize returns the Result with an error wrapping trials.ErrNoResult.
// When ctx is canceled it returns the Result so far with ctx's error; the
// running trials are recorded as canceled, and resuming the experiment runs
// them again. Other errors (a space the store refuses, a failing store or
// algorithm) come with a nil Result if the search could not start, or with
// the Result so far and Stop set to StopError.
//
// With Options.RemoteWorkers, Minimize is the driver of a distributed
// search: it only proposes trials, which [Worker] processes sharing the
// store evaluate (objective may then be nil).
func Minimize(ctx context.Context, objective Objective, s *space.Space, opts *Options) (*Result, error) {
	if opts == nil {
		opts = &Options{}
	}
	if objective == nil && !opts.RemoteWorkers {
		return nil, errors.New("fmin: nil objective")
	}
	if opts.Timeout < 0 || opts.TrialTimeout < 0 || opts.Grace < 0 || opts.Parallelism < 0 || opts.QueueLen < 0 {
		return nil, fmt.Errorf("fmin: Timeout (%v), TrialTimeout (%v), Grace (%v), Parallelism (%d) and QueueLen (%d) must not be negative",
			opts.Timeout, opts.TrialTimeout, opts.Grace, opts.Parallelism, opts.QueueLen)
	}
	if opts.LossThreshold != nil && math.IsNaN(*opts.LossThreshold) {
		return nil, errors.New("fmin: LossThreshold is NaN")
	}
	if err := checkStopRule(ctx, opts); err != nil {
		return nil, err
	}
	start := time.Now()
	o, err := NewOptimizer(ctx, s, opts)
	if err != nil {
		if ctx.Err() != nil {
			return &Result{Stop: StopCanceled, Elapsed: time.Since(start)}, err
		}
		return nil, err
	}
	defer o.Close()
	m := &minimizer{
		o:    o,
		opts: opts,
		par:  max(1, opts.Parallelism),
		ev: evaluator{
			store:        o.store,
			exp:          o.exp.Key,
			space:        s,
			objective:    objective,
			ttl:          o.ttl,
			trialTimeout: opts.TrialTimeout,
			grace:        opts.Grace,
			log:          o.log,
		},
		results: make(chan outcome, max(1, opts.Parallelism)),
	}
	if m.ev.grace == 0 {
		m.ev.grace = 5 * time.Second
	}
	var res *Result
	if opts.RemoteWorkers {
		res, err = m.drive(ctx)
	} else {
		res, err = m.run(ctx)
	}
	res.Elapsed = time.Since(start)
	return res, err
}

// checkStopRule returns ErrNoStopRule if the options set no way for the
// search to end and the experiment has no stored budget to run to.
func checkStopRule(ctx context.Context, opts *Options) error {
	if opts.MaxEvals != 0 || opts.Timeout != 0 || opts.LossThreshold != nil || opts.EarlyStop != nil {
		return nil
	}
	if opts.Store != nil {
		key := opts.Experiment
		if key == "" {
			key = "default"
		}
		es, err := opts.Store.Experiments(ctx)
		if err != nil {
			return fmt.Errorf("fmin: read the stored budget: %w", err)
		}
		for _, e := range es {
			if e.Key == key && e.MaxEvals > 0 {
				return nil // resumed: it runs to its stored budget
			}
		}
	}
	return ErrNoStopRule
}

type minimizer struct {
	o       *Optimizer
	opts    *Options
	par     int
	ev      evaluator
	results chan outcome
}

// search is the state of one run of the search loop.
type search struct {
	res      *Result
	ctx      context.Context // the search's: ends on timeout, a stop rule or a fatal error
	cancel   context.CancelCauseFunc
	bg       context.Context // for writes that must happen after ctx ends
	best     float64
	prog     *progress
	running  int  // evaluations in flight
	noMore   bool // the budget is spent or the algorithm exhausted
	done     <-chan struct{}
	fatal    error
	batch    []outcome // Deterministic mode: the batch's outcomes so far
	finished map[trials.ID]bool
	anyOK    bool // a trial of the experiment succeeded
	errors   int  // trials in a row that ended in error
}

// begin starts a run: the search's context (with its timeout), the best
// loss and the progress bar from the trials already in the store.
func (m *minimizer) begin(ctx context.Context) (*search, func()) {
	o := m.o
	st := &search{res: &Result{Trials: o.t, Seed: o.exp.Seed}, bg: context.WithoutCancel(ctx), best: math.Inf(1), finished: map[trials.ID]bool{}}
	st.ctx, st.cancel = context.WithCancelCause(ctx)
	var timer *time.Timer
	if m.opts.Timeout > 0 {
		timer = time.AfterFunc(m.opts.Timeout, func() { st.cancel(ErrSearchTimeout) })
	}
	for _, t := range o.t.All() {
		if t.State.Finished() {
			st.finished[t.ID] = true
		}
		if t.State == trials.StateDone {
			st.best = math.Min(st.best, t.Result.Objective())
			st.anyOK = st.anyOK || t.Result.Status == trials.StatusOK
		}
	}
	st.prog = newProgress(m.opts, o.exp.MaxEvals, len(st.finished))
	if th := m.opts.LossThreshold; th != nil && st.best < *th {
		st.res.Stop = StopLossThreshold
	}
	st.done = st.ctx.Done()
	return st, func() {
		if timer != nil {
			timer.Stop()
		}
		st.prog.finish()
		st.cancel(nil)
	}
}

// run is the search loop of Minimize with local evaluation: start
// evaluations while there is room, then handle one outcome, until the
// budget is spent, a stop rule fires or ctx ends.
func (m *minimizer) run(ctx context.Context) (*Result, error) {
	st, end := m.begin(ctx)
	defer end()
	for {
		m.fill(st)
		if st.running == 0 {
			if st.noMore && st.res.Stop == 0 && st.ctx.Err() == nil && m.othersRunning(st.bg) {
				// The budget is spent but other evaluators (peers, or a
				// crashed process whose leases have not expired) still
				// run trials: wait for them, taking over any whose lease
				// expires.
				if !m.waitOthers(st.ctx) {
					st.done = nil
				}
				st.noMore = false
				continue
			}
			break
		}
		m.collect(st)
	}
	return m.conclude(ctx, st)
}

// fill starts evaluations while fewer than Parallelism run. In
// Deterministic mode it proposes a whole batch once the last one is
// recorded, and starts its evaluations only when the batch is complete, so
// that no result of the batch reaches the algorithm before its last
// proposal.
func (m *minimizer) fill(st *search) {
	det := m.opts.Deterministic
	if det && st.running > 0 {
		return
	}
	var batch []trials.Trial
	for st.res.Stop == 0 && !st.noMore && st.running+len(batch) < m.par && st.ctx.Err() == nil {
		t, err := m.o.next(st.ctx)
		switch {
		case errors.Is(err, trials.ErrBudget):
			st.noMore = true
			continue
		case errors.Is(err, ErrExhausted):
			st.noMore = true
			st.res.Stop = StopExhausted
			continue
		case err != nil && st.ctx.Err() != nil:
			continue // the loop ends; the reason is set by conclude
		case err != nil:
			st.fatal = err
			st.res.Stop = StopError
			st.cancel(err)
			continue
		}
		if det {
			batch = append(batch, t)
		} else {
			m.start(st, t)
		}
	}
	for _, t := range batch {
		m.start(st, t)
	}
}

// start evaluates t in a goroutine of its own, which records the outcome
// and sends it to m.results.
func (m *minimizer) start(st *search, t trials.Trial) {
	st.running++
	st.res.Evaluated++
	go func() {
		out := m.ev.evaluate(st.ctx, t)
		m.ev.record(st.bg, &out, false)
		m.results <- out
	}()
}

// collect waits for one evaluation's outcome (already recorded in the
// store) and handles it; in Deterministic mode, a batch's outcomes are
// handled in ID order once all of them are in, so that what the stop rules
// and callbacks see does not depend on completion order.
func (m *minimizer) collect(st *search) {
	select {
	case out := <-m.results:
		st.running--
		if !m.opts.Deterministic {
			m.handle(st, out)
			return
		}
		st.batch = append(st.batch, out)
		if st.running == 0 {
			slices.SortFunc(st.batch, func(a, b outcome) int { return cmp.Compare(a.trial.ID, b.trial.ID) })
			for _, b := range st.batch {
				m.handle(st, b)
			}
			st.batch = st.batch[:0]
		}
	case <-st.done:
		st.done = nil // running evaluations see the cancellation and report back
	}
}

// handle updates the view with a recorded outcome and applies the stop
// rules and callbacks to it.
func (m *minimizer) handle(st *search, out outcome) {
	if out.err != nil || (out.kind != outDone && out.kind != outError) {
		return
	}
	if err := m.o.Refresh(st.bg); err != nil {
		m.o.log.Error("cannot read the store", "err", err)
		return
	}
	t, ok := m.o.t.Get(out.trial.ID)
	if !ok || !t.State.Finished() {
		return
	}
	m.finished(st, t)
}

// finished applies the stop rules and callbacks to a trial that finished.
func (m *minimizer) finished(st *search, t trials.Trial) {
	st.finished[t.ID] = true
	if t.State == trials.StateDone {
		st.best = math.Min(st.best, t.Result.Objective())
	}
	st.prog.update(st.best)
	if m.opts.OnTrial != nil {
		if err := guard("Options.OnTrial", func() { m.opts.OnTrial(t) }); err != nil {
			m.fail(st, err)
			return
		}
	}
	if th := m.opts.LossThreshold; th != nil && t.State == trials.StateDone && t.Result.Objective() < *th && st.res.Stop == 0 {
		st.res.Stop = StopLossThreshold
	}
	if m.opts.EarlyStop != nil && st.res.Stop == 0 {
		stop := false
		if err := guard("Options.EarlyStop", func() { stop = m.opts.EarlyStop(m.o.t, t) }); err != nil {
			m.fail(st, err)
			return
		}
		if stop {
			st.res.Stop = StopEarly
		}
	}
	m.countErrors(st, t)
}

// countErrors applies Options.ErrorLimit to a finished trial.
func (m *minimizer) countErrors(st *search, t trials.Trial) {
	if t.State != trials.StateError {
		st.errors = 0
		st.anyOK = st.anyOK || (t.State == trials.StateDone && t.Result.Status == trials.StatusOK)
		return
	}
	st.errors++
	limit := m.opts.ErrorLimit
	stop := (limit == 0 && !st.anyOK) || (limit > 0 && st.errors >= limit)
	if !stop || st.fatal != nil {
		return
	}
	why := "before any trial succeeded"
	if limit > 0 {
		why = fmt.Sprintf("%d trials in a row ended in error", st.errors)
	}
	err := fmt.Errorf("%w (%s; Options.ErrorLimit sets when errors stop a search): trial %d: %s", ErrObjective, why, t.ID, t.Result.Err)
	if t.Result.Stack != "" {
		err = fmt.Errorf("%w\n%s", err, t.Result.Stack)
	}
	st.fatal, st.res.Stop = err, StopError
	st.cancel(err)
}

// conclude sets the reason the search stopped, if no rule did, and the
// best trial, and returns the result and error of Minimize.
func (m *minimizer) conclude(ctx context.Context, st *search) (*Result, error) {
	res := st.res
	if res.Stop == 0 {
		switch {
		case errors.Is(context.Cause(st.ctx), ErrSearchTimeout):
			res.Stop = StopTimeout
		case ctx.Err() != nil:
			res.Stop = StopCanceled
		default:
			res.Stop = StopMaxEvals
		}
	}
	if err := m.o.Refresh(st.bg); err != nil && st.fatal == nil {
		st.fatal = err
	}
	if b, err := m.o.t.Best(); err == nil {
		res.Best = m.withAttachments(st.bg, b)
		res.Config, _ = m.o.space.Eval(b.Values)
	} else if st.fatal == nil && ctx.Err() == nil {
		st.fatal = fmt.Errorf("fmin: %w%s", err, firstError(m.o.t))
	}
	m.o.log.Info("search ended", "reason", res.Stop, "evaluated", res.Evaluated, "best", res.Best.Result.Loss)
	if st.fatal != nil {
		return res, st.fatal
	}
	if res.Stop == StopCanceled {
		return res, ctx.Err()
	}
	return res, nil
}

// othersRunning reports whether trials of the experiment are still running
// under other evaluators' leases.
func (m *minimizer) othersRunning(ctx context.Context) bool {
	if err := m.o.Refresh(ctx); err != nil {
		return false
	}
	return m.o.t.Counts()[trials.StateRunning] > 0
}

// waitOthers waits for other evaluators' trials to change, for at most
// poll(): with a store that can wake its callers (trials.Waiter), until the
// experiment changes; with another store, the whole poll interval. (A lease
// that expires changes nothing in the store, so even a waiter looks again
// after poll() to take such a trial over.) It returns false if ctx ended.
func (m *minimizer) waitOthers(ctx context.Context) bool {
	if w, ok := m.o.store.(trials.Waiter); ok {
		m.o.askMu.Lock()
		seq := m.o.t.Seq()
		m.o.askMu.Unlock()
		wctx, cancel := context.WithTimeout(ctx, m.poll())
		defer cancel()
		_, err := w.Wait(wctx, m.o.exp.Key, seq)
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			return ctx.Err() == nil
		}
		if ctx.Err() != nil {
			return false
		}
		// The store could not wait (closed, unreachable): fall back to
		// sleeping, and let the next read report the error.
	}
	select {
	case <-time.After(m.poll()):
		return true
	case <-ctx.Done():
		return false
	}
}

// poll is how long to wait before looking again at other evaluators'
// trials: a fraction of the lease, between 10 ms and 1 s.
func (m *minimizer) poll() time.Duration {
	return min(max(m.o.ttl/4, 10*time.Millisecond), time.Second)
}

// firstError describes the first trial that ended in error, for the error
// of a search without any ok result: "; the first error, trial 3: ...".
func firstError(t *trials.Trials) string {
	for _, tr := range t.All() {
		if tr.State == trials.StateError || (tr.State == trials.StateDone && tr.Result.Err != "") {
			return fmt.Sprintf("; the first error, trial %d: %s", tr.ID, tr.Result.Err)
		}
	}
	return ""
}

// withAttachments returns t with the bytes of its attachments read from the
// store (listings carry only their names).
func (m *minimizer) withAttachments(ctx context.Context, t trials.Trial) trials.Trial {
	if len(t.Result.Attachments) == 0 {
		return t
	}
	a := make(map[string][]byte, len(t.Result.Attachments))
	for name := range t.Result.Attachments {
		b, err := m.o.store.Attachment(ctx, m.o.exp.Key, t.ID, name)
		if err != nil {
			m.o.log.Warn("cannot read an attachment of the best trial", "trial", t.ID, "name", name, "err", err)
		}
		a[name] = b
	}
	t.Result.Attachments = a
	return t
}

// fail stops the search with err, unless it already failed.
func (m *minimizer) fail(st *search, err error) {
	if st.fatal == nil {
		st.fatal, st.res.Stop = err, StopError
		st.cancel(err)
	}
}

// guard calls a user's callback f and turns a panic in it into an error
// naming the callback, so that it stops the search cleanly (every trial
// recorded) instead of unwinding through the driver.
func guard(name string, f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("fmin: %s panicked: %v\n%s", name, p, debug.Stack())
		}
	}()
	f()
	return nil
}
