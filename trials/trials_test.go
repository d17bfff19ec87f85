package trials_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

var inf = math.Inf(1)

func TestResultNormalize(t *testing.T) {
	for _, c := range []struct {
		name string
		in   trials.Result
		want trials.Result
	}{
		{"no status is ok", trials.Result{Loss: 1}, trials.Result{Loss: 1, Status: trials.StatusOK}},
		{"ok stays ok", trials.OK(-2), trials.OK(-2)},
		{"NaN fails", trials.Result{Loss: math.NaN(), Status: trials.StatusOK}, trials.Result{Loss: inf, Status: trials.StatusFail}},
		{"NaN without status fails", trials.Result{Loss: math.NaN()}, trials.Result{Loss: inf, Status: trials.StatusFail}},
		{"+Inf fails", trials.Result{Loss: inf, Status: trials.StatusOK}, trials.Result{Loss: inf, Status: trials.StatusFail}},
		{"-Inf fails", trials.Result{Loss: math.Inf(-1), Status: trials.StatusOK}, trials.Result{Loss: inf, Status: trials.StatusFail}},
		{"fail loses its loss", trials.Result{Loss: 3, Status: trials.StatusFail, Err: "why"}, trials.Result{Loss: inf, Status: trials.StatusFail, Err: "why"}},
		{"Fail", trials.Fail("diverged"), trials.Result{Loss: inf, Status: trials.StatusFail, Err: "diverged"}},
		{"other fields kept", trials.Result{Loss: 1, LossVariance: 0.5, TrueLoss: 2, HasTrueLoss: true, Extras: map[string]any{"a": 1.0}},
			trials.Result{Loss: 1, Status: trials.StatusOK, LossVariance: 0.5, TrueLoss: 2, HasTrueLoss: true, Extras: map[string]any{"a": 1.0}}},
	} {
		got := c.in.Normalize()
		if !got.Equal(c.want) || got.Loss != c.want.Loss {
			t.Errorf("%s: %+v.Normalize() = %+v, want %+v", c.name, c.in, got, c.want)
		}
		if again := got.Normalize(); !again.Equal(got) {
			t.Errorf("%s: Normalize() of %+v = %+v, want it unchanged", c.name, got, again)
		}
	}
}

func TestResultObjectiveAndTrue(t *testing.T) {
	for _, c := range []struct {
		r         trials.Result
		objective float64
		true_     float64
	}{
		{trials.OK(0.5), 0.5, 0.5},
		{trials.Result{Loss: 0.5, Status: trials.StatusOK, TrueLoss: 0.7, HasTrueLoss: true}, 0.5, 0.7},
		{trials.Result{Loss: 0.5, Status: trials.StatusOK, TrueLoss: 0.7}, 0.5, 0.5}, // HasTrueLoss unset
		{trials.Fail("x"), inf, inf},
		{trials.Result{Loss: 3, Status: trials.StatusFail}, inf, 3},
		{trials.Result{Loss: math.NaN()}.Normalize(), inf, inf},
	} {
		if got := c.r.Objective(); got != c.objective {
			t.Errorf("%+v.Objective() = %v, want %v", c.r, got, c.objective)
		}
		if got := c.r.True(); got != c.true_ {
			t.Errorf("%+v.True() = %v, want %v", c.r, got, c.true_)
		}
	}
}

