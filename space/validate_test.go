package space_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// TestNewRejects checks every validation error of New: its reason (with
// errors.Is, which also matches ErrInvalidSpace) and that the message names
// the label and the bad value.
func TestNewRejects(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	selfDict := space.Dict{}
	selfDict["me"] = selfDict
	cases := []struct {
		name string
		root any
		err  error
		msg  []string // substrings of the message
	}{
		{"empty label", space.Uniform("", 0, 1), space.ErrEmptyLabel, []string{"empty label"}},
		{"duplicate label", space.Dict{"a": space.Uniform("x", 0, 1), "b": space.Uniform("x", 0, 2)}, space.ErrDuplicateLabel, []string{`"x"`, "two different"}},
		{"duplicate in branches", space.Choice("c", space.Normal("n", 0, 1), space.Normal("n", 0, 1)), space.ErrDuplicateLabel, []string{`"n"`}},
		{"uniform low>high", space.Uniform("u", 2, 1), space.ErrBounds, []string{`"u"`, "low=2", "high=1"}},
		{"uniform low=high", space.Uniform("u", 1, 1), space.ErrBounds, []string{"low=1 high=1"}},
		// HyperOpt's hole: its check is skipped when a bound is 0.
		{"uniform high=0", space.Uniform("u", 5, 0), space.ErrBounds, []string{"low=5 high=0"}},
		{"uniform low=0 high=0", space.Uniform("u", 0, 0), space.ErrBounds, []string{"low=0 high=0"}},
		{"quniform low>high", space.QUniform("q", 10, 0, 1), space.ErrBounds, []string{`"q"`, "low=10 high=0"}},
		{"uniformint low>high", space.UniformInt("ui", 3, 3), space.ErrBounds, []string{`"ui"`}},
		{"loguniform low<=0", space.LogUniform("lr", 0, 1), space.ErrNotPositive, []string{`"lr"`, "low must be > 0", "got 0"}},
		{"loguniform negative", space.LogUniform("lr", -5, -1), space.ErrNotPositive, []string{"got -5", "natural values"}},
		{"qloguniform low<=0", space.QLogUniform("ql", -1, 10, 1), space.ErrNotPositive, []string{`"ql"`, "got -1"}},
		{"loguniform low>high", space.LogUniform("lr", 1, 0.5), space.ErrBounds, []string{"low=1 high=0.5"}},
		{"quniform q=0", space.QUniform("q", 0, 10, 0), space.ErrNotPositive, []string{`"q"`, "q must be > 0, got 0"}},
		{"qnormal q<0", space.QNormal("qn", 0, 1, -2), space.ErrNotPositive, []string{`"qn"`, "got -2"}},
		{"qloguniform q=0", space.QLogUniform("ql", 1, 10, 0), space.ErrNotPositive, []string{"q must be > 0"}},
		{"int q fractional", space.QUniformInt("qi", 0, 10, 0.5), space.ErrNotPositive, []string{`"qi"`, "whole number", "0.5"}},
		{"normal sigma=0", space.Normal("n", 0, 0), space.ErrNotPositive, []string{`"n"`, "sigma must be > 0, got 0"}},
		{"lognormal sigma<0", space.LogNormal("ln", 0, -1), space.ErrNotPositive, []string{`"ln"`, "got -1"}},
		{"qlognormal sigma=0", space.QLogNormal("qln", 0, 0, 1), space.ErrNotPositive, []string{"sigma"}},
		{"uniform NaN", space.Uniform("u", nan, 1), space.ErrNotFinite, []string{`"u"`, "low must be finite, got NaN"}},
		{"uniform +Inf", space.Uniform("u", 0, inf), space.ErrNotFinite, []string{"high must be finite, got +Inf"}},
		{"normal mu -Inf", space.Normal("n", math.Inf(-1), 1), space.ErrNotFinite, []string{"mu must be finite"}},
		{"normal sigma Inf", space.Normal("n", 0, inf), space.ErrNotFinite, []string{"sigma must be finite"}},
		{"quniform q NaN", space.QUniform("q", 0, 1, nan), space.ErrNotFinite, []string{"q must be finite"}},
		{"randint upper=0", space.RandInt("r", 0), space.ErrBounds, []string{`"r"`, "upper=0"}},
		{"randint range upper<low", space.RandIntRange("r", 5, 3), space.ErrBounds, []string{"low=5 upper=3"}},
		{"randint range upper=low", space.RandIntRange("r", 5, 5), space.ErrBounds, []string{"low=5 upper=5"}},
		{"uniform wider than float64", space.Uniform("u", -math.MaxFloat64, math.MaxFloat64), space.ErrBounds, []string{`"u"`, "wider than float64"}},
		{"quniform grid overflows", space.QUniform("q", 0, 1e300, 1e-10), space.ErrBounds, []string{`"q"`, "q=1e-10 is too small"}},
		{"normal draws overflow", space.Normal("n", 1e308, 1e307), space.ErrBounds, []string{`"n"`, "overflow"}},
		{"qnormal grid overflows", space.QNormal("qn", 0, 1e300, 1e-10), space.ErrBounds, []string{`"qn"`, "too small"}},
		{"empty choice", space.Choice("c"), space.ErrEmptyChoice, []string{`"c"`, "at least one option"}},
		{"empty pchoice", space.PChoice("c"), space.ErrEmptyChoice, []string{`"c"`}},
		{"pchoice negative", space.PChoice("p", space.Option{P: -0.1, Value: 1}, space.Option{P: 1.1, Value: 2}), space.ErrProbabilities, []string{`"p"`, "option 0", "got -0.1"}},
		{"pchoice sum", space.PChoice("p", space.Option{P: 0.5, Value: 1}, space.Option{P: 0.4, Value: 2}), space.ErrProbabilities, []string{"sum to 1", "got 0.9"}},
		{"pchoice NaN", space.PChoice("p", space.Option{P: nan, Value: 1}), space.ErrProbabilities, []string{"NaN"}},
		{"nested bad", space.Dict{"m": space.Choice("m", 1, space.Dict{"x": space.Normal("deep", 0, -1)})}, space.ErrNotPositive, []string{`"deep"`, `root["m"].options[1]["x"]`}},
		{"nil param", space.Dict{"a": (*space.Param)(nil)}, space.ErrStructure, []string{"nil *Param"}},
		{"dict cycle", selfDict, space.ErrStructure, []string{"contains itself"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := space.New(c.root)
			if err == nil {
				t.Fatalf("New accepted it: %v", s)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("New error %q is not %v", err, c.err)
			}
			if !errors.Is(err, space.ErrInvalidSpace) {
				t.Errorf("New error %q is not ErrInvalidSpace", err)
			}
			var se *space.Error
			if !errors.As(err, &se) {
				t.Fatalf("New error %T is not a *space.Error", err)
			}
			for _, m := range c.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("New error %q does not contain %q", err, m)
				}
			}
		})
	}
}

