// Package tpe implements the Tree-structured Parzen Estimator (TPE): this
// library's default algorithm (Search's zero value), and HyperOpt's TPE as
// HyperOpt 0.2.7's tpe.suggest computes it (HyperoptCompat).
//
// A search uses the default unless told otherwise; set fields of Search to
// change it, or pass HyperoptCompat() for HyperOpt's algorithm:
//
//	res, err := fmin.Minimize(ctx, objective, s, &fmin.Options{MaxEvals: 200})                                          // the default
//	res, err := fmin.Minimize(ctx, objective, s, &fmin.Options{MaxEvals: 200, Algorithm: tpe.Search{StartupTrials: 20}}) // a setting changed
//	res, err := fmin.Minimize(ctx, objective, s, &fmin.Options{MaxEvals: 200, Algorithm: tpe.HyperoptCompat()})          // HyperOpt's TPE
//
// Search.Validate reports a setting out of its range (ErrInvalidOption,
// naming the field); Suggest refuses one too.
//
// # How it proposes
//
// Both split the observations by loss into a good group and a bad one, fit
// a density to each, draw candidates from the good density and propose the
// candidate with the highest ratio of good to bad density. Choices are
// decided first, and only the chosen branch's hyperparameters are proposed.
//
// HyperOpt's TPE models each hyperparameter separately, on the trials where
// it was active: the best min(ceil(γ√n), 25) observations form the good
// group; an adaptive Parzen estimator (a truncated, possibly quantized,
// Gaussian or log-Gaussian mixture, or a categorical distribution with
// pseudocounts) is fitted to each group.
//
// The default models jointly the hyperparameters that are active under the
// same conditions (a group, as Optuna's group decomposition forms them): a
// mixture of the prior and one product kernel per observation, Gaussian in
// the continuous dimensions (in log space for the log kinds) and
// categorical in the others. Each dimension's kernels share one width,
// Scott's rule over the group's values and the prior's centre, floored at
// 2% of the range (MinBandwidth): it shrinks as the good points close in,
// which is what makes the search converge. Candidates combine coordinates
// of different good points, and the joint density ratio judges them. A
// hyperparameter alone in its group, or a group without good or bad
// observations, is proposed as HyperOpt proposes it. A conditional
// hyperparameter's good group is the best of its own branch's trials
// (OverallSplit restores HyperOpt's split, under which a branch that
// another leads is proposed as far as possible from its own best point and
// never catches up). The good group is 5% of the observations (at most
// 25), the prior weighs half an observation, and the first 10 trials come
// from the prior. These settings were chosen on the quality benchmark of
// internal/quality (go run ./cmd/quality), on the 9 of its 19 problems
// marked for selection, and checked on the other 10.
//
// Trials in flight (queued, running, or proposed earlier in the same call)
// count as observations with the loss that Search.Liar assumes: by default
// +Inf, which puts them in the bad group. The joint model gives each a
// kernel half as wide as the good kernels in the bad density, so that the
// next proposals keep off the points in flight without being pushed out of
// the good region. A parallel search still pays for the results it waits
// for. The measured figures (sequential, in batches, as a pipeline and
// with asynchronous workers, against HyperOpt's TPE, and the cost to an
// ideal rank-based search) are in the repository's docs/results.md, with
// the commands that produced them.
//
// Where HyperOpt has a known defect, HyperoptCompat uses the correct formula:
// the density of a truncated, unquantized log-uniform mixture is
// normalized by the mass the truncation keeps (HyperOpt omits it: the
// offset is the same for every candidate, so proposals do not change), and
// the lower bound of a ranged RandInt is honoured (HyperOpt ignores it when
// randint's bounds are given by keyword). Differences of normal CDFs are
// taken in the tail where they keep their precision. Draws come from Go's
// PCG streams, not numpy's, so proposals match HyperOpt's in distribution,
// not value by value.
//
// References:
//
//	Bergstra, J., Bardenet, R., Bengio, Y., Kégl, B. (2011). Algorithms for
//	hyper-parameter optimization. Advances in Neural Information Processing
//	Systems 24.
//
//	Bergstra, J., Yamins, D., Cox, D. (2013). Making a science of model
//	search: hyperparameter optimization in hundreds of dimensions for vision
//	architectures. Proceedings of the 30th International Conference on
//	Machine Learning.
//
//	Falkner, S., Klein, A., Hutter, F. (2018). BOHB: Robust and efficient
//	hyperparameter optimization at scale. Proceedings of the 35th
//	International Conference on Machine Learning. (Product kernels with
//	Scott's bandwidth.)
//
//	Watanabe, S. (2023). Tree-structured Parzen estimator: understanding
//	its algorithm components and their roles for better empirical
//	performance. arXiv:2304.11127.
package tpe
