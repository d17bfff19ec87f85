package hyperopt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/internal/domains"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// pipeline is the kind of space a user tunes: a text classifier with a
// three-way model choice, nested kernel and depth choices, 17
// hyperparameters in all.
func pipeline() any {
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
				"kind":    "mlp",
				"layers":  space.Choice("layers", []int{256}, []int{512, 128}, space.List{space.QUniformInt("units1", 64, 1024, 64), space.QUniformInt("units2", 32, 512, 32)}),
				"dropout": space.QUniform("dropout", 0, 0.5, 0.05),
				"lr":      space.LogUniform("lr", 1e-5, 1e-2),
			},
		),
		"seed": 7,
	}
}

// BenchmarkTrialPoint measures what a search does with the space for each
// trial outside the algorithm: draw a point, turn it into the config the
// objective gets, and write the config as JSON as a store would.
func BenchmarkTrialPoint(b *testing.B) {
	s, err := space.New(pipeline())
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		v := s.Sample(r)
		cfg, err := s.Eval(v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNew measures validating and compiling the space, which a
// distributed worker does once at start-up, and reading it back from its
// JSON form, which it does to check it runs the driver's space.
func BenchmarkNew(b *testing.B) {
	b.Run("compile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := space.New(pipeline()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		s, _ := space.New(pipeline())
		doc, err := json.Marshal(s)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ReportMetric(float64(len(doc)), "doc-bytes")
		for b.Loop() {
			var u space.Space
			if err := json.Unmarshal(doc, &u); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDomains runs HyperOpt's test domains at their TestOpt budgets
// with the default TPE ("tpe"), HyperOpt's TPE with HyperOpt's settings per
// domain ("compat") and random search, one search
// per iteration with the iteration's index as the seed, and reports the
// mean best loss (best-loss) and the mean time per trial of the whole
// search (ns/trial), so that speed and quality are compared in one run:
//
//	go test -run '^$' -bench Domains -benchtime 10x .
func BenchmarkDomains(b *testing.B) {
	for _, d := range domains.All() {
		s, err := space.New(d.Root())
		if err != nil {
			b.Fatal(err)
		}
		compat := tpe.HyperoptCompat()
		compat.Gamma, compat.PriorWeight, compat.Candidates = d.TPE.Gamma, d.TPE.PriorWeight, d.TPE.Candidates
		algs := []struct {
			name string
			alg  fmin.Algorithm
		}{
			{"tpe", tpe.Search{}},
			{"compat", compat},
			{"random", random.Search{}},
		}
		for _, a := range algs {
			b.Run(fmt.Sprintf("domain=%s/algo=%s", d.Name, a.name), func(b *testing.B) {
				sum, seed := 0.0, uint64(0)
				start := time.Now()
				for b.Loop() {
					seed++
					obj := func(_ context.Context, t *fmin.Trial) (trials.Result, error) {
						l, v := d.Loss(t.Config(), rand.New(rand.NewPCG(seed, uint64(t.ID())+1<<32)))
						return trials.Result{Loss: l, Status: trials.StatusOK, LossVariance: v}, nil
					}
					res, err := fmin.Minimize(context.Background(), obj, s, &fmin.Options{Algorithm: a.alg, MaxEvals: d.TPE.Evals, Seed: seed})
					if err != nil {
						b.Fatal(err)
					}
					sum += res.Best.Result.Loss
				}
				b.ReportMetric(sum/float64(seed), "best-loss")
				b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(seed)/float64(d.TPE.Evals), "ns/trial")
			})
		}
	}
}
