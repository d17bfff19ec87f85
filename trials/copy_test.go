package trials_test

import (
	"context"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
)

// runningTrial opens experiment "e" in m and leaves one trial running; it
// returns the trial's lease.
func runningTrial(t *testing.T, m *trials.Memory) trials.Lease {
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
// the store": Memory.Finish and Memory.Get once copied Extras only one level
// deep (maps.Clone), so a slice or map nested in Extras was shared in both
// directions, which also broke Finish's idempotence. Neither the caller's
// buffer nor a reader's change may reach the stored extras.
func TestMemoryCopiesNestedExtras(t *testing.T) {
	ctx := context.Background()
	m := trials.NewMemory(nil)
	l := runningTrial(t, m)
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
	// Finish is idempotent: the identical result (as first sent) is no
	// conflict.
	if err := m.Finish(ctx, "e", l, trials.StateDone, trials.Result{Loss: 1, Status: trials.StatusOK,
		Extras: map[string]any{"curve": []any{1.0, 2.0}, "meta": map[string]any{"k": "v"}}}); err != nil {
		t.Errorf("Finish again with the first result = %v, want nil", err)
	}
}

// Trial.Clone is documented as "a deep copy of t (Values, Reports and the
// result's maps)", but the attachment bytes (and values nested in Extras)
// once stayed shared with the original.
func TestTrialCloneCopiesAttachments(t *testing.T) {
	orig := trials.Trial{ID: 1, Values: []float64{1}, Result: trials.Result{Attachments: map[string][]byte{"a": []byte("abc")}}}
	c := orig.Clone()
	c.Result.Attachments["a"][0] = 'X'
	if got := string(orig.Result.Attachments["a"]); got != "abc" {
		t.Errorf("changing the clone's attachment changed the original's: %q, want %q", got, "abc")
	}
}
