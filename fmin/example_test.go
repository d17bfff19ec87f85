package fmin_test

import (
	"context"
	"fmt"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/space"
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
	for {
		batch, err := o.Ask(ctx, 4)
		if err != nil {
			break // the budget is spent (trials.ErrBudget)
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
	best, _ := o.Trials().Best()
	fmt.Printf("%d trials, best lr %.3f\n", o.Trials().Len(), best.Values[0])
	// Output:
	// 20 trials, best lr 0.011
}
