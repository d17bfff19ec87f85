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

// conditionalSpace is a realistic three-level conditional space: the model
// choice, then the SVM kernel or the MLP's layers, then the kernel's own
// hyperparameters. Every kind of node appears in it.
func conditionalSpace() any {
	return space.Dict{
		"lr":       space.LogUniform("lr", 1e-5, 1e-1),
		"batch":    space.QLogUniformInt("batch", 16, 512, 16),
		"momentum": space.QNormal("momentum", 0.9, 0.05, 0.01),
		"seed":     42,
		"model": space.Choice("model",
			space.Dict{
				"type": "svm",
				"C":    space.LogUniform("svm_C", 1e-3, 1e3),
				"kernel": space.Choice("kernel",
					space.Dict{"name": "linear"},
					space.Dict{"name": "rbf", "gamma": space.LogUniform("gamma", 1e-4, 10)},
					space.Dict{"name": "poly", "degree": space.RandIntRange("degree", 2, 6), "coef0": space.Uniform("coef0", 0, 1)},
				),
			},
			space.Dict{
				"type": "mlp",
				"layers": space.Choice("layers",
					space.List{space.QUniformInt("l1_units", 16, 256, 16)},
					space.List{space.QUniformInt("l2_units1", 16, 256, 16), space.QUniformInt("l2_units2", 16, 256, 16)},
				),
				"dropout": space.Uniform("dropout", 0, 0.5),
				"activation": space.PChoice("activation",
					space.Option{P: 0.5, Value: "relu"}, space.Option{P: 0.3, Value: "tanh"}, space.Option{P: 0.2, Value: "gelu"}),
				"decay": space.LogNormal("decay", -9, 1),
			},
			space.Dict{
				"type":      "forest",
				"trees":     space.QUniformInt("trees", 10, 500, 10),
				"depth":     space.Choice("depth", nil, space.UniformInt("max_depth", 2, 20)),
				"criterion": space.Choice("criterion", "gini", "entropy"),
				"leaf":      space.QLogNormalInt("leaf", 1, 0.5, 1),
				"features":  space.RandInt("features", 8),
			},
		),
	}
}

type kernelConfig struct {
	Name   string
	Gamma  float64
	Degree int
	Coef0  float64
}

type modelConfig struct {
	Type       string
	C          float64
	Kernel     *kernelConfig
	Layers     []int
	Dropout    float64
	Activation string
	Decay      float64
	Trees      int
	Depth      *int
	Criterion  string
	Leaf       int
	Features   uint8
}

type trainConfig struct {
	LearningRate float64 `hyperopt:"lr"`
	Batch        int
	Momentum     float64
	Seed         int64
	Model        modelConfig
}

func mustNew(t testing.TB, root any) *space.Space {
	t.Helper()
	s, err := space.New(root)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestEvalEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	s := mustNew(t, conditionalSpace())
	r := rand.New(rand.NewPCG(1, 2))
	branches := map[string]int{}
	for i := range 1000 {
		v := s.Sample(r)
		if err := s.Validate(v); err != nil {
			t.Fatalf("sample %d: Validate(%v): %v", i, v, err)
		}
		cfg, err := s.Eval(v)
		if err != nil {
			t.Fatalf("sample %d: Eval(%v): %v", i, v, err)
		}
		back, err := s.Encode(cfg)
		if err != nil {
			t.Fatalf("sample %d: Encode(%v): %v", i, cfg, err)
		}
		if !space.Values.Equal(back, v) {
			t.Fatalf("sample %d: Encode(Eval(v)) = %v, want %v", i, back, v)
		}
		// A config that went through JSON (ints become float64, maps
		// map[string]any) encodes to the same point.
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var viaJSON any
		if err := json.Unmarshal(b, &viaJSON); err != nil {
			t.Fatal(err)
		}
		if back, err := s.Encode(viaJSON); err != nil || !space.Values.Equal(back, v) {
			t.Fatalf("sample %d: Encode(JSON config) = %v, %v; want %v", i, back, err, v)
		}
		m := cfg.(map[string]any)["model"].(map[string]any)
		key := m["type"].(string)
		if k, ok := m["kernel"]; ok {
			key += "/" + k.(map[string]any)["name"].(string)
		}
		branches[key]++
	}
	// Every third-level branch was visited, so the round trip covered them.
	for _, b := range []string{"svm/linear", "svm/rbf", "svm/poly", "mlp", "forest"} {
		if branches[b] == 0 {
			t.Errorf("branch %s never sampled in 1000 draws: %v", b, branches)
		}
	}
}

