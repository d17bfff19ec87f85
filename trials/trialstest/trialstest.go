// Package trialstest is the conformance suite of [trials.Store]: the tests
// every store ([trials.Memory], the SQLite and PostgreSQL stores) must pass,
// under the race detector, and the benchmarks that compare stores.
//
// A store's tests call [Run] with a function that makes a fresh, empty
// store for each subtest, and its benchmarks call [Bench] likewise:
//
//	func TestConformance(t *testing.T) {
//		trialstest.Run(t, func(t *testing.T) trials.Store {
//			s := newEmptyStore(t)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Each clause of the Store documentation is one parallel subtest (OpenCreate,
// ClaimConcurrent, ReserveExpiredLease, ChangesConcurrent, ...), so that
// -run selects one and a failure names the clause it breaks. The suite uses
// only the Store interface, never a store's internals. The Close subtest
// closes its store itself, so the cleanup newStore registers must accept a
// second Close.
//
// Where the Store documentation leaves a detail open, the suite expects
// what [trials.Memory] does and the DESIGN implies: ErrNotFound from every
// method for an unknown experiment, and for an unknown trial (or a claimed
// one without values) from Get, Heartbeat, Report, Finish, Attachment,
// Requeue and Cancel; a released ID is never handed out again and cannot
// be proposed (ErrConflict); Requeue and Cancel leave a finished trial's
// Seq alone; a new experiment has Seq 0 and Experiments reports the Seq
// that Changes returns; Finish with a state other than done or error is an
// error; no slice or map passed in or returned is shared with the store.
//
// Stores treat the space JSON, fingerprint and values as opaque; the suite
// uses a one-parameter space and values of length one (NaN included, as an
// inactive hyperparameter would be).
//
// Optional capabilities: the Wait, Load and batch clauses skip for a store
// that does not implement [trials.Waiter], [trials.Loader] or
// [trials.Batcher].
//
// The suite is split by topic: experiments.go (Open, Experiments),
// claims.go (Claim, Propose, Release), leases.go (Reserve, Heartbeat,
// Finish, Requeue, Cancel, max attempts), reports.go, changes.go (Changes,
// paging, Wait), load.go, batch.go (ReserveN, FinishN), misc.go (attachments, isolation, Close) and
// bench.go (the benchmarks).
//
// Leases: the expiry tests give leases of 50ms and wait up to 3s for a
// store to see them expire, so a store whose clock is coarse (a database
// keeping seconds) still passes, only slower. The whole suite takes well
// under two seconds against [trials.Memory] with -race on two cores.
package trialstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
)

const (
	spaceJSON      = `{"hyperopt_space":1,"root":{"param":"x","dist":"uniform","low":0,"high":1}}`
	otherSpaceJSON = `{"hyperopt_space":1,"root":{"param":"y","dist":"uniform","low":0,"high":2}}`

	longTTL    = time.Hour              // a lease that does not expire during a test
	shortTTL   = 50 * time.Millisecond  // a lease that a test waits to expire
	expiryWait = 3 * time.Second        // how long a test waits for a store to see a lease expire
	workers    = 8                      // goroutines of the concurrent tests
	exp        = "exp"                  // the experiment most tests use
	noExp      = "no-such-experiment"   // an experiment never opened
	noID       = trials.ID(1 << 40)     // a trial never claimed
	owner      = "worker-a"             // the default owner of leases
	seed       = 42                     // the seed of spec
	fp         = "fingerprint-1"        // the fingerprint of spec
	otherFP    = "fingerprint-2"        // another space's fingerprint
	algorithm  = "random"               // the algorithm of spec
	algOptions = `{"k":1,"name":"opt"}` // its options
)

// Run runs the conformance suite against stores made by newStore, one fresh
// store per subtest. The subtests run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) trials.Store) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			c.f(t, s)
		})
	}
}