func TestResultEqual(t *testing.T) {
	base := func() trials.Result {
		return trials.Result{Loss: 1, Status: trials.StatusOK, LossVariance: 0.1, TrueLoss: 2, HasTrueLoss: true, Err: "e", Stack: "s",
			Extras: map[string]any{"a": 1, "b": "x"}, Attachments: map[string][]byte{"f": []byte("abc")}}
	}
	if !base().Equal(base()) {
		t.Errorf("Equal(same result) = false, want true")
	}
	nan := trials.Result{Loss: math.NaN(), LossVariance: math.NaN()}
	if !nan.Equal(nan) {
		t.Errorf("Equal(NaN loss, NaN loss) = false, want true")
	}
	// Extras compare as JSON, the form a durable store keeps: an int and
	// the float64 it decodes to are equal.
	decoded := base()
	decoded.Extras = map[string]any{"a": 1.0, "b": "x"}
	if !base().Equal(decoded) {
		t.Errorf("Equal(extras a: 1, extras a: 1.0) = false, want true")
	}
	// Nil and empty maps are equal.
	if !(trials.Result{Extras: map[string]any{}, Attachments: map[string][]byte{}}).Equal(trials.Result{}) {
		t.Errorf("Equal(empty maps, nil maps) = false, want true")
	}
	for name, change := range map[string]func(*trials.Result){
		"loss":          func(r *trials.Result) { r.Loss = 1.5 },
		"status":        func(r *trials.Result) { r.Status = trials.StatusFail },
		"variance":      func(r *trials.Result) { r.LossVariance = 0 },
		"true loss":     func(r *trials.Result) { r.TrueLoss = 3 },
		"has true loss": func(r *trials.Result) { r.HasTrueLoss = false },
		"err":           func(r *trials.Result) { r.Err = "other" },
		"stack":         func(r *trials.Result) { r.Stack = "" },
		"extra value":   func(r *trials.Result) { r.Extras["a"] = 2 },
		"extra key":     func(r *trials.Result) { delete(r.Extras, "b"); r.Extras["c"] = "x" },
		"extras nil":    func(r *trials.Result) { r.Extras = nil },
		"attachment":    func(r *trials.Result) { r.Attachments["f"] = []byte("abd") },
		"attachments":   func(r *trials.Result) { r.Attachments["g"] = nil },
		"loss NaN":      func(r *trials.Result) { r.Loss = math.NaN() },
	} {
		r := base()
		change(&r)
		if base().Equal(r) || r.Equal(base()) {
			t.Errorf("Equal(result, result with another %s) = true, want false", name)
		}
	}
}

func TestStateText(t *testing.T) {
	for _, c := range []struct {
		s        trials.State
		name     string
		finished bool
	}{
		{trials.StateQueued, "queued", false},
		{trials.StateRunning, "running", false},
		{trials.StateDone, "done", true},
		{trials.StateError, "error", true},
		{trials.StateCanceled, "canceled", true},
	} {
		b, err := c.s.MarshalText()
		if err != nil || string(b) != c.name || c.s.String() != c.name {
			t.Errorf("State(%d).MarshalText() = %q, %v, String() %q; want %q", c.s, b, err, c.s.String(), c.name)
		}
		var back trials.State
		if err := back.UnmarshalText(b); err != nil || back != c.s {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, c.s)
		}
		if c.s.Finished() != c.finished {
			t.Errorf("%v.Finished() = %v, want %v", c.s, c.s.Finished(), c.finished)
		}
	}
	// In JSON, by name.
	b, err := json.Marshal(map[string]trials.State{"s": trials.StateRunning})
	if err != nil || string(b) != `{"s":"running"}` {
		t.Errorf("json.Marshal(state running) = %s, %v; want {\"s\":\"running\"}", b, err)
	}
	var m map[string]trials.State
	if err := json.Unmarshal([]byte(`{"s":"canceled"}`), &m); err != nil || m["s"] != trials.StateCanceled {
		t.Errorf(`json.Unmarshal({"s":"canceled"}) = %v, %v; want canceled`, m, err)
	}
	for _, bad := range []string{"", "Queued", "finished", "State(1)"} {
		var s trials.State
		if err := s.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) = nil, want an error", bad)
		}
	}
	if got := trials.State(9).String(); got != "State(9)" {
		t.Errorf("State(9).String() = %q, want State(9)", got)
	}
}

