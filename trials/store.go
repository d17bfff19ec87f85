package trials

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors returned by stores. Stores wrap them with detail; test them with
// [errors.Is].
var (
	ErrNotFound      = errors.New("trials: not found")                         // no such experiment, trial or attachment
	ErrConflict      = errors.New("trials: conflict")                          // a stale lease, a different second result, a state that forbids the change
	ErrBudget        = errors.New("trials: budget exhausted")                  // Claim past the experiment's MaxEvals
	ErrSpaceMismatch = errors.New("trials: space differs from the stored one") // Open with another space's fingerprint
	ErrAlgorithm     = errors.New("trials: algorithm differs from the stored one")
	ErrSeed          = errors.New("trials: seed differs from the stored one")
	// ErrSettings: Open with a MaxEvals or MaxAttempts other than the
	// stored one, without ExperimentSpec.Update.
	ErrSettings = errors.New("trials: budget or max attempts differ from the stored ones")
	ErrNoQueued = errors.New("trials: no queued trial") // Reserve found nothing to do
	ErrClosed   = errors.New("trials: store closed")
	// ErrSchema: a durable store's file or database was written by a newer
	// version of its schema, or is not one of this package's stores.
	ErrSchema = errors.New("trials: unsupported store schema")
)

// DefaultMaxAttempts is the number of times a trial may be reserved when
// its experiment was opened with MaxAttempts 0.
const DefaultMaxAttempts = 3

// MismatchError reports that an experiment was opened with a setting that
// differs from the stored one. It wraps ErrSpaceMismatch, ErrAlgorithm,
// ErrSeed or ErrSettings.
type MismatchError struct {
	Experiment string
	What       string // "space", "algorithm", "seed", "max evals" or "max attempts"
	Stored     string
	Given      string
	Err        error
}

// Error names the experiment and both settings.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("trials: experiment %q was created with %s %s, not %s", e.Experiment, e.What, e.Stored, e.Given)
}

// Unwrap returns the sentinel.
func (e *MismatchError) Unwrap() error { return e.Err }

// ExperimentSpec is what identifies an experiment and what every process of
// a search must agree on.
type ExperimentSpec struct {
	Key         string          `json:"key"`
	Space       json.RawMessage `json:"space"`       // the space's JSON form
	Fingerprint string          `json:"fingerprint"` // the space's fingerprint
	// Seed of the search. Creating an experiment with seed 0 stores a
	// random non-zero seed, chosen once by the store (so that processes
	// racing to create it agree on it); opening an existing experiment
	// with seed 0 takes the stored one; another non-zero seed is an
	// ErrSeed mismatch.
	Seed uint64 `json:"seed"`
	// MaxEvals is the budget: the most trials the experiment may have, all
	// states counted (0: no limit when creating, the stored budget when
	// opening). Opening an existing experiment with another non-zero
	// MaxEvals is an ErrSettings mismatch unless Update is set.
	MaxEvals int `json:"max_evals"`
	// MaxAttempts is how many times a trial may be reserved: a trial whose
	// lease expires at its last attempt ends in StateError instead of being
	// handed out again. 0 means the stored value, or DefaultMaxAttempts
	// when creating; opening with another non-zero value is an ErrSettings
	// mismatch unless Update is set.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Update lets Open change an existing experiment's MaxEvals and
	// MaxAttempts to the spec's non-zero ones. A budget lowered below the
	// trials already claimed leaves them be and lets no more be claimed.
	Update bool `json:"-"`
	// Algorithm is the registry name of the algorithm and AlgorithmOptions
	// its options as JSON. Opening an existing experiment with another
	// algorithm or other options is an ErrAlgorithm mismatch; an empty
	// Algorithm takes the stored one.
	Algorithm        string          `json:"algorithm"`
	AlgorithmOptions json.RawMessage `json:"algorithm_options,omitempty"`
}

