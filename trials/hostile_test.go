package trials_test

import (
	"bytes"
	"context"
	"errors"
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
