package trials_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// FuzzImport: Import of any document returns an experiment or an error,
// never panics, and what it imports exports and imports again.
func FuzzImport(f *testing.F) {
	var fix bytes.Buffer
	{
		t := &testing.T{}
		src, _ := exportFixture(t)
		if err := trials.Export(context.Background(), &fix, src, "e"); err != nil {
			f.Fatal(err)
		}
	}
	good := fix.String()
	f.Add(good)
	for _, c := range [][2]string{
		{`"id": 0`, `"id": 9223372036854775807`},
		{`"id": 0`, `"id": 1000000000000`},
		{`"id": 0`, `"id": -1`},
		{`"missing": [`, `"missing": [1000000000000, `},
		{`"status": "ok"`, `"status": 99`},
		{`"status": "ok"`, `"status": "none"`},
		{`"status": "ok"`, `"status": "ok", "extras_nonfinite": ["/epochs"]`},
		{`"epochs": 3`, `"epochs": "NaN"`},
		{`"value": 0.7`, `"value": "+Inf"`},
		{`"value": 0.7`, `"value": "NaN"`},
		{`"hyperopt_trials": 1`, `"hyperopt_trials": 2`},
	} {
		f.Add(strings.Replace(good, c[0], c[1], 1))
	}
	f.Add(`{"hyperopt_trials": 1, "experiment": {"key": "e", "space": {}}, "trials": [{"id": 0, "state": "done", "values": {}}]}`)
	f.Add(`{"hyperopt_trials": 1, "experiment": {"key": "e"}, "trials": [{"id": 0, "state": "done", "values": {}, "result": {}}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		if len(doc) > 1<<16 {
			return
		}
		ctx := context.Background()
		m := trials.NewMemory(nil)
		e, err := trials.Import(ctx, strings.NewReader(doc), m, nil)
		if err != nil {
			if !errors.Is(err, trials.ErrImport) && !errors.Is(err, space.ErrInvalidValues) &&
				!errors.Is(err, trials.ErrConflict) && !strings.HasPrefix(err.Error(), "trials:") {
				t.Fatalf("Import error %v says neither trials nor ErrImport", err)
			}
			return
		}
		var out bytes.Buffer
		if err := trials.Export(ctx, &out, m, e.Key); err != nil {
			t.Fatalf("an imported experiment does not export: %v", err)
		}
		if _, err := trials.Import(ctx, &out, trials.NewMemory(nil), nil); err != nil {
			t.Fatalf("an export of an import does not import: %v\n%s", err, out.String())
		}
	})
}
