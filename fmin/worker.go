package fmin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// Worker evaluates the queued trials of an experiment that a driver
// (Minimize with Options.RemoteWorkers) or peers propose in a shared store,
// as HyperOpt's hyperopt-mongo-worker does. Go cannot ship an objective to
// another machine, so a worker is the user's own program, linked with the
// objective, run as many times and on as many machines as wanted.
//
// A worker reserves a trial, evaluates it while it heartbeats the lease,
// and writes the result under that lease; a trial whose lease was taken
// over or canceled meanwhile has its objective's context canceled and its
// result dropped. Trials of a worker that died are taken over by another
// once their leases expire, up to the experiment's max attempts.
//
// The zero value is not usable: Store is required. The other fields have
// meaningful zero values.
type Worker struct {
	// Store is the store the driver and the workers share.
	Store trials.Store
	// Experiment is the key of the experiment to work on. If "", "default".
	Experiment string
	// Owner names this worker in the leases of its trials. If "", the host
	// name, process ID and a random suffix.
	Owner string
	// LeaseTTL is how long a trial is leased for between heartbeats (a
	// heartbeat every third of it): a worker that dies is noticed after
	// about this long. If 0, 30 seconds.
	LeaseTTL time.Duration
	// TrialTimeout cancels the context of an objective that runs longer
	// than this; the trial ends in error. 0 means no limit.
	TrialTimeout time.Duration
	// Grace is how long an objective whose context was canceled may take to
	// return before the worker gives up waiting for it. If 0, 5 seconds.
	Grace time.Duration
	// MaxTrials ends the worker after this many trials (0: no limit).
	MaxTrials int
	// Batch is how many trials the worker reserves at once (0 or 1: one).
	// It evaluates them one after another and records their results
	// together: with a store that is a trials.Batcher, one transaction for
	// the batch instead of two per trial, which is what limits the
	// throughput of quick objectives. The trials of a batch are held (their
	// leases kept alive) until it is done, so keep it small for slow
	// objectives, and 1 for model-based searches whose driver keeps a short
	// queue.
	Batch int
	// MaxConsecutiveErrors ends the worker, with an error, after this many
	// trials in a row ended in error (an objective that cannot work on this
	// machine should not burn the experiment's budget). 0 means no limit.
	MaxConsecutiveErrors int
	// IdleTimeout ends the worker when it found nothing to do for this long
	// (0: it waits until the experiment is finished or ctx ends).
	IdleTimeout time.Duration
	// Poll is how often an idle worker looks for work when the store cannot
	// wake it (see trials.Waiter), and the longest it waits even when it
	// can (a lease that expires changes nothing in the store). If 0, a
	// quarter of LeaseTTL, between 10 ms and 1 s.
	Poll time.Duration
	// OnTrial, if not nil, is called with each trial the worker finished,
	// as the store recorded it.
	OnTrial func(trials.Trial)
	// Logger receives the worker's log. If nil, nothing is logged.
	Logger *slog.Logger
}

// WorkerStop says why a worker ended.
type WorkerStop uint8

// The reasons a worker ends.
const (
	WorkerFinished  WorkerStop = iota + 1 // every trial of the experiment's budget is finished
	WorkerMaxTrials                       // it evaluated MaxTrials trials
	WorkerIdle                            // it found nothing to do for IdleTimeout
	WorkerErrors                          // MaxConsecutiveErrors trials in a row ended in error
	WorkerCanceled                        // ctx ended
	WorkerFailed                          // the store failed
)

var workerStopNames = [...]string{WorkerFinished: "finished", WorkerMaxTrials: "max trials", WorkerIdle: "idle",
	WorkerErrors: "consecutive errors", WorkerCanceled: "canceled", WorkerFailed: "store failed"}

// String returns the reason in words.
func (s WorkerStop) String() string {
	if int(s) < len(workerStopNames) && workerStopNames[s] != "" {
		return workerStopNames[s]
	}
	return "WorkerStop(" + strconv.Itoa(int(s)) + ")"
}

// WorkerResult is what a worker did.
type WorkerResult struct {
	Stop WorkerStop
	// Evaluated counts the trials the worker reserved and recorded (done
	// or error); Errors those that ended in error; Lost those whose lease
	// was taken over or canceled while it evaluated them; GivenBack those
	// it requeued because ctx ended.
	Evaluated, Errors, Lost, GivenBack int
}

// ErrWorkerErrors is wrapped by the error of a worker that ended after
// MaxConsecutiveErrors trials in a row ended in error.
var ErrWorkerErrors = errors.New("fmin: worker: too many consecutive errors")

