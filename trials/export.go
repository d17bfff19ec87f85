package trials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
)

// exportVersion is the version of the export format, described on Export.
const exportVersion = 1

type exportDoc struct {
	Version    int           `json:"hyperopt_trials"`
	Experiment Experiment    `json:"experiment"`
	Missing    []ID          `json:"missing,omitempty"`
	Trials     []exportTrial `json:"trials"`
}

type exportTrial struct {
	ID      ID                         `json:"id"`
	State   State                      `json:"state"`
	Values  map[string]json.RawMessage `json:"values"`
	Config  any                        `json:"config,omitempty"`
	Result  *exportResult              `json:"result,omitempty"`
	Reports []exportReport             `json:"reports,omitempty"`
	Owner   string                     `json:"owner,omitempty"`
	Attempt int                        `json:"attempt,omitempty"`
	Booked  *time.Time                 `json:"booked,omitempty"`
	Started *time.Time                 `json:"started,omitempty"`
	Ended   *time.Time                 `json:"ended,omitempty"`
}

// exportResult is a Result with its numbers as JSON-safe values: JSON has
// no infinities or NaN, and a failed trial's loss is +Inf. ExtrasNonFinite
// lists the JSON Pointers of the strings in Extras that stand for numbers.
type exportResult struct {
	Result
	Loss            any      `json:"loss"`
	Status          any      `json:"status"` // read apart, so that a bad one names its trial
	LossVariance    any      `json:"loss_variance,omitempty"`
	TrueLoss        any      `json:"true_loss,omitempty"`
	ExtrasNonFinite []string `json:"extras_nonfinite,omitempty"`
}

// exportReport is a Report with its value as a JSON-safe value.
type exportReport struct {
	Step  int64 `json:"step"`
	Value any   `json:"value"`
}

// jsonFloat returns x, or its name ("+Inf", "-Inf", "NaN") if JSON cannot
// hold it; omitZero returns nil for 0, so that omitempty drops it.
func jsonFloat(x float64, omitZero bool) any {
	switch {
	case omitZero && x == 0:
		return nil
	case math.IsInf(x, 0) || math.IsNaN(x):
		return fmt.Sprint(x)
	}
	return x
}

