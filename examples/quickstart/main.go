// Command quickstart runs a real search: it tunes a text classifier's
// pipeline (features, then an SVM with one of three kernels, a random
// forest or an MLP, each with its own hyperparameters) against a stand-in
// for its validation error, with TPE (the default algorithm) on the
// in-memory store, four trials at a time, and a progress bar on the terminal. It starts
// from two known configs, written as configs, and prints the best trials as
// the typed structs the objective received.
//
//	go run ./examples/quickstart [-n 300] [-seed 1] [-parallel 4] [-export run.json] [-space]
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// Pipeline is what the objective would train. Fields of branches that were
// not chosen stay zero (or nil for pointers).
type Pipeline struct {
	Features struct {
		NGram     int     `hyperopt:"ngram"`
		MinDF     int     `hyperopt:"min_df"`
		MaxDF     float64 `hyperopt:"max_df"`
		Sublinear bool    `hyperopt:"sublinear_tf"`
	}
	Model struct {
		Kind   string  `hyperopt:"kind"`
		C      float64 `hyperopt:"C"`
		Kernel *struct {
			Name   string  `hyperopt:"name"`
			Gamma  float64 `hyperopt:"gamma"`
			Degree int     `hyperopt:"degree"`
		} `hyperopt:"kernel"`
		Trees    int     `hyperopt:"trees"`
		MaxDepth *int    `hyperopt:"max_depth"`
		Layers   []int   `hyperopt:"layers"`
		Dropout  float64 `hyperopt:"dropout"`
		LR       float64 `hyperopt:"lr"`
	}
	Seed int `hyperopt:"seed"`
}

func pipelineSpace() any {
	return space.Dict{
		"features": space.Dict{
			"ngram":        space.RandIntRange("ngram", 1, 4),
			"min_df":       space.QLogUniformInt("min_df", 1, 50, 1),
			"max_df":       space.Uniform("max_df", 0.5, 1.0),
			"sublinear_tf": space.Choice("sublinear_tf", true, false),
		},
		"model": space.Choice("model",
			space.Dict{
				"kind": "svm",
				"C":    space.LogUniform("svm_C", 1e-3, 1e3),
				"kernel": space.Choice("kernel",
					space.Dict{"name": "linear"},
					space.Dict{"name": "rbf", "gamma": space.LogUniform("gamma", 1e-4, 1)},
					space.Dict{"name": "poly", "degree": space.RandIntRange("degree", 2, 5)},
				),
			},
			space.Dict{
				"kind":      "forest",
				"trees":     space.QUniformInt("trees", 50, 500, 50),
				"max_depth": space.Choice("depth", nil, space.QLogUniformInt("max_depth", 2, 64, 1)),
			},
			space.Dict{
				"kind": "mlp",
				"layers": space.Choice("layers",
					[]int{256},
					[]int{512, 128},
					space.List{space.QUniformInt("units1", 64, 1024, 64), space.QUniformInt("units2", 32, 512, 32)},
				),
				"dropout": space.QUniform("dropout", 0, 0.5, 0.05),
				"lr":      space.LogUniform("lr", 1e-5, 1e-2),
			},
		),
		"seed": 7,
	}
}

