// Command quickstart shows the search-space language on a realistic space:
// a text classifier's pipeline with a nested, conditional model choice. It
// validates the space, lists its hyperparameters and the conditions under
// which each is active, draws points from the prior with a seed, and prints
// each as the typed config the objective would receive and as the struct it
// decodes into. It ends by encoding a known good config back into a point,
// which is how a search is warm-started.
//
//	go run ./examples/quickstart [-n 5] [-seed 1] [-json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/hyperopt-go/hyperopt/space"
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
	n := flag.Int("n", 5, "number of points to draw")
	seed := flag.Uint64("seed", 1, "seed of the random stream")
	printJSON := flag.Bool("json", false, "print the space's JSON form")
	flag.Parse()
	if err := run(*n, *seed, *printJSON); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(n int, seed uint64, printJSON bool) error {
	s, err := space.New(pipelineSpace())
	if err != nil {
		return err
	}
	fp, err := s.Fingerprint()
	if err != nil {
		return err
	}
	fmt.Printf("A space of %d hyperparameters (fingerprint %s…):\n%s\n", s.Len(), fp[:12], s)
	if printJSON {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		fmt.Printf("%s\n\n", b)
	}

	r := rand.New(rand.NewPCG(seed, 0))
	for i := range n {
		v := s.Sample(r)
		cfg, err := s.Eval(v)
		if err != nil {
			return err
		}
		b, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		var p Pipeline
		if err := s.Decode(v, &p); err != nil {
			return err
		}
		fmt.Printf("point %d: %v\n  config: %s\n  %s\n", i, v, b, describe(p))
	}

	// A known good config, as a person would write it, becomes a point: no
	// choice indices involved.
	known := map[string]any{
		"features": map[string]any{"ngram": 2, "min_df": 3, "max_df": 0.9, "sublinear_tf": true},
		"model":    map[string]any{"kind": "svm", "C": 1.0, "kernel": map[string]any{"name": "linear"}},
		"seed":     7,
	}
	v, err := s.Encode(known)
	if err != nil {
		return err
	}
	fmt.Printf("\nknown config encodes to %v\n", v)

	// A typo is caught with an error naming the choice.
	known["model"] = map[string]any{"kind": "svm", "C": 1.0, "kernel": map[string]any{"name": "sigmoid"}}
	if _, err := s.Encode(known); err != nil {
		fmt.Printf("a kernel the space lacks is refused:\n  %v\n", err)
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
