package trials_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// exportFixture builds an experiment with a trial in every state, a failed
// one (loss +Inf), attachments, reports, extras and a released ID.
func exportFixture(t *testing.T) (*trials.Memory, *space.Space) {
	t.Helper()
	ctx := context.Background()
	// Options 0 and 1 have the same config shape: only the labels tell
	// them apart, which is why import reads labels, not configs.
	s, err := space.New(space.Dict{
		"x": space.Uniform("x", -5, 5),
		"m": space.Choice("m", space.Dict{"v": space.Uniform("a", 0, 1)}, space.Dict{"v": space.Uniform("b", 0, 1)}),
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := s.MarshalJSON()
	fp, _ := s.Fingerprint()
	m := trials.NewMemory(nil)
	if _, err := m.Open(ctx, trials.ExperimentSpec{Key: "e", Space: doc, Fingerprint: fp, Seed: 42, MaxEvals: 10, Algorithm: "random", AlgorithmOptions: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	ids, err := m.Claim(ctx, "e", 7, "")
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	// Positions: m=0, a=1, b=2, x=3 (m's dict key sorts before x).
	point := func(x float64, opt int, v float64) []float64 {
		p := []float64{float64(opt), nan, nan, x}
		p[1+opt] = v
		return p
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.Propose(ctx, "e", []trials.Proposal{
		{ID: ids[0], Values: point(1, 0, 0.5), Owner: "w", LeaseTTL: time.Hour},
		{ID: ids[1], Values: point(2, 1, 0.5), Owner: "w", LeaseTTL: time.Hour},
		{ID: ids[2], Values: point(3, 0, 0.25), Owner: "w", LeaseTTL: time.Hour},
		{ID: ids[3], Values: point(4, 1, 0.75)},
		{ID: ids[4], Values: point(-1, 0, 0.1)},
		{ID: ids[6], Values: point(-2, 1, 0.9)},
	}))
	must(m.Release(ctx, "e", []trials.ID{ids[5]}))
	must(m.Report(ctx, "e", trials.Lease{ID: 0, Attempt: 1}, trials.Report{Step: 1, Value: 0.7}))
	r0 := trials.Result{Loss: 0.5, Status: trials.StatusOK, LossVariance: 0.01, TrueLoss: 0.45, HasTrueLoss: true,
		Extras: map[string]any{"epochs": 3.0, "tags": []any{"a", "b"}}, Attachments: map[string][]byte{"model": {0, 1, 2, 255}}}
	must(m.Finish(ctx, "e", trials.Lease{ID: 0, Attempt: 1}, trials.StateDone, r0))
	must(m.Finish(ctx, "e", trials.Lease{ID: 1, Attempt: 1}, trials.StateDone, trials.Fail("diverged")))
	must(m.Finish(ctx, "e", trials.Lease{ID: 2, Attempt: 1}, trials.StateError, trials.Result{Err: "boom", Stack: "goroutine 1"}))
	must(m.Cancel(ctx, "e", []trials.Lease{{ID: ids[4]}}))
	return m, s
}

func TestExportImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, s := exportFixture(t)
	var a bytes.Buffer
	if err := trials.Export(ctx, &a, src, "e"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"hyperopt_trials": 1`, `"index": 1`, `"loss": "+Inf"`, `"missing": [`, `"config"`} {
		if !strings.Contains(a.String(), want) {
			t.Errorf("export lacks %s:\n%s", want, a.String())
		}
	}
	dst := trials.NewMemory(nil)
	e, err := trials.Import(ctx, bytes.NewReader(a.Bytes()), dst, &trials.ImportOptions{Key: "copy"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Key != "copy" || e.Seed != 42 || e.MaxEvals != 10 || e.Claimed != 6 || e.NextID != 7 {
		t.Errorf("imported experiment %+v", e)
	}
	want := trials.New(src, "e", s)
	got := trials.New(dst, "copy", s)
	if err := want.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := got.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got.Len() != want.Len() {
		t.Fatalf("imported %d trials, want %d", got.Len(), want.Len())
	}
	for i, w := range want.All() {
		g := got.All()[i]
		if g.ID != w.ID || g.State != w.State || !space.Values.Equal(g.Values, w.Values) || len(g.Reports) != len(w.Reports) {
			t.Errorf("trial %d imported as %+v, want %+v", w.ID, g, w)
		}
		if w.State == trials.StateDone || w.State == trials.StateError {
			// Attachment names survive in listings; bytes through Attachment.
			if !g.Result.Equal(w.Result) {
				t.Errorf("trial %d result %+v, want %+v", w.ID, g.Result, w.Result)
			}
		}
	}
	b, err := dst.Attachment(ctx, "copy", 0, "model")
	if err != nil || !bytes.Equal(b, []byte{0, 1, 2, 255}) {
		t.Errorf("attachment after import: %v, %v", b, err)
	}
	// The released ID stays out, and the budget is what it was.
	if _, ok := got.Get(5); ok {
		t.Error("the released trial 5 was imported")
	}
	// Export of the import is the same document, but for the key and the
	// times the new store stamped.
	var c bytes.Buffer
	if err := trials.Export(ctx, &c, dst, "copy"); err != nil {
		t.Fatal(err)
	}
	if strip(t, a.Bytes()) != strip(t, c.Bytes()) {
		t.Errorf("export after import differs:\n%s\n%s", strip(t, a.Bytes()), strip(t, c.Bytes()))
	}
	// Importing again into the same experiment is refused.
	if _, err := trials.Import(ctx, bytes.NewReader(a.Bytes()), dst, &trials.ImportOptions{Key: "copy"}); !errors.Is(err, trials.ErrConflict) {
		t.Errorf("second import: %v, want ErrConflict", err)
	}
}

// strip removes what an import does not keep (key, times, owners, attempts)
// from an export document.
func strip(t *testing.T, doc []byte) string {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	e := m["experiment"].(map[string]any)
	delete(e, "key")
	delete(e, "created")
	delete(e, "seq")
	for _, tr := range m["trials"].([]any) {
		for _, k := range []string{"booked", "started", "ended", "owner", "attempt"} {
			delete(tr.(map[string]any), k)
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestImportRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, _ := exportFixture(t)
	var a bytes.Buffer
	if err := trials.Export(ctx, &a, src, "e"); err != nil {
		t.Fatal(err)
	}
	good := a.String()
	cases := map[string]string{
		"not json":        `{`,
		"version":         strings.Replace(good, `"hyperopt_trials": 1`, `"hyperopt_trials": 9`, 1),
		"unknown label":   strings.Replace(good, `"x":`, `"zz":`, 1),
		"bad choice":      strings.Replace(good, `"index": 1`, `"index": 7`, 1),
		"bad loss":        strings.Replace(good, `"loss": "+Inf"`, `"loss": "lots"`, 1),
		"bad fingerprint": strings.Replace(good, `"fingerprint": "`, `"fingerprint": "0`, 1),
	}
	for name, doc := range cases {
		_, err := trials.Import(ctx, strings.NewReader(doc), trials.NewMemory(nil), nil)
		if err == nil {
			t.Errorf("%s: Import accepted a bad document", name)
		} else if !errors.Is(err, trials.ErrImport) && !errors.Is(err, space.ErrInvalidValues) {
			t.Errorf("%s: error %v is neither ErrImport nor ErrInvalidValues", name, err)
		}
	}
}

// Results whose loss variance or true loss JSON cannot hold (infinite,
// NaN) still export and import.
func TestExportNonFinite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := space.New(space.Dict{"x": space.Uniform("x", 0, 1)})
	doc, _ := s.MarshalJSON()
	fp, _ := s.Fingerprint()
	m := trials.NewMemory(nil)
	if _, err := m.Open(ctx, trials.ExperimentSpec{Key: "e", Space: doc, Fingerprint: fp, Seed: 1, Algorithm: "random"}); err != nil {
		t.Fatal(err)
	}
	ids, _ := m.Claim(ctx, "e", 1, "")
	if err := m.Propose(ctx, "e", []trials.Proposal{{ID: ids[0], Values: []float64{0.5}, Owner: "w", LeaseTTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	r := trials.Result{Loss: 1, Status: trials.StatusOK, LossVariance: math.Inf(1), TrueLoss: math.NaN(), HasTrueLoss: true}
	if err := m.Finish(ctx, "e", trials.Lease{ID: 0, Attempt: 1}, trials.StateDone, r); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := trials.Export(ctx, &buf, m, "e"); err != nil {
		t.Fatalf("Export: %v", err)
	}
	dst := trials.NewMemory(nil)
	if _, err := trials.Import(ctx, &buf, dst, nil); err != nil {
		t.Fatalf("Import: %v", err)
	}
	got, err := dst.Get(ctx, "e", 0)
	if err != nil || !got.Result.Equal(r) {
		t.Errorf("imported result %+v, %v; want %+v", got.Result, err, r)
	}
}