func TestStatusText(t *testing.T) {
	for _, c := range []struct {
		s    trials.Status
		name string
	}{{trials.StatusOK, "ok"}, {trials.StatusFail, "fail"}, {0, "none"}} {
		b, err := c.s.MarshalText()
		if err != nil || string(b) != c.name || c.s.String() != c.name {
			t.Errorf("Status(%d).MarshalText() = %q, %v; want %q", c.s, b, err, c.name)
		}
		back := trials.Status(99)
		if err := back.UnmarshalText(b); err != nil || back != c.s {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, c.s)
		}
	}
	var s trials.Status = trials.StatusOK
	if err := s.UnmarshalText(nil); err != nil || s != 0 {
		t.Errorf(`UnmarshalText("") = %v, %v; want none, nil`, s, err)
	}
	if err := s.UnmarshalText([]byte("OK")); err == nil {
		t.Errorf(`UnmarshalText("OK") = nil, want an error`)
	}
	// A result's JSON carries its status by name.
	b, err := json.Marshal(trials.Result{Loss: 0.5, Status: trials.StatusOK})
	if err != nil {
		t.Fatal(err)
	}
	var r trials.Result
	if err := json.Unmarshal(b, &r); err != nil || !r.Equal(trials.OK(0.5)) {
		t.Errorf("json round trip of OK(0.5) = %s → %+v, %v; want OK(0.5)", b, r, err)
	}
}

// done returns a done trial with an ok loss.
func done(id trials.ID, loss float64, values ...float64) trials.Trial {
	return trials.Trial{ID: id, State: trials.StateDone, Values: values, Result: trials.OK(loss)}
}

func TestHistoryApply(t *testing.T) {
	nan := math.NaN()
	h := trials.NewHistory(2)
	if h.Len() != 0 || h.Seq() != 0 {
		t.Fatalf("NewHistory(2) = Len %d, Seq %d; want 0, 0", h.Len(), h.Seq())
	}
	h.Apply([]trials.Trial{
		{ID: 3, State: trials.StateQueued, Values: []float64{0.1, nan}},
		{ID: 1, State: trials.StateRunning, Values: []float64{0.2, 0.5}},
	}, 2)
	check := func(when string, ids []trials.ID, states []trials.State, losses []float64, cols [2][]float64, seq int64) {
		t.Helper()
		if h.Len() != len(ids) || !slices.Equal(h.IDs(), ids) || !slices.Equal(h.States(), states) || !space.Values.Equal(h.Losses(), losses) || h.Seq() != seq {
			t.Errorf("%s: history = Len %d, IDs %v, States %v, Losses %v, Seq %d; want %d, %v, %v, %v, %d",
				when, h.Len(), h.IDs(), h.States(), h.Losses(), h.Seq(), len(ids), ids, states, losses, seq)
		}
		for p, col := range cols {
			if !space.Values.Equal(h.Column(p), col) {
				t.Errorf("%s: Column(%d) = %v, want %v", when, p, h.Column(p), col)
			}
			for i := range col {
				if v := h.Value(i, p); !space.Values.Equal([]float64{v}, col[i:i+1]) {
					t.Errorf("%s: Value(%d, %d) = %v, want %v", when, i, p, v, col[i])
				}
			}
		}
		for i, id := range ids {
			if r, ok := h.Row(id); !ok || r != i || h.ID(i) != id || h.State(i) != states[i] || !space.Values.Equal([]float64{h.Loss(i)}, losses[i:i+1]) {
				t.Errorf("%s: Row(%d) = %d, %v; want %d, true", when, id, r, ok, i)
			}
		}
	}
	check("first Apply", []trials.ID{3, 1},
		[]trials.State{trials.StateQueued, trials.StateRunning},
		[]float64{nan, nan}, [2][]float64{{0.1, 0.2}, {nan, 0.5}}, 2)

	// Updates in place, appends new trials, skips values of the wrong length.
	h.Apply([]trials.Trial{
		done(1, 0.3, 0.2, 0.5),
		{ID: 3, State: trials.StateDone, Values: []float64{0.1, nan}, Result: trials.Fail("x")},
		{ID: 0, State: trials.StateQueued, Values: []float64{0.9, 0.8}},
		{ID: 7, State: trials.StateQueued, Values: []float64{0.9}},
		{ID: 4, State: trials.StateError, Values: []float64{0.4, 0.4}, Result: trials.Result{Err: "boom"}},
	}, 7)
	check("second Apply", []trials.ID{3, 1, 0, 4},
		[]trials.State{trials.StateDone, trials.StateDone, trials.StateQueued, trials.StateError},
		[]float64{inf, 0.3, nan, nan}, [2][]float64{{0.1, 0.2, 0.9, 0.4}, {nan, 0.5, 0.8, 0.4}}, 7)
	if _, ok := h.Row(7); ok {
		t.Errorf("Row(7) found a trial whose values have the wrong length")
	}

	// Canceled and requeued trials lose their loss; rows stay; an older
	// sequence number does not move Seq back.
	col0 := h.Column(0)
	h.Apply([]trials.Trial{
		{ID: 0, State: trials.StateCanceled, Values: []float64{0.9, 0.8}},
		{ID: 1, State: trials.StateQueued, Values: []float64{0.2, 0.5}},
	}, 5)
	check("third Apply", []trials.ID{3, 1, 0, 4},
		[]trials.State{trials.StateDone, trials.StateQueued, trials.StateCanceled, trials.StateError},
		[]float64{inf, nan, nan, nan}, [2][]float64{{0.1, 0.2, 0.9, 0.4}, {nan, 0.5, 0.8, 0.4}}, 7)
	if &col0[0] != &h.Column(0)[0] {
		t.Errorf("Apply of updates only reallocated a column")
	}
}

