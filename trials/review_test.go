package trials_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
)

func reviewRunning(t *testing.T, m *trials.Memory) trials.Lease {
	t.Helper()
	ctx := context.Background()
	if _, err := m.Open(ctx, trials.ExperimentSpec{Key: "e", Fingerprint: "f", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	ids, err := m.Claim(ctx, "e", 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Propose(ctx, "e", []trials.Proposal{{ID: ids[0], Values: []float64{0.5}, Owner: "w", LeaseTTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	return trials.Lease{ID: ids[0], Attempt: 1}
}

// trialstest's rule "no slice or map passed in or returned is shared with
// the store": Memory.Finish and Memory.Get copy Extras only one level deep
// (maps.Clone), so a slice or map nested in Extras is shared in both
// directions.
func TestReviewMemoryNestedExtrasShared(t *testing.T) {
	ctx := context.Background()
	m := trials.NewMemory(nil)
	l := reviewRunning(t, m)
	curve := []any{1.0, 2.0}
	r := trials.OK(1)
	r.Extras = map[string]any{"curve": curve, "meta": map[string]any{"k": "v"}}
	if err := m.Finish(ctx, "e", l, trials.StateDone, r); err != nil {
		t.Fatal(err)
	}
	curve[0] = 99.0 // the caller reuses its buffer
	got, _ := m.Get(ctx, "e", l.ID)
	if c := got.Result.Extras["curve"].([]any); c[0] != 1.0 {
		t.Errorf("after the caller changed its slice, the stored extras curve is %v, want [1 2]", c)
	}
	got.Result.Extras["meta"].(map[string]any)["k"] = "changed" // a reader changes what Get returned
	again, _ := m.Get(ctx, "e", l.ID)
	if v := again.Result.Extras["meta"].(map[string]any)["k"]; v != "v" {
		t.Errorf("after a reader changed the map Get returned, the stored extras meta.k is %v, want v", v)
	}
	// The shared state also breaks Finish's idempotence: the identical
	// result (as first sent) is now a conflict.
	if err := m.Finish(ctx, "e", l, trials.StateDone, trials.Result{Loss: 1, Status: trials.StatusOK,
		Extras: map[string]any{"curve": []any{1.0, 2.0}, "meta": map[string]any{"k": "v"}}}); err != nil {
		t.Errorf("Finish again with the first result = %v, want nil", err)
	}
}

// Trial.Clone is documented as "a deep copy of t (Values, Reports and the
// result's maps)", but the attachment bytes (and values nested in Extras)
// stay shared with the original.
func TestReviewTrialCloneShallowAttachments(t *testing.T) {
	orig := trials.Trial{ID: 1, Values: []float64{1}, Result: trials.Result{Attachments: map[string][]byte{"a": []byte("abc")}}}
	c := orig.Clone()
	c.Result.Attachments["a"][0] = 'X'
	if got := string(orig.Result.Attachments["a"]); got != "abc" {
		t.Errorf("changing the clone's attachment changed the original's: %q, want %q", got, "abc")
	}
}

// Import's check that the trials and missing IDs cover 0..top only compares
// counts, so a document with a missing ID that is also a trial's ID (and
// another ID in neither list) passes it. Import then writes the experiment
// and its trials and fails half-way (Release of a proposed ID: ErrConflict),
// leaving a partial experiment with a claimed ID that never gets values,
// and an error that does not wrap ErrImport. ("Parse every trial before
// writing anything.")
func TestReviewImportDuplicateMissingID(t *testing.T) {
	ctx := context.Background()
	src, _ := exportFixture(t)
	var buf bytes.Buffer
	if err := trials.Export(ctx, &buf, src, "e"); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc["missing"]), "5") {
		t.Fatalf("fixture's missing IDs are %s, want [5]", doc["missing"])
	}
	doc["missing"] = json.RawMessage(`[6]`) // trial 6 exists; ID 5 is in neither list
	bad, _ := json.Marshal(doc)
	dst := trials.NewMemory(nil)
	_, err := trials.Import(ctx, bytes.NewReader(bad), dst, nil)
	if err == nil {
		t.Fatal("Import accepted a document whose IDs do not cover 0..6")
	}
	if !errors.Is(err, trials.ErrImport) {
		t.Errorf("Import error = %v, want one wrapping ErrImport", err)
	}
	if es, _ := dst.Experiments(ctx); len(es) > 0 && es[0].NextID > 0 {
		t.Errorf("the rejected import left experiment %q with %d IDs claimed in the store", es[0].Key, es[0].Claimed)
	}
}
