package fmin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// evaluator runs an objective on leased trials and records the outcomes
// under their leases: what Minimize's goroutines and a Worker share.
type evaluator struct {
	store        trials.Store
	exp          string
	space        *space.Space
	objective    Objective
	ttl          time.Duration // the lease's, renewed every third of it
	trialTimeout time.Duration // 0: none
	grace        time.Duration
	log          *slog.Logger
}

// outcome is how an evaluation ended.
type outcome struct {
	trial trials.Trial
	kind  outcomeKind
	res   trials.Result
	err   error // the error of recording it, if any
}

type outcomeKind uint8

const (
	outDone     outcomeKind = iota // record the result
	outError                       // record an error (res.Err, res.Stack)
	outCanceled                    // record the trial canceled
	outLost                        // the lease is gone: record nothing
)

// evaluate runs the objective on t. It heartbeats the lease while the
// objective runs, cancels the objective's context when the lease is refused
// (taken over, canceled), when the trial times out or when ctx ends, and
// gives up on an objective that ignores its canceled context for longer
// than the grace period.
func (ev *evaluator) evaluate(ctx context.Context, t trials.Trial) outcome {
	out := outcome{trial: t}
	lease := t.Lease()
	beat := time.NewTicker(max(ev.ttl/3, time.Millisecond))
	defer beat.Stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if ev.trialTimeout > 0 {
		var c context.CancelFunc
		ctx, c = context.WithTimeoutCause(ctx, ev.trialTimeout, ErrTrialTimeout)
		defer c()
	}
	cfg, err := ev.space.Eval(t.Values)
	if err != nil {
		out.kind, out.res = outError, trials.Result{Err: err.Error()}
		return out
	}
	bg := context.WithoutCancel(ctx)
	h := &Trial{
		id:      t.ID,
		attempt: t.Attempt,
		values:  t.Values,
		config:  cfg,
		base:    ev.log,
		report: func(rctx context.Context, r trials.Report) error {
			return ev.store.Report(rctx, ev.exp, lease, r)
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
		r, err := ev.objective(ctx, h)
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
				out.kind, out.res = ev.failure(ctx, r.err)
			}
			return out
		case <-beat.C:
			if err := ev.store.Heartbeat(bg, ev.exp, lease, ev.ttl); errors.Is(err, trials.ErrConflict) || errors.Is(err, trials.ErrNotFound) {
				cancel(ErrLeaseLost)
			}
		case <-ctxDone:
			ctxDone = nil
			g := time.NewTimer(ev.grace)
			defer g.Stop()
			grace = g.C
		case <-grace:
			ev.log.Warn("objective ignored its canceled context; abandoned", "trial", t.ID, "grace", ev.grace)
			out.kind, out.res = ev.failure(ctx, fmt.Errorf("objective still running %v after its context was canceled; abandoned", ev.grace))
			return out
		}
	}
}

// failure classifies an objective's error by why its context ended, if it
// did: a trial timeout is an error, a search timeout or cancellation a
// cancellation, a lost lease nothing to record; otherwise an error.
func (ev *evaluator) failure(ctx context.Context, err error) (outcomeKind, trials.Result) {
	if ctx.Err() == nil {
		return outError, trials.Result{Err: err.Error()}
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrTrialTimeout):
		return outError, trials.Result{Err: fmt.Sprintf("%v after %v: %v", ErrTrialTimeout, ev.trialTimeout, err)}
	case errors.Is(cause, ErrLeaseLost):
		return outLost, trials.Result{}
	default:
		return outCanceled, trials.Result{}
	}
}

// record writes an outcome to the store under the lease the trial was
// evaluated under, so that a trial another evaluator took over meanwhile
// is not touched. A canceled trial is canceled, or given back to the queue
// if requeue is set. The writes ignore ctx's cancellation: what was
// evaluated is never lost.
func (ev *evaluator) record(ctx context.Context, out *outcome, requeue bool) {
	ctx = context.WithoutCancel(ctx)
	l := out.trial.Lease()
	switch out.kind {
	case outDone, outError:
		state := trials.StateDone
		if out.kind == outError {
			state = trials.StateError
			ev.log.Warn("trial ended in error", "trial", l.ID, "attempt", l.Attempt, "err", out.res.Err)
		}
		err := ev.store.Finish(ctx, ev.exp, l, state, out.res)
		if errors.Is(err, trials.ErrConflict) {
			// The lease ran out while the evaluation ended or the write
			// waited (a stalled process, an overloaded database), and
			// another evaluator took the trial over: its attempt stands.
			ev.log.Warn("lease lost before the result was recorded: result dropped", "trial", l.ID, "attempt", l.Attempt)
			out.kind = outLost
		} else if err != nil {
			out.err = fmt.Errorf("fmin: finish trial %d: %w", l.ID, err)
		}
	case outCanceled:
		var err error
		if requeue {
			err = ev.store.Requeue(ctx, ev.exp, []trials.Lease{l})
		} else {
			err = ev.store.Cancel(ctx, ev.exp, []trials.Lease{l})
		}
		// ErrConflict: another evaluator took the trial over; it is theirs.
		if err != nil && !errors.Is(err, trials.ErrConflict) {
			out.err = fmt.Errorf("fmin: give back trial %d: %w", l.ID, err)
		}
	case outLost:
		ev.log.Warn("lease lost: result dropped", "trial", l.ID, "attempt", l.Attempt)
	}
	if out.err != nil {
		ev.log.Error("cannot record trial", "trial", l.ID, "err", out.err)
	}
}

// recordResults records the results of outs[idx...] (done or error): in
// one call if the store is a trials.Batcher, else one at a time. A result
// refused because another evaluator took its trial over becomes outLost.
// It returns an error only for a failure of the store.
func (ev *evaluator) recordResults(ctx context.Context, outs []outcome, idx []int) error {
	b, ok := ev.store.(trials.Batcher)
	if !ok || len(idx) < 2 {
		for _, i := range idx {
			ev.record(ctx, &outs[i], false)
			if outs[i].err != nil {
				return outs[i].err
			}
		}
		return nil
	}
	fs := make([]trials.Finishing, len(idx))
	for k, i := range idx {
		state := trials.StateDone
		if outs[i].kind == outError {
			state = trials.StateError
			ev.log.Warn("trial ended in error", "trial", outs[i].trial.ID, "attempt", outs[i].trial.Attempt, "err", outs[i].res.Err)
		}
		fs[k] = trials.Finishing{Lease: outs[i].trial.Lease(), State: state, Result: outs[i].res}
	}
	errs, err := b.FinishN(context.WithoutCancel(ctx), ev.exp, fs)
	if err != nil {
		return fmt.Errorf("fmin: finish %d trials: %w", len(fs), err)
	}
	for k, i := range idx {
		switch {
		case errors.Is(errs[k], trials.ErrConflict):
			ev.log.Warn("lease lost before the result was recorded: result dropped", "trial", fs[k].Lease.ID, "attempt", fs[k].Lease.Attempt)
			outs[i].kind = outLost
		case errs[k] != nil:
			outs[i].err = fmt.Errorf("fmin: finish trial %d: %w", fs[k].Lease.ID, errs[k])
			return outs[i].err
		}
	}
	return nil
}
