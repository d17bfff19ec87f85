package fmin

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"math"
	"sync"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// An Objective evaluates one trial. It gets a context that is canceled when
// the search times out or is canceled, when the trial exceeds
// Options.TrialTimeout, or when its lease is lost; and the trial's handle,
// with its config. It returns the result: [trials.OK] with the loss,
// [trials.Fail] for a failure the algorithms should learn from, or a full
// [trials.Result].
//
// A returned error, or a panic, ends the trial in [trials.StateError] with
// the error text (and the stack), and the search goes on. A result with a
// NaN or infinite loss ends it done with [trials.StatusFail].
type Objective func(ctx context.Context, t *Trial) (trials.Result, error)

// LossFunc adapts a function of the config that returns a loss to an
// Objective.
func LossFunc(f func(ctx context.Context, cfg any) (float64, error)) Objective {
	return func(ctx context.Context, t *Trial) (trials.Result, error) {
		loss, err := f(ctx, t.Config())
		if err != nil {
			return trials.Result{}, err
		}
		return trials.OK(loss), nil
	}
}

// Typed adapts a function of a typed config to an Objective: each trial's
// config is decoded into a new T (see [space.DecodeConfig]); a config that
// does not fit T ends the trial in error.
func Typed[T any](f func(ctx context.Context, cfg T, t *Trial) (trials.Result, error)) Objective {
	return func(ctx context.Context, t *Trial) (trials.Result, error) {
		var cfg T
		if err := space.DecodeConfig(t.Config(), &cfg); err != nil {
			return trials.Result{}, err
		}
		return f(ctx, cfg, t)
	}
}

// Trial is the handle an objective gets for the trial it evaluates. Its
// methods are safe for concurrent use.
type Trial struct {
	id      trials.ID
	attempt int
	values  space.Values
	config  any
	base    *slog.Logger // the driver's logger; Logger adds the trial's ID
	report  func(context.Context, trials.Report) error

	mu     sync.Mutex
	attach map[string][]byte
	logger *slog.Logger
}

// ID returns the trial's ID.
func (t *Trial) ID() trials.ID { return t.id }

// Attempt returns how many times the trial has been started, this time
// included (more than 1 after a worker died or a search resumed).
func (t *Trial) Attempt() int { return t.attempt }

// Values returns the trial's point in the internal form. It must not be
// modified.
func (t *Trial) Values() space.Values { return t.values }

// Config returns the trial's config, as [space.Space.Eval] gives it.
func (t *Trial) Config() any { return t.config }

// Decode stores the trial's config in the struct (or other value) dst
// points to (see [space.DecodeConfig]).
func (t *Trial) Decode(dst any) error { return space.DecodeConfig(t.config, dst) }

// Logger returns a logger whose records carry the trial's ID.
func (t *Trial) Logger() *slog.Logger {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.logger == nil {
		t.logger = t.base.With(slog.Int64("trial", int64(t.id)))
	}
	return t.logger
}

// Attach stores a named blob with the trial's result (a model, a plot, a
// log). A second Attach of a name replaces the first.
func (t *Trial) Attach(name string, data []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.attach == nil {
		t.attach = make(map[string][]byte)
	}
	t.attach[name] = bytes.Clone(data)
}

// Report records an intermediate value of the running trial (say, the
// validation loss after each epoch), kept with the trial in the store.
func (t *Trial) Report(ctx context.Context, step int64, value float64) error {
	return t.report(ctx, trials.Report{Step: step, Value: value})
}

// attachments merges the blobs attached through the handle into r.
func (t *Trial) attachments(r trials.Result) trials.Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.attach) == 0 {
		return r
	}
	merged := maps.Clone(t.attach)
	maps.Copy(merged, r.Attachments)
	r.Attachments = merged
	return r
}

// EarlyStop decides after each finished trial whether the search should
// end. It gets the experiment's trials (refreshed) and the trial that just
// finished. It is called from one goroutine at a time.
type EarlyStop func(ts *trials.Trials, last trials.Trial) bool

// NoProgressLoss returns an EarlyStop that ends the search when the best ok
// loss has stood for patience finished trials, the one that set it included
// (as HyperOpt's no_progress_loss counts in its test, which seeds a point far
// below the objective's range and expects exactly patience trials). A trial
// improves on the best when its loss is below best - minDelta: an absolute
// margin, where HyperOpt's is relative (see [HyperoptNoProgressLoss]). Failed, error and
// canceled trials count as trials without progress and never reset the
// best, so a search whose trials all fail also stops after patience trials.
// Each call returns a fresh rule: do not share one between searches.
func NoProgressLoss(patience int, minDelta float64) EarlyStop {
	best, stood, seen := 0.0, 0, false
	return func(_ *trials.Trials, last trials.Trial) bool {
		ok := last.State == trials.StateDone && last.Result.Status == trials.StatusOK
		if ok && (!seen || last.Result.Loss < best-minDelta) {
			best, stood, seen = last.Result.Loss, 1, true
		} else {
			stood++
		}
		return stood >= patience
	}
}

// HyperoptNoProgressLoss is HyperOpt 0.2.7's
// no_progress_loss(iteration_stop_count, percent_increase), with its
// relative margin: a trial improves on the best loss when its loss is below
// best - |best × percentIncrease / 100|, and the search ends when
// iterationStopCount trials in a row did not improve. As in HyperOpt, the
// first trial sets the best and already counts as one trial without
// progress, so a search that never improves ends after iterationStopCount
// trials, and one that improves ends iterationStopCount trials after its
// last improvement. A trial without an ok loss (failed, error, canceled)
// counts as +Inf, which never improves; a first trial without one leaves
// the best unset (HyperOpt's arithmetic on an infinite best would make every
// later trial count as no progress). Each call returns a fresh rule: do not
// share one between searches.
func HyperoptNoProgressLoss(iterationStopCount int, percentIncrease float64) EarlyStop {
	best, count, started := math.Inf(1), 0, false
	return func(_ *trials.Trials, last trials.Trial) bool {
		loss := math.Inf(1)
		if last.State == trials.StateDone && last.Result.Status == trials.StatusOK {
			loss = last.Result.Loss
		}
		if !started {
			best, count, started = loss, 1, true
			return false
		}
		threshold := best - math.Abs(best*percentIncrease/100)
		if math.IsInf(best, 1) {
			threshold = best
		}
		if loss < threshold {
			best, count = loss, 0
		} else {
			count++
		}
		return count >= iterationStopCount
	}
}