func TestEvalTypes(t *testing.T) {
	t.Parallel()
	s := mustNew(t, conditionalSpace())
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		cfg, err := s.Eval(s.Sample(r))
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.(map[string]any)
		if _, ok := c["batch"].(int); !ok {
			t.Fatalf("batch is %T, want int", c["batch"])
		}
		if _, ok := c["lr"].(float64); !ok {
			t.Fatalf("lr is %T, want float64", c["lr"])
		}
		if c["seed"] != 42 {
			t.Fatalf("seed = %v, want the constant 42", c["seed"])
		}
		m := c["model"].(map[string]any)
		switch m["type"] {
		case "mlp":
			if l, ok := m["layers"].([]any); !ok || (len(l) != 1 && len(l) != 2) {
				t.Fatalf("layers = %#v, want a []any of 1 or 2 ints", m["layers"])
			}
			if _, ok := m["layers"].([]any)[0].(int); !ok {
				t.Fatalf("layer units are %T, want int", m["layers"].([]any)[0])
			}
		case "forest":
			if _, ok := m["features"].(int); !ok {
				t.Fatalf("randint is %T, want int", m["features"])
			}
			if d := m["depth"]; d != nil {
				if _, ok := d.(int); !ok {
					t.Fatalf("uniformint is %T, want int", d)
				}
			}
		}
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	s := mustNew(t, conditionalSpace())
	r := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		v := s.Sample(r)
		var got trainConfig
		if err := s.Decode(v, &got); err != nil {
			t.Fatalf("Decode(%v): %v", v, err)
		}
		cfg, _ := s.Eval(v)
		c := cfg.(map[string]any)
		m := c["model"].(map[string]any)
		if got.LearningRate != c["lr"] || got.Batch != c["batch"] || got.Seed != 42 || got.Model.Type != m["type"] {
			t.Fatalf("Decode gave %+v for config %v", got, cfg)
		}
		switch m["type"] {
		case "svm":
			k := m["kernel"].(map[string]any)
			if got.Model.Kernel == nil || got.Model.Kernel.Name != k["name"] || got.Model.C != m["C"] {
				t.Fatalf("Decode gave model %+v for %v", got.Model, m)
			}
			if k["name"] == "poly" && got.Model.Kernel.Degree != k["degree"] {
				t.Fatalf("degree %d, want %v", got.Model.Kernel.Degree, k["degree"])
			}
		case "mlp":
			l := m["layers"].([]any)
			if len(got.Model.Layers) != len(l) || got.Model.Layers[0] != l[0] || got.Model.Activation != m["activation"] {
				t.Fatalf("Decode gave model %+v for %v", got.Model, m)
			}
		case "forest":
			if (m["depth"] == nil) != (got.Model.Depth == nil) || int(got.Model.Features) != m["features"] || got.Model.Trees != m["trees"] {
				t.Fatalf("Decode gave model %+v for %v", got.Model, m)
			}
		}
		// DecodeConfig from the config is the same.
		var again trainConfig
		if err := space.DecodeConfig(cfg, &again); err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("DecodeConfig = %+v, %v; want %+v", again, err, got)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  any
		dst  any
		msg  []string
	}{
		{"float into int", map[string]any{"n": 2.5}, &struct{ N int }{}, []string{"config.N", "2.5", "not a whole number"}},
		{"string into float", map[string]any{"x": "a"}, &struct{ X float64 }{}, []string{"config.X", `"a"`}},
		{"unknown key", map[string]any{"lr": 0.1, "typo": 1}, &struct {
			LR float64 `hyperopt:"lr"`
		}{}, []string{`"typo"`, "no field"}},
		{"overflow", map[string]any{"b": 300}, &struct{ B int8 }{}, []string{"out of range"}},
		{"negative into uint", map[string]any{"b": -1}, &struct{ B uint }{}, []string{"out of range"}},
		{"array length", map[string]any{"a": []any{1, 2, 3}}, &struct{ A [2]int }{}, []string{"3 elements", "array of 2"}},
		{"not a pointer", map[string]any{}, struct{}{}, []string{"non-nil pointer"}},
		{"map into int", map[string]any{"m": map[string]any{"a": 1}}, &struct{ M int }{}, []string{"config.M"}},
		{"nested path", map[string]any{"model": map[string]any{"layers": []any{16, 2.5}}}, &struct{ Model struct{ Layers []int } }{}, []string{"config.Model.Layers[1]"}},
	}
	for _, c := range cases {
		err := space.DecodeConfig(c.cfg, c.dst)
		if !errors.Is(err, space.ErrDecode) {
			t.Errorf("%s: DecodeConfig error = %v, want ErrDecode", c.name, err)
			continue
		}
		for _, m := range c.msg {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, m)
			}
		}
	}
	// A field tagged "-" is never filled, so its key is unknown.
	var skip struct {
		X int `hyperopt:"-"`
	}
	if err := space.DecodeConfig(map[string]any{"X": 1}, &skip); !errors.Is(err, space.ErrDecode) {
		t.Errorf(`key for a field tagged "-": error = %v, want ErrDecode`, err)
	}
	// Constant options of any Go type are assigned as they are.
	type act func(float64) float64
	s := mustNew(t, space.Dict{"act": space.Choice("act", act(math.Tanh), act(math.Sin))})
	var cfg struct{ Act act }
	if err := s.Decode(space.Values{1}, &cfg); err != nil || cfg.Act(math.Pi/2) != 1 {
		t.Errorf("decoding a function option: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	s := mustNew(t, conditionalSpace())
	base := func() map[string]any {
		return map[string]any{"lr": 0.01, "batch": 32, "momentum": 0.9, "seed": 42,
			"model": map[string]any{"type": "svm", "C": 1.0, "kernel": map[string]any{"name": "linear"}}}
	}
	if _, err := s.Encode(base()); err != nil {
		t.Fatalf("Encode(valid config): %v", err)
	}
	cases := []struct {
		name   string
		modify func(map[string]any)
		err    error
		msg    []string
	}{
		{"unknown model", func(c map[string]any) { c["model"] = map[string]any{"type": "knn"} }, space.ErrNoMatch, []string{`"model"`, "fits none of the 3 options"}},
		{"missing key", func(c map[string]any) { delete(c, "lr") }, space.ErrNoMatch, []string{`"lr" is missing`}},
		{"extra key", func(c map[string]any) { c["extra"] = 1 }, space.ErrNoMatch, []string{`unexpected key "extra"`}},
		{"out of bounds", func(c map[string]any) { c["lr"] = 0.5 }, space.ErrNoMatch, []string{`"lr"`, "0.5", "outside the support"}},
		{"off grid", func(c map[string]any) { c["batch"] = 33 }, space.ErrNoMatch, []string{`"batch"`, "33"}},
		{"wrong constant", func(c map[string]any) { c["seed"] = 7 }, space.ErrNoMatch, []string{"constant 42"}},
		{"string for number", func(c map[string]any) { c["lr"] = "fast" }, space.ErrNoMatch, []string{`"lr"`, "expected a number"}},
		{"bad kernel", func(c map[string]any) {
			c["model"] = map[string]any{"type": "svm", "C": 1.0, "kernel": map[string]any{"name": "rbf"}}
		}, space.ErrNoMatch, []string{`"model"`}},
		{"fractional int", func(c map[string]any) {
			c["model"] = map[string]any{"type": "forest", "trees": 20.5, "depth": nil, "criterion": "gini", "leaf": 2, "features": 3}
		}, space.ErrNoMatch, []string{"20.5"}},
	}
	for _, c := range cases {
		cfg := base()
		c.modify(cfg)
		_, err := s.Encode(cfg)
		if !errors.Is(err, c.err) || !errors.Is(err, space.ErrInvalidConfig) {
			t.Errorf("%s: Encode error = %v, want %v", c.name, err, c.err)
			continue
		}
		for _, m := range c.msg {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, m)
			}
		}
	}

	// Options that a value cannot tell apart.
	amb := mustNew(t, space.Choice("x", space.Uniform("a", 0, 1), space.Uniform("b", 0, 2)))
	_, err := amb.Encode(0.5)
	if !errors.Is(err, space.ErrAmbiguous) || !strings.Contains(err.Error(), `"x"`) || !strings.Contains(err.Error(), "options 0 and 1") {
		t.Errorf("Encode(0.5) on overlapping options: error = %v, want ErrAmbiguous naming x", err)
	}
	// Out of one option's range, the other is the only fit.
	if v, err := amb.Encode(1.5); err != nil || v[0] != 1 || v[2] != 1.5 {
		t.Errorf("Encode(1.5) = %v, %v; want option 1", v, err)
	}
	// An ambiguous nested choice makes the whole config ambiguous.
	nested := mustNew(t, space.Choice("outer", space.Dict{"k": amb0()}, space.Dict{"k": "const"}))
	if _, err := nested.Encode(map[string]any{"k": 0.5}); !errors.Is(err, space.ErrAmbiguous) {
		t.Errorf("nested ambiguity: error = %v, want ErrAmbiguous", err)
	}
	// A shared hyperparameter must get one value.
	x := space.Uniform("x", 0, 1)
	shared := mustNew(t, space.List{x, x})
	if _, err := shared.Encode([]any{0.1, 0.2}); !errors.Is(err, space.ErrNoMatch) || !strings.Contains(err.Error(), "two values") {
		t.Errorf("shared with two values: error = %v", err)
	}
	if v, err := shared.Encode([]float64{0.1, 0.1}); err != nil || v[0] != 0.1 {
		t.Errorf("shared with one value: %v, %v", v, err)
	}
}

func amb0() *space.Param {
	return space.Choice("inner", space.Uniform("a", 0, 1), space.Uniform("b", 0, 2))
}

func TestLabeled(t *testing.T) {
	t.Parallel()
	s := mustNew(t, conditionalSpace())
	r := rand.New(rand.NewPCG(7, 8))
	for range 100 {
		v := s.Sample(r)
		m := s.Labeled(v)
		back, err := s.FromLabeled(m)
		if err != nil || !space.Values.Equal(back, v) {
			t.Fatalf("FromLabeled(Labeled(v)) = %v, %v; want %v", back, err, v)
		}
	}
	if _, err := s.FromLabeled(map[string]float64{"nope": 1}); !errors.Is(err, space.ErrInvalidValues) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown label: %v", err)
	}
}