var cases = []struct {
	name string
	f    func(t *testing.T, s trials.Store)
}{
	{"OpenCreate", testOpenCreate},
	{"OpenSpaceMismatch", testOpenSpaceMismatch},
	{"OpenAlgorithmMismatch", testOpenAlgorithmMismatch},
	{"OpenSeed", testOpenSeed},
	{"OpenMaxEvals", testOpenMaxEvals},
	{"OpenMaxAttempts", testOpenMaxAttempts},
	{"OpenSeedZero", testOpenSeedZero},
	{"OpenConcurrent", testOpenConcurrent},
	{"OpenInvalid", testOpenInvalid},
	{"Experiments", testExperiments},
	{"UnknownExperiment", testUnknownExperiment},

	{"ClaimDense", testClaimDense},
	{"ClaimBudget", testClaimBudget},
	{"ClaimRequestID", testClaimRequestID},
	{"ClaimConcurrent", testClaimConcurrent},

	{"ProposeClaimedUnlisted", testProposeClaimedUnlisted},
	{"ProposeQueued", testProposeQueued},
	{"ProposeOwner", testProposeOwner},
	{"ProposeTwice", testProposeTwice},
	{"ProposeNeverClaimed", testProposeNeverClaimed},
	{"Release", testRelease},
	{"ReleaseProposed", testReleaseProposed},

	{"ReserveLowestFirst", testReserveLowestFirst},
	{"ReserveNoQueued", testReserveNoQueued},
	{"ReserveConcurrent", testReserveConcurrent},
	{"ReserveExpiredLease", testReserveExpiredLease},
	{"ReserveMaxAttempts", testReserveMaxAttempts},
	{"Heartbeat", testHeartbeat},
	{"Report", testReport},
	{"ReportRetry", testReportRetry},
	{"ReportsPaging", testReportsPaging},
	{"ReportsNewAttempt", testReportsNewAttempt},

	{"FinishDone", testFinishDone},
	{"FinishNormalizes", testFinishNormalizes},
	{"FinishError", testFinishError},
	{"FinishStaleLease", testFinishStaleLease},
	{"FinishNotFound", testFinishNotFound},
	{"FinishNonFiniteExtras", testFinishNonFiniteExtras},
	{"FinishBadResult", testFinishBadResult},
	{"UnknownTrial", testUnknownTrial},

	{"Requeue", testRequeue},
	{"Cancel", testCancel},
	{"CancelStaleAttempt", testCancelStaleAttempt},
	{"RequeueStaleAttempt", testRequeueStaleAttempt},
	{"Attachments", testAttachments},
	{"Isolation", testIsolation},

	{"ChangesOrder", testChangesOrder},
	{"ChangesConcurrent", testChangesConcurrent},
	{"ChangesPaging", testChangesPaging},
	{"Wait", testWait},
	{"WaitClose", testWaitClose},
	{"ReserveN", testReserveN},
	{"ReserveNConcurrent", testReserveNConcurrent},
	{"FinishN", testFinishN},
	{"Load", testLoad},
	{"LoadAtomic", testLoadAtomic},

	{"Close", testClose},
}

// ---- helpers ----

// spec returns the spec of an experiment with the given key and budget.
func spec(key string, maxEvals int) trials.ExperimentSpec {
	return trials.ExperimentSpec{
		Key:              key,
		Space:            json.RawMessage(spaceJSON),
		Fingerprint:      fp,
		Seed:             seed,
		MaxEvals:         maxEvals,
		Algorithm:        algorithm,
		AlgorithmOptions: json.RawMessage(algOptions),
	}
}

var errNames = map[error]string{
	nil:                     "nil",
	trials.ErrNotFound:      "ErrNotFound",
	trials.ErrConflict:      "ErrConflict",
	trials.ErrBudget:        "ErrBudget",
	trials.ErrSpaceMismatch: "ErrSpaceMismatch",
	trials.ErrAlgorithm:     "ErrAlgorithm",
	trials.ErrSeed:          "ErrSeed",
	trials.ErrSettings:      "ErrSettings",
	trials.ErrResult:        "ErrResult",
	trials.ErrNoQueued:      "ErrNoQueued",
	trials.ErrClosed:        "ErrClosed",
}