// countingStore wraps a Store and records the Changes calls.
type countingStore struct {
	trials.Store
	calls []changesCall
}

type changesCall struct {
	since int64
	got   []trials.ID
}

func (c *countingStore) Changes(ctx context.Context, exp string, since int64, limit int) ([]trials.Trial, int64, error) {
	ts, next, err := c.Store.Changes(ctx, exp, since, limit)
	call := changesCall{since: since}
	for _, t := range ts {
		call.got = append(call.got, t.ID)
	}
	c.calls = append(c.calls, call)
	return ts, next, err
}

// testSpace is the space of the Trials tests: c (index 0) a choice of "a"
// or "b", n (index 1) an int in [0, 10).
func testSpace(t *testing.T) *space.Space {
	t.Helper()
	s, err := space.New(space.Dict{"c": space.Choice("c", "a", "b"), "n": space.RandInt("n", 10)})
	if err != nil {
		t.Fatalf("space.New() = %v", err)
	}
	return s
}

// trialsFixture is a Memory store with one experiment and helpers that add
// trials to it.
type trialsFixture struct {
	t     *testing.T
	store *countingStore
	tr    *trials.Trials
}

func newTrialsFixture(t *testing.T) *trialsFixture {
	m := trials.NewMemory(nil)
	if _, err := m.Open(t.Context(), trials.ExperimentSpec{Key: "e", Space: json.RawMessage(`{}`), Fingerprint: "f"}); err != nil {
		t.Fatal(err)
	}
	c := &countingStore{Store: m}
	return &trialsFixture{t: t, store: c, tr: trials.New(c, "e", testSpace(t))}
}

// add adds a trial with the given values in state (queued, running, or
// finished with r), and returns its ID.
func (f *trialsFixture) add(state trials.State, r trials.Result, values ...float64) trials.ID {
	f.t.Helper()
	ctx := f.t.Context()
	if values == nil {
		values = []float64{0, 1}
	}
	ids, err := f.store.Claim(ctx, "e", 1, "")
	if err != nil {
		f.t.Fatal(err)
	}
	p := trials.Proposal{ID: ids[0], Values: values}
	if state != trials.StateQueued {
		p.Owner, p.LeaseTTL = "w", time.Hour
	}
	if err := f.store.Propose(ctx, "e", []trials.Proposal{p}); err != nil {
		f.t.Fatal(err)
	}
	if state == trials.StateDone || state == trials.StateError {
		if err := f.store.Finish(ctx, "e", trials.Lease{ID: ids[0], Attempt: 1}, state, r); err != nil {
			f.t.Fatal(err)
		}
	}
	return ids[0]
}

