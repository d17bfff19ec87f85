package space_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	shared := space.Uniform("shared", -1, 1)
	roots := map[string]any{
		"conditional": conditionalSpace(),
		"shared": space.Dict{
			"a": shared,
			"c": space.Choice("c", space.List{shared, 1}, space.Dict{"s": shared}),
		},
		"constants": space.Dict{
			"int":    1,
			"float":  1.0,
			"string": "1",
			"nil":    nil,
			"bool":   true,
			"opaque": space.Const(map[string]any{"k": []any{1, 2.5, "x"}}),
			"typed":  []int{64, 64},
			"c":      space.Choice("c", 1, 1.0, "1", false),
		},
		"every kind": space.List{
			space.Uniform("u", -1, 1), space.QUniform("qu", -4.999, 5, 1), space.QUniformInt("qui", 0, 100, 5),
			space.UniformInt("ui", 1, 10), space.LogUniform("lu", 1e-5, 1), space.QLogUniform("qlu", 1.01, 20, 2),
			space.QLogUniformInt("qlui", 1, 1024, 1), space.Normal("n", 0, 1), space.QNormal("qn", 0, 10, 0.5),
			space.QNormalInt("qni", 0, 10, 2), space.LogNormal("ln", -2, 2), space.QLogNormal("qln", 0, 2, 0.1),
			space.QLogNormalInt("qlni", 3, 1, 1), space.RandInt("ri", 5), space.RandIntRange("rr", -3, 3),
			space.PChoice("pc", space.Option{P: 0.25, Value: "a"}, space.Option{P: 0.75, Value: "b"}),
		},
	}
	for name, root := range roots {
		t.Run(name, func(t *testing.T) {
			s := mustNew(t, root)
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var u space.Space
			if err := json.Unmarshal(b, &u); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			b2, err := json.Marshal(&u)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != string(b2) {
				t.Fatalf("JSON changed in a round trip:\n%s\n%s", b, b2)
			}
			if !reflect.DeepEqual(s.Params(), u.Params()) {
				t.Fatalf("Params changed in a round trip:\n%v\n%v", s.Params(), u.Params())
			}
			f1, _ := s.Fingerprint()
			f2, _ := u.Fingerprint()
			if f1 != f2 || len(f1) != 64 {
				t.Fatalf("fingerprints %q and %q", f1, f2)
			}
			// Both spaces sample and evaluate alike.
			r1, r2 := rand.New(rand.NewPCG(1, 1)), rand.New(rand.NewPCG(1, 1))
			for range 100 {
				v1, v2 := s.Sample(r1), u.Sample(r2)
				if !space.Values.Equal(v1, v2) {
					t.Fatalf("samples differ: %v and %v", v1, v2)
				}
				c1, _ := s.Eval(v1)
				c2, _ := u.Eval(v2)
				j1, _ := json.Marshal(c1)
				j2, _ := json.Marshal(c2)
				if string(j1) != string(j2) {
					t.Fatalf("configs differ: %s and %s", j1, j2)
				}
			}
		})
	}
}

// TestJSONConstantTypes checks that ints stay ints and floats floats.
func TestJSONConstantTypes(t *testing.T) {
	t.Parallel()
	s := mustNew(t, space.Choice("c", 1, 1.0, 2.5e300, -7, "x"))
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var u space.Space
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	for i, want := range []any{1, 1.0, 2.5e300, -7, "x"} {
		got, err := u.Eval(space.Values{float64(i)})
		if err != nil || got != want {
			t.Errorf("option %d after a round trip = %#v (%T), want %#v (%T)", i, got, got, want, want)
		}
	}
}