// Run evaluates the experiment's queued trials with objective until a stop
// rule of w fires, the experiment is finished, or ctx ends. Space s must be
// the experiment's: a worker built with another space is refused with the
// store's *trials.MismatchError. When ctx ends, the trial being evaluated
// has its context canceled, and is given back to the queue (requeued) for
// another worker unless it finishes within Grace: run a worker under
// signal.NotifyContext for a graceful shutdown on SIGINT or SIGTERM.
//
// Run returns the result with a nil error when the experiment is finished
// or MaxTrials, IdleTimeout or ctx ended it (ctx's error then), and with an
// error for a store failure or too many consecutive errors.
func (w *Worker) Run(ctx context.Context, objective Objective, s *space.Space) (*WorkerResult, error) {
	if w.Store == nil {
		return nil, errors.New("fmin: worker: nil Store")
	}
	if objective == nil || s == nil {
		return nil, errors.New("fmin: worker: nil objective or space")
	}
	if w.LeaseTTL < 0 || w.TrialTimeout < 0 || w.Grace < 0 || w.MaxTrials < 0 || w.MaxConsecutiveErrors < 0 || w.IdleTimeout < 0 || w.Poll < 0 || w.Batch < 0 {
		return nil, errors.New("fmin: worker: durations and limits must not be negative")
	}
	key := w.Experiment
	if key == "" {
		key = "default"
	}
	log := w.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	owner := w.Owner
	if owner == "" {
		owner = defaultOwner()
	}
	ttl := w.LeaseTTL
	if ttl == 0 {
		ttl = 30 * time.Second
	}
	poll := w.Poll
	if poll == 0 {
		poll = min(max(ttl/4, 10*time.Millisecond), time.Second)
	}
	// Open checks that this worker's space is the experiment's; the stored
	// seed, budget and algorithm are kept (a worker proposes nothing).
	spec := trials.ExperimentSpec{Key: key}
	doc, err := s.MarshalJSON()
	if err == nil {
		spec.Space = doc
		spec.Fingerprint, _ = s.Fingerprint()
	}
	exps, err := w.Store.Experiments(ctx)
	if err != nil {
		return nil, fmt.Errorf("fmin: worker: %w", err)
	}
	found := false
	for _, e := range exps {
		found = found || e.Key == key
	}
	if !found {
		return nil, fmt.Errorf("fmin: worker: experiment %q: %w (start the driver first)", key, trials.ErrNotFound)
	}
	if _, err := w.Store.Open(ctx, spec); err != nil {
		return nil, fmt.Errorf("fmin: worker: %w", explainMismatch(ctx, err, w.Store, key, s))
	}
	grace := w.Grace
	if grace == 0 {
		grace = 5 * time.Second
	}
	ev := evaluator{store: w.Store, exp: key, space: s, objective: objective, ttl: ttl,
		trialTimeout: w.TrialTimeout, grace: grace, log: log.With("worker", owner)}
	view := trials.New(w.Store, key, s)
	res := &WorkerResult{}
	bg := context.WithoutCancel(ctx)
	consecutive := 0
	idleSince := time.Now()
	for {
		if ctx.Err() != nil {
			res.Stop = WorkerCanceled
			return res, ctx.Err()
		}
		n := max(1, w.Batch)
		if w.MaxTrials > 0 {
			left := w.MaxTrials - res.Evaluated - res.Lost
			if left <= 0 {
				res.Stop = WorkerMaxTrials
				return res, nil
			}
			n = min(n, left)
		}
		batch, err := w.reserve(ctx, key, owner, ttl, n)
		if errors.Is(err, trials.ErrNoQueued) {
			finished, err := w.finished(ctx, view)
			if err != nil && ctx.Err() == nil {
				res.Stop = WorkerFailed
				return res, fmt.Errorf("fmin: worker: %w", err)
			}
			if finished {
				res.Stop = WorkerFinished
				return res, nil
			}
			if w.IdleTimeout > 0 && time.Since(idleSince) >= w.IdleTimeout {
				res.Stop = WorkerIdle
				return res, nil
			}
			wait(ctx, w.Store, key, view.Seq(), poll)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				continue // the loop reports the cancellation
			}
			res.Stop = WorkerFailed
			return res, fmt.Errorf("fmin: worker: reserve: %w", err)
		}
		outs, err := w.evaluateBatch(ctx, &ev, batch)
		idleSince = time.Now()
		if err != nil {
			res.Stop = WorkerFailed
			return res, err
		}
		for _, out := range outs {
			switch out.kind {
			case outLost:
				res.Lost++
				continue
			case outCanceled:
				res.GivenBack++
				continue
			}
			res.Evaluated++
			if out.kind == outError {
				res.Errors++
				consecutive++
			} else {
				consecutive = 0
			}
			if w.OnTrial != nil {
				if tr, err := w.Store.Get(bg, key, out.trial.ID); err == nil {
					if err := guard("Worker.OnTrial", func() { w.OnTrial(tr) }); err != nil {
						res.Stop = WorkerFailed
						return res, err
					}
				}
			}
			if w.MaxConsecutiveErrors > 0 && consecutive >= w.MaxConsecutiveErrors {
				res.Stop = WorkerErrors
				return res, fmt.Errorf("%w: %d in a row, the last: %s", ErrWorkerErrors, consecutive, out.res.Err)
			}
		}
	}
}

