package trialstest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// loadTrials returns trials 0 done (with reports and an attachment), 1
// error, 3 queued at attempt 2 and 4 canceled; ID 2 is missing.
func loadTrials() ([]trials.Trial, []trials.ID) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	done := trials.OK(0.25)
	done.Extras = map[string]any{"acc": 0.75}
	done.Attachments = map[string][]byte{"log": []byte("hello")}
	return []trials.Trial{
		{ID: 0, State: trials.StateDone, Values: value(0), Result: done, Owner: "w1", Attempt: 1,
			Reports: []trials.Report{{Step: 1, Value: 0.5}, {Step: 2, Value: 0.25}},
			Booked:  t0, Started: t0.Add(time.Second), Ended: t0.Add(2 * time.Second)},
		{ID: 1, State: trials.StateError, Values: value(1), Result: trials.Result{Err: "boom"}, Owner: "w2", Attempt: 1, Booked: t0},
		{ID: 3, State: trials.StateQueued, Values: value(3), Attempt: 2, Booked: t0},
		{ID: 4, State: trials.StateCanceled, Values: value(4), Booked: t0, Ended: t0},
	}, []trials.ID{2}
}

func testLoad(t *testing.T, s trials.Store) {
	l, ok := s.(trials.Loader)
	if !ok {
		t.Skip("the store does not implement trials.Loader")
	}
	ctx := t.Context()
	ts, missing := loadTrials()
	sp := spec(exp, 10)
	e, err := l.Load(ctx, sp, ts, missing)
	if err != nil {
		t.Fatalf("Load() = %v, want nil", err)
	}
	checkExperiment(t, "Load()", e, sp)
	if e := experiment(t, s, exp); e.NextID != 5 || e.Claimed != 4 || e.Seq == 0 {
		t.Errorf("Experiments() after Load = NextID %d, Claimed %d, Seq %d; want 5, 4, > 0", e.NextID, e.Claimed, e.Seq)
	}
	all, _ := changes(t, s, exp, 0)
	if !slices.Equal(idsOf(all), []trials.ID{0, 1, 3, 4}) {
		t.Errorf("Changes(0) after Load = %v, want [0 1 3 4]", idsOf(all))
	}
	for _, w := range ts {
		g := get(t, s, exp, w.ID)
		if g.State != w.State || !space.Values.Equal(g.Values, w.Values) || g.Attempt != w.Attempt || g.Owner != w.Owner ||
			!g.Result.Equal(stripped(w.Result)) || !slices.Equal(g.Reports, w.Reports) {
			t.Errorf("Get(%d) after Load = %v %v attempt %d owner %q result %+v reports %v; want %v %v %d %q %+v %v",
				w.ID, g.State, g.Values, g.Attempt, g.Owner, g.Result, g.Reports, w.State, w.Values, w.Attempt, w.Owner, stripped(w.Result), w.Reports)
		}
		for _, c := range []struct {
			name      string
			got, want time.Time
		}{{"Booked", g.Booked, w.Booked}, {"Started", g.Started, w.Started}, {"Ended", g.Ended, w.Ended}} {
			if d := c.got.Sub(c.want); d < -time.Millisecond || d > time.Millisecond || c.got.IsZero() != c.want.IsZero() {
				t.Errorf("Get(%d).%s after Load = %v, want %v", w.ID, c.name, c.got, c.want)
			}
		}
	}
	if b, err := s.Attachment(ctx, exp, 0, "log"); err != nil || string(b) != "hello" {
		t.Errorf("Attachment(0, log) after Load = %q, %v; want hello", b, err)
	}
	if rs, _ := reports(t, s, exp, 0, 0); len(rs) != 2 || rs[0].ID != 0 || rs[0].Attempt != 1 || !slices.Equal(plain(rs), ts[0].Reports) {
		t.Errorf("Reports(0) after Load = %+v, want trial 0's two reports", rs)
	}
	// The search goes on: the queued trial at attempt 3, the next ID 5.
	if tr := reserve(t, s, exp, owner, longTTL); tr.ID != 3 || tr.Attempt != 3 {
		t.Errorf("Reserve() after Load = trial %d attempt %d, want 3 attempt 3", tr.ID, tr.Attempt)
	}
	if ids := claim(t, s, exp, 1); ids[0] != 5 {
		t.Errorf("Claim(1) after Load = %v, want [5]", ids)
	}
	// Loading into an experiment that has trials is refused.
	_, err = l.Load(ctx, sp, ts, missing)
	wantErr(t, err, trials.ErrConflict, "Load() into an experiment with trials")

	// Into an opened experiment without trials, it works.
	open(t, s, spec("empty", 0))
	if _, err := l.Load(ctx, spec("empty", 0), ts[:1], nil); err != nil {
		t.Errorf("Load() into an empty opened experiment = %v, want nil", err)
	}
}

func stripped(r trials.Result) trials.Result {
	r = r.Clone()
	for k := range r.Attachments {
		r.Attachments[k] = nil
	}
	return r
}

func testLoadAtomic(t *testing.T, s trials.Store) {
	l, ok := s.(trials.Loader)
	if !ok {
		t.Skip("the store does not implement trials.Loader")
	}
	ctx := t.Context()
	good, missing := loadTrials()
	for _, c := range []struct {
		name    string
		ts      []trials.Trial
		missing []trials.ID
	}{
		{"a running trial", append(slices.Clone(good[:3]), trials.Trial{ID: 4, State: trials.StateRunning, Values: value(4)}), missing},
		{"a gap in the IDs", good, nil},
		{"an ID twice", append(slices.Clone(good), good[0]), missing},
		{"a negative ID", good, []trials.ID{-1}},
	} {
		if _, err := l.Load(ctx, spec(exp, 0), c.ts, c.missing); err == nil {
			t.Errorf("Load(%s) = nil, want an error", c.name)
		}
		if es, err := s.Experiments(ctx); err != nil || len(es) != 0 {
			t.Errorf("Experiments() after Load(%s) failed = %d, %v; want none (all or nothing)", c.name, len(es), err)
		}
	}
	// A spec the existing experiment refuses changes nothing.
	open(t, s, spec(exp, 0))
	sp := spec(exp, 0)
	sp.Fingerprint = otherFP
	_, err := l.Load(ctx, sp, good, missing)
	var me *trials.MismatchError
	if !errors.As(err, &me) {
		t.Errorf("Load(other fingerprint) = %v, want a *trials.MismatchError", err)
	}
	if ts, _ := changes(t, s, exp, 0); len(ts) != 0 {
		t.Errorf("Changes(0) after a refused Load = %v, want none", idsOf(ts))
	}
}
