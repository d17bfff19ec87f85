// Package tpe implements the Tree-structured Parzen Estimator (TPE), the
// default algorithm of HyperOpt, as HyperOpt 0.2.7's tpe.suggest computes
// it.
//
// Each hyperparameter is modelled separately, on the trials where it was
// active: the best min(ceil(γ√n), 25) observations form the good group and
// the rest the bad one; an adaptive Parzen estimator (a truncated,
// possibly quantized, Gaussian or log-Gaussian mixture, or a categorical
// distribution with pseudocounts) is fitted to each; candidates drawn from
// the good model are scored by the ratio of the good to the bad density,
// and the best one wins. Choices are decided first, and only the chosen
// branch's hyperparameters are proposed.
//
// Where HyperOpt has a known defect this package uses the correct formula:
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
package tpe
