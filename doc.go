// Package hyperopt is the root of hyperopt-go, a Go port of Python's
// HyperOpt. It holds no code of its own: the library is in its packages.
//
//   - [github.com/hyperopt-go/hyperopt/space]: the search-space language
//     (HyperOpt's hp.* distributions, nested and conditional spaces,
//     space_eval, sampling, introspection, a JSON form).
//   - [github.com/hyperopt-go/hyperopt/trials]: trials, results and their
//     stores (HyperOpt's Trials), with an in-memory store, a conformance
//     suite for others, and JSON export and import.
//   - [github.com/hyperopt-go/hyperopt/random]: random search.
//   - [github.com/hyperopt-go/hyperopt/fmin]: the driver (HyperOpt's fmin)
//     and its ask/tell form.
//
// The end-to-end benchmarks are in this directory's bench_test.go.
package hyperopt
