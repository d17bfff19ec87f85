package trials

import (
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
)

// ID identifies a trial within its experiment. An experiment's IDs are
// handed out from 0 in the order they are claimed. A claimed ID that never
// gets values is released (an algorithm that ran out of points, a claim
// whose proposal failed) and leaves a gap: it is in no listing, and an
// export lists it as missing. A search canceled between a claim and its
// proposals still records them, so cancellation leaves no gap.
type ID int64

// State is where a trial is in its life.
type State uint8

// The states of a trial (HyperOpt's JOB_STATE_*).
const (
	// StateQueued: proposed, waiting for an evaluator to reserve it
	// (HyperOpt's NEW).
	StateQueued State = iota + 1
	// StateRunning: reserved by an evaluator, under a lease.
	StateRunning
	// StateDone: evaluated; Result.Status says whether the objective
	// succeeded (ok) or reported a failure (fail, or a NaN or infinite
	// loss). Failed trials count toward the budget and are treated as a
	// loss of +Inf by the algorithms, as in HyperOpt.
	StateDone
	// StateError: the objective returned an error or panicked (Result.Err
	// and Result.Stack say why), or its trial timed out. Error trials count
	// toward the budget and are left out of the algorithms' models.
	StateError
	// StateCanceled: stopped before it finished (the caller canceled, or
	// the search timed out). A resumed search requeues canceled trials.
	StateCanceled
)

var stateNames = [...]string{StateQueued: "queued", StateRunning: "running", StateDone: "done", StateError: "error", StateCanceled: "canceled"}

// String returns the state's name ("queued", "running", "done", "error",
// "canceled").
func (s State) String() string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Finished reports whether s is final: done, error or canceled.
func (s State) Finished() bool { return s == StateDone || s == StateError || s == StateCanceled }

// MarshalText returns the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n != "" && n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return &json.UnsupportedValueError{Str: "unknown trial state " + strconv.Quote(string(b))}
}

// Status says whether an evaluated trial succeeded (HyperOpt's
// STATUS_OK and STATUS_FAIL).
type Status uint8

// The statuses of a result.
const (
	StatusOK   Status = iota + 1 // the objective returned a finite loss
	StatusFail                   // the objective reported failure, or a NaN or infinite loss
)

// String returns "ok", "fail", or "none" for a trial without a result.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusFail:
		return "fail"
	case 0:
		return "none"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns the status's name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status's name.
func (s *Status) UnmarshalText(b []byte) error {
	switch string(b) {
	case "ok":
		*s = StatusOK
	case "fail":
		*s = StatusFail
	case "none", "":
		*s = 0
	default:
		return &json.UnsupportedValueError{Str: "unknown result status " + strconv.Quote(string(b))}
	}
	return nil
}

// Result is the outcome of evaluating a trial.
type Result struct {
	// Loss is the value to minimize. It is meaningful when Status is
	// StatusOK; a NaN or infinite loss makes the status StatusFail.
	Loss   float64 `json:"loss"`
	Status Status  `json:"status"`
	// LossVariance is the variance of a noisy loss (HyperOpt's
	// loss_variance), used by AverageBestError; 0 if the loss is exact.
	LossVariance float64 `json:"loss_variance,omitempty"`
	// TrueLoss is the loss the user cares about when Loss is a noisy
	// estimate of it (HyperOpt's true_loss). If HasTrueLoss is false,
	// TrueLoss is taken to be Loss.
	TrueLoss    float64 `json:"true_loss,omitempty"`
	HasTrueLoss bool    `json:"has_true_loss,omitempty"`
	// Extras holds free-form values the objective records (JSON-able).
	Extras map[string]any `json:"extras,omitempty"`
	// Attachments holds named blobs. Listings and Changes leave them out;
	// read them with Store.Attachment.
	Attachments map[string][]byte `json:"attachments,omitempty"`
	// Err is why a trial ended in StateError (or why it failed), and Stack
	// the goroutine's stack when the objective panicked.
	Err   string `json:"error,omitempty"`
	Stack string `json:"stack,omitempty"`
}

// OK returns the result of a successful evaluation with the given loss.
func OK(loss float64) Result { return Result{Loss: loss, Status: StatusOK} }

// Fail returns the result of an evaluation that failed for the given reason
// (HyperOpt's STATUS_FAIL): it counts toward the budget and the algorithms
// treat it as the worst loss.
func Fail(reason string) Result { return Result{Loss: math.Inf(1), Status: StatusFail, Err: reason} }

// Normalize returns r with the status HyperOpt's rules give it: a NaN or
// infinite loss of an ok result makes it fail; a result with no status is
// ok. The loss of a failed result becomes +Inf.
func (r Result) Normalize() Result {
	if r.Status == 0 {
		r.Status = StatusOK
	}
	if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
		r.Status = StatusFail
	}
	if r.Status == StatusFail {
		r.Loss = math.Inf(1)
	}
	return r
}

