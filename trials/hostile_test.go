package trials_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// hostileStore returns a Memory with experiment "e" over one uniform and a
// running trial 0.
func hostileStore(t *testing.T) (*trials.Memory, trials.Lease) {
	t.Helper()
	ctx := context.Background()
	s, err := space.New(space.Dict{"x": space.Uniform("x", 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := s.MarshalJSON()
	fp, _ := s.Fingerprint()
	m := trials.NewMemory(nil)
	if _, err := m.Open(ctx, trials.ExperimentSpec{Key: "e", Space: doc, Fingerprint: fp, Seed: 1, Algorithm: "random"}); err != nil {
		t.Fatal(err)
	}
	ids, err := m.Claim(ctx, "e", 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Propose(ctx, "e", []trials.Proposal{{ID: ids[0], Values: []float64{0.5}, Owner: "w", LeaseTTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	return m, trials.Lease{ID: ids[0], Attempt: 1}
}

// hostileDoc is an export of one done trial, with ID 0.
func hostileDoc(t *testing.T) string {
	t.Helper()
	m, l := hostileStore(t)
	if err := m.Finish(context.Background(), "e", l, trials.StateDone, trials.OK(0.25)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := trials.Export(context.Background(), &buf, m, "e"); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// An ID far beyond the document's trials is refused, naming it, without
// allocating memory in proportion to it.
func TestImportHugeID(t *testing.T) {
	t.Parallel()
	good := hostileDoc(t)
	for _, id := range []string{"9223372036854775807", "1000000000000", "1", "-1"} {
		doc := strings.Replace(good, `"id": 0`, `"id": `+id, 1)
		if doc == good {
			t.Fatal("the fixture has no trial 0")
		}
		_, err := trials.Import(context.Background(), strings.NewReader(doc), trials.NewMemory(nil), nil)
		if !errors.Is(err, trials.ErrImport) || !strings.Contains(err.Error(), id) {
			t.Errorf("trial ID %s: Import returned %v, want ErrImport naming the ID", id, err)
		}
		doc = strings.Replace(good, `"trials": [`, `"missing": [`+id+`], "trials": [`, 1)
		_, err = trials.Import(context.Background(), strings.NewReader(doc), trials.NewMemory(nil), nil)
		if id != "1" && (!errors.Is(err, trials.ErrImport) || !strings.Contains(err.Error(), id)) {
			t.Errorf("missing ID %s: Import returned %v, want ErrImport naming the ID", id, err)
		}
		if id == "1" && err != nil {
			t.Errorf("missing ID 1 beside trial 0: %v", err)
		}
	}
}

// Extras that contain themselves are refused by Finish (ErrResult), and
// copying or comparing such a result ends.
func TestExtrasCycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, l := hostileStore(t)
	loop := map[string]any{"a": 1.0}
	loop["self"] = loop
	list := []any{1.0, nil}
	list[1] = list
	deep := map[string]any{}
	for i, d := 0, deep; i < trials.MaxExtrasDepth+5; i++ {
		next := map[string]any{}
		d["d"] = next
		d = next
	}
	for name, extras := range map[string]map[string]any{
		"map":   loop,
		"list":  {"l": list},
		"fan":   {"x": loop, "y": loop},
		"deep":  deep,
		"chan":  {"c": make(chan int)},
		"inner": {"s": struct{ F float64 }{math.NaN()}},
	} {
		r := trials.OK(1)
		r.Extras = extras
		err := m.Finish(ctx, "e", l, trials.StateDone, r)
		if !errors.Is(err, trials.ErrResult) {
			t.Errorf("%s: Finish returned %v, want ErrResult", name, err)
		}
		c := r.Clone() // ends
		if name == "map" && c.Extras["self"].(map[string]any)["a"] != 1.0 {
			t.Errorf("clone of a cycle: %v", c.Extras)
		}
		if r.Equal(r) && name != "deep" {
			t.Errorf("%s: a result that cannot be stored equals itself", name)
		}
	}
	if got, _ := m.Get(ctx, "e", l.ID); got.State != trials.StateRunning {
		t.Errorf("trial is %v after refused finishes", got.State)
	}
}

// Finish refuses a status that is neither none, ok nor fail.
func TestFinishUnknownStatus(t *testing.T) {
	t.Parallel()
	m, l := hostileStore(t)
	for _, st := range []trials.State{trials.StateDone, trials.StateError} {
		err := m.Finish(context.Background(), "e", l, st, trials.Result{Loss: 1, Status: 99})
		if !errors.Is(err, trials.ErrResult) || !strings.Contains(err.Error(), "99") {
			t.Errorf("%v: Finish with status 99 returned %v, want ErrResult naming it", st, err)
		}
	}
	fs, err := m.FinishN(context.Background(), "e", []trials.Finishing{{Lease: l, State: trials.StateDone, Result: trials.Result{Status: 99}}})
	if err != nil || len(fs) != 1 || !errors.Is(fs[0], trials.ErrResult) {
		t.Errorf("FinishN with status 99: %v, %v", fs, err)
	}
}

// Non-finite reports and extras survive Export and Import, and a retried
// Finish of a result with NaN in its extras is a success.
func TestExportNonFiniteExtrasAndReports(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, l := hostileStore(t)
	nan, inf := math.NaN(), math.Inf(1)
	for i, v := range []float64{inf, math.Inf(-1), nan, 0.5} {
		if err := m.Report(ctx, "e", l, trials.Report{Step: int64(i), Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	r := trials.OK(1)
	r.Extras = map[string]any{"nan": nan, "curve": []any{0.5, inf, "NaN"}, "fs": []float64{1, math.Inf(-1)},
		"a/b~c": map[string]any{"x": nan}, "name": "+Inf"}
	if err := m.Finish(ctx, "e", l, trials.StateDone, r); err != nil {
		t.Fatal(err)
	}
	if err := m.Finish(ctx, "e", l, trials.StateDone, r); err != nil {
		t.Errorf("a retried finish with NaN extras: %v", err)
	}
	var buf bytes.Buffer
	if err := trials.Export(ctx, &buf, m, "e"); err != nil {
		t.Fatalf("Export: %v", err)
	}
	dst := trials.NewMemory(nil)
	if _, err := trials.Import(ctx, bytes.NewReader(buf.Bytes()), dst, nil); err != nil {
		t.Fatalf("Import: %v\n%s", err, buf.String())
	}
	got, err := dst.Get(ctx, "e", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"nan": nan, "curve": []any{0.5, inf, "NaN"}, "fs": []any{1.0, math.Inf(-1)},
		"a/b~c": map[string]any{"x": nan}, "name": "+Inf"}
	if !got.Result.Equal(trials.Result{Loss: 1, Status: trials.StatusOK, Extras: want}) {
		t.Errorf("imported extras %v, want %v", got.Result.Extras, want)
	}
	if s, ok := got.Result.Extras["name"].(string); !ok || s != "+Inf" {
		t.Errorf("the string \"+Inf\" came back as %v", got.Result.Extras["name"])
	}
	if len(got.Reports) != 4 || !math.IsInf(got.Reports[0].Value, 1) || !math.IsInf(got.Reports[1].Value, -1) ||
		!math.IsNaN(got.Reports[2].Value) || got.Reports[3].Value != 0.5 {
		t.Errorf("imported reports %v", got.Reports)
	}
}

// Import refuses a done trial without a result, a status it does not know,
// and non-finite markers that point nowhere.
func TestImportRefusesResults(t *testing.T) {
	t.Parallel()
	good := hostileDoc(t)
	start := strings.Index(good, `"result": {`)
	end := strings.Index(good[start:], "}") + start + 1
	if start < 0 {
		t.Fatal("no result in the fixture")
	}
	result := good[start:end]
	cases := map[string]string{
		"no result":       strings.Replace(good, result+",", "", 1),
		"empty result":    strings.Replace(good, result, `"result": {}`, 1),
		"no status":       strings.Replace(good, `"status": "ok"`, `"error": ""`, 1),
		"status none":     strings.Replace(good, `"status": "ok"`, `"status": "none"`, 1),
		"status 99":       strings.Replace(good, `"status": "ok"`, `"status": 99`, 1),
		"status name":     strings.Replace(good, `"status": "ok"`, `"status": "Status(99)"`, 1),
		"marker nowhere":  strings.Replace(good, `"status": "ok"`, `"status": "ok", "extras_nonfinite": ["/x"]`, 1),
		"marker a number": strings.Replace(good, `"status": "ok"`, `"status": "ok", "extras": {"x": 1}, "extras_nonfinite": ["/x"]`, 1),
		"marker a string": strings.Replace(good, `"status": "ok"`, `"status": "ok", "extras": {"x": "y"}, "extras_nonfinite": ["/x"]`, 1),
		"report no value": strings.Replace(good, `"state": "done",`, `"state": "done", "reports": [{"step": 1}],`, 1),
		"report a word":   strings.Replace(good, `"state": "done",`, `"state": "done", "reports": [{"step": 1, "value": "lots"}],`, 1),
	}
	for name, doc := range cases {
		if doc == good {
			t.Errorf("%s: the case does not change the document", name)
			continue
		}
		_, err := trials.Import(context.Background(), strings.NewReader(doc), trials.NewMemory(nil), nil)
		if !errors.Is(err, trials.ErrImport) || !strings.Contains(err.Error(), "trial 0") && name != "status 99" {
			t.Errorf("%s: Import returned %v, want ErrImport naming trial 0", name, err)
		}
	}
	ok := strings.Replace(good, `"status": "ok"`, `"status": "ok", "extras": {"x": "NaN"}, "extras_nonfinite": ["/x"]`, 1)
	if _, err := trials.Import(context.Background(), strings.NewReader(ok), trials.NewMemory(nil), nil); err != nil {
		t.Errorf("a NaN extra: %v", err)
	}
}