// Experiment is an experiment as a store has it.
type Experiment struct {
	ExperimentSpec
	Created time.Time `json:"created"`
	// Claimed is the part of the budget used: trial IDs handed out by
	// Claim and not released.
	Claimed int `json:"claimed"`
	// NextID is the ID the next Claim hands out.
	NextID ID `json:"next_id"`
	// Seq is the experiment's sequence number: it grows with every change
	// of a trial.
	Seq int64 `json:"seq"`
	// ReportSeq is the sequence number of the experiment's last
	// intermediate report.
	ReportSeq int64 `json:"report_seq"`
}

// Proposal is a point an algorithm proposed for a claimed trial.
type Proposal struct {
	ID     ID
	Values []float64
	// Owner, if not empty, reserves the trial for its proposer at once:
	// it is recorded as running with attempt 1 and a lease of LeaseTTL.
	// Otherwise the trial is queued.
	Owner    string
	LeaseTTL time.Duration
}

// Store keeps experiments and their trials. It is the narrow interface that
// backends implement ([Memory] here; the SQLite and PostgreSQL stores in
// their own packages); users and the driver work through [Trials] and fmin,
// which derive everything else.
//
// All methods must be safe for concurrent use by several goroutines and,
// for durable stores, by several processes. Every write that changes what
// Changes returns stamps the experiment's sequence number (Experiment.Seq)
// under the experiment's lock, so that Changes never misses one, not even a
// change that commits after a later one began; a Heartbeat, which only
// extends a lease, and a Report, which has its own sequence, do not.
//
// The life of a trial: Claim hands out IDs within the budget; Propose
// records each claimed ID's values exactly once, as queued or as running
// for the proposer; Reserve takes a queued trial (or a running one whose
// lease expired) and starts a new attempt; Heartbeat extends the lease;
// Finish records the result. Requeue and Cancel move trials back to queued
// or to canceled. A claimed ID without values is in no listing; Release
// cancels claimed IDs that will never get values and gives their budget
// back.
//
// Several processes may act on one trial: every call that changes a trial
// names the attempt it acts on (a [Lease]), and a store refuses with
// ErrConflict a call whose attempt is no longer the trial's current one, so
// that no process finishes, cancels or requeues an attempt that another
// one took over.
//
// Capabilities beyond these grow as optional interfaces a store may
// implement ([Waiter], [Loader]); callers test for them with a type
// assertion and fall back when they are absent.
type Store interface {
	// Open creates the experiment spec.Key, or opens the existing one after
	// checking that spec agrees with it (a *MismatchError otherwise; see
	// ExperimentSpec for the rules of each field), and returns it as
	// stored. Two processes that open a new key at once create it once.
	Open(ctx context.Context, spec ExperimentSpec) (Experiment, error)
	// Experiments lists the experiments, by key.
	Experiments(ctx context.Context) ([]Experiment, error)

	// Claim hands out up to n new dense IDs, never taking the experiment
	// past its budget: it returns fewer if fewer remain, and ErrBudget if
	// none do. Claims with the same non-empty requestID return the IDs of
	// the first one, so that a retried call does not claim twice.
	Claim(ctx context.Context, exp string, n int, requestID string) ([]ID, error)
	// Propose records the values of claimed trials, all or none. A trial
	// proposed twice, or never claimed, is ErrConflict; identical values
	// proposed again for a trial in the state the first Propose gave it
	// return nil.
	Propose(ctx context.Context, exp string, ps []Proposal) error
	// Release cancels claimed IDs that have no values and returns them to
	// the budget (an algorithm that is exhausted proposes nothing for them).
	Release(ctx context.Context, exp string, ids []ID) error

	// Reserve takes a queued trial, the lowest ID first, or failing that a
	// running trial whose lease expired by the store's clock, and gives it
	// to owner for ttl as a new attempt. A running trial whose lease
	// expired at its experiment's MaxAttempts-th attempt is not handed out
	// again: Reserve ends it in StateError, with a Result.Err that says how
	// many times its lease expired and who held it last. Reserve returns
	// ErrNoQueued if there is no trial to take.
	Reserve(ctx context.Context, exp, owner string, ttl time.Duration) (Trial, error)
	// Heartbeat extends a running trial's lease by ttl from now. A lease
	// that is no longer the trial's current one (taken over, canceled,
	// finished) is ErrConflict.
	Heartbeat(ctx context.Context, exp string, l Lease, ttl time.Duration) error
	// Report records an intermediate value of a running trial under its
	// lease (ErrConflict for a stale lease). It stamps the experiment's
	// ReportSeq, not its Seq: reports travel apart from their trial (see
	// Reports). Reporting a step again under the same lease with the same
	// value returns nil (a retry); with another value it is ErrConflict.
	Report(ctx context.Context, exp string, l Lease, r Report) error
	// Finish records a running trial's result under its lease, with state
	// StateDone (the result normalized) or StateError. Finishing a finished
	// trial again with the same lease, state and result returns nil; any
	// other finish of a finished trial, or a stale lease, is ErrConflict.
	// A result that [CheckResult] refuses is an error wrapping ErrResult.
	Finish(ctx context.Context, exp string, l Lease, state State, r Result) error
	// Requeue makes trials queued again: running ones (their lease ends),
	// canceled ones and error ones; done and queued trials are left as
	// they are. Each lease names the attempt the caller expects the trial
	// to be at; if any trial is at another attempt, Requeue changes
	// nothing and returns ErrConflict. A requeued trial keeps its attempt
	// count; its next Reserve is attempt Attempt+1.
	Requeue(ctx context.Context, exp string, ls []Lease) error
	// Cancel marks queued and running trials canceled; finished trials are
	// left as they are. Like Requeue, it acts on the attempts its leases
	// name, all or nothing (ErrConflict if a trial is at another attempt).
	Cancel(ctx context.Context, exp string, ls []Lease) error

	// Get returns one trial, with its reports (without attachment bytes:
	// their names are listed with nil data).
	Get(ctx context.Context, exp string, id ID) (Trial, error)
	// Changes returns the trials changed after sequence number since, in
	// the order of their last change, each once, at most limit of them
	// (limit <= 0: no limit), and the sequence number to pass next time:
	// the last returned trial's Seq if the limit cut the list short, else
	// the experiment's Seq. Changes(ctx, exp, 0, 0) lists every trial. The
	// trials carry neither reports nor attachment bytes. Its cost is in
	// proportion to the changes returned, not to the trials.
	Changes(ctx context.Context, exp string, since int64, limit int) ([]Trial, int64, error)
	// Reports returns the intermediate reports recorded after report
	// sequence number since, in the order they were recorded, at most limit
	// of them (limit <= 0: no limit), and the sequence number to pass next
	// time, as Changes does.
	Reports(ctx context.Context, exp string, since int64, limit int) ([]TrialReport, int64, error)
	// Attachment returns the bytes of a trial's attachment.
	Attachment(ctx context.Context, exp string, id ID, name string) ([]byte, error)

	// Close releases the store's resources. Methods called after Close
	// return ErrClosed.
	Close() error
}

