package trials_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/trials"
)

// Import's check that the trials and missing IDs cover 0..top once only
// compared counts, so a document with a missing ID that was also a trial's
// ID (and another ID in neither list) passed it. Import then wrote the
// experiment and its trials and failed half-way (Release of a proposed ID:
// ErrConflict), leaving a partial experiment with a claimed ID that never
// got values, and an error that did not wrap ErrImport. ("Parse every trial
// before writing anything.") Such a document must be refused with
// ErrImport before anything is written.
func TestImportRefusesMissingIDOfATrial(t *testing.T) {
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