func TestFingerprintChanges(t *testing.T) {
	t.Parallel()
	fp := func(root any) string {
		f, err := mustNew(t, root).Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := fp(space.Dict{"x": space.Uniform("x", 0, 1)})
	if a != fp(space.Dict{"x": space.Uniform("x", 0, 1)}) {
		t.Error("equal spaces have different fingerprints")
	}
	for _, other := range []any{
		space.Dict{"x": space.Uniform("x", 0, 2)},
		space.Dict{"x": space.Uniform("y", 0, 1)},
		space.Dict{"y": space.Uniform("x", 0, 1)},
		space.Dict{"x": space.QUniform("x", 0, 1, 0.5)},
		space.Dict{"x": space.Uniform("x", 0, 1), "k": 1},
	} {
		if fp(other) == a {
			t.Errorf("space %v has the fingerprint of a different space", other)
		}
	}
}

func TestJSONRejects(t *testing.T) {
	t.Parallel()
	s := mustNew(t, space.Dict{"f": space.Choice("f", math.Sin, math.Cos)})
	_, err := json.Marshal(s)
	if err == nil || !strings.Contains(err.Error(), `$.root.dict["f"].options[0].const`) || !strings.Contains(err.Error(), "func(float64) float64") {
		t.Errorf("Marshal of a function constant: error = %v, want one naming its place and type", err)
	}
	if _, err := s.Fingerprint(); err == nil {
		t.Error("Fingerprint of a space with a function constant: no error")
	}
	if _, err := json.Marshal(mustNew(t, space.List{math.NaN()})); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("Marshal of a NaN constant: error = %v", err)
	}

	docs := []struct {
		name string
		doc  string
		err  error
		msg  []string
	}{
		{"not json", `{`, space.ErrStructure, []string{"$"}},
		{"array", `[]`, space.ErrStructure, []string{"not a JSON object"}},
		{"no version", `{"root":{"const":1}}`, space.ErrStructure, []string{"$.hyperopt_space", "unsupported version"}},
		{"future version", `{"hyperopt_space":2,"root":{"const":1}}`, space.ErrStructure, []string{"unsupported version 2"}},
		{"no root", `{"hyperopt_space":1}`, space.ErrStructure, []string{`missing "root"`}},
		{"unknown top key", `{"hyperopt_space":1,"root":{"const":1},"x":1}`, space.ErrStructure, []string{`unknown key "x"`}},
		{"two forms", `{"hyperopt_space":1,"root":{"const":1,"list":[]}}`, space.ErrStructure, []string{"$.root", "exactly one"}},
		{"no form", `{"hyperopt_space":1,"root":{}}`, space.ErrStructure, []string{"exactly one"}},
		{"node not object", `{"hyperopt_space":1,"root":{"list":[1]}}`, space.ErrStructure, []string{"$.root.list[0]", "JSON object"}},
		{"unknown dist", `{"hyperopt_space":1,"root":{"dict":{"a":{"param":"a","dist":"gauss","mu":0}}}}`, space.ErrStructure, []string{`$.root.dict["a"].dist`, `"gauss"`}},
		{"missing arg", `{"hyperopt_space":1,"root":{"param":"a","dist":"uniform","low":0}}`, space.ErrStructure, []string{`"a"`, `needs "high"`}},
		{"misspelled arg", `{"hyperopt_space":1,"root":{"param":"a","dist":"normal","mu":0,"sigm":1}}`, space.ErrStructure, []string{`unknown key "sigm"`}},
		{"string bound", `{"hyperopt_space":1,"root":{"param":"a","dist":"uniform","low":"0","high":1}}`, space.ErrStructure, []string{"$.root.low", "must be a number"}},
		{"bad bounds", `{"hyperopt_space":1,"root":{"dict":{"m":{"param":"m","dist":"choice","options":[{"param":"x","dist":"uniform","low":1,"high":0}]}}}}`, space.ErrBounds, []string{`$.root.dict["m"].options[0]`, `"x"`, "low=1 high=0"}},
		{"bad p", `{"hyperopt_space":1,"root":{"param":"p","dist":"pchoice","p":[0.5,0.6],"options":[{"const":1},{"const":2}]}}`, space.ErrProbabilities, []string{`"p"`, "got 1.1"}},
		{"p count", `{"hyperopt_space":1,"root":{"param":"p","dist":"pchoice","p":[1],"options":[{"const":1},{"const":2}]}}`, space.ErrProbabilities, []string{"1 probabilities for 2 options"}},
		{"dangling ref", `{"hyperopt_space":1,"root":{"list":[{"ref":"x"},{"param":"x","dist":"uniform","low":0,"high":1}]}}`, space.ErrStructure, []string{"$.root.list[0].ref", `"x"`}},
		{"redefined", `{"hyperopt_space":1,"root":{"list":[{"param":"x","dist":"uniform","low":0,"high":1},{"param":"x","dist":"uniform","low":0,"high":1}]}}`, space.ErrDuplicateLabel, []string{"$.root.list[1]", `"x"`}},
		{"self ref", `{"hyperopt_space":1,"root":{"param":"c","dist":"choice","options":[{"ref":"c"}]}}`, space.ErrStructure, []string{`"c"`, "contains itself"}},
		{"huge int", `{"hyperopt_space":1,"root":{"const":123456789012345678901234567890}}`, space.ErrStructure, []string{"does not fit an int"}},
		{"empty options", `{"hyperopt_space":1,"root":{"param":"c","dist":"choice","options":[]}}`, space.ErrEmptyChoice, []string{`"c"`}},
	}
	for _, d := range docs {
		var u space.Space
		err := u.UnmarshalJSON([]byte(d.doc))
		if err == nil {
			t.Errorf("%s: Unmarshal accepted %s", d.name, d.doc)
			continue
		}
		if !errors.Is(err, d.err) || !errors.Is(err, space.ErrInvalidSpace) {
			t.Errorf("%s: error %v is not %v", d.name, err, d.err)
		}
		for _, m := range d.msg {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: error %q does not contain %q", d.name, err, m)
			}
		}
	}
}
