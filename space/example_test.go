package space_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/hyperopt-go/hyperopt/space"
)

// This example builds a conditional space: the SVM's C exists only when the
// model is an SVM.
func ExampleNew() {
	s, err := space.New(space.Dict{
		"lr": space.LogUniform("lr", 1e-5, 1e-1),
		"model": space.Choice("model",
			space.Dict{"type": "svm", "C": space.LogUniform("C", 1e-3, 1e3)},
			space.Dict{"type": "tree", "depth": space.UniformInt("depth", 1, 12)},
		),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(s)

	// Bad input is an error naming the hyperparameter.
	_, err = space.New(space.LogUniform("lr", 0, 1))
	fmt.Println(err)
	// Output:
	// lr: loguniform(1e-05, 0.1)
	// model: choice(2 options)
	// C: loguniform(0.001, 1000) if model=0
	// depth: quniform(1, 12, q=1) int if model=1
	// space: root: "lr": loguniform low must be > 0 (bounds are natural values, not logarithms), got 0
}

// This example draws points from the prior with a seeded generator: the same
// seed gives the same points.
func ExampleSpace_Sample() {
	s, _ := space.New(space.Dict{
		"x":      space.Uniform("x", -5, 5),
		"layers": space.QUniformInt("layers", 1, 8, 1),
	})
	r := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		v := s.Sample(r)
		fmt.Printf("layers=%v x=%.3f\n", v[0], v[1])
	}
	// Output:
	// layers=6 x=-0.386
	// layers=5 x=-0.702
	// layers=7 x=-1.116
}

// This example turns a point into the user's config: choices become their
// options' values, integer kinds Go ints, inactive branches vanish.
func ExampleSpace_Eval() {
	s, _ := space.New(space.Dict{
		"optimizer": space.Choice("optimizer",
			space.Dict{"name": "sgd", "momentum": space.Uniform("momentum", 0, 1)},
			space.Dict{"name": "adam"},
		),
		"batch": space.QLogUniformInt("batch", 16, 256, 16),
	})
	// Positions: batch, optimizer, momentum.
	cfg, err := s.Eval(space.Values{64, 0, 0.9})
	fmt.Println(cfg, err)
	b := cfg.(map[string]any)["batch"]
	fmt.Printf("%T\n", b)
	// Output:
	// map[batch:64 optimizer:map[momentum:0.9 name:sgd]] <nil>
	// int
}

// This example fills a struct from a point.
func ExampleSpace_Decode() {
	s, _ := space.New(space.Dict{
		"lr":     space.LogUniform("lr", 1e-4, 1),
		"layers": space.Choice("layers", []int{64}, []int{128, 64}),
		"act":    space.Choice("act", "relu", "tanh"),
	})
	type Config struct {
		LearningRate float64 `hyperopt:"lr"`
		Layers       []int
		Act          string
	}
	var cfg Config
	// Positions: act, layers, lr.
	if err := s.Decode(space.Values{1, 1, 0.01}, &cfg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", cfg)
	// Output:
	// {LearningRate:0.01 Layers:[128 64] Act:tanh}
}

// This example goes from a config (say, a known good setting to evaluate
// first) to a point, with no choice index in sight.
func ExampleSpace_Encode() {
	s, _ := space.New(space.Dict{
		"model": space.Choice("model",
			space.Dict{"type": "svm", "C": space.LogUniform("C", 1e-3, 1e3)},
			space.Dict{"type": "tree", "depth": space.UniformInt("depth", 1, 12)},
		),
	})
	v, err := s.Encode(map[string]any{"model": map[string]any{"type": "tree", "depth": 5}})
	fmt.Println(v, err)
	_, err = s.Encode(map[string]any{"model": map[string]any{"type": "knn"}})
	fmt.Println(err != nil)
	// Output:
	// [1 NaN 5] <nil>
	// true
}
