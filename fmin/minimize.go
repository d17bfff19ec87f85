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
func Minimize(ctx context.Context, objective Objective, s *space.Space, opts *Options) (*Result, error) {
	if opts == nil {
		opts = &Options{}
	}
	if objective == nil {
		return nil, errors.New("fmin: nil objective")
	}
	if opts.MaxEvals == 0 && opts.Timeout == 0 && opts.LossThreshold == nil && opts.EarlyStop == nil {
		return nil, ErrNoStopRule
	}
	if opts.Timeout < 0 || opts.TrialTimeout < 0 || opts.Grace < 0 || opts.Parallelism < 0 {
		return nil, fmt.Errorf("fmin: Timeout (%v), TrialTimeout (%v), Grace (%v) and Parallelism (%d) must not be negative",
			opts.Timeout, opts.TrialTimeout, opts.Grace, opts.Parallelism)
	}
	if opts.LossThreshold != nil && math.IsNaN(*opts.LossThreshold) {
		return nil, errors.New("fmin: LossThreshold is NaN")
	}
	start := time.Now()
	o, err := NewOptimizer(ctx, s, opts)
	if err != nil {
		if ctx.Err() != nil {
			return &Result{Stop: StopCanceled, Elapsed: time.Since(start)}, err
		}
		return nil, err
	}
	m := &minimizer{
		o:         o,
		opts:      opts,
		objective: objective,
		par:       max(1, opts.Parallelism),
		grace:     opts.Grace,
		results:   make(chan outcome, max(1, opts.Parallelism)),
	}
	if m.grace == 0 {
		m.grace = 5 * time.Second
	}
	res, err := m.run(ctx)
	res.Elapsed = time.Since(start)
	return res, err
}

type minimizer struct {
	o         *Optimizer
	opts      *Options
	objective Objective
	par       int
	grace     time.Duration
	results   chan outcome
}

// outcome is how an evaluation ended.
type outcome struct {
	trial trials.Trial
	kind  outcomeKind
	res   trials.Result
}

type outcomeKind uint8

const (
	outDone     outcomeKind = iota // record the result
	outError                       // record an error (res.Err, res.Stack)
	outCanceled                    // record the trial canceled
	outLost                        // the lease is gone: record nothing
)