// wantErr reports an error unless errors.Is(err, want); call describes the
// call that returned err.
func wantErr(tb testing.TB, err, want error, call string, args ...any) {
	tb.Helper()
	if !errors.Is(err, want) {
		name, ok := errNames[want]
		if !ok {
			name = want.Error()
		}
		tb.Errorf("%s = %v, want %s", fmt.Sprintf(call, args...), err, name)
	}
}

func open(tb testing.TB, s trials.Store, sp trials.ExperimentSpec) trials.Experiment {
	tb.Helper()
	e, err := s.Open(tb.Context(), sp)
	if err != nil {
		tb.Fatalf("Open(%q) = %v, want nil", sp.Key, err)
	}
	return e
}

func claim(tb testing.TB, s trials.Store, exp string, n int) []trials.ID {
	tb.Helper()
	ids, err := s.Claim(tb.Context(), exp, n, "")
	if err != nil || len(ids) != n {
		tb.Fatalf("Claim(%q, %d) = %v, %v, want %d IDs", exp, n, ids, err, n)
	}
	return ids
}

// value returns the values the helpers propose for trial id.
func value(id trials.ID) []float64 { return []float64{float64(id%1000) / 1000} }

func propose(tb testing.TB, s trials.Store, exp string, ps ...trials.Proposal) {
	tb.Helper()
	if err := s.Propose(tb.Context(), exp, ps); err != nil {
		tb.Fatalf("Propose(%q, %d proposals) = %v, want nil", exp, len(ps), err)
	}
}

// queue claims n trials and proposes them as queued.
func queue(tb testing.TB, s trials.Store, exp string, n int) []trials.ID {
	tb.Helper()
	ids := claim(tb, s, exp, n)
	ps := make([]trials.Proposal, n)
	for i, id := range ids {
		ps[i] = trials.Proposal{ID: id, Values: value(id)}
	}
	propose(tb, s, exp, ps...)
	return ids
}

// start claims a trial and proposes it as running for owner, and returns it.
func start(tb testing.TB, s trials.Store, exp, owner string, ttl time.Duration) trials.Trial {
	tb.Helper()
	id := claim(tb, s, exp, 1)[0]
	propose(tb, s, exp, trials.Proposal{ID: id, Values: value(id), Owner: owner, LeaseTTL: ttl})
	return get(tb, s, exp, id)
}

func reserve(tb testing.TB, s trials.Store, exp, owner string, ttl time.Duration) trials.Trial {
	tb.Helper()
	t, err := s.Reserve(tb.Context(), exp, owner, ttl)
	if err != nil {
		tb.Fatalf("Reserve(%q, %q) = %v, want a trial", exp, owner, err)
	}
	return t
}

