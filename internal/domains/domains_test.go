package domains

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// everyDomain is All() and the two domains only ByName finds.
func everyDomain(t *testing.T) []Domain {
	t.Helper()
	ds := All()
	for _, name := range []string{"coin_flip", "q1_choice"} {
		d, ok := ByName(name)
		if !ok {
			t.Errorf("ByName(%q) found nothing", name)
			continue
		}
		ds = append(ds, d)
	}
	return ds
}

func TestAllOrder(t *testing.T) {
	t.Parallel()
	want := []string{"quadratic1", "q1_lognormal", "n_arms", "distractor", "gauss_wave", "gauss_wave2", "many_dists", "branin"}
	var got []string
	for _, d := range All() {
		got = append(got, d.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("All() names = %v, want %v", got, want)
	}
	if _, ok := ByName("no_such_domain"); ok {
		t.Errorf("ByName(%q) found a domain", "no_such_domain")
	}
}

func TestDomains(t *testing.T) {
	t.Parallel()
	for _, d := range everyDomain(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			got, ok := ByName(d.Name)
			if !ok || got.Name != d.Name {
				t.Errorf("ByName(%q) = %q, %v", d.Name, got.Name, ok)
			}
			if d.Root == nil || d.Loss == nil {
				t.Fatalf("Root or Loss is nil")
			}
			s, err := space.New(d.Root())
			if err != nil {
				t.Fatalf("space.New: %v", err)
			}
			if s2, err := space.New(d.Root()); err != nil || s2.Len() != s.Len() {
				t.Errorf("a second Root: %v, %d hyperparameters, want %d", err, s2.Len(), s.Len())
			}
			if d.Name == "coin_flip" || d.Name == "q1_choice" {
				if d.TPE != (TPEBudget{}) || d.Anneal != (Budget{}) {
					t.Errorf("TPE %+v, Anneal %+v: want zero (HyperOpt tests only random search on it)", d.TPE, d.Anneal)
				}
			} else if d.TPE.Evals == 0 || d.Anneal.Evals == 0 || d.TPE.Candidates == 0 || d.TPE.Gamma == 0 {
				t.Errorf("TPE %+v, Anneal %+v: a budget is missing", d.TPE, d.Anneal)
			}
			if d.Name != "coin_flip" && math.Abs(d.Random.Threshold-(d.LossTarget+0.2)) > 1e-12 {
				t.Errorf("Random.Threshold = %v, want loss_target + 0.2 = %v", d.Random.Threshold, d.LossTarget+0.2)
			}
		})
	}
}

func TestKnownOptima(t *testing.T) {
	t.Parallel()
	m := func(kv ...any) map[string]any {
		out := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name, domain string
		cfg          map[string]any
		want, tol    float64
	}{
		{"quadratic1 x=3", "quadratic1", m("x", 3.0), 0, 0},
		{"q1_lognormal x=10", "q1_lognormal", m("x", 10.0), 0, 0},
		{"q1_lognormal far", "q1_lognormal", m("x", 1000.0), 10, 0},
		{"branin (-pi, 12.275)", "branin", m("x", -math.Pi, "y", 12.275), 0.397887, 1e-5},
		{"branin (pi, 2.275)", "branin", m("x", math.Pi, "y", 2.275), 0.397887, 1e-5},
		{"branin (9.42478, 2.475)", "branin", m("x", 9.42478, "y", 2.475), 0.397887, 1e-5},
		{"distractor spike", "distractor", m("x", -10.0), -2.0000454, 1e-6},
		{"distractor asymptote", "distractor", m("x", 15.0), -1, 1e-6},
		{"gauss_wave curve 0", "gauss_wave", m("curve", m("shift", 0.0, "x", 0.0)), -2, 1e-12},
		{"gauss_wave curve 1", "gauss_wave", m("curve", m("shift", math.Pi, "x", -math.Pi)), -2, 1e-12},
		{"many_dists z=0", "many_dists", m("a", 0, "b", 0, "bb", 12, "c", 4.0, "d", 1.0, "e", 0.0,
			"f", 2.0, "g", -21.0, "h", 1.0, "i", 0.0, "j", 1.0, "k", 0), math.Log(1e-12), 1e-12},
		{"many_dists z=1", "many_dists", m("a", 1, "b", 0, "bb", 12, "c", 4.0, "d", 1.0, "e", 0.0,
			"f", 2.0, "g", -21.0, "h", 1.0, "i", 0.0, "j", 1.0, "k", 0), math.Log(1 + 1e-12), 1e-12},
		{"coin_flip 0", "coin_flip", m("flip", 0.0), 0, 0},
		{"coin_flip 1", "coin_flip", m("flip", 1.0), 1, 0},
		{"q1_choice neg", "q1_choice", m("o_x", m("offset", -3.0, "x", -3.0)), 0, 0},
		{"q1_choice pos", "q1_choice", m("o_x", m("offset", 3.0, "x", 5.0)), 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, ok := ByName(tt.domain)
			if !ok {
				t.Fatalf("ByName(%q) found nothing", tt.domain)
			}
			got, _ := d.Loss(tt.cfg, nil)
			if math.IsNaN(got) || math.Abs(got-tt.want) > tt.tol {
				t.Errorf("Loss(%v) = %.9g, want %.9g ± %g", tt.cfg, got, tt.want, tt.tol)
			}
			// The hand-written config is a point of the space.
			s, err := space.New(d.Root())
			if err != nil {
				t.Fatalf("space.New: %v", err)
			}
			if _, err := s.Encode(tt.cfg); err != nil {
				t.Errorf("Encode(%v): %v", tt.cfg, err)
			}
		})
	}
}