func main() {
	n := flag.Int("n", 300, "trials to run (the search's MaxEvals)")
	seed := flag.Uint64("seed", 1, "seed of the search")
	par := flag.Int("parallel", 4, "objectives evaluated at once")
	export := flag.String("export", "", "write the whole experiment as JSON to this file")
	show := flag.Bool("space", false, "also print the space's hyperparameters, conditions and JSON form")
	flag.Parse()
	if err := run(*n, *seed, *par, *export, *show); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// validationError is the stand-in for training the pipeline and measuring
// its error on held-out data: a smooth response surface with a best region
// per model kind, and a little deterministic noise per trial. It sleeps a
// few milliseconds, as real training would take time.
func validationError(ctx context.Context, p Pipeline, t *fmin.Trial) (trials.Result, error) {
	select {
	case <-time.After(3 * time.Millisecond):
	case <-ctx.Done():
		return trials.Result{}, ctx.Err()
	}
	f := p.Features
	sq := func(x float64) float64 { return x * x }
	base := 0.12 + 0.01*sq(float64(f.NGram-2)) + 0.02*sq(math.Log(float64(f.MinDF)/3)) + 0.05*sq(f.MaxDF-0.8)
	if !f.Sublinear {
		base += 0.005
	}
	m := p.Model
	switch m.Kind {
	case "svm":
		base += 0.01 * sq(math.Log10(m.C)-1)
		switch m.Kernel.Name {
		case "linear":
			base += 0.02
		case "rbf":
			base += 0.02 * sq(math.Log10(m.Kernel.Gamma)+2)
		case "poly":
			base += 0.03 + 0.01*float64(m.Kernel.Degree)
		}
	case "forest":
		base += 0.04 + 20/float64(m.Trees)/100
		if m.MaxDepth != nil {
			base += 0.002 * math.Abs(float64(*m.MaxDepth)-20) / 4
		}
	case "mlp":
		units := 0
		for _, u := range m.Layers {
			units += u
		}
		base += 0.015 + 0.02*sq(math.Log10(m.LR)+3) + 0.05*sq(m.Dropout-0.2) + 0.00001*math.Abs(float64(units)-600)
	}
	noise := 0.002 * math.Sin(float64(t.ID())*12.9898)
	r := trials.OK(base + noise)
	r.Extras = map[string]any{"model": m.Kind}
	return r, nil
}

func run(n int, seed uint64, par int, export string, show bool) error {
	s, err := space.New(pipelineSpace())
	if err != nil {
		return err
	}
	if show {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		fmt.Printf("The space's %d hyperparameters:\n%s\nIts JSON form:\n%s\n\n", s.Len(), s, b)
	}

	// Two configs a person already trusts are evaluated first: written as
	// configs, with option values, never choice indices.
	known := []any{
		map[string]any{
			"features": map[string]any{"ngram": 2, "min_df": 3, "max_df": 0.9, "sublinear_tf": true},
			"model":    map[string]any{"kind": "svm", "C": 1.0, "kernel": map[string]any{"name": "linear"}},
			"seed":     7,
		},
		map[string]any{
			"features": map[string]any{"ngram": 1, "min_df": 5, "max_df": 0.95, "sublinear_tf": false},
			"model":    map[string]any{"kind": "forest", "trees": 200, "max_depth": nil},
			"seed":     7,
		},
	}
	store := trials.NewMemory(nil)
	res, err := fmin.Minimize(context.Background(), fmin.Typed(validationError), s, &fmin.Options{
		MaxEvals:    n,
		Seed:        seed,
		Parallelism: par,
		Points:      known,
		Store:       store,
		Experiment:  "text-classifier",
	})
	if err != nil {
		return err
	}
	counts := res.Trials.Counts()
	fmt.Printf("search stopped (%v) after %d trials in %v: %d done, %d error\n",
		res.Stop, res.Trials.Len(), res.Elapsed.Round(time.Millisecond), counts[trials.StateDone], counts[trials.StateError])
	fmt.Printf("seed %d; known configs scored %.4f and %.4f\n", res.Seed, res.Trials.All()[0].Result.Loss, res.Trials.All()[1].Result.Loss)

	// The five best trials, as the decoded structs the objective saw.
	all := slices.Clone(res.Trials.All())
	slices.SortFunc(all, func(a, b trials.Trial) int { return cmp.Compare(a.Result.Objective(), b.Result.Objective()) })
	fmt.Println("best trials:")
	for _, t := range all[:min(5, len(all))] {
		var p Pipeline
		if err := s.Decode(t.Values, &p); err != nil {
			return err
		}
		fmt.Printf("  #%-4d loss %.4f  %s\n", t.ID, t.Result.Loss, describe(p))
	}
	b, err := json.Marshal(res.Config)
	if err != nil {
		return err
	}
	fmt.Printf("best config: %s\n", b)

	if export != "" {
		f, err := os.Create(export)
		if err != nil {
			return err
		}
		if err := trials.Export(context.Background(), f, store, "text-classifier"); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Printf("experiment written to %s\n", export)
	}
	return nil
}

func describe(p Pipeline) string {
	m := p.Model
	var model string
	switch m.Kind {
	case "svm":
		model = fmt.Sprintf("svm C=%.4g kernel=%s", m.C, m.Kernel.Name)
		switch m.Kernel.Name {
		case "rbf":
			model += fmt.Sprintf(" gamma=%.3g", m.Kernel.Gamma)
		case "poly":
			model += fmt.Sprintf(" degree=%d", m.Kernel.Degree)
		}
	case "forest":
		depth := "unlimited"
		if m.MaxDepth != nil {
			depth = fmt.Sprint(*m.MaxDepth)
		}
		model = fmt.Sprintf("forest trees=%d depth=%s", m.Trees, depth)
	case "mlp":
		model = fmt.Sprintf("mlp layers=%v dropout=%.2f lr=%.3g", m.Layers, m.Dropout, m.LR)
	}
	f := p.Features
	return fmt.Sprintf("decoded: ngram=%d min_df=%d max_df=%.2f sublinear=%v | %s", f.NGram, f.MinDF, f.MaxDF, f.Sublinear, model)
}