func (f *trialsFixture) refresh() {
	f.t.Helper()
	if err := f.tr.Refresh(f.t.Context()); err != nil {
		f.t.Fatalf("Refresh() = %v", err)
	}
}

func (f *trialsFixture) storeSeq() int64 {
	f.t.Helper()
	_, seq, err := f.store.Store.Changes(f.t.Context(), "e", 0, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return seq
}

func TestTrialsRefreshIncremental(t *testing.T) {
	f := newTrialsFixture(t)
	if f.tr.Experiment() != "e" || f.tr.Store() != trials.Store(f.store) || f.tr.Space().Len() != 2 {
		t.Errorf("New() = experiment %q, store %v, space of %d; want e, the store, 2", f.tr.Experiment(), f.tr.Store(), f.tr.Space().Len())
	}
	f.add(trials.StateDone, trials.OK(0.5))
	f.add(trials.StateDone, trials.OK(0.4))
	q := f.add(trials.StateQueued, trials.Result{})
	f.refresh()
	seq1 := f.storeSeq()
	if f.tr.Len() != 3 || f.tr.Seq() != seq1 || f.tr.History().Len() != 3 || f.tr.History().Seq() != seq1 {
		t.Fatalf("after Refresh: Len %d, Seq %d, History Len %d Seq %d; want 3, %d, 3, %d", f.tr.Len(), f.tr.Seq(), f.tr.History().Len(), f.tr.History().Seq(), seq1, seq1)
	}

	// Second batch: the queued trial runs and finishes, a new one is queued.
	tr, err := f.store.Reserve(t.Context(), "e", "w", time.Hour)
	if err != nil || tr.ID != q {
		t.Fatalf("Reserve() = %d, %v; want %d", tr.ID, err, q)
	}
	if err := f.store.Finish(t.Context(), "e", tr.Lease(), trials.StateDone, trials.OK(0.1)); err != nil {
		t.Fatal(err)
	}
	n := f.add(trials.StateQueued, trials.Result{})
	f.store.calls = nil
	f.refresh()
	want := []changesCall{{since: seq1, got: []trials.ID{q, n}}}
	if !reflect.DeepEqual(f.store.calls, want) {
		t.Errorf("Refresh() read Changes %+v, want %+v (only the second batch)", f.store.calls, want)
	}
	seq2 := f.storeSeq()
	if f.tr.Len() != 4 || f.tr.Seq() != seq2 || f.tr.History().Len() != 4 || f.tr.History().Seq() != seq2 {
		t.Errorf("after the second Refresh: Len %d, Seq %d, History Len %d Seq %d; want 4, %d, 4, %d", f.tr.Len(), f.tr.Seq(), f.tr.History().Len(), f.tr.History().Seq(), seq2, seq2)
	}
	if got, ok := f.tr.Get(q); !ok || got.State != trials.StateDone || got.Result.Loss != 0.1 {
		t.Errorf("Get(%d) = %v %v, %v; want done 0.1", q, got.State, got.Result.Loss, ok)
	}
	if r, ok := f.tr.History().Row(q); !ok || r != int(q) || f.tr.History().Loss(r) != 0.1 {
		t.Errorf("History().Row(%d) = %d, %v (loss %v); want row %d, loss 0.1", q, r, ok, f.tr.History().Loss(r), q)
	}
	var ids []trials.ID
	for _, x := range f.tr.All() {
		ids = append(ids, x.ID)
	}
	if !slices.Equal(ids, []trials.ID{0, 1, 2, 3}) {
		t.Errorf("All() = IDs %v, want [0 1 2 3]", ids)
	}
	if _, ok := f.tr.Get(9); ok {
		t.Errorf("Get(9) found a trial that does not exist")
	}

	// Nothing new: an empty read.
	f.store.calls = nil
	f.refresh()
	if want := []changesCall{{since: seq2}}; !reflect.DeepEqual(f.store.calls, want) || f.tr.Len() != 4 {
		t.Errorf("Refresh() with nothing new read %+v (Len %d), want %+v (Len 4)", f.store.calls, f.tr.Len(), want)
	}

	// A Refresh of an experiment the store does not have fails.
	if err := trials.New(f.store, "nope", testSpace(t)).Refresh(t.Context()); !errors.Is(err, trials.ErrNotFound) {
		t.Errorf("Refresh(unknown experiment) = %v, want ErrNotFound", err)
	}
}

func TestTrialsBestLossesCounts(t *testing.T) {
	f := newTrialsFixture(t)
	f.add(trials.StateDone, trials.OK(0.5))                     // 0
	f.add(trials.StateDone, trials.OK(0.2))                     // 1: best
	f.add(trials.StateDone, trials.OK(0.2))                     // 2: tie, higher ID
	f.add(trials.StateDone, trials.Result{Loss: math.NaN()})    // 3: fail
	f.add(trials.StateError, trials.Result{Loss: -1, Err: "x"}) // 4: error, its loss ignored
	f.add(trials.StateDone, trials.Fail("diverged"))            // 5: fail
	f.add(trials.StateQueued, trials.Result{})                  // 6
	f.add(trials.StateRunning, trials.Result{})                 // 7
	f.refresh()

	b, err := f.tr.Best()
	if err != nil || b.ID != 1 {
		t.Errorf("Best() = trial %d, %v; want 1 (the lowest ID of the lowest loss)", b.ID, err)
	}
	nan := math.NaN()
	if got, want := f.tr.Losses(), []float64{0.5, 0.2, 0.2, nan, nan, nan, nan, nan}; !space.Values.Equal(got, want) {
		t.Errorf("Losses() = %v, want %v", got, want)
	}
	ok, fail := trials.StatusOK, trials.StatusFail
	if got, want := f.tr.Statuses(), []trials.Status{ok, ok, ok, fail, 0, fail, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("Statuses() = %v, want %v", got, want)
	}
	want := map[trials.State]int{trials.StateDone: 5, trials.StateError: 1, trials.StateQueued: 1, trials.StateRunning: 1}
	if got := f.tr.Counts(); !reflect.DeepEqual(got, want) {
		t.Errorf("Counts() = %v, want %v", got, want)
	}
	if got, want := f.tr.History().Losses(), []float64{0.5, 0.2, 0.2, inf, nan, inf, nan, nan}; !space.Values.Equal(got, want) {
		t.Errorf("History().Losses() = %v, want %v", got, want)
	}
}

func TestTrialsNoResult(t *testing.T) {
	f := newTrialsFixture(t)
	check := func(when string) {
		t.Helper()
		if _, err := f.tr.Best(); !errors.Is(err, trials.ErrNoResult) {
			t.Errorf("%s: Best() = %v, want ErrNoResult", when, err)
		}
		if _, err := f.tr.Argmin(); !errors.Is(err, trials.ErrNoResult) {
			t.Errorf("%s: Argmin() = %v, want ErrNoResult", when, err)
		}
		if _, err := f.tr.AverageBestError(); !errors.Is(err, trials.ErrNoResult) {
			t.Errorf("%s: AverageBestError() = %v, want ErrNoResult", when, err)
		}
	}
	check("no trials")
	f.add(trials.StateDone, trials.Fail("x"))
	f.add(trials.StateDone, trials.Result{Loss: inf})
	f.add(trials.StateError, trials.Result{Loss: 0.1, Status: trials.StatusOK, Err: "boom"})
	f.add(trials.StateRunning, trials.Result{})
	f.refresh()
	check("only failed, error and running trials")
}

func TestTrialsArgmin(t *testing.T) {
	f := newTrialsFixture(t)
	f.add(trials.StateDone, trials.OK(0.9), 0, 3)
	f.add(trials.StateDone, trials.OK(0.1), 1, 7)
	f.add(trials.StateDone, trials.OK(0.1), 0, 2) // a tie with a higher ID
	f.refresh()
	got, err := f.tr.Argmin()
	want := map[string]any{"c": "b", "n": 7}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Argmin() = %#v, %v; want %#v (choices as their values, ints as ints)", got, err, want)
	}
}