func (m *minimizer) run(ctx context.Context) (*Result, error) {
	o := m.o
	res := &Result{Trials: o.t, Seed: o.exp.Seed}
	// Writes of results go on after the search's context ends: what was
	// evaluated is never lost.
	bg := context.WithoutCancel(ctx)
	searchCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if m.opts.Timeout > 0 {
		timer := time.AfterFunc(m.opts.Timeout, func() { cancel(ErrSearchTimeout) })
		defer timer.Stop()
	}

	finished := 0
	best := math.Inf(1)
	for _, t := range o.t.All() {
		if t.State.Finished() {
			finished++
		}
		if t.State == trials.StateDone {
			best = math.Min(best, t.Result.Objective())
		}
	}
	prog := newProgress(m.opts, m.opts.MaxEvals, finished)
	defer prog.finish()
	if th := m.opts.LossThreshold; th != nil && best < *th {
		res.Stop = StopLossThreshold
	}

	running := 0
	noMore := false
	done := searchCtx.Done()
	var fatal error
	// handle records one outcome and applies the stop rules to it.
	handle := func(out outcome) {
		t, ok := m.record(bg, out)
		if !ok || out.kind == outCanceled {
			return
		}
		if t.State == trials.StateDone {
			best = math.Min(best, t.Result.Objective())
		}
		prog.update(best)
		if m.opts.OnTrial != nil {
			m.opts.OnTrial(t)
		}
		if th := m.opts.LossThreshold; th != nil && t.State == trials.StateDone && t.Result.Objective() < *th && res.Stop == 0 {
			res.Stop = StopLossThreshold
		}
		if m.opts.EarlyStop != nil && res.Stop == 0 && m.opts.EarlyStop(o.t, t) {
			res.Stop = StopEarly
		}
	}
	det := m.opts.Deterministic
	var batch []outcome
	release := make(chan struct{}) // closed when a deterministic batch is recorded
	defer func() { close(release) }()
	for {
		// Deterministic mode starts a batch only when the last one is
		// recorded, and fills it at once.
		fill := !det || running == 0
		for fill && res.Stop == 0 && !noMore && running < m.par && searchCtx.Err() == nil {
			t, err := o.next(searchCtx)
			switch {
			case errors.Is(err, trials.ErrBudget):
				noMore = true
				continue
			case errors.Is(err, ErrExhausted):
				noMore = true
				res.Stop = StopExhausted
				continue
			case err != nil && searchCtx.Err() != nil:
				continue // the loop ends; the reason is set below
			case err != nil:
				fatal = err
				res.Stop = StopError
				cancel(err)
				continue
			}
			running++
			res.Evaluated++
			var hold <-chan struct{}
			if det {
				hold = release
			}
			go m.evaluate(searchCtx, bg, t, hold)
		}
		if running == 0 {
			if !noMore || res.Stop != 0 || searchCtx.Err() != nil || !m.othersRunning(bg) {
				break
			}
			// The budget is spent but other evaluators (peers, or a
			// crashed process whose leases have not expired) still run
			// trials: wait for them, taking over any whose lease expires.
			if !m.waitOthers(searchCtx) {
				done = nil
			}
			noMore = false
			continue
		}
		select {
		case out := <-m.results:
			running--
			if !det {
				handle(out)
				continue
			}
			// Results are recorded in ID order once the whole batch is
			// in, so the history does not depend on completion order.
			batch = append(batch, out)
			if running == 0 {
				slices.SortFunc(batch, func(a, b outcome) int { return cmp.Compare(a.trial.ID, b.trial.ID) })
				for _, b := range batch {
					handle(b)
				}
				batch = batch[:0]
				close(release) // the batch's heartbeats stop
				release = make(chan struct{})
			}
		case <-done:
			done = nil // running evaluations see the cancellation and report back
		}
	}
	if res.Stop == 0 {
		switch {
		case errors.Is(context.Cause(searchCtx), ErrSearchTimeout):
			res.Stop = StopTimeout
		case ctx.Err() != nil:
			res.Stop = StopCanceled
		default:
			res.Stop = StopMaxEvals
		}
	}
	if err := o.Refresh(bg); err != nil && fatal == nil {
		fatal = err
	}
	if b, err := o.t.Best(); err == nil {
		res.Best = b
		res.Config, _ = o.space.Eval(b.Values)
	} else if fatal == nil && ctx.Err() == nil {
		fatal = fmt.Errorf("fmin: %w", err)
	}
	m.o.log.Info("search ended", "reason", res.Stop, "evaluated", res.Evaluated, "best", res.Best.Result.Loss)
	if fatal != nil {
		return res, fatal
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
	m.o.mu.Lock()
	defer m.o.mu.Unlock()
	return m.o.t.Counts()[trials.StateRunning] > 0
}

// waitOthers waits for other evaluators' trials to change, for at most
// poll(): with a store that can wake its callers (trials.Waiter), until the
// experiment changes; with another store, the whole poll interval. (A lease
// that expires changes nothing in the store, so even a waiter looks again
// after poll() to take such a trial over.) It returns false if ctx ended.
func (m *minimizer) waitOthers(ctx context.Context) bool {
	if w, ok := m.o.store.(trials.Waiter); ok {
		m.o.mu.Lock()
		seq := m.o.t.Seq()
		m.o.mu.Unlock()
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

// record writes an outcome to the store and returns the trial as recorded.
func (m *minimizer) record(ctx context.Context, out outcome) (trials.Trial, bool) {
	id := out.trial.ID
	var err error
	// Every write carries the lease the trial was evaluated under, so a
	// trial taken over by another evaluator in the meantime is not touched.
	lease := out.trial.Lease()
	switch out.kind {
	case outDone, outError:
		state := trials.StateDone
		if out.kind == outError {
			state = trials.StateError
		}
		m.o.mu.Lock()
		err = m.o.finishLease(ctx, lease, state, out.res)
		m.o.mu.Unlock()
	case outCanceled:
		err = m.o.cancelLease(ctx, lease)
	case outLost:
		m.o.log.Warn("lease lost: result dropped", "trial", id)
		return trials.Trial{}, false
	}
	if err != nil {
		m.o.log.Error("cannot record trial", "trial", id, "err", err)
		return trials.Trial{}, false
	}
	m.o.mu.Lock()
	t, ok := m.o.t.Get(id)
	m.o.mu.Unlock()
	return t, ok
}

// evaluate runs the objective on t and sends the outcome to m.results. It
// heartbeats the lease while the objective runs, and gives up on an
// objective that ignores its canceled context for longer than the grace
// period.
func (m *minimizer) evaluate(searchCtx, bg context.Context, t trials.Trial, hold <-chan struct{}) {
	out := outcome{trial: t}
	o := m.o
	beat := time.NewTicker(max(o.ttl/3, time.Millisecond))
	defer beat.Stop()
	defer func() {
		m.results <- out
		// A result waiting to be recorded (Deterministic mode records a
		// batch at once) keeps its lease alive until then, so that no
		// other evaluator takes the trial over meanwhile.
		for hold != nil {
			select {
			case <-hold:
				return
			case <-beat.C:
				_ = o.store.Heartbeat(bg, o.exp.Key, t.Lease(), o.ttl)
			}
		}
	}()
	ctx, cancel := context.WithCancelCause(searchCtx)
	defer cancel(nil)
	if m.opts.TrialTimeout > 0 {
		var c context.CancelFunc
		ctx, c = context.WithTimeoutCause(ctx, m.opts.TrialTimeout, ErrTrialTimeout)
		defer c()
	}
	cfg, err := o.space.Eval(t.Values)
	if err != nil {
		out.kind, out.res = outError, trials.Result{Err: err.Error()}
		return
	}
	lease := t.Lease()
	h := &Trial{
		id:      t.ID,
		attempt: t.Attempt,
		values:  t.Values,
		config:  cfg,
		base:    o.log,
		report: func(rctx context.Context, r trials.Report) error {
			return o.store.Report(rctx, o.exp.Key, lease, r)
		},
	}
	type ret struct {
		r     trials.Result
		err   error
		stack string
	}
	done := make(chan ret, 1)
	go func() {
		returned := false
		defer func() {
			if p := recover(); p != nil {
				done <- ret{err: fmt.Errorf("panic: %v", p), stack: string(debug.Stack())}
			} else if !returned {
				// runtime.Goexit (t.FailNow in a test, say) ends the
				// goroutine without a panic or a return.
				done <- ret{err: errors.New("objective exited without returning (runtime.Goexit)"), stack: string(debug.Stack())}
			}
		}()
		r, err := m.objective(ctx, h)
		returned = true
		done <- ret{r: r, err: err}
	}()
	var grace <-chan time.Time
	ctxDone := ctx.Done()
	for {
		select {
		case r := <-done:
			switch {
			case r.stack != "":
				out.kind, out.res = outError, trials.Result{Err: r.err.Error(), Stack: r.stack}
			case r.err == nil:
				out.kind, out.res = outDone, h.attachments(r.r)
			default:
				out.kind, out.res = m.failure(ctx, r.err)
			}
			return
		case <-beat.C:
			if err := o.store.Heartbeat(bg, o.exp.Key, lease, o.ttl); errors.Is(err, trials.ErrConflict) || errors.Is(err, trials.ErrNotFound) {
				cancel(ErrLeaseLost)
			}
		case <-ctxDone:
			ctxDone = nil
			g := time.NewTimer(m.grace)
			defer g.Stop()
			grace = g.C
		case <-grace:
			o.log.Warn("objective ignored its canceled context; abandoned", "trial", t.ID, "grace", m.grace)
			out.kind, out.res = m.failure(ctx, fmt.Errorf("objective still running %v after its context was canceled; abandoned", m.grace))
			return
		}
	}
}

// failure classifies an objective's error by why its context ended, if it
// did: a trial timeout is an error, a search timeout or cancellation a
// cancellation, a lost lease nothing to record; otherwise an error.
func (m *minimizer) failure(ctx context.Context, err error) (outcomeKind, trials.Result) {
	if ctx.Err() == nil {
		return outError, trials.Result{Err: err.Error()}
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrTrialTimeout):
		return outError, trials.Result{Err: fmt.Sprintf("%v after %v: %v", ErrTrialTimeout, m.opts.TrialTimeout, err)}
	case errors.Is(cause, ErrLeaseLost):
		return outLost, trials.Result{}
	default:
		return outCanceled, trials.Result{}
	}
}
