package fmin_test

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// This example minimizes a function of a conditional space with TPE (the
// default algorithm) and prints the best config, typed: the choice as its
// option's value, the integer as an int.
func ExampleMinimize() {
	s, err := space.New(space.Dict{
		"x": space.Uniform("x", -5, 5),
		"shape": space.Choice("shape",
			space.Dict{"kind": "flat"},
			space.Dict{"kind": "bowl", "depth": space.UniformInt("depth", 1, 3)},
		),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	objective := fmin.LossFunc(func(ctx context.Context, cfg any) (float64, error) {
		c := cfg.(map[string]any)
		x := c["x"].(float64)
		loss := (x - 1) * (x - 1)
		if shape := c["shape"].(map[string]any); shape["kind"] == "bowl" {
			loss -= float64(shape["depth"].(int))
		}
		return loss, nil
	})
	res, err := fmin.Minimize(context.Background(), objective, s, &fmin.Options{MaxEvals: 200, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	best := res.Config.(map[string]any)
	fmt.Printf("stopped on %v after %d trials\n", res.Stop, res.Trials.Len())
	fmt.Printf("x ≈ %.1f, shape %v, loss %.2f\n", best["x"], best["shape"], res.Best.Result.Loss)
	// Output:
	// stopped on max evals after 200 trials
	// x ≈ 1.0, shape map[depth:3 kind:bowl], loss -3.00
}

// This example drives a search from outside: ask for trials, evaluate them
// however you like (here, in a loop), tell the results. A known point is
// added first as a warm start.
func ExampleOptimizer() {
	ctx := context.Background()
	s, _ := space.New(space.Dict{"lr": space.LogUniform("lr", 1e-4, 1)})
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{MaxEvals: 20, Seed: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := o.Add(ctx, map[string]any{"lr": 0.1}, trials.OK(0.5)); err != nil {
		fmt.Println(err)
		return
	}
	defer o.Close()
	for {
		batch, err := o.Ask(ctx, 4)
		if errors.Is(err, trials.ErrBudget) || errors.Is(err, fmin.ErrExhausted) {
			break // the search is over
		}
		if err != nil {
			fmt.Println(err) // a store or algorithm failure
			return
		}
		for _, t := range batch {
			cfg, _ := s.Eval(t.Values)
			lr := cfg.(map[string]any)["lr"].(float64)
			if err := o.Tell(ctx, t.ID, trials.OK((lr-0.01)*(lr-0.01))); err != nil {
				fmt.Println(err)
				return
			}
		}
	}
	if err := o.Refresh(ctx); err != nil { // the view as of the last Tell
		fmt.Println(err)
		return
	}
	best, _ := o.Trials().Best()
	fmt.Printf("%d trials, best lr %.3f\n", o.Trials().Len(), best.Values[0])
	// Output:
	// 20 trials, best lr 0.011
}

// Hyperparams is what the objective of ExampleTyped receives: each trial's
// config decoded into a struct, fields of an unchosen branch left zero.
type Hyperparams struct {
	LR    float64 `hyperopt:"lr"`
	Model struct {
		Kind  string `hyperopt:"kind"`
		Depth int    `hyperopt:"depth"`
	} `hyperopt:"model"`
}

// This example gives the objective a typed config instead of a map, and
// stops early when 25 trials in a row did not improve the best loss by 1%
// (HyperOpt's no_progress_loss), with a budget of 500.
func ExampleTyped() {
	s, err := space.New(space.Dict{
		"lr": space.LogUniform("lr", 1e-4, 1),
		"model": space.Choice("model",
			space.Dict{"kind": "linear"},
			space.Dict{"kind": "tree", "depth": space.UniformInt("depth", 1, 8)},
		),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	objective := fmin.Typed(func(ctx context.Context, h Hyperparams, t *fmin.Trial) (trials.Result, error) {
		loss := math.Abs(math.Log10(h.LR) + 2) // best at lr = 0.01
		if h.Model.Kind == "tree" {
			loss += math.Abs(float64(h.Model.Depth-5)) / 10
		} else {
			loss += 0.25
		}
		return trials.OK(loss), nil
	})
	res, err := fmin.Minimize(context.Background(), objective, s, &fmin.Options{
		MaxEvals: 500, Seed: 3, EarlyStop: fmin.HyperoptNoProgressLoss(25, 1),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var best Hyperparams
	if err := space.DecodeConfig(res.Config, &best); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("stopped on %v before the budget: %v\n", res.Stop, res.Trials.Len() < 500)
	fmt.Printf("best: %s of depth %d, lr within 2x of 0.01: %v\n", best.Model.Kind, best.Model.Depth, best.LR > 0.005 && best.LR < 0.02)
	// Output:
	// stopped on early stop before the budget: true
	// best: tree of depth 5, lr within 2x of 0.01: true
}

// This example runs HyperOpt's own TPE (tpe.HyperoptCompat: HyperOpt 0.2.7's
// algorithm and settings, to the formula) instead of this library's
// default.
func ExampleMinimize_hyperoptCompat() {
	s, _ := space.New(space.Dict{"x": space.Uniform("x", -10, 10)})
	objective := fmin.LossFunc(func(_ context.Context, cfg any) (float64, error) {
		x := cfg.(map[string]any)["x"].(float64)
		return (x - 3) * (x - 3), nil
	})
	res, err := fmin.Minimize(context.Background(), objective, s, &fmin.Options{
		MaxEvals: 100, Seed: 4, Algorithm: tpe.HyperoptCompat(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("x ≈ %.0f\n", res.Config.(map[string]any)["x"])
	// Output:
	// x ≈ 3
}