func TestTrialsAverageBestError(t *testing.T) {
	// Without variance: the true loss of the best trial.
	f := newTrialsFixture(t)
	f.add(trials.StateDone, trials.Result{Loss: 0.3, TrueLoss: 0.35, HasTrueLoss: true})
	f.add(trials.StateDone, trials.Result{Loss: 0.1, TrueLoss: 0.15, HasTrueLoss: true})
	f.add(trials.StateDone, trials.Fail("x"))
	f.refresh()
	if got, err := f.tr.AverageBestError(); err != nil || got != 0.15 {
		t.Errorf("AverageBestError() without variance = %v, %v; want 0.15 (the best's true loss)", got, err)
	}
	f = newTrialsFixture(t)
	f.add(trials.StateDone, trials.OK(0.3))
	f.add(trials.StateDone, trials.OK(0.1))
	f.refresh()
	if got, err := f.tr.AverageBestError(); err != nil || got != 0.1 {
		t.Errorf("AverageBestError() without variance or true loss = %v, %v; want 0.1 (the best loss)", got, err)
	}

	// With variance: the true losses of the candidates within three
	// standard deviations of the best, weighted by their chance of being
	// the minimum; the third trial is too far to count.
	f = newTrialsFixture(t)
	f.add(trials.StateDone, trials.Result{Loss: 0.10, LossVariance: 0.01, TrueLoss: 1, HasTrueLoss: true})
	f.add(trials.StateDone, trials.Result{Loss: 0.12, LossVariance: 0.01, TrueLoss: 2, HasTrueLoss: true})
	f.add(trials.StateDone, trials.Result{Loss: 5.00, LossVariance: 0.01, TrueLoss: 100, HasTrueLoss: true})
	f.refresh()
	got, err := f.tr.AverageBestError()
	if err != nil || !(got > 1 && got < 2) {
		t.Errorf("AverageBestError() with variance = %v, %v; want a value in (1, 2)", got, err)
	}
	// The two are nearly tied (0.10 and 0.12, sd 0.1): about 56% and 44%.
	if math.Abs(got-1.44) > 0.06 {
		t.Errorf("AverageBestError() with variance = %v, want about 1.44", got)
	}
	for range 3 {
		if again, err := f.tr.AverageBestError(); err != nil || again != got {
			t.Errorf("AverageBestError() again = %v, %v; want %v (deterministic)", again, err, got)
		}
	}
}