// reserveEventually calls Reserve until it stops returning ErrNoQueued, for
// up to expiryWait.
func reserveEventually(tb testing.TB, s trials.Store, exp, owner string, ttl time.Duration) trials.Trial {
	tb.Helper()
	deadline := time.Now().Add(expiryWait)
	for {
		t, err := s.Reserve(tb.Context(), exp, owner, ttl)
		if err == nil {
			return t
		}
		if !errors.Is(err, trials.ErrNoQueued) || time.Now().After(deadline) {
			tb.Fatalf("Reserve(%q, %q) after the lease expired = %v, want the trial with the expired lease", exp, owner, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(tb testing.TB, s trials.Store, exp string, id trials.ID) trials.Trial {
	tb.Helper()
	t, err := s.Get(tb.Context(), exp, id)
	if err != nil {
		tb.Fatalf("Get(%q, %d) = %v, want nil", exp, id, err)
	}
	return t
}

func finish(tb testing.TB, s trials.Store, exp string, l trials.Lease, state trials.State, r trials.Result) {
	tb.Helper()
	if err := s.Finish(tb.Context(), exp, l, state, r); err != nil {
		tb.Fatalf("Finish(%q, %+v, %v) = %v, want nil", exp, l, state, err)
	}
}

func changes(tb testing.TB, s trials.Store, exp string, since int64) ([]trials.Trial, int64) {
	tb.Helper()
	ts, next, err := s.Changes(tb.Context(), exp, since, 0)
	if err != nil {
		tb.Fatalf("Changes(%q, %d) = %v, want nil", exp, since, err)
	}
	return ts, next
}

// leases returns the current lease (trial and attempt) of each trial.
func leases(tb testing.TB, s trials.Store, exp string, ids ...trials.ID) []trials.Lease {
	tb.Helper()
	out := make([]trials.Lease, len(ids))
	for i, id := range ids {
		out[i] = get(tb, s, exp, id).Lease()
	}
	return out
}

func idsOf(ts []trials.Trial) []trials.ID {
	out := make([]trials.ID, len(ts))
	for i := range ts {
		out[i] = ts[i].ID
	}
	return out
}

func seqsOf(ts []trials.Trial) []int64 {
	out := make([]int64, len(ts))
	for i := range ts {
		out[i] = ts[i].Seq
	}
	return out
}

func increasing(seqs []int64) bool {
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			return false
		}
	}
	return true
}

// jsonEqual reports whether a and b are the same JSON value (a database may
// reformat the JSON it keeps).
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return reflect.DeepEqual(x, y)
}

func checkExperiment(tb testing.TB, call string, e trials.Experiment, sp trials.ExperimentSpec) {
	tb.Helper()
	attempts := sp.MaxAttempts
	if attempts == 0 {
		attempts = trials.DefaultMaxAttempts
	}
	if e.Key != sp.Key || e.Fingerprint != sp.Fingerprint || e.Seed != sp.Seed || e.MaxEvals != sp.MaxEvals || e.Algorithm != sp.Algorithm || e.MaxAttempts != attempts {
		tb.Errorf("%s = key %q, fingerprint %q, seed %d, max evals %d, algorithm %q, max attempts %d; want %q, %q, %d, %d, %q, %d",
			call, e.Key, e.Fingerprint, e.Seed, e.MaxEvals, e.Algorithm, e.MaxAttempts, sp.Key, sp.Fingerprint, sp.Seed, sp.MaxEvals, sp.Algorithm, attempts)
	}
	if !jsonEqual(e.Space, sp.Space) {
		tb.Errorf("%s: space %s, want %s", call, e.Space, sp.Space)
	}
	if !jsonEqual(e.AlgorithmOptions, sp.AlgorithmOptions) {
		tb.Errorf("%s: algorithm options %s, want %s", call, e.AlgorithmOptions, sp.AlgorithmOptions)
	}
}

// checkMismatch checks that err is a *MismatchError wrapping want, about
// what, that names the stored and the given setting.
func checkMismatch(tb testing.TB, call string, err, want error, what, stored, given string) {
	tb.Helper()
	wantErr(tb, err, want, "%s", call)
	var me *trials.MismatchError
	if !errors.As(err, &me) {
		tb.Errorf("%s = %v (%T), want a *trials.MismatchError", call, err, err)
		return
	}
	if me.Experiment != exp || me.What != what {
		tb.Errorf("%s = MismatchError{Experiment: %q, What: %q}, want %q, %q", call, me.Experiment, me.What, exp, what)
	}
	if !strings.Contains(me.Stored, stored) || !strings.Contains(me.Given, given) {
		tb.Errorf("%s = MismatchError{Stored: %q, Given: %q}, want them to name %q and %q", call, me.Stored, me.Given, stored, given)
	}
	if msg := err.Error(); !strings.Contains(msg, stored) || !strings.Contains(msg, given) {
		tb.Errorf("%s: error %q does not name both %q and %q", call, msg, stored, given)
	}
}

// experiment returns the stored experiment key, read with Experiments.
func experiment(tb testing.TB, s trials.Store, key string) trials.Experiment {
	tb.Helper()
	es, err := s.Experiments(tb.Context())
	if err != nil {
		tb.Fatalf("Experiments() = %v, want nil", err)
	}
	for _, e := range es {
		if e.Key == key {
			return e
		}
	}
	tb.Fatalf("Experiments() = %d experiments without %q", len(es), key)
	return trials.Experiment{}
}
