// Package space describes what a search tunes: HyperOpt's search-space
// language in Go.
//
// A space is built from hyperparameters (Uniform, LogUniform, QUniform,
// Normal, RandInt, Choice, PChoice and the others, each named after its
// HyperOpt hp.* call), nested in Dicts, Lists and the options of choices to
// any depth, with constants anywhere. [New] validates it and compiles it
// into a [Space]:
//
//	s, err := space.New(space.Dict{
//		"lr": space.LogUniform("lr", 1e-5, 1e-1),
//		"model": space.Choice("model",
//			space.Dict{"type": "svm", "C": space.LogUniform("C", 1e-3, 1e3)},
//			space.Dict{"type": "tree", "depth": space.UniformInt("depth", 1, 12)},
//		),
//	})
//
// # Points and configs
//
// A point of a space has two forms. [Values] is the internal one that
// algorithms and stores use: one float64 per hyperparameter by position, a
// choice as its option index, NaN for a hyperparameter of an unselected
// branch (inactive). A config is the user's one: the space with every
// hyperparameter replaced by its value, choices by their options' values,
// integer kinds as Go ints, Dicts as map[string]any. [Space.Eval] goes from
// Values to config, [Space.Encode] back, [Space.Decode] and [DecodeConfig]
// fill a struct. Users never need a choice index.
//
// # Differences from HyperOpt
//
//   - Bounds of the log kinds are natural values: LogUniform("lr", 1e-5, 0.1)
//     where HyperOpt writes hp.loguniform("lr", log(1e-5), log(0.1)). The mu
//     and sigma of LogNormal and QLogNormal are still those of the logarithm.
//   - Integer variants of the quantized kinds (QUniformInt, QLogUniformInt,
//     QNormalInt, QLogNormalInt) give Go ints, as do UniformInt and RandInt.
//   - New checks every argument (HyperOpt skips low < high when a bound is 0,
//     and checks nothing for normal, randint, choice or pchoice).
//   - Randomness comes only from the *rand.Rand the caller passes.
//
// Rounding of the quantized kinds is half to even, as numpy's np.round, so
// samples match HyperOpt's semantics exactly (not its random streams).
package space
