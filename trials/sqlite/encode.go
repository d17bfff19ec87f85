package sqlite

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
)

// encodeValues returns the little-endian bits of each value.
func encodeValues(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// decodeValues reverses encodeValues.
func decodeValues(b []byte) ([]float64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("values of %d bytes, not a multiple of 8", len(b))
	}
	if len(b) == 0 {
		return nil, nil
	}
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

func fbits(x float64) int64       { return int64(math.Float64bits(x)) }
func ffrom(b int64) float64       { return math.Float64frombits(uint64(b)) }
func sameFloat(a, b float64) bool { return a == b || (a != a && b != b) }

// nanos returns t in nanoseconds since 1970, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos reverses nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// encodedResult is a result in the form of its columns.
type encodedResult struct {
	extras any // JSON text or nil
	names  any // JSON list of attachment names or nil
}

// encodeResult returns the JSON columns of r.
func encodeResult(r trials.Result) (encodedResult, error) {
	var e encodedResult
	if err := trials.CheckResult(r); err != nil {
		return e, err
	}
	if len(r.Extras) > 0 {
		b, err := trials.MarshalExtras(r.Extras)
		if err != nil {
			return e, err
		}
		e.extras = string(b)
	}
	if len(r.Attachments) > 0 {
		b, _ := json.Marshal(slices.Sorted(maps.Keys(r.Attachments)))
		e.names = string(b)
	}
	return e, nil
}

// trialRow is a scanned trial row.
type trialRow struct {
	id, state, attempt                   int64
	vals                                 []byte
	owner                                string
	lease, booked, started, ended, seq   int64
	loss, status, lossVar, trueLoss, htl int64
	extras                               []byte
	errS, stack                          string
	names                                []byte
}

type scanner interface{ Scan(dest ...any) error }

func (r *trialRow) scan(sc scanner) error {
	return sc.Scan(&r.id, &r.state, &r.vals, &r.owner, &r.attempt, &r.lease, &r.booked, &r.started, &r.ended, &r.seq,
		&r.loss, &r.status, &r.lossVar, &r.trueLoss, &r.htl, &r.extras, &r.errS, &r.stack, &r.names)
}

// result returns the row's result, with the attachments' names mapped to
// nil.
func (r *trialRow) result() (trials.Result, error) {
	res := trials.Result{
		Loss: ffrom(r.loss), Status: trials.Status(r.status), LossVariance: ffrom(r.lossVar),
		TrueLoss: ffrom(r.trueLoss), HasTrueLoss: r.htl != 0, Err: r.errS, Stack: r.stack,
	}
	if len(r.extras) > 0 {
		var err error
		if res.Extras, err = trials.UnmarshalExtras(r.extras); err != nil {
			return res, fmt.Errorf("extras of trial %d: %w", r.id, err)
		}
	}
	if len(r.names) > 0 {
		var names []string
		if err := json.Unmarshal(r.names, &names); err != nil {
			return res, fmt.Errorf("attachment names of trial %d: %w", r.id, err)
		}
		res.Attachments = make(map[string][]byte, len(names))
		for _, n := range names {
			res.Attachments[n] = nil
		}
	}
	return res, nil
}

// trial returns the row as a trial of experiment exp, without reports.
func (r *trialRow) trial(exp string) (trials.Trial, error) {
	v, err := decodeValues(r.vals)
	if err != nil {
		return trials.Trial{}, fmt.Errorf("trial %d: %w", r.id, err)
	}
	res, err := r.result()
	if err != nil {
		return trials.Trial{}, err
	}
	return trials.Trial{
		ID: trials.ID(r.id), Experiment: exp, State: trials.State(r.state), Values: v, Result: res,
		Owner: r.owner, Attempt: int(r.attempt), LeaseUntil: fromNanos(r.lease), Booked: fromNanos(r.booked),
		Started: fromNanos(r.started), Ended: fromNanos(r.ended), Seq: r.seq,
	}, nil
}
