package fmin

import (
	"errors"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
)

// Options configures a search. The zero value (or a nil *Options) is a
// valid configuration except that some stop rule must be set: MaxEvals,
// Timeout, LossThreshold or EarlyStop.
type Options struct {
	// Algorithm proposes the points. If nil, the algorithm an existing
	// experiment records (rebuilt from Registry), or for a new experiment
	// this library's default TPE (tpe.Search{}); tpe.HyperoptCompat() is
	// HyperOpt's.
	Algorithm Algorithm

	// MaxEvals is the total number of trials of the experiment, counting
	// those already in the store (as HyperOpt's max_evals): resuming an
	// experiment of 60 trials with MaxEvals 100 runs 40 more. Points to
	// evaluate, failed and error trials count. 0 means no limit for a new
	// experiment, and the stored budget for a resumed one. A non-zero
	// MaxEvals sets the stored budget: every process of a distributed
	// search should give the same, or 0.
	MaxEvals int
	// Timeout ends the search after this long; running trials are canceled
	// (and run again if the experiment is resumed). 0 means no timeout.
	Timeout time.Duration
	// TrialTimeout cancels the context of an objective that runs longer
	// than this; the trial ends in error. 0 means no limit.
	TrialTimeout time.Duration
	// Grace is how long an objective whose context was canceled may take
	// to return before the search gives up waiting for it (its trial is
	// recorded as canceled or timed out, and its goroutine abandoned). If
	// 0, 5 seconds.
	Grace time.Duration
	// LossThreshold, if not nil, ends the search once a trial's ok loss is
	// below *LossThreshold (HyperOpt's loss_threshold). Running trials
	// finish first.
	LossThreshold *float64
	// ErrorLimit says when trials that end in error (the objective
	// returned an error or panicked, or timed out) stop the search, with
	// an error wrapping ErrObjective that gives the last one's text and
	// stack. 0, the default, stops at an error while no trial of the
	// experiment has succeeded yet (an objective that cannot run at all
	// should not burn the budget), and tolerates errors after one has;
	// n > 0 stops after n errors in a row; a negative ErrorLimit never
	// stops (every error is recorded and the search goes on). Each error
	// is logged at Warn level either way.
	ErrorLimit int
	// EarlyStop, if not nil, is called after each finished trial; the
	// search ends when it returns true (see [NoProgressLoss]). Running
	// trials finish first.
	EarlyStop EarlyStop

	// Points are configs to evaluate before the algorithm proposes
	// anything (HyperOpt's points_to_evaluate), given as [space.Space.Eval]
	// returns them: option values, not indices; correct for conditional
	// spaces. They are enqueued when the experiment has no trials yet, and
	// count toward MaxEvals.
	Points []any
	// CarryOver, if not nil, continues a search whose space was edited: the
	// done trials of this earlier experiment (over its own space) whose
	// configs fit the new space are added first, with their results, when
	// the experiment has no trials yet; see [Optimizer.AddTrials]. They
	// count toward MaxEvals.
	CarryOver *trials.Trials

	// Seed of the search: the proposal for trial id is drawn from (Seed,
	// id). If 0, a resumed experiment uses its stored seed and a new one
	// gets a seed from the operating system's generator, reported in
	// Result.Seed.
	Seed uint64
	// Parallelism is how many objectives run at once, each in its own
	// goroutine. If 0, 1.
	Parallelism int
	// RemoteWorkers makes this call a driver (HyperOpt's MongoTrials
	// model): it evaluates nothing itself, and the objective may be nil.
	// It keeps QueueLen proposals queued in the store ahead of [Worker]
	// processes that share it, and ends when every trial of the budget is
	// finished or a stop rule fires (its queued trials are then canceled;
	// trials the workers are running finish and are recorded).
	RemoteWorkers bool
	// QueueLen is how many trials a driver keeps queued for the workers
	// (HyperOpt's max_queue_len). Model-based algorithms learn less the
	// deeper the queue; keep it near the number of workers. If 0,
	// Parallelism, or 1.
	QueueLen int
	// Deterministic makes a parallel search repeatable with any algorithm:
	// trials are proposed in batches of Parallelism, and a batch's results
	// are recorded in ID order once all of them are in, so what the
	// algorithm sees never depends on which objective finished first. The
	// price is idle goroutines while a batch's slowest trial runs. (Random
	// search, and any search with Parallelism 1, is repeatable without it.)
	Deterministic bool

	// Store keeps the trials. If nil, a new in-memory store is used.
	Store trials.Store
	// Registry rebuilds the algorithm an existing experiment records when
	// Algorithm is nil, so that every process of a distributed search runs
	// the same one. If nil, NewRegistry() (this module's algorithms).
	Registry *Registry
	// Experiment is the key of the experiment in the store. If "",
	// "default".
	Experiment string
	// Owner names this process in the leases of its trials. If "", the
	// host name, process ID and a random suffix.
	Owner string
	// LeaseTTL is how long a running trial is leased for between
	// heartbeats. If 0, 30 seconds.
	LeaseTTL time.Duration

	// OnTrial, if not nil, is called with each trial as it finishes, from
	// the driver's goroutine.
	OnTrial func(trials.Trial)
	// Progress chooses whether a progress bar is drawn on ProgressWriter.
	Progress ProgressMode
	// ProgressWriter receives the progress bar. If nil, os.Stderr.
	ProgressWriter io.Writer
	// Logger receives the driver's log. If nil, nothing is logged.
	Logger *slog.Logger
}