// reserve takes up to n trials: in one call if the store is a
// trials.Batcher and n > 1.
func (w *Worker) reserve(ctx context.Context, key, owner string, ttl time.Duration, n int) ([]trials.Trial, error) {
	if b, ok := w.Store.(trials.Batcher); ok && n > 1 {
		return b.ReserveN(ctx, key, owner, ttl, n)
	}
	t, err := w.Store.Reserve(ctx, key, owner, ttl)
	if err != nil {
		return nil, err
	}
	return []trials.Trial{t}, nil
}

// evaluateBatch evaluates reserved trials one after another and records
// their outcomes: the results together at the end (in one call if the store
// is a trials.Batcher), a trial whose evaluation was canceled given back to
// the queue at once, and when ctx ends the trials not started given back
// too. While the batch is in hand, the leases of its trials are kept alive.
// It returns an error only for a failure of the store.
func (w *Worker) evaluateBatch(ctx context.Context, ev *evaluator, batch []trials.Trial) ([]outcome, error) {
	bg := context.WithoutCancel(ctx)
	if len(batch) > 1 {
		stop := w.keepAlive(ev, batch)
		defer stop()
	}
	outs := make([]outcome, 0, len(batch))
	var results []int // indices in outs of outcomes to finish
	for i, t := range batch {
		if ctx.Err() != nil {
			// Not started: back to the queue for another worker.
			for _, u := range batch[i:] {
				out := outcome{trial: u, kind: outCanceled}
				ev.record(bg, &out, true)
				if out.err != nil {
					return outs, out.err
				}
				outs = append(outs, out)
			}
			break
		}
		out := ev.evaluate(ctx, t)
		if out.kind == outDone || out.kind == outError {
			results = append(results, len(outs))
			outs = append(outs, out)
			continue
		}
		// ctx ended: the trial goes back to the queue.
		ev.record(bg, &out, true)
		if out.err != nil {
			return outs, out.err
		}
		outs = append(outs, out)
	}
	return outs, ev.recordResults(bg, outs, results)
}

// keepAlive heartbeats the leases of a batch's trials every third of the
// lease TTL until the returned function is called.
func (w *Worker) keepAlive(ev *evaluator, batch []trials.Trial) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(max(ev.ttl/3, time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				for _, t := range batch {
					// A refused heartbeat is the evaluator's business (it
					// cancels the objective) or the finish's (it drops the
					// result).
					_ = ev.store.Heartbeat(context.Background(), ev.exp, t.Lease(), ev.ttl)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// finished reports whether every trial of the experiment's budget is
// finished: the budget is set and claimed, every claimed trial proposed,
// and none queued or running (a running one may still be taken over when
// its lease expires).
func (w *Worker) finished(ctx context.Context, view *trials.Trials) (bool, error) {
	if err := view.Refresh(ctx); err != nil {
		return false, err
	}
	es, err := w.Store.Experiments(ctx)
	if err != nil {
		return false, err
	}
	for _, e := range es {
		if e.Key != view.Experiment() {
			continue
		}
		// A claimed trial whose proposal is not recorded yet is in no
		// listing: until every claimed ID has values, more may come.
		if e.MaxEvals == 0 || e.Claimed < e.MaxEvals || view.Len() < e.Claimed {
			return false, nil
		}
		c := view.Counts()
		return c[trials.StateQueued]+c[trials.StateRunning] == 0, nil
	}
	return false, fmt.Errorf("experiment %q: %w", view.Experiment(), trials.ErrNotFound)
}

// wait waits for experiment exp to change after seq, for at most d: on the
// store's wake-ups if it has them, else the whole of d.
func wait(ctx context.Context, store trials.Store, exp string, seq int64, d time.Duration) {
	if wt, ok := store.(trials.Waiter); ok {
		wctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		if _, err := wt.Wait(wctx, exp, seq); err == nil || ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		// The store could not wait: sleep instead.
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}
