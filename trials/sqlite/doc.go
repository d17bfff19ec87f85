// Package sqlite is a trials.Store kept in an SQLite file, for searches whose
// processes share one machine: a driver and its workers, or peers, each
// opening the same file. It is pure Go (through database/sql and the
// modernc.org/sqlite driver), so it needs no C toolchain.
//
// # Concurrency
//
// The file is in WAL mode: readers never block the writer nor each other.
// Every write is one IMMEDIATE transaction, so that a transaction takes the
// file's write lock when it begins and never fails half-way because another
// process wrote first. A Store writes through one connection (the writes of
// its goroutines queue in the process) and reads through a small pool.
// Between processes, a writer that finds the file locked waits (the busy
// timeout, Options.BusyTimeout), and a busy error that still comes out of
// SQLite is retried by the store with a growing, jittered backoff, until
// the caller's context ends or Options.RetryTimeout (1 minute) passes: a
// call fails as busy only when another connection held the write lock for
// that long.
//
// Every write that changes a trial increments the experiment's sequence
// number inside its transaction and stamps the trial with it. SQLite runs
// one write transaction at a time, so commits happen in sequence order and
// Changes never misses a change. Reports have their own sequence number.
//
// # Durability
//
// A call that returned nil has committed. Everything committed survives the
// end of the process that wrote it, however it ends (a kill -9 included):
// the write-ahead log is in the operating system's hands once a commit
// returns, and the next Open recovers it. With the default synchronous mode
// (NORMAL) the log is flushed to the disk at checkpoints, not at every
// commit: a power loss or an operating system crash keeps the file
// consistent but may undo the transactions committed since the last
// checkpoint (at most about the last thousand pages written). A lost Finish
// then leaves its trial running; its lease expires and the trial is
// evaluated again. Options.SyncFull makes every commit durable against
// power loss too, at the price of a flush of the log per write.
//
// # Leases and clock
//
// Leases are measured by the clock of the process that calls the store
// (time.Now, or Options.Now): the processes of one machine share it.
// Times are kept in nanoseconds since 1970 (UTC), which covers the years
// 1678 to 2262; the zero time.Time is kept as 0, so an instant at exactly
// 1970-01-01T00:00:00Z reads back as the zero time.
//
// # Waiting
//
// Store implements trials.Waiter: a waiter in the process that made a change
// wakes at once; a change made by another process is seen by polling the
// experiment's sequence number (a read of one small row) every
// Options.PollInterval, 5ms by default, while the experiment changes, and 5
// times less often (25ms) once the Store has seen no change for a second.
// A driver and workers of a quick objective hand each trial over through
// these polls, so their interval bounds such a search's rate: with TPE, whose
// queue holds twice as many trials as there are workers, 5ms instead of 25ms
// roughly tripled the trials per second of one and two worker processes.
// An idle waiter costs what it did with a 25ms poll.
//
// # Schema
//
// The file carries PRAGMA application_id 0x48594f54 ("HYOT") and PRAGMA
// user_version, the version of the schema below (1). Open creates the
// schema in an empty file and refuses, with an error wrapping
// trials.ErrSchema, a file written by a newer version or by another
// application. It never changes a file that is not one of its stores. The
// tables (version 1):
//
//	experiments(id INTEGER PRIMARY KEY, key TEXT UNIQUE, space BLOB,
//	    fingerprint TEXT, seed INTEGER (the uint64's bits), max_evals,
//	    max_attempts, algorithm TEXT, algorithm_options BLOB, created
//	    (ns), claimed, next_id, seq, report_seq)
//	trials(exp, id, state, vals BLOB, owner, attempt, lease_until,
//	    booked, started, ended (ns), seq, loss, status, loss_variance,
//	    true_loss (float64 bits as INTEGER), has_true_loss, extras (JSON),
//	    err, stack, attachments (JSON list of names);
//	    PRIMARY KEY (exp, id))
//	claims(exp, request, first_id, n; PRIMARY KEY (exp, request))
//	reports(exp, seq, id, attempt, step, value (float64 bits);
//	    PRIMARY KEY (exp, seq))
//	attachments(exp, id, name, data BLOB; UNIQUE (exp, id, name))
//
// A trial's state is its trials.State; state 0 marks a released ID, which
// Claim handed out and Release gave back (a claimed ID without values has
// no row). Values are the little-endian bits of each float64, so a NaN
// (an inactive hyperparameter) reads back exactly. Indexes: trials
// (exp, seq), so that Changes since s costs in proportion to the changes;
// trials (exp, id) for queued and for running trials, so that Reserve takes
// the lowest queued ID or the lowest expired lease without a scan; reports
// (exp, id, attempt, step, seq), so that a report's retry and a trial's
// reports cost in proportion to that trial's reports. The queries name
// their index (INDEXED BY), so that no plan falls back to a scan.
package sqlite