// Objective returns the loss the algorithms see: Loss for an ok result, +Inf
// for a failed one.
func (r Result) Objective() float64 {
	if r.Status != StatusOK {
		return math.Inf(1)
	}
	return r.Loss
}

// True returns TrueLoss if it is set, else Loss.
func (r Result) True() float64 {
	if r.HasTrueLoss {
		return r.TrueLoss
	}
	return r.Loss
}

// Equal reports whether r and o are the same result, as a store decides
// whether a second Finish of a trial repeats the first (NaN equals NaN).
func (r Result) Equal(o Result) bool {
	eqf := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
	if !eqf(r.Loss, o.Loss) || r.Status != o.Status || !eqf(r.LossVariance, o.LossVariance) ||
		!eqf(r.TrueLoss, o.TrueLoss) || r.HasTrueLoss != o.HasTrueLoss || r.Err != o.Err || r.Stack != o.Stack {
		return false
	}
	if !maps.EqualFunc(r.Attachments, o.Attachments, func(a, b []byte) bool { return slices.Equal(a, b) }) {
		return false
	}
	if len(r.Extras) != len(o.Extras) {
		return false
	}
	if len(r.Extras) == 0 {
		return true
	}
	// Extras are JSON-able: compare their JSON forms, which is what a
	// durable store keeps, with the non-finite numbers JSON cannot hold
	// written as Export writes them (so NaN equals NaN here too).
	a, pa, err1 := encodeExtras(r.Extras)
	b, pb, err2 := encodeExtras(o.Extras)
	return err1 == nil && err2 == nil && string(a) == string(b) && slices.Equal(pa, pb)
}

// A Report is an intermediate value the objective reported while running
// (a validation loss after an epoch, say), the input of pruning.
type Report struct {
	Step  int64   `json:"step"`
	Value float64 `json:"value"`
}

// Trial is one evaluation of one point of a space: its values, state and,
// once finished, its result.
type Trial struct {
	ID         ID
	Experiment string
	State      State
	Values     space.Values
	Result     Result // set when the state is done or error
	Reports    []Report
	Owner      string    // who reserved it last
	Attempt    int       // how many times it was reserved
	LeaseUntil time.Time // when a running trial's lease expires
	Booked     time.Time // when it was proposed
	Started    time.Time // when it was last reserved
	Ended      time.Time // when it finished
	// Seq is the experiment's sequence number of the trial's last change.
	Seq int64
}

// Lease is the token of a reservation: the trial and the attempt it was
// reserved for. A heartbeat or finish with the lease of an earlier attempt
// is refused with ErrConflict.
type Lease struct {
	ID      ID
	Attempt int
}

// Lease returns the token of the trial's current reservation.
func (t Trial) Lease() Lease { return Lease{t.ID, t.Attempt} }

// Clone returns a deep copy of t: Values, Reports, the result's extras (to
// any depth of maps and slices) and attachment bytes.
func (t Trial) Clone() Trial {
	t.Values = slices.Clone(t.Values)
	t.Reports = slices.Clone(t.Reports)
	t.Result = t.Result.Clone()
	return t
}

// Clone returns a deep copy of r: its extras to any depth of maps and
// slices, and its attachment bytes. A map or slice that appears twice in the
// extras (or contains itself) is copied once, and the copy appears in its
// places.
func (r Result) Clone() Result {
	if r.Extras != nil {
		var memo map[memoKey]any
		r.Extras = deepCopy(r.Extras, &memo).(map[string]any)
	}
	if r.Attachments != nil {
		a := make(map[string][]byte, len(r.Attachments))
		for k, v := range r.Attachments {
			a[k] = slices.Clone(v)
		}
		r.Attachments = a
	}
	return r
}

// memoKey is a map (n = -1) or a slice of n elements.
type memoKey struct {
	p uintptr
	n int
}

// deepCopy copies the maps and slices of a JSON-like value; other values
// are returned as they are. *memo maps the maps and []any slices copied so
// far to their copies (made when first needed), so that a cycle ends.
func deepCopy(v any, memo *map[memoKey]any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		if *memo == nil {
			*memo = map[memoKey]any{}
		}
		p := memoKey{reflect.ValueOf(x).Pointer(), -1}
		if c, ok := (*memo)[p]; ok {
			return c
		}
		m := make(map[string]any, len(x))
		(*memo)[p] = m
		for k, e := range x {
			m[k] = deepCopy(e, memo)
		}
		return m
	case []any:
		if x == nil {
			return x
		}
		if *memo == nil {
			*memo = map[memoKey]any{}
		}
		p := memoKey{reflect.ValueOf(x).Pointer(), len(x)}
		if c, ok := (*memo)[p]; ok {
			return c
		}
		s := make([]any, len(x))
		if len(x) > 0 {
			(*memo)[p] = s
		}
		for i, e := range x {
			s[i] = deepCopy(e, memo)
		}
		return s
	case []byte:
		return slices.Clone(x)
	case []float64:
		return slices.Clone(x)
	case []int:
		return slices.Clone(x)
	case []string:
		return slices.Clone(x)
	}
	return v
}