func TestNewAcceptsEdgeCases(t *testing.T) {
	t.Parallel()
	shared := space.Uniform("shared", 0, 1)
	ok := []struct {
		name string
		root any
	}{
		{"shared node", space.List{shared, shared, space.Dict{"again": shared}}},
		{"probabilities within tolerance", space.PChoice("p", space.Option{P: 0.1, Value: 0}, space.Option{P: 0.2, Value: 1}, space.Option{P: 0.7 - 5e-7, Value: 2})},
		{"zero probability option", space.PChoice("p", space.Option{P: 0, Value: 0}, space.Option{P: 1, Value: 1})},
		{"constant root", 42},
		{"negative bounds", space.Uniform("u", -10, -5)},
		{"q wider than range", space.QUniform("q", 0, 1, 5)},
	}
	for _, c := range ok {
		if _, err := space.New(c.root); err != nil {
			t.Errorf("%s: New: %v", c.name, err)
		}
	}
	s, err := space.New(ok[0].root)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 {
		t.Errorf("a node used three times gives %d hyperparameters, want 1", s.Len())
	}
	p, err := space.New(ok[1].root)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, x := range p.Dist(0).Probs {
		sum += x
	}
	if sum != 1 {
		t.Errorf("probabilities after New sum to %v, want exactly 1", sum)
	}
}

