// Package trials records the trials of a search: what was evaluated, where
// each trial is in its life, and how it went.
//
// A [Store] keeps experiments and their trials; [Memory] is the default,
// in-memory one, and the SQLite and PostgreSQL stores implement the same
// interface for durable and distributed searches. Every store must pass the
// conformance suite in package trialstest.
//
// Users and the driver hold a [Trials]: a view of one experiment, read
// incrementally from the store, that derives the best trial, the losses,
// the counts by state, the best config and HyperOpt's average best error
// once for every store. Algorithms read its [History], a columnar view by
// hyperparameter position.
//
// # Outcomes
//
// A trial ends in one of three states. [StateDone] with [StatusOK]: the
// objective returned a finite loss. [StateDone] with [StatusFail]: it
// reported failure, or returned a NaN or infinite loss; the algorithms treat
// it as a loss of +Inf, as HyperOpt does. [StateError]: it returned an error
// or panicked (the error text and stack are kept), or exceeded its time;
// the algorithms leave it out. All three count toward the budget.
// [StateCanceled]: stopped before it finished; a resumed search runs it
// again.
//
// [Export] and [Import] move a whole experiment, as a documented, versioned
// JSON document, between stores and processes.
package trials
