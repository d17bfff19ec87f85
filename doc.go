// Package hyperopt is the root of hyperopt-go, a Go port of Python's
// HyperOpt. It holds no code of its own: the library is in its packages.
//
//   - [github.com/hyperopt-go/hyperopt/space]: the search-space language
//     (HyperOpt's hp.* distributions, nested and conditional spaces,
//     space_eval, sampling, introspection, a JSON form).
//
// The end-to-end benchmarks are in this directory's bench_test.go.
package hyperopt