func TestNoise(t *testing.T) {
	t.Parallel()
	tests := []struct {
		domain         string
		cfg            map[string]any
		mean, tol, std float64
		variance       float64
	}{
		{"n_arms", map[string]any{"x": 0}, -1, 0.05, 1, 1},
		{"n_arms", map[string]any{"x": 1}, 0, 0.05, 1, 1},
		{"gauss_wave2", map[string]any{"x": 0.0, "hf": map[string]any{"branch": 0}}, -2, 0.005, 0.1, 0.1},
		{"gauss_wave2", map[string]any{"x": -math.Pi / 2, "hf": map[string]any{"branch": 1, "amp": 1.0}},
			-(2*math.Exp(-(math.Pi/10)*(math.Pi/10)) - 1), 0.005, 0.1, 0.1},
	}
	for i, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			t.Parallel()
			d, _ := ByName(tt.domain)
			r := rand.New(rand.NewPCG(uint64(i), 7))
			const n = 10000
			var sum, sum2 float64
			for range n {
				l, v := d.Loss(tt.cfg, r)
				if v != tt.variance {
					t.Fatalf("lossVariance = %v, want %v", v, tt.variance)
				}
				sum += l
				sum2 += l * l
			}
			mean := sum / n
			std := math.Sqrt(sum2/n - mean*mean)
			if math.Abs(mean-tt.mean) > tt.tol {
				t.Errorf("%v: mean loss over %d draws = %v, want %v ± %v", tt.cfg, n, mean, tt.mean, tt.tol)
			}
			if math.Abs(std-tt.std) > 0.05*tt.std {
				t.Errorf("%v: standard deviation of the loss = %v, want %v ± 5%%", tt.cfg, std, tt.std)
			}
		})
	}
}

// TestSampledConfigs evaluates Loss on configs drawn from each space, as Eval
// gives them and after a round trip through encoding/json (where ints become
// float64): the loss is finite and the same both ways, and the JSON config
// encodes back to the same point.
func TestSampledConfigs(t *testing.T) {
	t.Parallel()
	for i, d := range everyDomain(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			s, err := space.New(d.Root())
			if err != nil {
				t.Fatalf("space.New: %v", err)
			}
			r := rand.New(rand.NewPCG(42, uint64(i)))
			for n := range 1000 {
				v := s.Sample(r)
				cfg, err := s.Eval(v)
				if err != nil {
					t.Fatalf("Eval(%v): %v", v, err)
				}
				data, err := json.Marshal(cfg)
				if err != nil {
					t.Fatalf("json.Marshal(%v): %v", cfg, err)
				}
				var back any
				if err := json.Unmarshal(data, &back); err != nil {
					t.Fatalf("json.Unmarshal(%s): %v", data, err)
				}
				seed := uint64(n)
				l1, v1 := d.Loss(cfg, rand.New(rand.NewPCG(seed, 1)))
				l2, v2 := d.Loss(back, rand.New(rand.NewPCG(seed, 1)))
				if math.IsNaN(l1) || math.IsInf(l1, 0) || math.IsNaN(v1) || v1 < 0 {
					t.Errorf("Loss(%v) = %v, %v: want a finite loss and a variance >= 0", cfg, l1, v1)
				}
				if l1 != l2 || v1 != v2 {
					t.Errorf("Loss(%v) = %v, %v but Loss of its JSON %s = %v, %v", cfg, l1, v1, data, l2, v2)
				}
				w, err := s.Encode(back)
				if err != nil {
					t.Errorf("Encode(%s): %v", data, err)
				} else if !space.Values.Equal(v, w) {
					t.Errorf("Encode(%s) = %v, want %v", data, w, v)
				}
				if t.Failed() {
					return
				}
			}
		})
	}
}

func TestLossPanicsOnBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		domain string
		cfg    any
	}{
		{"quadratic1", map[string]any{}},
		{"quadratic1", map[string]any{"x": "3"}},
		{"quadratic1", 3.0},
		{"n_arms", map[string]any{"x": 2}},
		{"n_arms", map[string]any{"x": 0.5}},
		{"gauss_wave", map[string]any{"curve": 0.0}},
	}
	for _, tt := range tests {
		d, _ := ByName(tt.domain)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Loss(%v) did not panic", tt.domain, tt.cfg)
				}
			}()
			d.Loss(tt.cfg, rand.New(rand.NewPCG(1, 2)))
		}()
	}
}