// TestValidateValues checks the errors for a Values that is not a point of
// the space.
func TestValidateValues(t *testing.T) {
	t.Parallel()
	s, err := space.New(space.Dict{
		"a": space.Uniform("a", 0, 1),
		"m": space.Choice("m",
			space.Dict{"q": space.QUniform("q", 0, 10, 2)},
			space.Dict{"r": space.RandIntRange("r", 3, 7)},
		),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Positions: a=0, m=1, q=2, r=3.
	nan := math.NaN()
	cases := []struct {
		name  string
		v     space.Values
		err   error
		label string
	}{
		{"valid branch 0", space.Values{0.5, 0, 4, nan}, nil, ""},
		{"valid branch 1", space.Values{0.5, 1, nan, 6}, nil, ""},
		{"short", space.Values{0.5, 0}, space.ErrInvalidValues, ""},
		{"missing active", space.Values{nan, 0, 4, nan}, space.ErrMissing, "a"},
		{"missing in branch", space.Values{0.5, 1, nan, nan}, space.ErrMissing, "r"},
		{"inactive set", space.Values{0.5, 0, 4, 5}, space.ErrInactive, "r"},
		{"index out of range", space.Values{0.5, 2, nan, nan}, space.ErrOutOfSupport, "m"},
		{"index fractional", space.Values{0.5, 0.5, nan, nan}, space.ErrOutOfSupport, "m"},
		{"above bound", space.Values{1.5, 0, 4, nan}, space.ErrOutOfSupport, "a"},
		{"off grid", space.Values{0.5, 0, 3, nan}, space.ErrOutOfSupport, "q"},
		{"randint at upper", space.Values{0.5, 1, nan, 7}, space.ErrOutOfSupport, "r"},
		{"randint below low", space.Values{0.5, 1, nan, 2}, space.ErrOutOfSupport, "r"},
		{"infinite", space.Values{math.Inf(1), 0, 4, nan}, space.ErrOutOfSupport, "a"},
	}
	for _, c := range cases {
		err := s.Validate(c.v)
		if c.err == nil {
			if err != nil {
				t.Errorf("%s: Validate(%v) = %v, want nil", c.name, c.v, err)
			}
			continue
		}
		if !errors.Is(err, c.err) || !errors.Is(err, space.ErrInvalidValues) {
			t.Errorf("%s: Validate(%v) = %v, want %v", c.name, c.v, err, c.err)
			continue
		}
		var se *space.Error
		if errors.As(err, &se) && se.Label != c.label {
			t.Errorf("%s: error names label %q, want %q", c.name, se.Label, c.label)
		}
		if _, err := s.Eval(c.v); !errors.Is(err, c.err) {
			t.Errorf("%s: Eval(%v) error = %v, want %v", c.name, c.v, err, c.err)
		}
	}
}

// TestNewRejectsExponentialSharing builds a small space whose shared choices
// nest 30 levels deep, which a walk would visit 2^30 times.
func TestNewRejectsExponentialSharing(t *testing.T) {
	t.Parallel()
	var node any = space.Uniform("x", 0, 1)
	for i := range 30 {
		c := space.Choice("c"+strings.Repeat("i", i), space.List{node, node})
		node = space.List{c, c}
	}
	if _, err := space.New(node); !errors.Is(err, space.ErrStructure) || !strings.Contains(err.Error(), "expanded") {
		t.Errorf("New of a 2^30 expanded space: error = %v, want ErrStructure", err)
	}
}
