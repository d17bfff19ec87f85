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
// # Distributed searches
//
// Processes that share a durable store (package trials/sqlite on one
// machine, trials/postgres on many) share a search in one of two ways. A
// driver runs Minimize with Options.RemoteWorkers, which only proposes
// trials and keeps Options.QueueLen of them queued, and any number of
// [Worker] processes (the user's own program, linked with the objective)
// evaluate them. Or peers each run Minimize on the same experiment, and
// together create at most MaxEvals trials. A running trial is leased to its
// evaluator, which heartbeats it; a trial whose evaluator died is taken
// over when its lease expires, up to the experiment's max attempts.
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
// trials.StateError (with the stack of a panic), logged at Warn. Before any
// trial has succeeded, such an error stops the search with ErrObjective;
// after one has, the search goes on (Options.ErrorLimit changes both). A
// NaN or infinite loss is a failed trial (trials.StatusFail), which the
// algorithms treat as the worst loss. A trial running when the search times
// out or is canceled is recorded as canceled and run again on resume.
package fmin