// TrialReport is an intermediate report as [Store.Reports] lists it: the
// trial and attempt that made it, and the report sequence number it got.
type TrialReport struct {
	ID      ID
	Attempt int
	Report
	Seq int64
}

// Waiter is the capability of a store to wake its callers when an
// experiment changes, instead of their polling Changes. [Memory] implements
// it, and so do the durable stores (the PostgreSQL one with LISTEN/NOTIFY).
type Waiter interface {
	// Wait blocks until experiment exp's Seq is greater than since, and
	// returns it; or until ctx ends (ctx's error) or the store closes
	// (ErrClosed). It may return early, with a Seq not greater than since
	// (a wake-up lost and recovered by a store's reconnect, say): callers
	// read Changes and wait again.
	Wait(ctx context.Context, exp string, since int64) (int64, error)
}

// Loader is the capability of a store to write a whole experiment at once,
// all or nothing, which [Import] uses so that a failure half-way leaves no
// partial experiment.
type Loader interface {
	// Load creates experiment spec.Key with exactly the given trials and
	// released (missing) IDs, which together number the IDs from 0 densely,
	// in one transaction. The trials' states must be queued, done, error or
	// canceled; their values, results, reports, attempts, owners and times
	// are kept as given (reports are renumbered by the store). If the
	// experiment exists, it must agree with spec (as in Open) and have no
	// trials: ErrConflict otherwise. On any error the store is unchanged.
	Load(ctx context.Context, spec ExperimentSpec, ts []Trial, missing []ID) (Experiment, error)
}

