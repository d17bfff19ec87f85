// Package faults holds the fault and load tests of distributed searches:
// a driver and worker processes (this package's test binary, run again as
// a child) sharing a real SQLite file or a real PostgreSQL server, with
// workers killed with SIGKILL on a seeded schedule and the server
// restarted mid-search. Each test checks the store's accounting against
// evidence the store does not write: every worker appends a line when it
// starts and when it ends each evaluation to a file of its own.
//
// The package has no code outside its tests.
package faults
