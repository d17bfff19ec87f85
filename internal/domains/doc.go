// Package domains holds HyperOpt's test domains, the small optimization
// problems of hyperopt/tests/unit/test_domains.py (quadratic1, q1_lognormal,
// n_arms, distractor, gauss_wave, gauss_wave2, many_dists, branin, and the
// auxiliary coin_flip and q1_choice), for the tests and benchmarks of the
// algorithms.
//
// In HyperOpt the objective of a test domain lives inside its search space
// (the pyll graph computes {"loss": ..., "status": "ok"} and the objective is
// the identity). Here a [Domain] splits the two: Root builds the search space
// of the hyperparameters alone, and Loss computes HyperOpt's loss (and its
// loss_variance) from the config that [space.Space.Eval] returns for a point.
// Each Domain also carries HyperOpt's loss_target and the evaluation budgets
// and pass thresholds of HyperOpt's tests of random search
// (test_domains.py), TPE (test_tpe.py, TestOpt) and annealing
// (test_anneal.py, TestItAtLeastSortOfWorks).
//
// [All] lists the domains of HyperOpt's CasePerDomain in its order; [ByName]
// finds those and the two domains outside that list.
package domains
