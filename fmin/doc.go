// Package fmin runs searches: HyperOpt's fmin, in Go.
//
// [Minimize] is the whole loop: it asks an [Algorithm] for points, runs the
// [Objective] on them (several at once with Options.Parallelism), records
// every trial in a trials.Store, and stops on a budget, a timeout, a loss
// threshold, an early-stop rule, the algorithm's exhaustion or the caller's
// cancellation, saying which in Result.Stop. [Optimizer] is the same
// machinery as an ask/tell interface for tools that evaluate points
// themselves.
//
// # Determinism
//
// The proposal for trial id comes from (seed, id) and the history the
// algorithm sees. Random search therefore proposes the same trials for any
// Parallelism, and every algorithm proposes the same trials when run
// sequentially, also after a stop and a resume from the store.
//
// # Outcomes
//
// An objective that returns an error or panics ends its trial in
// trials.StateError (with the stack of a panic) and the search goes on. A
// NaN or infinite loss is a failed trial (trials.StatusFail), which the
// algorithms treat as the worst loss. A trial running when the search times
// out or is canceled is recorded as canceled and run again on resume.
package fmin