// NewExperiment checks spec for creating a new experiment and returns the
// experiment to store: a random non-zero seed if spec.Seed is 0, and
// DefaultMaxAttempts if spec.MaxAttempts is 0. Stores call it in Open and
// Load; the caller's Update flag is not stored.
func NewExperiment(spec ExperimentSpec, now time.Time) (Experiment, error) {
	if err := checkSpecFields(spec); err != nil {
		return Experiment{}, err
	}
	e := Experiment{ExperimentSpec: spec, Created: now}
	e.Update = false
	e.Space = bytes.Clone(spec.Space)
	e.AlgorithmOptions = bytes.Clone(spec.AlgorithmOptions)
	if e.Seed == 0 {
		e.Seed = NewSeed()
	}
	if e.MaxAttempts == 0 {
		e.MaxAttempts = DefaultMaxAttempts
	}
	return e, nil
}

func checkSpecFields(spec ExperimentSpec) error {
	switch {
	case spec.Key == "":
		return errors.New("trials: open: empty experiment key")
	case spec.MaxEvals < 0:
		return fmt.Errorf("trials: open %q: MaxEvals must be >= 0, got %d", spec.Key, spec.MaxEvals)
	case spec.MaxAttempts < 0:
		return fmt.Errorf("trials: open %q: MaxAttempts must be >= 0, got %d", spec.Key, spec.MaxAttempts)
	}
	return nil
}

// NewSeed returns a random non-zero seed from the operating system's
// source of randomness.
func NewSeed() uint64 {
	var b [8]byte
	for {
		_, _ = crand.Read(b[:])
		if s := binary.LittleEndian.Uint64(b[:]); s != 0 {
			return s
		}
	}
}

// CheckSpec decides whether spec may open the stored experiment, as Open
// must: it returns a *MismatchError for another space fingerprint, another
// algorithm or its options, another non-zero seed, or another non-zero
// MaxEvals or MaxAttempts without spec.Update. Otherwise it returns the
// experiment as it must be stored from now on (stored, with MaxEvals and
// MaxAttempts updated if spec.Update asks to); a store writes it back if it
// differs. Stores call it in Open and Load.
func CheckSpec(stored Experiment, spec ExperimentSpec) (Experiment, error) {
	if err := checkSpecFields(spec); err != nil {
		return Experiment{}, err
	}
	mismatch := func(what, s, g string, err error) error {
		return &MismatchError{Experiment: stored.Key, What: what, Stored: s, Given: g, Err: err}
	}
	if spec.Fingerprint != "" && spec.Fingerprint != stored.Fingerprint {
		return Experiment{}, mismatch("space", "fingerprint "+stored.Fingerprint, "fingerprint "+spec.Fingerprint, ErrSpaceMismatch)
	}
	if spec.Algorithm != "" {
		so, given := compactJSON(stored.AlgorithmOptions), compactJSON(spec.AlgorithmOptions)
		if spec.Algorithm != stored.Algorithm || so != given {
			return Experiment{}, mismatch("algorithm", stored.Algorithm+" "+so, spec.Algorithm+" "+given, ErrAlgorithm)
		}
	}
	if spec.Seed != 0 && spec.Seed != stored.Seed {
		return Experiment{}, mismatch("seed", fmt.Sprint(stored.Seed), fmt.Sprint(spec.Seed), ErrSeed)
	}
	out := stored
	if spec.MaxEvals != 0 && spec.MaxEvals != stored.MaxEvals {
		if !spec.Update {
			return Experiment{}, mismatch("max evals", fmt.Sprint(stored.MaxEvals), fmt.Sprint(spec.MaxEvals)+" (set Update to change it)", ErrSettings)
		}
		out.MaxEvals = spec.MaxEvals
	}
	if spec.MaxAttempts != 0 && spec.MaxAttempts != stored.MaxAttempts {
		if !spec.Update {
			return Experiment{}, mismatch("max attempts", fmt.Sprint(stored.MaxAttempts), fmt.Sprint(spec.MaxAttempts)+" (set Update to change it)", ErrSettings)
		}
		out.MaxAttempts = spec.MaxAttempts
	}
	return out, nil
}

