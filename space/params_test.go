package space_test

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

type C = space.Condition

func conditionsByLabel(s *space.Space) map[string][][]space.Condition {
	out := map[string][][]space.Condition{}
	for _, p := range s.Params() {
		out[p.Label] = p.Conditions
	}
	return out
}

func TestParamsConditions(t *testing.T) {
	t.Parallel()
	s := mustNew(t, conditionalSpace())
	got := conditionsByLabel(s)
	want := map[string][][]space.Condition{
		"lr":         nil,
		"batch":      nil,
		"momentum":   nil,
		"model":      nil,
		"svm_C":      {{{Label: "model", Option: 0}}},
		"kernel":     {{{Label: "model", Option: 0}}},
		"gamma":      {{{Label: "model", Option: 0}, {Label: "kernel", Option: 1}}},
		"degree":     {{{Label: "model", Option: 0}, {Label: "kernel", Option: 2}}},
		"coef0":      {{{Label: "model", Option: 0}, {Label: "kernel", Option: 2}}},
		"layers":     {{{Label: "model", Option: 1}}},
		"l1_units":   {{{Label: "model", Option: 1}, {Label: "layers", Option: 0}}},
		"l2_units1":  {{{Label: "model", Option: 1}, {Label: "layers", Option: 1}}},
		"l2_units2":  {{{Label: "model", Option: 1}, {Label: "layers", Option: 1}}},
		"dropout":    {{{Label: "model", Option: 1}}},
		"activation": {{{Label: "model", Option: 1}}},
		"decay":      {{{Label: "model", Option: 1}}},
		"trees":      {{{Label: "model", Option: 2}}},
		"depth":      {{{Label: "model", Option: 2}}},
		"max_depth":  {{{Label: "model", Option: 2}, {Label: "depth", Option: 1}}},
		"criterion":  {{{Label: "model", Option: 2}}},
		"leaf":       {{{Label: "model", Option: 2}}},
		"features":   {{{Label: "model", Option: 2}}},
	}
	if len(got) != len(want) || len(got) != s.Len() {
		t.Fatalf("Params lists %d hyperparameters (space has %d), want %d", len(got), s.Len(), len(want))
	}
	for label, w := range want {
		if !reflect.DeepEqual(got[label], w) {
			t.Errorf("conditions of %s = %v, want %v", label, got[label], w)
		}
	}
	for i, p := range s.Params() {
		if p.Index != i || s.Label(i) != p.Label {
			t.Errorf("Params()[%d] has index %d, label %q; Label(%d) = %q", i, p.Index, p.Label, i, s.Label(i))
		}
	}
	// Conditions agree with the activity of sampled points.
	r := rand.New(rand.NewPCG(9, 10))
	params := s.Params()
	for range 300 {
		v := s.Sample(r)
		for _, p := range params {
			if holds(p.Conditions, s, v) != v.Active(p.Index) {
				t.Fatalf("%s: conditions %v hold = %v, but active = %v at %v", p.Label, p.Conditions, !v.Active(p.Index), v.Active(p.Index), v)
			}
		}
	}
}

func holds(conds [][]space.Condition, s *space.Space, v space.Values) bool {
	if conds == nil {
		return true
	}
	for _, and := range conds {
		ok := true
		for _, c := range and {
			i, _ := s.Index(c.Label)
			if !v.Active(i) || int(v[i]) != c.Option {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// HyperOpt's test_pyll_utils cases: a hyperparameter used inside and outside a
// choice is unconditional; one used in every option is unconditional; one
// used in two of three options is active under either.
func TestParamsConditionsShared(t *testing.T) {
	t.Parallel()
	z := space.RandInt("z", 10)
	w := space.Uniform("w", 0, 1)
	u := space.Uniform("u", 0, 1)
	s := mustNew(t, space.Dict{
		"z": z,
		"a": space.Choice("a", space.List{z, w, u}, space.List{w}, space.List{u, w}),
		"b": space.Choice("b", space.Dict{"w": w}, 2),
	})
	got := conditionsByLabel(s)
	if got["z"] != nil {
		t.Errorf("z used inside and outside a choice: conditions %v, want always", got["z"])
	}
	if got["w"] != nil {
		t.Errorf("w used in every option of a: conditions %v, want always", got["w"])
	}
	want := [][]space.Condition{{{Label: "a", Option: 0}}, {{Label: "a", Option: 2}}} // not in option 1
	if !reflect.DeepEqual(got["u"], want) {
		t.Errorf("u used in options 0 and 2: conditions %v, want %v", got["u"], want)
	}
	if !strings.Contains(s.String(), "u: uniform(0, 1) if a=0 or a=2") {
		t.Errorf("String() = %q, lacks the condition of u", s.String())
	}
}

func TestFix(t *testing.T) {
	t.Parallel()
	s := mustNew(t, conditionalSpace())
	f, err := s.Fix(map[string]any{
		"model":  map[string]any{"type": "svm"},
		"kernel": map[string]any{"name": "rbf"},
		"lr":     0.01,
		"batch":  64,
	})
	if err != nil {
		t.Fatalf("Fix: %v", err)
	}
	var labels []string
	for _, p := range f.Params() {
		labels = append(labels, p.Label)
		if p.Conditions != nil {
			t.Errorf("%s still has conditions %v after the choices were fixed", p.Label, p.Conditions)
		}
	}
	if want := []string{"svm_C", "gamma", "momentum"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("fixed space has %v, want %v", labels, want)
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 100 {
		cfg, err := f.Eval(f.Sample(r))
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.(map[string]any)
		m := c["model"].(map[string]any)
		if c["lr"] != 0.01 || c["batch"] != 64 || m["type"] != "svm" || m["kernel"].(map[string]any)["name"] != "rbf" {
			t.Fatalf("fixed space gave %v", cfg)
		}
		// The config is a point of the original space.
		if _, err := s.Encode(cfg); err != nil {
			t.Fatalf("Encode of a fixed space's config in the original: %v", err)
		}
	}
	// A constant option of a choice.
	g, err := s.Fix(map[string]any{"criterion": "entropy", "depth": nil})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Index("max_depth"); ok {
		t.Error("max_depth survives fixing depth to nil")
	}
	if _, ok := g.Index("criterion"); ok {
		t.Error("criterion survives being fixed")
	}

	bad := []struct {
		name   string
		values map[string]any
		err    error
		msg    string
	}{
		{"unknown label", map[string]any{"nope": 1}, space.ErrNoMatch, `"nope"`},
		{"out of support", map[string]any{"lr": 2.0}, space.ErrNoMatch, "loguniform(1e-05, 0.1)"},
		{"no option", map[string]any{"model": map[string]any{"type": "knn"}}, space.ErrNoMatch, "none of the 3 options"},
		{"not a constant entry", map[string]any{"model": map[string]any{"C": 1.0}}, space.ErrNoMatch, `"model"`},
		{"off grid", map[string]any{"batch": 17}, space.ErrNoMatch, `"batch"`},
	}
	for _, c := range bad {
		_, err := s.Fix(c.values)
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: Fix error = %v, want %v containing %q", c.name, err, c.err, c.msg)
		}
	}
	dup := mustNew(t, space.Choice("c", space.Dict{"k": 1, "a": space.Uniform("a", 0, 1)}, space.Dict{"k": 1, "b": space.Uniform("b", 0, 1)}))
	if _, err := dup.Fix(map[string]any{"c": map[string]any{"k": 1}}); !errors.Is(err, space.ErrAmbiguous) {
		t.Errorf("Fix selecting two options: error = %v, want ErrAmbiguous", err)
	}
}