// Several readers may call Sorted at once (two algorithms suggesting from
// one History), and a slice Sorted returned never changes afterwards.
func TestHistorySortedConcurrentReaders(t *testing.T) {
	h := trials.NewHistory(1)
	var ts []trials.Trial
	for i := range 200 {
		ts = append(ts, trials.Trial{ID: trials.ID(i), State: trials.StateDone, Values: []float64{float64((i * 37) % 101)}, Result: trials.OK(1)})
	}
	h.Apply(ts[:100], 100)
	first := h.Sorted(0)
	snapshot := slices.Clone(first)
	h.Apply(ts[100:], 200)
	var wg sync.WaitGroup
	got := make([][]int32, 4)
	for g := range got {
		wg.Go(func() { got[g] = h.Sorted(0) })
	}
	wg.Wait()
	if !slices.Equal(first, snapshot) {
		t.Errorf("a slice Sorted returned changed after Apply")
	}
	for g := range got {
		if len(got[g]) != 200 || !slices.IsSortedFunc(got[g], func(a, b int32) int { return cmp.Compare(h.Value(int(a), 0), h.Value(int(b), 0)) }) {
			t.Fatalf("reader %d: Sorted(0) has %d rows, sorted %v; want 200 sorted", g, len(got[g]), slices.IsSortedFunc(got[g], func(a, b int32) int { return cmp.Compare(h.Value(int(a), 0), h.Value(int(b), 0)) }))
		}
	}
}
