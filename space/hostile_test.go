package space_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// A constant that contains itself is refused by New, and one changed after
// New to contain itself is an error of MarshalJSON, not a crash.
func TestConstCycle(t *testing.T) {
	t.Parallel()
	m := map[string]any{"a": 1}
	m["self"] = m
	l := []any{1, nil}
	l[1] = l
	fan := map[string]any{}
	fan["x"], fan["y"] = fan, fan
	for name, v := range map[string]any{"map": m, "list": l, "fan": fan} {
		if _, err := space.New(space.Dict{"c": space.Const(v)}); !errors.Is(err, space.ErrStructure) {
			t.Errorf("%s: New returned %v, want ErrStructure", name, err)
		}
	}
	later := map[string]any{"a": 1}
	s, err := space.New(space.Dict{"c": space.Const(later), "x": space.Uniform("x", 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	later["self"], later["again"] = later, later
	if _, err := s.MarshalJSON(); !errors.Is(err, space.ErrStructure) || !strings.Contains(err.Error(), "itself") {
		t.Errorf("MarshalJSON of a constant made to contain itself: %v", err)
	}
}

// Labels that JSON cannot keep are refused, naming their bytes.
func TestLabelNotUTF8(t *testing.T) {
	t.Parallel()
	_, err := space.New(space.Dict{"x": space.Uniform("a\xff", 0, 1)})
	if !errors.Is(err, space.ErrInvalidSpace) || !strings.Contains(err.Error(), `a\xff`) {
		t.Errorf("New with a label of invalid UTF-8: %v", err)
	}
}

// A range too narrow for the algorithms is refused, naming the label and
// the bounds; the narrowest accepted ones give valid proposals with TPE.
func TestNarrowRange(t *testing.T) {
	t.Parallel()
	_, err := space.New(space.Dict{"v": space.Uniform("v", 0, 5e-324)})
	if !errors.Is(err, space.ErrBounds) || !strings.Contains(err.Error(), `"v"`) || !strings.Contains(err.Error(), "5e-324") {
		t.Errorf("New(Uniform(v, 0, 5e-324)): %v", err)
	}
	for _, p := range []*space.Param{
		space.Uniform("v", 0, 3e-308),
		space.Uniform("v", 1, math.Nextafter(1, 2)),
		space.Uniform("v", 1e-300, 2e-300),
		space.LogUniform("v", 5e-324, 1e-320),
	} {
		s, err := space.New(space.Dict{"v": p})
		if err != nil {
			t.Errorf("New(%v): %v", p.Dist(), err)
			continue
		}
		if err := tpeProposes(s, 30); err != nil {
			t.Errorf("%v: %v", p.Dist(), err)
		}
	}
}

var ctxb = context.Background()

// tpeProposes runs n trials of TPE over s with a constant loss and checks
// every proposal.
func tpeProposes(s *space.Space, n int) error {
	m := trials.NewMemory(nil)
	if _, err := m.Open(ctxb, trials.ExperimentSpec{Key: "e", Fingerprint: "f", Seed: 1}); err != nil {
		return err
	}
	tr := trials.New(m, "e", s)
	alg := tpe.Search{}
	for i := range n {
		if err := tr.Refresh(ctxb); err != nil {
			return err
		}
		ids, _ := m.Claim(ctxb, "e", 1, "")
		vs, err := alg.Suggest(ctxb, s, tr.History(), ids, uint64(i))
		if err != nil {
			return fmt.Errorf("trial %d: %w", i, err)
		}
		if err := s.Validate(vs[0]); err != nil {
			return fmt.Errorf("trial %d: proposal %v: %w", i, vs[0], err)
		}
		if err := m.Propose(ctxb, "e", []trials.Proposal{{ID: ids[0], Values: vs[0], Owner: "w", LeaseTTL: time.Hour}}); err != nil {
			return err
		}
		if err := m.Finish(ctxb, "e", trials.Lease{ID: ids[0], Attempt: 1}, trials.StateDone, trials.OK(float64(i%7))); err != nil {
			return err
		}
	}
	return nil
}

// nest returns a space of depth dicts around a uniform.
func nest(depth int) any {
	var n any = space.Uniform("x", 0, 1)
	for range depth {
		n = space.Dict{"d": n}
	}
	return n
}

// One depth limit for New, MarshalJSON and UnmarshalJSON: a space at the
// limit is built, written and read back; one beyond it is refused by New,
// and its document by UnmarshalJSON; reading is linear in depth.
func TestDepthLimit(t *testing.T) {
	t.Parallel()
	s, err := space.New(nest(space.MaxDepth))
	if err != nil {
		t.Fatalf("New at MaxDepth: %v", err)
	}
	doc, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back space.Space
	start := time.Now()
	if err := back.UnmarshalJSON(doc); err != nil {
		t.Fatalf("UnmarshalJSON at MaxDepth: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("reading a %d-deep space took %v", space.MaxDepth, d)
	}
	if _, err := space.New(nest(space.MaxDepth + 1)); !errors.Is(err, space.ErrStructure) || !strings.Contains(err.Error(), fmt.Sprint(space.MaxDepth)) {
		t.Errorf("New beyond MaxDepth: %v", err)
	}
	deeper := `{"dict":{"d":` + string(doc[len(`{"hyperopt_space":1,"root":`):len(doc)-1]) + `}}`
	deeper = `{"hyperopt_space":1,"root":` + deeper + `}`
	if err := back.UnmarshalJSON([]byte(deeper)); !errors.Is(err, space.ErrStructure) {
		t.Errorf("UnmarshalJSON beyond MaxDepth: %v", err)
	}
	// A 4,990-deep document (55 KB) is refused quickly.
	huge := strings.Repeat(`{"list":[`, 4990) + `{"const":1}` + strings.Repeat(`]}`, 4990)
	start = time.Now()
	if err := back.UnmarshalJSON([]byte(`{"hyperopt_space":1,"root":` + huge + `}`)); !errors.Is(err, space.ErrStructure) {
		t.Errorf("a 4,990-deep document: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing a 4,990-deep document took %v", d)
	}
	// A constant nests within the same limit.
	var c any = 1
	for range space.MaxDepth + 1 {
		c = []any{c}
	}
	if _, err := space.New(space.Dict{"c": space.Const(c)}); !errors.Is(err, space.ErrStructure) {
		t.Errorf("New with a constant deeper than MaxDepth: %v", err)
	}
}