// ProgressMode says when to draw the progress bar.
type ProgressMode uint8

const (
	// ProgressAuto draws it when ProgressWriter (or os.Stderr) is a
	// terminal.
	ProgressAuto ProgressMode = iota
	// ProgressOff never draws it.
	ProgressOff
	// ProgressOn always draws it.
	ProgressOn
)

// Threshold returns a pointer to x, for Options.LossThreshold.
func Threshold(x float64) *float64 { return &x }

// StopReason says why a search ended.
type StopReason uint8

// The reasons a search ends.
const (
	StopMaxEvals      StopReason = iota + 1 // MaxEvals trials were evaluated
	StopTimeout                             // Options.Timeout passed
	StopLossThreshold                       // a loss went below Options.LossThreshold
	StopEarly                               // Options.EarlyStop said so
	StopExhausted                           // the algorithm had no more points
	StopCanceled                            // the caller's context was canceled
	StopError                               // the algorithm or the store failed; Minimize returns the error
)

var stopNames = [...]string{StopMaxEvals: "max evals", StopTimeout: "timeout", StopLossThreshold: "loss threshold", StopEarly: "early stop", StopExhausted: "exhausted", StopCanceled: "canceled", StopError: "error"}

// String returns the reason in words ("max evals", "timeout", ...).
func (s StopReason) String() string {
	if int(s) < len(stopNames) && stopNames[s] != "" {
		return stopNames[s]
	}
	return "StopReason(" + strconv.Itoa(int(s)) + ")"
}

// Errors of the driver.
var (
	// ErrNoStopRule: the options set no way for the search to end.
	ErrNoStopRule = errors.New("fmin: no stop rule: set MaxEvals, Timeout, LossThreshold or EarlyStop")
	// ErrExhausted: the algorithm has no more points to propose.
	ErrExhausted = errors.New("fmin: algorithm exhausted")
	// ErrTrialTimeout is the cause of the context of an objective that ran
	// longer than Options.TrialTimeout.
	ErrTrialTimeout = errors.New("fmin: trial timeout")
	// ErrSearchTimeout is the cause of the context of objectives running
	// when Options.Timeout passed.
	ErrSearchTimeout = errors.New("fmin: search timeout")
	// ErrObjective is wrapped by the error of a search that Options.
	// ErrorLimit stopped: the objective keeps failing.
	ErrObjective = errors.New("fmin: the objective failed")
	// ErrLeaseLost is the cause of the context of an objective whose
	// trial's lease was taken over or canceled in the store.
	ErrLeaseLost = errors.New("fmin: lease lost")
)

// Result is the outcome of Minimize.
type Result struct {
	// Stop says why the search ended.
	Stop StopReason
	// Best is the trial with the lowest ok loss, and Config its config
	// (option values, Go ints for integer kinds). They are zero when no
	// trial succeeded, and Minimize then returns an error wrapping
	// trials.ErrNoResult. Best carries the bytes of its attachments.
	Best   trials.Trial
	Config any
	// Trials is the whole experiment.
	Trials *trials.Trials
	// Seed is the seed the search used.
	Seed uint64
	// Evaluated is the number of trials this call started (those it
	// canceled or abandoned included), and Elapsed how long it ran.
	Evaluated int
	Elapsed   time.Duration
}
