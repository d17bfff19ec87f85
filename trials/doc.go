// Package trials records the trials of a search: what was evaluated, where
// each trial is in its life, and how it went.
//
// A [Store] keeps experiments and their trials. [Memory] is the default,
// in-memory one; package trials/sqlite keeps them in an SQLite file (one
// machine, several processes) and package trials/postgres in a PostgreSQL
// database (many machines). Every store passes the conformance suite in
// package trials/trialstest, and beyond the Store interface implements the
// optional [Waiter] (wake-ups instead of polling) and [Loader] (a whole
// experiment written at once, which [Import] uses).
//
// # Several writers
//
// Several goroutines and processes may share one experiment. The rules that
// keep them from stepping on each other:
//
//   - every call that changes a trial names the attempt it acts on (a
//     [Lease]): a finish, heartbeat, report, cancel or requeue of an attempt
//     that another evaluator took over is refused with [ErrConflict];
//   - a lease that expires is taken over by the next Reserve, up to the
//     experiment's MaxAttempts; at the last attempt the trial ends in
//     [StateError] with the reason;
//   - Claim never goes past the budget, and a retried Claim with the same
//     request ID returns the same IDs; a retried Finish or Report with the
//     same lease and value succeeds;
//   - Open never silently changes what another process stored: another
//     space, algorithm, seed, budget or max attempts is a [*MismatchError],
//     unless the caller sets ExperimentSpec.Update for the budget and max
//     attempts;
//   - every change of a trial stamps the experiment's sequence number, so
//     [Store.Changes] reads what changed since a number, a page at a time,
//     never skipping a change that committed late; intermediate reports
//     have a sequence of their own ([Store.Reports]).
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