// readFloat is the inverse of jsonFloat.
func readFloat(v any) (float64, error) {
	switch l := v.(type) {
	case json.Number:
		return l.Float64()
	case string:
		switch l {
		case "+Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		case "NaN":
			return math.NaN(), nil
		}
		return 0, fmt.Errorf("%q is not a number", l)
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

type choiceValue struct {
	Index int `json:"index"`
	Value any `json:"value"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Export writes experiment exp of store to w in a versioned JSON form,
// attachments included, that [Import] reads back into any store.
//
// The format, version 1, is one JSON document per experiment:
//
//	{
//	  "hyperopt_trials": 1,
//	  "experiment": {"key": ..., "space": {space JSON}, "fingerprint": ...,
//	                 "seed": ..., "max_evals": ..., "algorithm": ...,
//	                 "algorithm_options": {...}, "created": ..., ...},
//	  "missing": [IDs claimed but never proposed, or released],
//	  "trials": [
//	    {"id": 0, "state": "done",
//	     "values": {"lr": 0.001, "model": {"index": 1, "value": "svm"}},
//	     "config": {the typed config, for people to read},
//	     "result": {"loss": ..., "status": "ok", "extras": {...},
//	                "attachments": {"name": base64}, ...},
//	     "reports": [{"step": 1, "value": 0.5}],
//	     "owner": ..., "attempt": 1, "booked": ..., "started": ..., "ended": ...},
//	    ...
//	  ]
//	}
//
// JSON has no infinities or NaN: where a number is expected (a loss, a
// report's value) such a number is written as the string "+Inf", "-Inf" or
// "NaN". In a result's extras, where a string may be just a string, it is
// written the same way and "extras_nonfinite" lists the JSON Pointers (RFC
// 6901, from the extras object) of the strings that stand for numbers:
//
//	"extras": {"curve": [0.5, "NaN"]}, "extras_nonfinite": ["/curve/1"]
//
// Values are keyed by label, a choice as its option index and the option's
// value (a constant, or the config of a sub-space). Import reads the labels
// and indices, never the configs, so a space whose configs are ambiguous
// still round-trips. Trial IDs are kept.
func Export(ctx context.Context, w io.Writer, store Store, exp string) error {
	e, err := findExperiment(ctx, store, exp)
	if err != nil {
		return err
	}
	var s space.Space
	if err := s.UnmarshalJSON(e.Space); err != nil {
		return fmt.Errorf("trials: export %q: the stored space: %w", exp, err)
	}
	ts, _, err := store.Changes(ctx, exp, 0, 0)
	if err != nil {
		return fmt.Errorf("trials: export %q: %w", exp, err)
	}
	reps, _, err := store.Reports(ctx, exp, 0, 0)
	if err != nil {
		return fmt.Errorf("trials: export %q: %w", exp, err)
	}
	// A trial's reports are those of its last attempt.
	byID := make(map[ID][]TrialReport)
	for _, r := range reps {
		byID[r.ID] = append(byID[r.ID], r)
	}
	slices.SortFunc(ts, func(a, b Trial) int { return int(a.ID - b.ID) })
	doc := exportDoc{Version: exportVersion, Experiment: e, Trials: make([]exportTrial, 0, len(ts))}
	next := ID(0)
	for _, t := range ts {
		for ; next < t.ID; next++ {
			doc.Missing = append(doc.Missing, next)
		}
		next = t.ID + 1
		var tr []exportReport
		for _, r := range byID[t.ID] {
			if r.Attempt == t.Attempt {
				tr = append(tr, exportReport{Step: r.Step, Value: jsonFloat(r.Value, false)})
			}
		}
		et := exportTrial{
			ID: t.ID, State: t.State, Values: map[string]json.RawMessage{}, Reports: tr,
			Owner: t.Owner, Attempt: t.Attempt, Booked: timePtr(t.Booked), Started: timePtr(t.Started), Ended: timePtr(t.Ended),
		}
		for i, x := range t.Values {
			if math.IsNaN(x) {
				continue
			}
			var raw []byte
			if s.Dist(i).Kind == space.KindChoice {
				opt, err := s.EvalOption(t.Values, i)
				if err != nil {
					return fmt.Errorf("trials: export %q, trial %d: %w", exp, t.ID, err)
				}
				raw, err = json.Marshal(choiceValue{Index: int(x), Value: opt})
				if err != nil {
					return fmt.Errorf("trials: export %q, trial %d, %q: %w", exp, t.ID, s.Label(i), err)
				}
			} else {
				raw, _ = json.Marshal(x)
			}
			et.Values[s.Label(i)] = raw
		}
		if cfg, err := s.Eval(t.Values); err == nil {
			et.Config = cfg
		}
		if t.State == StateDone || t.State == StateError {
			r := t.Result
			for name := range r.Attachments {
				b, err := store.Attachment(ctx, exp, t.ID, name)
				if err != nil {
					return fmt.Errorf("trials: export %q, trial %d: %w", exp, t.ID, err)
				}
				r.Attachments[name] = b
			}
			er := &exportResult{Result: r, Loss: jsonFloat(r.Loss, false), Status: r.Status,
				LossVariance: jsonFloat(r.LossVariance, true), TrueLoss: jsonFloat(r.TrueLoss, true)}
			if len(r.Extras) > 0 {
				if er.Extras, er.ExtrasNonFinite, err = extrasTree(r.Extras); err != nil {
					return fmt.Errorf("trials: export %q, trial %d: %w", exp, t.ID, err)
				}
			}
			et.Result = er
		}
		doc.Trials = append(doc.Trials, et)
	}
	for ; next < e.NextID; next++ {
		doc.Missing = append(doc.Missing, next)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("trials: export %q: %w", exp, err)
	}
	return nil
}

func findExperiment(ctx context.Context, store Store, key string) (Experiment, error) {
	es, err := store.Experiments(ctx)
	if err != nil {
		return Experiment{}, err
	}
	for _, e := range es {
		if e.Key == key {
			return e, nil
		}
	}
	return Experiment{}, fmt.Errorf("trials: experiment %q: %w", key, ErrNotFound)
}

// parsedTrial is a trial of an export document, read and checked.
type parsedTrial struct {
	t       exportTrial
	values  space.Values
	result  Result
	reports []Report
}

// ImportOptions configures Import. The zero value is the default.
type ImportOptions struct {
	// Key is the key of the experiment to create; "" keeps the document's.
	Key string
}

// ErrImport is wrapped by the errors of a malformed export document.
var ErrImport = errors.New("trials: bad export document")

// Import reads a document written by Export and recreates its experiment in
// store, with the same trial IDs, values, states, results, reports and
// attachments, so that the search can go on there. The experiment must not
// exist in store yet (or have no trials). opts may be nil.
//
// A store that implements [Loader] (every store of this module does) writes
// the whole experiment in one step, all or nothing, keeping owners,
// attempts and times; trials that were running are queued again. Another
// store gets the trials one call at a time, stamped with its own owners and
// times, and a failure half-way leaves the trials written so far.
func Import(ctx context.Context, r io.Reader, store Store, opts *ImportOptions) (Experiment, error) {
	var doc exportDoc
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return Experiment{}, fmt.Errorf("%w: %v", ErrImport, err)
	}
	if doc.Version != exportVersion {
		return Experiment{}, fmt.Errorf("%w: version %d, this package reads %d", ErrImport, doc.Version, exportVersion)
	}
	var s space.Space
	if err := s.UnmarshalJSON(doc.Experiment.Space); err != nil {
		return Experiment{}, fmt.Errorf("%w: experiment.space: %w", ErrImport, err)
	}
	if fp, _ := s.Fingerprint(); doc.Experiment.Fingerprint != "" && fp != doc.Experiment.Fingerprint {
		return Experiment{}, fmt.Errorf("%w: the space's fingerprint is %s, the document says %s", ErrImport, fp, doc.Experiment.Fingerprint)
	}
	spec := doc.Experiment.ExperimentSpec
	if opts != nil && opts.Key != "" {
		spec.Key = opts.Key
	}
	// Parse every trial before writing anything.
	ps := make([]parsedTrial, len(doc.Trials))
	for i, et := range doc.Trials {
		v, err := importValues(&s, et.Values)
		if err != nil {
			return Experiment{}, fmt.Errorf("%w: trial %d: %w", ErrImport, et.ID, err)
		}
		ps[i] = parsedTrial{t: et, values: v}
		if ps[i].reports, err = importReports(et.Reports); err != nil {
			return Experiment{}, fmt.Errorf("%w: trial %d: %w", ErrImport, et.ID, err)
		}
		if et.Result == nil {
			if et.State == StateDone || et.State == StateError {
				return Experiment{}, fmt.Errorf("%w: trial %d is %v without a result", ErrImport, et.ID, et.State)
			}
			continue
		}
		ps[i].result, err = importResult(et.Result)
		if err != nil {
			return Experiment{}, fmt.Errorf("%w: trial %d: %w", ErrImport, et.ID, err)
		}
		if et.State == StateDone && (et.Result.Loss == nil || ps[i].result.Status == 0) {
			return Experiment{}, fmt.Errorf("%w: trial %d is done, but its result has no loss or no status", ErrImport, et.ID)
		}
	}
	// Every ID from 0 to n-1 must be exactly one trial or one missing ID,
	// so n is the number of both: an ID beyond it cannot be described by
	// the document (and memory stays bounded by the document's size, not by
	// the numbers in it).
	n := len(ps) + len(doc.Missing)
	seen := make([]bool, n)
	mark := func(id ID, what string) error {
		if id < 0 || int64(id) >= int64(n) {
			return fmt.Errorf("%w: ID %d (%s) is out of 0..%d: the document has %d trials and %d missing IDs", ErrImport, id, what, n-1, len(ps), len(doc.Missing))
		}
		if seen[id] {
			return fmt.Errorf("%w: ID %d appears twice (as %s)", ErrImport, id, what)
		}
		seen[id] = true
		return nil
	}
	for _, p := range ps {
		if err := mark(p.t.ID, "a trial"); err != nil {
			return Experiment{}, err
		}
	}
	for _, id := range doc.Missing {
		if err := mark(id, "a missing ID"); err != nil {
			return Experiment{}, err
		}
	}
	if i := slices.Index(seen, false); i >= 0 {
		return Experiment{}, fmt.Errorf("%w: ID %d is neither a trial nor missing", ErrImport, i)
	}
	if l, ok := store.(Loader); ok {
		ts := make([]Trial, len(ps))
		for i, p := range ps {
			st := p.t.State
			if st == StateRunning {
				st = StateQueued // its evaluator is not coming back
			}
			ts[i] = Trial{ID: p.t.ID, Experiment: spec.Key, State: st, Values: p.values, Reports: p.reports,
				Owner: p.t.Owner, Attempt: p.t.Attempt, Booked: timeOf(p.t.Booked), Started: timeOf(p.t.Started), Ended: timeOf(p.t.Ended)}
			if st == StateDone || st == StateError {
				ts[i].Result = p.result
				if st == StateDone {
					ts[i].Result = p.result.Normalize()
				}
			}
		}
		if _, err := l.Load(ctx, spec, ts, doc.Missing); err != nil {
			return Experiment{}, fmt.Errorf("trials: import: %w", err)
		}
		return findExperiment(ctx, store, spec.Key)
	}
	return importSteps(ctx, store, spec, n, ps, doc.Missing)
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// importSteps writes an import through the Store interface alone, for a
// store that is not a Loader: a failure half-way leaves the trials written
// so far.
func importSteps(ctx context.Context, store Store, spec ExperimentSpec, n int, ps []parsedTrial, missing []ID) (Experiment, error) {
	budget := spec.MaxEvals
	if budget > 0 && budget < n {
		spec.MaxEvals = n // room for every ID while importing
	}
	e, err := store.Open(ctx, spec)
	if err != nil {
		return Experiment{}, fmt.Errorf("trials: import: %w", err)
	}
	if e.NextID != 0 {
		return Experiment{}, fmt.Errorf("trials: import into %q: the experiment already has trials: %w", spec.Key, ErrConflict)
	}
	if n > 0 {
		ids, err := store.Claim(ctx, spec.Key, n, "")
		if err != nil {
			return Experiment{}, fmt.Errorf("trials: import: %w", err)
		}
		if len(ids) != n || ids[0] != 0 {
			return Experiment{}, fmt.Errorf("trials: import: claimed %d IDs from %d, want %d from 0: %w", len(ids), ids[0], n, ErrConflict)
		}
	}
	const owner = "import"
	for _, p := range ps {
		t := p.t
		switch t.State {
		case StateDone, StateError:
			err = store.Propose(ctx, spec.Key, []Proposal{{ID: t.ID, Values: p.values, Owner: owner, LeaseTTL: time.Hour}})
			l := Lease{ID: t.ID, Attempt: 1}
			for _, rep := range p.reports {
				if err == nil {
					err = store.Report(ctx, spec.Key, l, rep)
				}
			}
			if err == nil {
				err = store.Finish(ctx, spec.Key, l, t.State, p.result)
			}
		case StateQueued, StateRunning, StateCanceled:
			err = store.Propose(ctx, spec.Key, []Proposal{{ID: t.ID, Values: p.values}})
			if err == nil && t.State == StateCanceled {
				err = store.Cancel(ctx, spec.Key, []Lease{{ID: t.ID}})
			}
		default:
			err = fmt.Errorf("%w: trial %d has state %v", ErrImport, t.ID, t.State)
		}
		if err != nil {
			return Experiment{}, fmt.Errorf("trials: import trial %d: %w", t.ID, err)
		}
	}
	if len(missing) > 0 {
		if err := store.Release(ctx, spec.Key, missing); err != nil {
			return Experiment{}, fmt.Errorf("trials: import: %w", err)
		}
	}
	if spec.MaxEvals != budget && budget > 0 {
		spec.MaxEvals, spec.Update = budget, true
		if _, err = store.Open(ctx, spec); err != nil {
			return Experiment{}, fmt.Errorf("trials: import: %w", err)
		}
	}
	return findExperiment(ctx, store, spec.Key)
}

// importValues reads a trial's label-keyed values: numbers, and for choices
// {"index": i, ...}.
func importValues(s *space.Space, m map[string]json.RawMessage) (space.Values, error) {
	lab := make(map[string]float64, len(m))
	for label, raw := range m {
		i, ok := s.Index(label)
		if !ok {
			return nil, fmt.Errorf("unknown label %q", label)
		}
		if s.Dist(i).Kind == space.KindChoice {
			var c struct {
				Index *int `json:"index"`
			}
			if err := json.Unmarshal(raw, &c); err != nil || c.Index == nil {
				return nil, fmt.Errorf("choice %q: want {\"index\": n, ...}, got %s", label, raw)
			}
			lab[label] = float64(*c.Index)
			continue
		}
		var x float64
		if err := json.Unmarshal(raw, &x); err != nil {
			return nil, fmt.Errorf("%q: want a number, got %s", label, raw)
		}
		lab[label] = x
	}
	return s.FromLabeled(lab)
}

func importResult(er *exportResult) (Result, error) {
	r := er.Result
	var err error
	switch st := er.Status.(type) {
	case nil:
	case string:
		if err := r.Status.UnmarshalText([]byte(st)); err != nil {
			return r, fmt.Errorf("status %q: want \"ok\", \"fail\" or \"none\"", st)
		}
	default:
		return r, fmt.Errorf("status %v: want \"ok\", \"fail\" or \"none\"", st)
	}
	if r.Loss, err = readFloat(er.Loss); err != nil {
		return r, fmt.Errorf("loss: %w", err)
	}
	if r.LossVariance, err = readFloat(er.LossVariance); err != nil {
		return r, fmt.Errorf("loss_variance: %w", err)
	}
	if r.TrueLoss, err = readFloat(er.TrueLoss); err != nil {
		return r, fmt.Errorf("true_loss: %w", err)
	}
	r.Extras = numbersToFloat(r.Extras)
	if err := restoreNonFinite(r.Extras, er.ExtrasNonFinite); err != nil {
		return r, err
	}
	if err := CheckResult(r); err != nil {
		return r, err
	}
	return r, nil
}

func importReports(ers []exportReport) ([]Report, error) {
	if ers == nil {
		return nil, nil
	}
	rs := make([]Report, len(ers))
	for i, er := range ers {
		v, err := readFloat(er.Value)
		if err != nil {
			return nil, fmt.Errorf("report of step %d: %w", er.Step, err)
		}
		if er.Value == nil {
			return nil, fmt.Errorf("report of step %d has no value", er.Step)
		}
		rs[i] = Report{Step: er.Step, Value: v}
	}
	return rs, nil
}

// numbersToFloat turns the json.Numbers that UseNumber left in extras into
// float64, as a plain decode would, and a number beyond float64's range
// (which a plain decode refuses) into its text, a string.
func numbersToFloat(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = numberValue(v)
	}
	return m
}

func numberValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case map[string]any:
		return numbersToFloat(x)
	case []any:
		for i := range x {
			x[i] = numberValue(x[i])
		}
		return x
	}
	return v
}
