package trials

import (
	"context"
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
	ErrNoQueued      = errors.New("trials: no queued trial") // Reserve found nothing to do
	ErrClosed        = errors.New("trials: store closed")
)

// MismatchError reports that an experiment was opened with a setting that
// differs from the stored one. It wraps ErrSpaceMismatch, ErrAlgorithm or
// ErrSeed.
type MismatchError struct {
	Experiment string
	What       string // "space", "algorithm" or "seed"
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
	// Seed of the search. Opening an existing experiment with seed 0 takes
	// the stored one; another non-zero seed is an ErrSeed mismatch.
	Seed uint64 `json:"seed"`
	// MaxEvals is the budget: the most trials the experiment may have, all
	// states counted (0: no limit). Opening an existing experiment with a
	// non-zero MaxEvals sets the budget to it.
	MaxEvals int `json:"max_evals"`
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
	// Seq is the experiment's sequence number: it grows with every change.
	Seq int64 `json:"seq"`
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
// backends implement ([Memory], the SQLite and PostgreSQL stores); users and
// the driver work through [Trials] and fmin, which derive everything else.
//
// All methods must be safe for concurrent use by several goroutines and,
// for durable stores, by several processes. Every write that changes what
// Changes returns stamps the experiment's sequence number (Experiment.Seq),
// so that Changes never misses one; a Heartbeat, which only extends a
// lease, need not.
//
// The life of a trial: Claim hands out IDs within the budget; Propose
// records each claimed ID's values exactly once, as queued or as running
// for the proposer; Reserve takes a queued trial (or a running one whose
// lease expired) and starts a new attempt; Heartbeat extends the lease;
// Finish records the result. Requeue and Cancel move trials back to queued
// or to canceled. A claimed ID without values is in no listing; Release
// cancels claimed IDs that will never get values and gives their budget
// back.
type Store interface {
	// Open creates the experiment spec.Key, or opens the existing one after
	// checking that spec agrees with it (a *MismatchError otherwise), and
	// returns it as stored.
	Open(ctx context.Context, spec ExperimentSpec) (Experiment, error)
	// Experiments lists the experiments, by key.
	Experiments(ctx context.Context) ([]Experiment, error)

	// Claim hands out up to n new dense IDs, never taking the experiment
	// past its budget: it returns fewer if fewer remain, and ErrBudget if
	// none do. Claims with the same non-empty requestID return the IDs of
	// the first one, so that a retried call does not claim twice.
	Claim(ctx context.Context, exp string, n int, requestID string) ([]ID, error)
	// Propose records the values of claimed trials. A trial proposed twice,
	// or never claimed, is ErrConflict; identical values proposed again for
	// a trial in the state the first Propose gave it return nil.
	Propose(ctx context.Context, exp string, ps []Proposal) error
	// Release cancels claimed IDs that have no values and returns them to
	// the budget (an algorithm that is exhausted proposes nothing for them).
	Release(ctx context.Context, exp string, ids []ID) error

	// Reserve takes a queued trial, the lowest ID first, or failing that a
	// running trial whose lease expired, and gives it to owner for ttl as a
	// new attempt. It returns ErrNoQueued if there is none.
	Reserve(ctx context.Context, exp, owner string, ttl time.Duration) (Trial, error)
	// Heartbeat extends a running trial's lease by ttl from now. A lease
	// that is no longer the trial's current one (taken over, canceled,
	// finished) is ErrConflict.
	Heartbeat(ctx context.Context, exp string, l Lease, ttl time.Duration) error
	// Report records an intermediate value of a running trial under its
	// lease (ErrConflict for a stale lease).
	Report(ctx context.Context, exp string, l Lease, r Report) error
	// Finish records a running trial's result under its lease, with state
	// StateDone (the result normalized) or StateError. Finishing a finished
	// trial again with the same lease, state and result returns nil; any
	// other finish of a finished trial, or a stale lease, is ErrConflict.
	Finish(ctx context.Context, exp string, l Lease, state State, r Result) error
	// Requeue makes trials queued again: running ones (their lease ends),
	// canceled ones and error ones. Done trials are left as they are.
	Requeue(ctx context.Context, exp string, ids []ID) error
	// Cancel marks queued and running trials canceled. Finished trials are
	// left as they are.
	Cancel(ctx context.Context, exp string, ids []ID) error

	// Get returns one trial (without attachment bytes: their names are
	// listed with nil data).
	Get(ctx context.Context, exp string, id ID) (Trial, error)
	// Changes returns the trials changed after sequence number since, in
	// the order of their last change, each once, and the sequence number
	// to pass next time. Changes(ctx, exp, 0) lists every trial. Attachment
	// bytes are left out.
	Changes(ctx context.Context, exp string, since int64) ([]Trial, int64, error)
	// Attachment returns the bytes of a trial's attachment.
	Attachment(ctx context.Context, exp string, id ID, name string) ([]byte, error)

	// Close releases the store's resources. Methods called after Close
	// return ErrClosed.
	Close() error
}