func compactJSON(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return string(b)
	}
	if out.String() == "null" {
		return "{}"
	}
	return out.String()
}

// ExpiredResult is the result of a trial that Reserve ends in StateError
// because its lease expired at its last allowed attempt; every store gives
// the same text.
func ExpiredResult(attempt, maxAttempts int, owner string) Result {
	return Result{Err: fmt.Sprintf("lease expired at attempt %d of %d (max attempts); last owner %q", attempt, maxAttempts, owner)}
}

// CheckLoad checks the trials and missing IDs given to [Loader.Load]: every
// ID from 0 to their number, once, states a loaded trial may have, and
// results a store keeps ([CheckResult]). It
// returns the number of IDs.
func CheckLoad(ts []Trial, missing []ID) (int, error) {
	n := len(ts) + len(missing)
	seen := make([]bool, n)
	mark := func(id ID) error {
		if id < 0 || int64(id) >= int64(n) || seen[id] {
			return fmt.Errorf("trials: load: ID %d is out of 0..%d or given twice: %w", id, n-1, ErrConflict)
		}
		seen[id] = true
		return nil
	}
	for i := range ts {
		if err := mark(ts[i].ID); err != nil {
			return 0, err
		}
		switch ts[i].State {
		case StateQueued, StateCanceled:
		case StateDone, StateError:
			if err := CheckResult(ts[i].Result); err != nil {
				return 0, fmt.Errorf("trials: load: trial %d: %w", ts[i].ID, err)
			}
		default:
			return 0, fmt.Errorf("trials: load: trial %d has state %v: want queued, done, error or canceled", ts[i].ID, ts[i].State)
		}
	}
	for _, id := range missing {
		if err := mark(id); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Batcher is the capability of a store to reserve and finish several
// trials in one call, one transaction: a worker of quick objectives then
// pays one commit for many trials instead of two for each. [Memory] and
// this module's durable stores implement it.
type Batcher interface {
	// ReserveN is Reserve for up to n trials at once: queued ones lowest ID
	// first, then running ones whose lease expired (trials at their last
	// attempt end in error as Reserve says). It returns ErrNoQueued if
	// there is none.
	ReserveN(ctx context.Context, exp, owner string, ttl time.Duration, n int) ([]Trial, error)
	// FinishN records several finishes, each as Finish would, in one
	// transaction. The result of finish i is errs[i] (nil, or an error
	// wrapping ErrConflict or ErrNotFound as Finish returns them); a refused
	// finish does not stop the others. err reports a failure of the call
	// itself, in which case none was recorded.
	FinishN(ctx context.Context, exp string, fs []Finishing) (errs []error, err error)
}

// Finishing is one finish of [Batcher.FinishN]: the lease the trial was
// evaluated under, its final state (done or error) and its result.
type Finishing struct {
	Lease  Lease
	State  State
	Result Result
}
