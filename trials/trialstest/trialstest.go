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
// Leases: the expiry tests give leases of 50ms and wait up to 3s for a
// store to see them expire, so a store whose clock is coarse (a database
// keeping seconds) still passes, only slower. The whole suite takes well
// under two seconds against [trials.Memory] with -race on two cores.
package trialstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
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
	{"Heartbeat", testHeartbeat},
	{"Report", testReport},

	{"FinishDone", testFinishDone},
	{"FinishNormalizes", testFinishNormalizes},
	{"FinishError", testFinishError},
	{"FinishStaleLease", testFinishStaleLease},
	{"FinishNotFound", testFinishNotFound},
	{"UnknownTrial", testUnknownTrial},

	{"Requeue", testRequeue},
	{"Cancel", testCancel},
	{"Attachments", testAttachments},
	{"Isolation", testIsolation},

	{"ChangesOrder", testChangesOrder},
	{"ChangesConcurrent", testChangesConcurrent},

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
	ts, next, err := s.Changes(tb.Context(), exp, since)
	if err != nil {
		tb.Fatalf("Changes(%q, %d) = %v, want nil", exp, since, err)
	}
	return ts, next
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

func sameValues(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) })
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
	if e.Key != sp.Key || e.Fingerprint != sp.Fingerprint || e.Seed != sp.Seed || e.MaxEvals != sp.MaxEvals || e.Algorithm != sp.Algorithm {
		tb.Errorf("%s = key %q, fingerprint %q, seed %d, max evals %d, algorithm %q; want %q, %q, %d, %d, %q",
			call, e.Key, e.Fingerprint, e.Seed, e.MaxEvals, e.Algorithm, sp.Key, sp.Fingerprint, sp.Seed, sp.MaxEvals, sp.Algorithm)
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

// ---- Open and Experiments ----

func testOpenCreate(t *testing.T, s trials.Store) {
	sp := spec(exp, 10)
	e, err := s.Open(t.Context(), sp)
	if err != nil {
		t.Fatalf("Open(new experiment) = %v, want nil", err)
	}
	checkExperiment(t, "Open(new experiment)", e, sp)
	if e.Claimed != 0 || e.NextID != 0 || e.Seq != 0 {
		t.Errorf("Open(new experiment) = Claimed %d, NextID %d, Seq %d; want 0, 0, 0", e.Claimed, e.NextID, e.Seq)
	}
	if e.Created.IsZero() {
		t.Errorf("Open(new experiment).Created is zero, want the time it was created")
	}

	again := open(t, s, sp)
	checkExperiment(t, "Open(existing, same spec)", again, sp)
	if !again.Created.Equal(e.Created) {
		t.Errorf("Open(existing, same spec).Created = %v, want %v", again.Created, e.Created)
	}

	// Another key is another experiment, with its own IDs.
	open(t, s, spec("other", 10))
	claim(t, s, exp, 2)
	if ids := claim(t, s, "other", 1); ids[0] != 0 {
		t.Errorf("Claim(%q, 1) = %v after 2 claims in %q, want [0]", "other", ids, exp)
	}
	if e := open(t, s, sp); e.Claimed != 2 || e.NextID != 2 {
		t.Errorf("Open(existing) after Claim(2) = Claimed %d, NextID %d; want 2, 2", e.Claimed, e.NextID)
	}
}

func testOpenSpaceMismatch(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 10))
	sp := spec(exp, 20)
	sp.Fingerprint, sp.Space = otherFP, json.RawMessage(otherSpaceJSON)
	_, err := s.Open(t.Context(), sp)
	checkMismatch(t, "Open(other fingerprint)", err, trials.ErrSpaceMismatch, "space", fp, otherFP)

	// The refused Open changed nothing.
	checkExperiment(t, "Experiments() after a refused Open", experiment(t, s, exp), spec(exp, 10))
}

func testOpenAlgorithmMismatch(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 10))

	sp := spec(exp, 20)
	sp.Algorithm = "tpe"
	_, err := s.Open(t.Context(), sp)
	checkMismatch(t, "Open(other algorithm)", err, trials.ErrAlgorithm, "algorithm", algorithm, "tpe")

	sp = spec(exp, 20)
	sp.AlgorithmOptions = json.RawMessage(`{"k":2}`)
	_, err = s.Open(t.Context(), sp)
	wantErr(t, err, trials.ErrAlgorithm, "Open(other algorithm options)")
	var me *trials.MismatchError
	if errors.As(err, &me) && me.What != "algorithm" {
		t.Errorf("Open(other algorithm options) = MismatchError{What: %q}, want %q", me.What, "algorithm")
	}

	// The refused Opens changed nothing.
	checkExperiment(t, "Experiments() after refused Opens", experiment(t, s, exp), spec(exp, 10))

	// An empty algorithm takes the stored one.
	sp = spec(exp, 0)
	sp.Algorithm, sp.AlgorithmOptions = "", nil
	e, err := s.Open(t.Context(), sp)
	if err != nil {
		t.Fatalf("Open(empty algorithm) = %v, want nil", err)
	}
	checkExperiment(t, "Open(empty algorithm)", e, spec(exp, 10))
}

func testOpenSeed(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 10))

	sp := spec(exp, 20)
	sp.Seed = 7
	_, err := s.Open(t.Context(), sp)
	checkMismatch(t, "Open(seed 7)", err, trials.ErrSeed, "seed", "42", "7")
	checkExperiment(t, "Experiments() after a refused Open", experiment(t, s, exp), spec(exp, 10))

	sp = spec(exp, 0)
	sp.Seed = 0
	e, err := s.Open(t.Context(), sp)
	if err != nil {
		t.Fatalf("Open(seed 0) = %v, want nil", err)
	}
	if e.Seed != seed {
		t.Errorf("Open(seed 0).Seed = %d, want the stored %d", e.Seed, seed)
	}
}

func testOpenMaxEvals(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 2))
	claim(t, s, exp, 2)
	_, err := s.Claim(t.Context(), exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) with 2 of 2 claimed")

	// MaxEvals 0 keeps the budget.
	if e := open(t, s, spec(exp, 0)); e.MaxEvals != 2 || e.Claimed != 2 {
		t.Errorf("Open(MaxEvals 0) = MaxEvals %d, Claimed %d; want 2, 2", e.MaxEvals, e.Claimed)
	}
	_, err = s.Claim(t.Context(), exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) after Open(MaxEvals 0)")

	// A non-zero MaxEvals sets it.
	if e := open(t, s, spec(exp, 4)); e.MaxEvals != 4 {
		t.Errorf("Open(MaxEvals 4).MaxEvals = %d, want 4", e.MaxEvals)
	}
	ids, err := s.Claim(t.Context(), exp, 5, "")
	if err != nil || !slices.Equal(ids, []trials.ID{2, 3}) {
		t.Errorf("Claim(5) after Open(MaxEvals 4) = %v, %v; want [2 3], nil", ids, err)
	}
	_, err = s.Claim(t.Context(), exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) with 4 of 4 claimed")
}

func testExperiments(t *testing.T, s trials.Store) {
	es, err := s.Experiments(t.Context())
	if err != nil || len(es) != 0 {
		t.Errorf("Experiments() of an empty store = %d experiments, %v; want 0, nil", len(es), err)
	}
	for i, k := range []string{"b", "c", "a"} {
		open(t, s, spec(k, i+1))
	}
	claim(t, s, "c", 2)
	es, err = s.Experiments(t.Context())
	if err != nil {
		t.Fatalf("Experiments() = %v, want nil", err)
	}
	var keys []string
	for _, e := range es {
		keys = append(keys, e.Key)
	}
	if !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Fatalf("Experiments() = keys %q, want [a b c]", keys)
	}
	for i, budget := range []int{3, 1, 2} {
		checkExperiment(t, fmt.Sprintf("Experiments()[%d]", i), es[i], spec(es[i].Key, budget))
	}
	if c := es[2]; c.Claimed != 2 || c.NextID != 2 {
		t.Errorf("Experiments()[c] after Claim(2) = Claimed %d, NextID %d; want 2, 2", c.Claimed, c.NextID)
	}
}

func testUnknownExperiment(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	queue(t, s, exp, 1)
	l := trials.Lease{ID: 0, Attempt: 1}
	_, err := s.Claim(ctx, noExp, 1, "")
	wantErr(t, err, trials.ErrNotFound, "Claim(unknown experiment)")
	wantErr(t, s.Propose(ctx, noExp, []trials.Proposal{{ID: 0, Values: value(0)}}), trials.ErrNotFound, "Propose(unknown experiment)")
	wantErr(t, s.Release(ctx, noExp, []trials.ID{0}), trials.ErrNotFound, "Release(unknown experiment)")
	_, err = s.Reserve(ctx, noExp, owner, longTTL)
	wantErr(t, err, trials.ErrNotFound, "Reserve(unknown experiment)")
	wantErr(t, s.Heartbeat(ctx, noExp, l, longTTL), trials.ErrNotFound, "Heartbeat(unknown experiment)")
	wantErr(t, s.Report(ctx, noExp, l, trials.Report{Step: 1, Value: 1}), trials.ErrNotFound, "Report(unknown experiment)")
	wantErr(t, s.Finish(ctx, noExp, l, trials.StateDone, trials.OK(1)), trials.ErrNotFound, "Finish(unknown experiment)")
	wantErr(t, s.Requeue(ctx, noExp, []trials.ID{0}), trials.ErrNotFound, "Requeue(unknown experiment)")
	wantErr(t, s.Cancel(ctx, noExp, []trials.ID{0}), trials.ErrNotFound, "Cancel(unknown experiment)")
	_, err = s.Get(ctx, noExp, 0)
	wantErr(t, err, trials.ErrNotFound, "Get(unknown experiment)")
	_, _, err = s.Changes(ctx, noExp, 0)
	wantErr(t, err, trials.ErrNotFound, "Changes(unknown experiment)")
	_, err = s.Attachment(ctx, noExp, 0, "a")
	wantErr(t, err, trials.ErrNotFound, "Attachment(unknown experiment)")
}

// ---- Claim ----

func testClaimDense(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0)) // no budget
	if ids := claim(t, s, exp, 3); !slices.Equal(ids, []trials.ID{0, 1, 2}) {
		t.Errorf("Claim(3) = %v, want [0 1 2]", ids)
	}
	if ids := claim(t, s, exp, 2); !slices.Equal(ids, []trials.ID{3, 4}) {
		t.Errorf("Claim(2) = %v, want [3 4]", ids)
	}
	if ids := claim(t, s, exp, 100); ids[0] != 5 || ids[99] != 104 {
		t.Errorf("Claim(100) = [%d ... %d], want [5 ... 104]", ids[0], ids[99])
	}
	if e := experiment(t, s, exp); e.Claimed != 105 || e.NextID != 105 {
		t.Errorf("Experiments() after claiming 105 = Claimed %d, NextID %d; want 105, 105", e.Claimed, e.NextID)
	}
}

func testClaimBudget(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 5))
	if ids := claim(t, s, exp, 3); !slices.Equal(ids, []trials.ID{0, 1, 2}) {
		t.Errorf("Claim(3) = %v, want [0 1 2]", ids)
	}
	ids, err := s.Claim(t.Context(), exp, 3, "")
	if err != nil || !slices.Equal(ids, []trials.ID{3, 4}) {
		t.Errorf("Claim(3) with 2 left = %v, %v; want [3 4], nil", ids, err)
	}
	for range 2 {
		ids, err = s.Claim(t.Context(), exp, 1, "")
		wantErr(t, err, trials.ErrBudget, "Claim(1) with 5 of 5 claimed")
		if len(ids) != 0 {
			t.Errorf("Claim(1) with 5 of 5 claimed = %v, want no IDs", ids)
		}
	}
	if e := experiment(t, s, exp); e.Claimed != 5 || e.NextID != 5 {
		t.Errorf("Experiments() = Claimed %d, NextID %d; want 5, 5", e.Claimed, e.NextID)
	}
}

func testClaimRequestID(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 4))
	first, err := s.Claim(ctx, exp, 2, "req-1")
	if err != nil || !slices.Equal(first, []trials.ID{0, 1}) {
		t.Fatalf(`Claim(2, "req-1") = %v, %v; want [0 1], nil`, first, err)
	}
	again, err := s.Claim(ctx, exp, 2, "req-1")
	if err != nil || !slices.Equal(again, first) {
		t.Errorf(`Claim(2, "req-1") again = %v, %v; want %v, nil`, again, err, first)
	}
	other, err := s.Claim(ctx, exp, 2, "req-2")
	if err != nil || !slices.Equal(other, []trials.ID{2, 3}) {
		t.Errorf(`Claim(2, "req-2") = %v, %v; want [2 3], nil`, other, err)
	}
	// Once the budget is used up, a retried request still gets its IDs.
	again, err = s.Claim(ctx, exp, 2, "req-1")
	if err != nil || !slices.Equal(again, first) {
		t.Errorf(`Claim(2, "req-1") with the budget used up = %v, %v; want %v, nil`, again, err, first)
	}
	_, err = s.Claim(ctx, exp, 1, "req-3")
	wantErr(t, err, trials.ErrBudget, `Claim(1, "req-3") with 4 of 4 claimed`)
	if e := experiment(t, s, exp); e.Claimed != 4 || e.NextID != 4 {
		t.Errorf("Experiments() = Claimed %d, NextID %d; want 4, 4", e.Claimed, e.NextID)
	}
}

func testClaimConcurrent(t *testing.T, s trials.Store) {
	const budget = 60
	ctx := t.Context()
	open(t, s, spec(exp, budget))
	var (
		mu  sync.Mutex
		got []trials.ID
		wg  sync.WaitGroup
	)
	for g := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				n := 1 + (g+i)%3
				req := fmt.Sprintf("w%d-%d", g, i)
				ids, err := s.Claim(ctx, exp, n, req)
				if errors.Is(err, trials.ErrBudget) {
					return
				}
				if err != nil || len(ids) == 0 || len(ids) > n {
					t.Errorf("Claim(%d, %q) = %v, %v; want 1 to %d IDs", n, req, ids, err, n)
					return
				}
				// A retry of the same request gets the same IDs.
				again, err := s.Claim(ctx, exp, n, req)
				if err != nil || !slices.Equal(again, ids) {
					t.Errorf("Claim(%d, %q) again = %v, %v; want %v, nil", n, req, again, err, ids)
				}
				mu.Lock()
				got = append(got, ids...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	want := make([]trials.ID, budget)
	for i := range want {
		want[i] = trials.ID(i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%d goroutines claiming a budget of %d got IDs %v, want each of 0..%d once", workers, budget, got, budget-1)
	}
	if e := experiment(t, s, exp); e.Claimed != budget || e.NextID != budget {
		t.Errorf("Experiments() = Claimed %d, NextID %d; want %d, %d", e.Claimed, e.NextID, budget, budget)
	}
}

// ---- Propose and Release ----

func testProposeClaimedUnlisted(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0))
	ids := claim(t, s, exp, 3)
	if ts, _ := changes(t, s, exp, 0); len(ts) != 0 {
		t.Errorf("Changes(0) with 3 claimed trials and no values = %v, want none", idsOf(ts))
	}
	propose(t, s, exp, trials.Proposal{ID: ids[1], Values: value(ids[1])})
	if ts, _ := changes(t, s, exp, 0); !slices.Equal(idsOf(ts), []trials.ID{ids[1]}) {
		t.Errorf("Changes(0) with trial %d proposed = %v, want [%d]", ids[1], idsOf(ts), ids[1])
	}
	_, err := s.Get(t.Context(), exp, ids[0])
	wantErr(t, err, trials.ErrNotFound, "Get(claimed trial without values)")
	if tr := reserve(t, s, exp, owner, longTTL); tr.ID != ids[1] {
		t.Errorf("Reserve() = trial %d, want %d", tr.ID, ids[1])
	}
	_, err = s.Reserve(t.Context(), exp, owner, longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with only claimed trials left")
}

func testProposeQueued(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0))
	ids := claim(t, s, exp, 2)
	propose(t, s, exp,
		trials.Proposal{ID: ids[0], Values: []float64{0.25}},
		trials.Proposal{ID: ids[1], Values: []float64{math.NaN()}})
	for i, want := range [][]float64{{0.25}, {math.NaN()}} {
		tr := get(t, s, exp, ids[i])
		if tr.ID != ids[i] || tr.Experiment != exp || tr.State != trials.StateQueued || tr.Attempt != 0 || tr.Owner != "" {
			t.Errorf("Get(%d) after Propose = ID %d, experiment %q, %v, attempt %d, owner %q; want %d, %q, queued, 0, \"\"",
				ids[i], tr.ID, tr.Experiment, tr.State, tr.Attempt, tr.Owner, ids[i], exp)
		}
		if !sameValues(tr.Values, want) {
			t.Errorf("Get(%d).Values = %v, want %v", ids[i], tr.Values, want)
		}
		if tr.Booked.IsZero() {
			t.Errorf("Get(%d).Booked is zero, want the time it was proposed", ids[i])
		}
		if tr.Seq <= 0 {
			t.Errorf("Get(%d).Seq = %d, want > 0", ids[i], tr.Seq)
		}
	}
}

func testProposeOwner(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0))
	before := time.Now()
	tr := start(t, s, exp, owner, longTTL)
	if tr.State != trials.StateRunning || tr.Attempt != 1 || tr.Owner != owner {
		t.Errorf("Get() after Propose with Owner = %v, attempt %d, owner %q; want running, 1, %q", tr.State, tr.Attempt, tr.Owner, owner)
	}
	if !tr.LeaseUntil.After(before.Add(longTTL / 2)) {
		t.Errorf("Get().LeaseUntil = %v after Propose with a lease of %v at %v, want about %v", tr.LeaseUntil, longTTL, before, before.Add(longTTL))
	}
	if tr.Started.IsZero() || tr.Booked.IsZero() {
		t.Errorf("Get() after Propose with Owner: Started %v, Booked %v; want both set", tr.Started, tr.Booked)
	}
	if tr.Lease() != (trials.Lease{ID: tr.ID, Attempt: 1}) {
		t.Errorf("Lease() = %+v, want {ID:%d Attempt:1}", tr.Lease(), tr.ID)
	}
	_, err := s.Reserve(t.Context(), exp, "worker-b", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with the only trial running for its proposer")
	if err := s.Heartbeat(t.Context(), exp, tr.Lease(), longTTL); err != nil {
		t.Errorf("Heartbeat(proposer's lease) = %v, want nil", err)
	}
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(0.5))
}

func testProposeTwice(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	ids := claim(t, s, exp, 3)

	// Queued.
	p := trials.Proposal{ID: ids[0], Values: []float64{0.5}}
	propose(t, s, exp, p)
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{p}), nil, "Propose(queued trial again, same values)")
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: ids[0], Values: []float64{0.6}}}), trials.ErrConflict, "Propose(queued trial again, other values)")
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: ids[0], Values: []float64{0.5}, Owner: owner, LeaseTTL: longTTL}}), trials.ErrConflict, "Propose(queued trial again, same values, with an owner)")
	if tr := get(t, s, exp, ids[0]); tr.State != trials.StateQueued || !sameValues(tr.Values, p.Values) {
		t.Errorf("Get(%d) after refused Proposes = %v %v, want queued %v", ids[0], tr.State, tr.Values, p.Values)
	}

	// Running for its proposer; NaN values compare equal.
	p = trials.Proposal{ID: ids[1], Values: []float64{math.NaN()}, Owner: owner, LeaseTTL: longTTL}
	propose(t, s, exp, p)
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{p}), nil, "Propose(running trial again, same values [NaN] and owner)")
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: ids[1], Values: []float64{0.1}, Owner: owner, LeaseTTL: longTTL}}), trials.ErrConflict, "Propose(running trial again, other values)")
	if tr := get(t, s, exp, ids[1]); tr.State != trials.StateRunning || tr.Attempt != 1 || !sameValues(tr.Values, p.Values) {
		t.Errorf("Get(%d) after Proposes = %v, attempt %d, %v; want running, 1, [NaN]", ids[1], tr.State, tr.Attempt, tr.Values)
	}
	// Once it has moved on, the first proposal is no longer a retry.
	finish(t, s, exp, trials.Lease{ID: ids[1], Attempt: 1}, trials.StateDone, trials.OK(1))
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{p}), trials.ErrConflict, "Propose(finished trial again, same values)")

	// Twice in one call with different values.
	err := s.Propose(ctx, exp, []trials.Proposal{{ID: ids[2], Values: []float64{0.1}}, {ID: ids[2], Values: []float64{0.2}}})
	wantErr(t, err, trials.ErrConflict, "Propose(trial %d twice in one call, different values)", ids[2])
}

func testProposeNeverClaimed(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: 0, Values: value(0)}}), trials.ErrConflict, "Propose(trial 0, nothing claimed)")
	claim(t, s, exp, 2)
	for _, id := range []trials.ID{2, 5, -1, noID} {
		wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: id, Values: value(id)}}), trials.ErrConflict, "Propose(trial %d, never claimed)", id)
	}
	if ts, _ := changes(t, s, exp, 0); len(ts) != 0 {
		t.Errorf("Changes(0) after refused Proposes = %v, want none", idsOf(ts))
	}
}

func testRelease(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 3))
	ids := claim(t, s, exp, 3)
	propose(t, s, exp, trials.Proposal{ID: ids[0], Values: value(ids[0])})
	if err := s.Release(ctx, exp, []trials.ID{ids[1]}); err != nil {
		t.Fatalf("Release(claimed trial %d) = %v, want nil", ids[1], err)
	}
	// The budget is given back, and IDs are not reused.
	got, err := s.Claim(ctx, exp, 2, "")
	if err != nil || !slices.Equal(got, []trials.ID{3}) {
		t.Errorf("Claim(2) after releasing one of 3 = %v, %v; want [3], nil", got, err)
	}
	_, err = s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) with 3 of 3 claimed")
	if e := experiment(t, s, exp); e.Claimed != 3 || e.NextID != 4 {
		t.Errorf("Experiments() = Claimed %d, NextID %d; want 3, 4", e.Claimed, e.NextID)
	}

	// The released ID never gets values and is in no listing.
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: ids[1], Values: value(ids[1])}}), trials.ErrConflict, "Propose(released trial)")
	propose(t, s, exp, trials.Proposal{ID: ids[2], Values: value(ids[2])}, trials.Proposal{ID: 3, Values: value(3)})
	_, err = s.Get(ctx, exp, ids[1])
	wantErr(t, err, trials.ErrNotFound, "Get(released trial)")
	if ts, _ := changes(t, s, exp, 0); !slices.Equal(idsOf(ts), []trials.ID{0, 2, 3}) {
		t.Errorf("Changes(0) = %v, want [0 2 3] (1 was released)", idsOf(ts))
	}
	for range 3 {
		if tr := reserve(t, s, exp, owner, longTTL); tr.ID == ids[1] {
			t.Errorf("Reserve() = released trial %d", tr.ID)
		}
	}
}

func testReleaseProposed(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 2))
	ids := queue(t, s, exp, 2)
	wantErr(t, s.Release(ctx, exp, []trials.ID{ids[0]}), trials.ErrConflict, "Release(proposed trial)")
	tr := reserve(t, s, exp, owner, longTTL)
	wantErr(t, s.Release(ctx, exp, []trials.ID{tr.ID}), trials.ErrConflict, "Release(running trial)")
	_, err := s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrBudget, "Claim(1) after refused Releases")
	if got := get(t, s, exp, ids[1]); got.State != trials.StateQueued {
		t.Errorf("Get(%d) after a refused Release = %v, want queued", ids[1], got.State)
	}
}

// ---- Reserve, Heartbeat, Report ----

func testReserveLowestFirst(t *testing.T, s trials.Store) {
	open(t, s, spec(exp, 0))
	ids := claim(t, s, exp, 5)
	for _, i := range []int{3, 1, 4, 0, 2} {
		propose(t, s, exp, trials.Proposal{ID: ids[i], Values: value(ids[i])})
	}
	before := time.Now()
	for _, want := range ids {
		tr := reserve(t, s, exp, owner, longTTL)
		if tr.ID != want {
			t.Errorf("Reserve() = trial %d, want %d (the lowest queued ID)", tr.ID, want)
		}
		if tr.State != trials.StateRunning || tr.Owner != owner || tr.Attempt != 1 {
			t.Errorf("Reserve() = %v, owner %q, attempt %d; want running, %q, 1", tr.State, tr.Owner, tr.Attempt, owner)
		}
		if !tr.LeaseUntil.After(before.Add(longTTL/2)) || tr.Started.IsZero() {
			t.Errorf("Reserve() = LeaseUntil %v, Started %v; want about %v and set", tr.LeaseUntil, tr.Started, before.Add(longTTL))
		}
		if !sameValues(tr.Values, value(tr.ID)) {
			t.Errorf("Reserve().Values = %v, want %v", tr.Values, value(tr.ID))
		}
		if g := get(t, s, exp, tr.ID); g.State != trials.StateRunning || g.Attempt != 1 || g.Owner != owner || g.Seq != tr.Seq {
			t.Errorf("Get(%d) after Reserve = %v, attempt %d, owner %q, seq %d; want running, 1, %q, %d", tr.ID, g.State, g.Attempt, g.Owner, g.Seq, owner, tr.Seq)
		}
	}
	_, err := s.Reserve(t.Context(), exp, owner, longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with all trials running")
}

func testReserveNoQueued(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	_, err := s.Reserve(ctx, exp, owner, longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() of an empty experiment")
	// One trial in each state but queued: running (a valid lease), done,
	// error and canceled.
	start(t, s, exp, owner, longTTL)
	tr := start(t, s, exp, owner, longTTL)
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(1))
	tr = start(t, s, exp, owner, longTTL)
	finish(t, s, exp, tr.Lease(), trials.StateError, trials.Result{Err: "boom"})
	id := queue(t, s, exp, 1)[0]
	if err := s.Cancel(ctx, exp, []trials.ID{id}); err != nil {
		t.Fatalf("Cancel(%d) = %v, want nil", id, err)
	}
	_, err = s.Reserve(ctx, exp, "worker-b", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with trials running (valid lease), done, error and canceled")
}

func testReserveConcurrent(t *testing.T, s trials.Store) {
	const n = 40
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	queue(t, s, exp, n)
	var (
		mu  sync.Mutex
		got = map[trials.ID]int{}
		wg  sync.WaitGroup
	)
	for g := range workers {
		wg.Go(func() {
			w := fmt.Sprintf("worker-%d", g)
			for {
				tr, err := s.Reserve(ctx, exp, w, longTTL)
				if errors.Is(err, trials.ErrNoQueued) {
					return
				}
				if err != nil {
					t.Errorf("Reserve(%q) = %v, want a trial or ErrNoQueued", w, err)
					return
				}
				if tr.State != trials.StateRunning || tr.Attempt != 1 || tr.Owner != w {
					t.Errorf("Reserve(%q) = trial %d %v, attempt %d, owner %q; want running, 1, %q", w, tr.ID, tr.State, tr.Attempt, tr.Owner, w)
				}
				mu.Lock()
				got[tr.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id := range trials.ID(n) {
		if got[id] != 1 {
			t.Errorf("%d goroutines reserving %d queued trials reserved trial %d %d times, want once", workers, n, id, got[id])
		}
	}
	if len(got) != n {
		t.Errorf("%d goroutines reserved %d distinct trials, want %d", workers, len(got), n)
	}
}

func testReserveExpiredLease(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	a := start(t, s, exp, owner, shortTTL) // trial 0: running for its proposer
	queue(t, s, exp, 1)                    // trial 1: queued
	// A queued trial comes before an expired lease.
	b := reserve(t, s, exp, owner, shortTTL)
	if b.ID != 1 {
		t.Fatalf("Reserve() = trial %d, want the queued trial 1", b.ID)
	}
	time.Sleep(shortTTL)
	got := map[trials.ID]trials.Trial{}
	for range 2 {
		tr := reserveEventually(t, s, exp, "worker-b", longTTL)
		if tr.State != trials.StateRunning || tr.Attempt != 2 || tr.Owner != "worker-b" {
			t.Errorf("Reserve() of an expired lease = trial %d %v, attempt %d, owner %q; want running, 2, %q", tr.ID, tr.State, tr.Attempt, tr.Owner, "worker-b")
		}
		got[tr.ID] = tr
	}
	if _, ok := got[a.ID]; !ok || len(got) != 2 {
		t.Fatalf("Reserve() twice after both leases expired = trials %v, want 0 and 1", slices.Sorted(maps.Keys(got)))
	}
	_, err := s.Reserve(ctx, exp, "worker-c", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with both trials taken over")

	for _, old := range []trials.Lease{a.Lease(), b.Lease()} {
		wantErr(t, s.Heartbeat(ctx, exp, old, longTTL), trials.ErrConflict, "Heartbeat(%+v) after the lease was taken over", old)
		wantErr(t, s.Report(ctx, exp, old, trials.Report{Step: 1, Value: 1}), trials.ErrConflict, "Report(%+v) after the lease was taken over", old)
		wantErr(t, s.Finish(ctx, exp, old, trials.StateDone, trials.OK(0.5)), trials.ErrConflict, "Finish(%+v) after the lease was taken over", old)
	}
	for _, tr := range got {
		finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(0.5))
	}
	// The old lease stays stale once the new attempt finished, even with
	// the same result.
	wantErr(t, s.Finish(ctx, exp, a.Lease(), trials.StateDone, trials.OK(0.5)), trials.ErrConflict, "Finish(%+v, same result) after attempt 2 finished", a.Lease())
	if tr := get(t, s, exp, a.ID); tr.State != trials.StateDone || tr.Attempt != 2 || tr.Owner != "worker-b" {
		t.Errorf("Get(%d) = %v, attempt %d, owner %q; want done, 2, %q", a.ID, tr.State, tr.Attempt, tr.Owner, "worker-b")
	}
}

func testHeartbeat(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, shortTTL)
	before := time.Now()
	if err := s.Heartbeat(ctx, exp, tr.Lease(), longTTL); err != nil {
		t.Fatalf("Heartbeat(%+v) = %v, want nil", tr.Lease(), err)
	}
	if g := get(t, s, exp, tr.ID); !g.LeaseUntil.After(before.Add(longTTL / 2)) {
		t.Errorf("Get().LeaseUntil after Heartbeat(%v) = %v, want about %v", longTTL, g.LeaseUntil, before.Add(longTTL))
	}
	time.Sleep(2 * shortTTL)
	_, err := s.Reserve(ctx, exp, "worker-b", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() after a heartbeat extended the only lease")

	wantErr(t, s.Heartbeat(ctx, exp, trials.Lease{ID: tr.ID, Attempt: 2}, longTTL), trials.ErrConflict, "Heartbeat(lease of a later attempt)")
	wantErr(t, s.Heartbeat(ctx, exp, trials.Lease{ID: tr.ID, Attempt: 0}, longTTL), trials.ErrConflict, "Heartbeat(lease of attempt 0)")
	q := queue(t, s, exp, 1)[0]
	wantErr(t, s.Heartbeat(ctx, exp, trials.Lease{ID: q, Attempt: 0}, longTTL), trials.ErrConflict, "Heartbeat(queued trial)")
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(1))
	wantErr(t, s.Heartbeat(ctx, exp, tr.Lease(), longTTL), trials.ErrConflict, "Heartbeat(finished trial)")
}

func testReport(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	_, seq := changes(t, s, exp, 0)
	want := []trials.Report{{Step: 1, Value: 0.9}, {Step: 2, Value: 0.8}, {Step: 3, Value: 0.7}}
	for _, r := range want {
		if err := s.Report(ctx, exp, tr.Lease(), r); err != nil {
			t.Fatalf("Report(%+v, %+v) = %v, want nil", tr.Lease(), r, err)
		}
	}
	if g := get(t, s, exp, tr.ID); !slices.Equal(g.Reports, want) {
		t.Errorf("Get().Reports = %v, want %v", g.Reports, want)
	}
	ts, next := changes(t, s, exp, seq)
	if len(ts) != 1 || ts[0].ID != tr.ID || !slices.Equal(ts[0].Reports, want) || ts[0].Seq <= seq || next <= seq {
		t.Errorf("Changes(%d) after 3 Reports = %v (seqs %v), next %d; want trial %d with %v, seq > %d", seq, idsOf(ts), seqsOf(ts), next, tr.ID, want, seq)
	}

	wantErr(t, s.Report(ctx, exp, trials.Lease{ID: tr.ID, Attempt: 2}, trials.Report{Step: 4}), trials.ErrConflict, "Report(lease of a later attempt)")
	q := queue(t, s, exp, 1)[0]
	wantErr(t, s.Report(ctx, exp, trials.Lease{ID: q, Attempt: 0}, trials.Report{Step: 1}), trials.ErrConflict, "Report(queued trial)")
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(0.7))
	wantErr(t, s.Report(ctx, exp, tr.Lease(), trials.Report{Step: 4}), trials.ErrConflict, "Report(finished trial)")
	if g := get(t, s, exp, tr.ID); !slices.Equal(g.Reports, want) {
		t.Errorf("Get().Reports after Finish = %v, want %v", g.Reports, want)
	}
}

// ---- Finish ----

func testFinishDone(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	r := trials.Result{Loss: 0.25, LossVariance: 0.01, TrueLoss: 0.3, HasTrueLoss: true, Extras: map[string]any{"epochs": 3, "note": "x"}}
	finish(t, s, exp, tr.Lease(), trials.StateDone, r)
	g := get(t, s, exp, tr.ID)
	want := r.Normalize()
	if g.State != trials.StateDone || g.Result.Status != trials.StatusOK || !g.Result.Equal(want) {
		t.Errorf("Get() after Finish(done, %+v) = %v %+v, want done %+v", r, g.State, g.Result, want)
	}
	if g.Ended.IsZero() || g.Ended.Before(g.Started) {
		t.Errorf("Get() after Finish: Started %v, Ended %v; want Ended set, not before Started", g.Started, g.Ended)
	}
	if g.Seq <= tr.Seq {
		t.Errorf("Get().Seq after Finish = %d, want > %d", g.Seq, tr.Seq)
	}

	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r), nil, "Finish(same lease, same result) again")
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, trials.OK(0.5)), trials.ErrConflict, "Finish(same lease, other loss)")
	r2 := r
	r2.Extras = map[string]any{"epochs": 4, "note": "x"}
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r2), trials.ErrConflict, "Finish(same lease, other extras)")
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateError, r), trials.ErrConflict, "Finish(same lease, same result, state error)")
	if g2 := get(t, s, exp, tr.ID); g2.State != trials.StateDone || !g2.Result.Equal(want) || g2.Seq != g.Seq {
		t.Errorf("Get() after refused Finishes = %v %+v seq %d, want unchanged: done %+v seq %d", g2.State, g2.Result, g2.Seq, want, g.Seq)
	}

	// A Finish with a state other than done or error is refused.
	tr = start(t, s, exp, owner, longTTL)
	for _, st := range []trials.State{trials.StateQueued, trials.StateRunning, trials.StateCanceled} {
		if err := s.Finish(ctx, exp, tr.Lease(), st, trials.OK(1)); err == nil {
			t.Errorf("Finish(state %v) = nil, want an error", st)
		}
	}
	if g := get(t, s, exp, tr.ID); g.State != trials.StateRunning {
		t.Errorf("Get() after refused Finishes = %v, want running", g.State)
	}
}

func testFinishNormalizes(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	for _, r := range []trials.Result{
		{Loss: math.NaN(), Status: trials.StatusOK},
		{Loss: math.NaN()},
		{Loss: math.Inf(1), Status: trials.StatusOK},
		{Loss: math.Inf(-1)},
		trials.Fail("diverged"),
		{Loss: 3, Status: trials.StatusFail},
	} {
		tr := start(t, s, exp, owner, longTTL)
		finish(t, s, exp, tr.Lease(), trials.StateDone, r)
		g := get(t, s, exp, tr.ID)
		if g.State != trials.StateDone || g.Result.Status != trials.StatusFail || !math.IsInf(g.Result.Loss, 1) || g.Result.Err != r.Err {
			t.Errorf("Get() after Finish(done, loss %v status %v err %q) = %v, status %v, loss %v, err %q; want done, fail, +Inf, %q",
				r.Loss, r.Status, r.Err, g.State, g.Result.Status, g.Result.Loss, g.Result.Err, r.Err)
		}
		wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r), nil, "Finish(done, loss %v status %v) again", r.Loss, r.Status)
	}
}

func testFinishError(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	r := trials.Result{Err: "objective: boom", Stack: "goroutine 7 [running]:\nmain.objective()\n"}
	finish(t, s, exp, tr.Lease(), trials.StateError, r)
	g := get(t, s, exp, tr.ID)
	if g.State != trials.StateError || g.Result.Err != r.Err || g.Result.Stack != r.Stack {
		t.Errorf("Get() after Finish(error) = %v, Err %q, Stack %q; want error, %q, %q", g.State, g.Result.Err, g.Result.Stack, r.Err, r.Stack)
	}
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateError, r), nil, "Finish(error, same result) again")
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateError, trials.Result{Err: "other"}), trials.ErrConflict, "Finish(error, other reason)")
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(done) of an error trial")
}

func testFinishStaleLease(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	for _, a := range []int{0, 2} {
		l := trials.Lease{ID: tr.ID, Attempt: a}
		wantErr(t, s.Finish(ctx, exp, l, trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) of a trial at attempt 1", l)
	}
	if g := get(t, s, exp, tr.ID); g.State != trials.StateRunning {
		t.Errorf("Get() after stale Finishes = %v, want running", g.State)
	}
	q := queue(t, s, exp, 1)[0]
	for _, a := range []int{0, 1} {
		l := trials.Lease{ID: q, Attempt: a}
		wantErr(t, s.Finish(ctx, exp, l, trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) of a queued trial", l)
	}
	if g := get(t, s, exp, q); g.State != trials.StateQueued {
		t.Errorf("Get(queued) after refused Finishes = %v, want queued", g.State)
	}
}

func testFinishNotFound(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	start(t, s, exp, owner, longTTL)
	l := trials.Lease{ID: noID, Attempt: 1}
	wantErr(t, s.Finish(ctx, exp, l, trials.StateDone, trials.OK(1)), trials.ErrNotFound, "Finish(unknown trial)")
	wantErr(t, s.Finish(ctx, noExp, trials.Lease{ID: 0, Attempt: 1}, trials.StateDone, trials.OK(1)), trials.ErrNotFound, "Finish(unknown experiment)")
}

func testUnknownTrial(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	start(t, s, exp, owner, longTTL)
	claimed := claim(t, s, exp, 1)[0]
	for _, id := range []trials.ID{noID, claimed} {
		l := trials.Lease{ID: id, Attempt: 1}
		_, err := s.Get(ctx, exp, id)
		wantErr(t, err, trials.ErrNotFound, "Get(trial %d)", id)
		wantErr(t, s.Heartbeat(ctx, exp, l, longTTL), trials.ErrNotFound, "Heartbeat(trial %d)", id)
		wantErr(t, s.Report(ctx, exp, l, trials.Report{Step: 1}), trials.ErrNotFound, "Report(trial %d)", id)
		_, err = s.Attachment(ctx, exp, id, "a")
		wantErr(t, err, trials.ErrNotFound, "Attachment(trial %d)", id)
	}
	wantErr(t, s.Requeue(ctx, exp, []trials.ID{noID}), trials.ErrNotFound, "Requeue(unknown trial)")
	wantErr(t, s.Cancel(ctx, exp, []trials.ID{noID}), trials.ErrNotFound, "Cancel(unknown trial)")
}

// ---- Requeue, Cancel ----

// mixed makes trials 0 queued, 1 running, 2 done, 3 error and returns the
// running one's lease.
func mixed(tb testing.TB, s trials.Store) trials.Lease {
	tb.Helper()
	queue(tb, s, exp, 1)
	r := start(tb, s, exp, owner, longTTL)
	d := start(tb, s, exp, owner, longTTL)
	finish(tb, s, exp, d.Lease(), trials.StateDone, trials.OK(0.5))
	e := start(tb, s, exp, owner, longTTL)
	finish(tb, s, exp, e.Lease(), trials.StateError, trials.Result{Err: "boom"})
	return r.Lease()
}

func testRequeue(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	running := mixed(t, s)
	c := queue(t, s, exp, 1)[0] // 4: canceled
	if err := s.Cancel(ctx, exp, []trials.ID{c}); err != nil {
		t.Fatalf("Cancel(%d) = %v, want nil", c, err)
	}
	done := get(t, s, exp, 2)
	_, seq := changes(t, s, exp, 0)

	if err := s.Requeue(ctx, exp, []trials.ID{0, 1, 2, 3, 4}); err != nil {
		t.Fatalf("Requeue(0..4) = %v, want nil", err)
	}
	for id, want := range []trials.State{trials.StateQueued, trials.StateQueued, trials.StateDone, trials.StateQueued, trials.StateQueued} {
		if g := get(t, s, exp, trials.ID(id)); g.State != want {
			t.Errorf("Get(%d) after Requeue = %v, want %v", id, g.State, want)
		}
	}
	if g := get(t, s, exp, 2); !g.Result.Equal(done.Result) || g.Seq != done.Seq {
		t.Errorf("Get(2) after Requeue = %+v seq %d, want the done trial unchanged: %+v seq %d", g.Result, g.Seq, done.Result, done.Seq)
	}
	ts, _ := changes(t, s, exp, seq)
	if got := slices.Sorted(slices.Values(idsOf(ts))); !slices.Equal(got, []trials.ID{1, 3, 4}) {
		t.Errorf("Changes(%d) after Requeue = %v, want 1, 3 and 4 (the running, error and canceled trials)", seq, idsOf(ts))
	}

	// The requeued running trial's lease ended.
	wantErr(t, s.Heartbeat(ctx, exp, running, longTTL), trials.ErrConflict, "Heartbeat(%+v) after Requeue", running)
	wantErr(t, s.Finish(ctx, exp, running, trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) after Requeue", running)

	// They are reserved again, lowest ID first, each as a new attempt.
	for _, w := range []trials.Lease{{ID: 0, Attempt: 1}, {ID: 1, Attempt: 2}, {ID: 3, Attempt: 2}, {ID: 4, Attempt: 1}} {
		if tr := reserve(t, s, exp, "worker-b", longTTL); tr.Lease() != w || tr.State != trials.StateRunning {
			t.Errorf("Reserve() after Requeue = %+v %v, want %+v running", tr.Lease(), tr.State, w)
		}
	}
	_, err := s.Reserve(ctx, exp, "worker-b", longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() after reserving every requeued trial")
}

func testCancel(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	running := mixed(t, s)
	done, failed := get(t, s, exp, 2), get(t, s, exp, 3)
	_, seq := changes(t, s, exp, 0)

	if err := s.Cancel(ctx, exp, []trials.ID{0, 1, 2, 3}); err != nil {
		t.Fatalf("Cancel(0..3) = %v, want nil", err)
	}
	for id, want := range []trials.State{trials.StateCanceled, trials.StateCanceled, trials.StateDone, trials.StateError} {
		if g := get(t, s, exp, trials.ID(id)); g.State != want {
			t.Errorf("Get(%d) after Cancel = %v, want %v", id, g.State, want)
		}
	}
	for _, old := range []trials.Trial{done, failed} {
		if g := get(t, s, exp, old.ID); !g.Result.Equal(old.Result) || g.Seq != old.Seq {
			t.Errorf("Get(%d) after Cancel = %+v seq %d, want the finished trial unchanged: %+v seq %d", old.ID, g.Result, g.Seq, old.Result, old.Seq)
		}
	}
	ts, _ := changes(t, s, exp, seq)
	if got := slices.Sorted(slices.Values(idsOf(ts))); !slices.Equal(got, []trials.ID{0, 1}) {
		t.Errorf("Changes(%d) after Cancel = %v, want 0 and 1", seq, idsOf(ts))
	}
	for _, c := range ts {
		if c.State != trials.StateCanceled {
			t.Errorf("Changes(%d) after Cancel: trial %d is %v, want canceled", seq, c.ID, c.State)
		}
	}

	// The canceled running trial's lease is no longer valid.
	wantErr(t, s.Heartbeat(ctx, exp, running, longTTL), trials.ErrConflict, "Heartbeat(%+v) of a canceled trial", running)
	wantErr(t, s.Report(ctx, exp, running, trials.Report{Step: 1}), trials.ErrConflict, "Report(%+v) of a canceled trial", running)
	wantErr(t, s.Finish(ctx, exp, running, trials.StateDone, trials.OK(1)), trials.ErrConflict, "Finish(%+v) of a canceled trial", running)

	// Canceled trials are not reserved until requeued.
	_, err := s.Reserve(ctx, exp, owner, longTTL)
	wantErr(t, err, trials.ErrNoQueued, "Reserve() with only canceled and finished trials")
	if err := s.Requeue(ctx, exp, []trials.ID{0}); err != nil {
		t.Fatalf("Requeue(0) = %v, want nil", err)
	}
	if tr := reserve(t, s, exp, owner, longTTL); tr.ID != 0 {
		t.Errorf("Reserve() after Requeue(0) = trial %d, want 0", tr.ID)
	}
}

// ---- Attachments, isolation ----

func testAttachments(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	files := map[string][]byte{"model.bin": {0, 1, 2, 255}, "log.txt": []byte("epoch 1\nepoch 2\n")}
	r := trials.OK(0.1)
	r.Attachments = files
	finish(t, s, exp, tr.Lease(), trials.StateDone, r)

	check := func(call string, got trials.Trial) {
		t.Helper()
		if len(got.Result.Attachments) != len(files) {
			t.Errorf("%s: attachments %v, want the names of %d", call, got.Result.Attachments, len(files))
		}
		for name, b := range got.Result.Attachments {
			if _, ok := files[name]; !ok || b != nil {
				t.Errorf("%s: attachment %q = %q, want a name of the finish with nil bytes", call, name, b)
			}
		}
	}
	check("Get()", get(t, s, exp, tr.ID))
	ts, _ := changes(t, s, exp, 0)
	if len(ts) != 1 {
		t.Fatalf("Changes(0) = %v, want 1 trial", idsOf(ts))
	}
	check("Changes(0)", ts[0])
	for name, want := range files {
		b, err := s.Attachment(ctx, exp, tr.ID, name)
		if err != nil || string(b) != string(want) {
			t.Errorf("Attachment(%q) = %q, %v; want %q, nil", name, b, err, want)
		}
	}
	_, err := s.Attachment(ctx, exp, tr.ID, "nope")
	wantErr(t, err, trials.ErrNotFound, "Attachment(unknown name)")

	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r), nil, "Finish(same result and attachments) again")
	r2 := trials.OK(0.1)
	r2.Attachments = map[string][]byte{"model.bin": {0, 1, 2, 254}, "log.txt": files["log.txt"]}
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r2), trials.ErrConflict, "Finish(other attachment bytes)")
}

func testIsolation(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	id := claim(t, s, exp, 1)[0]
	v := []float64{0.5}
	propose(t, s, exp, trials.Proposal{ID: id, Values: v})
	v[0] = 0.9
	g := get(t, s, exp, id)
	if g.Values[0] != 0.5 {
		t.Errorf("Get().Values = %v after the caller changed its slice, want [0.5]", g.Values)
	}
	g.Values[0] = 0.7
	if g := get(t, s, exp, id); g.Values[0] != 0.5 {
		t.Errorf("Get().Values = %v after a caller changed a returned slice, want [0.5]", g.Values)
	}

	tr := reserve(t, s, exp, owner, longTTL)
	r := trials.Result{Loss: 1, Extras: map[string]any{"a": "b"}, Attachments: map[string][]byte{"f": []byte("abc")}}
	finish(t, s, exp, tr.Lease(), trials.StateDone, r)
	r.Extras["a"] = "z"
	r.Attachments["f"][0] = 'x'
	if g := get(t, s, exp, id); g.Result.Extras["a"] != "b" {
		t.Errorf("Get().Result.Extras = %v after the caller changed its map, want a: b", g.Result.Extras)
	}
	b, err := s.Attachment(ctx, exp, id, "f")
	if err != nil || string(b) != "abc" {
		t.Fatalf("Attachment(f) = %q, %v after the caller changed its bytes; want abc, nil", b, err)
	}
	b[0] = 'y'
	if b, _ := s.Attachment(ctx, exp, id, "f"); string(b) != "abc" {
		t.Errorf("Attachment(f) = %q after a caller changed returned bytes, want abc", b)
	}
}

// ---- Changes ----

func testChangesOrder(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	if ts, next := changes(t, s, exp, 0); len(ts) != 0 || next != 0 {
		t.Errorf("Changes(0) of a new experiment = %v, %d; want none, 0", idsOf(ts), next)
	}
	queue(t, s, exp, 3)                                           // 0, 1, 2 queued
	tr := reserve(t, s, exp, owner, longTTL)                      // 0 running
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(1)) // 0 done
	if err := s.Cancel(ctx, exp, []trials.ID{2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ctx, exp, []trials.ID{2}); err != nil { // 2 queued again
		t.Fatal(err)
	}

	ts, next := changes(t, s, exp, 0)
	if !slices.Equal(idsOf(ts), []trials.ID{1, 0, 2}) {
		t.Errorf("Changes(0) = %v, want [1 0 2] (each trial once, in the order of its last change)", idsOf(ts))
	}
	if seqs := seqsOf(ts); !increasing(seqs) {
		t.Errorf("Changes(0) seqs = %v, want strictly increasing", seqs)
	}
	if len(ts) > 0 && next != ts[len(ts)-1].Seq {
		t.Errorf("Changes(0) next = %d, want the last change's seq %d", next, ts[len(ts)-1].Seq)
	}
	for _, c := range ts {
		if g := get(t, s, exp, c.ID); g.Seq != c.Seq || g.State != c.State {
			t.Errorf("Changes(0): trial %d %v seq %d, Get: %v seq %d; want the same", c.ID, c.State, c.Seq, g.State, g.Seq)
		}
	}
	if e := experiment(t, s, exp); e.Seq != next {
		t.Errorf("Experiments().Seq = %d, want %d (the seq Changes returned)", e.Seq, next)
	}

	if again, n := changes(t, s, exp, next); len(again) != 0 || n != next {
		t.Errorf("Changes(%d) with nothing new = %v, %d; want none, %d", next, idsOf(again), n, next)
	}
	if len(ts) == 3 {
		mid := ts[0].Seq
		if got, n := changes(t, s, exp, mid); !slices.Equal(idsOf(got), []trials.ID{0, 2}) || n != next {
			t.Errorf("Changes(%d) = %v, %d; want [0 2], %d", mid, idsOf(got), n, next)
		}
	}

	if err := s.Cancel(ctx, exp, []trials.ID{1}); err != nil {
		t.Fatal(err)
	}
	got, n := changes(t, s, exp, next)
	if len(got) != 1 || got[0].ID != 1 || got[0].State != trials.StateCanceled || got[0].Seq <= next || n != got[0].Seq {
		t.Errorf("Changes(%d) after Cancel(1) = %v (seqs %v), %d; want trial 1 canceled with seq > %d", next, idsOf(got), seqsOf(got), n, next)
	}
}

func testChangesConcurrent(t *testing.T, s trials.Store) {
	const perWriter = 15
	ctx := t.Context()
	open(t, s, spec(exp, 0))

	var (
		writers sync.WaitGroup
		begin   = make(chan struct{}) // closed once every goroutine is started
		stop    = make(chan struct{})
		polled  = make(chan map[trials.ID]trials.Trial)
		last    int64
	)
	// The poller reads the changes incrementally, as Trials.Refresh does.
	go func() {
		<-begin
		view := map[trials.ID]trials.Trial{}
		var since int64
		failed := false
		poll := func() {
			if failed {
				return
			}
			ts, next, err := s.Changes(ctx, exp, since)
			if err != nil {
				t.Errorf("Changes(%d) = %v, want nil", since, err)
				failed = true
				return
			}
			seen := map[trials.ID]bool{}
			prev := since
			for _, c := range ts {
				if c.Seq <= prev || c.Seq > next || seen[c.ID] {
					t.Errorf("Changes(%d) = trials %v with seqs %v, next %d; want each trial once, seqs increasing in (%d, %d]", since, idsOf(ts), seqsOf(ts), next, since, next)
					failed = true
					return
				}
				prev = c.Seq
				seen[c.ID] = true
				view[c.ID] = c
			}
			if next < since {
				t.Errorf("Changes(%d) next = %d, want >= %d", since, next, since)
			}
			since = next
		}
		for {
			select {
			case <-stop:
				poll() // the writers are done: read the rest
				last = since
				polled <- view
				return
			default:
				poll()
				runtime.Gosched()
			}
		}
	}()

	for g := range workers {
		writers.Go(func() {
			<-begin
			w := fmt.Sprintf("worker-%d", g)
			for i := range perWriter {
				ids, err := s.Claim(ctx, exp, 1, "")
				if err != nil {
					t.Errorf("Claim(1) = %v, want nil", err)
					return
				}
				id := ids[0]
				runtime.Gosched() // let the poller in between the writes
				switch (g + i) % 3 {
				case 0: // run by its proposer
					if err := s.Propose(ctx, exp, []trials.Proposal{{ID: id, Values: value(id), Owner: w, LeaseTTL: longTTL}}); err != nil {
						t.Errorf("Propose(%d, owner %q) = %v, want nil", id, w, err)
						continue
					}
					runtime.Gosched()
					l := trials.Lease{ID: id, Attempt: 1}
					if err := s.Report(ctx, exp, l, trials.Report{Step: 1, Value: float64(id)}); err != nil {
						t.Errorf("Report(%+v) = %v, want nil", l, err)
					}
					runtime.Gosched()
					if err := s.Finish(ctx, exp, l, trials.StateDone, trials.OK(float64(id))); err != nil {
						t.Errorf("Finish(%+v) = %v, want nil", l, err)
					}
				default: // queued, then reserved by any writer
					if err := s.Propose(ctx, exp, []trials.Proposal{{ID: id, Values: value(id)}}); err != nil {
						t.Errorf("Propose(%d) = %v, want nil", id, err)
						continue
					}
					runtime.Gosched()
					tr, err := s.Reserve(ctx, exp, w, longTTL)
					if errors.Is(err, trials.ErrNoQueued) {
						continue
					}
					if err != nil {
						t.Errorf("Reserve(%q) = %v, want nil", w, err)
						continue
					}
					runtime.Gosched()
					state, r := trials.StateDone, trials.OK(float64(tr.ID))
					if i%2 == 1 {
						state, r = trials.StateError, trials.Result{Err: w}
					}
					if err := s.Finish(ctx, exp, tr.Lease(), state, r); err != nil {
						t.Errorf("Finish(%+v) = %v, want nil", tr.Lease(), err)
					}
				}
			}
		})
	}
	close(begin)
	writers.Wait()
	close(stop)
	view := <-polled

	all, next := changes(t, s, exp, 0)
	if last != next {
		t.Errorf("the poller ended at seq %d, Changes(0) at %d", last, next)
	}
	if len(view) != len(all) || len(all) != workers*perWriter {
		t.Errorf("the poller saw %d trials, Changes(0) lists %d, want %d", len(view), len(all), workers*perWriter)
	}
	for _, want := range all {
		got, ok := view[want.ID]
		switch {
		case !ok:
			t.Errorf("the poller never saw trial %d", want.ID)
		case got.Seq != want.Seq || got.State != want.State || got.Attempt != want.Attempt || got.Owner != want.Owner ||
			!got.Result.Equal(want.Result) || !sameValues(got.Values, want.Values) || !slices.Equal(got.Reports, want.Reports):
			t.Errorf("the poller's trial %d = %v attempt %d owner %q seq %d %+v, Changes(0): %v attempt %d owner %q seq %d %+v; want the same",
				want.ID, got.State, got.Attempt, got.Owner, got.Seq, got.Result, want.State, want.Attempt, want.Owner, want.Seq, want.Result)
		}
	}
}

// ---- Close ----

func testClose(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	l := tr.Lease()
	_, err := s.Open(ctx, spec(exp, 0))
	wantErr(t, err, trials.ErrClosed, "Open() after Close")
	_, err = s.Experiments(ctx)
	wantErr(t, err, trials.ErrClosed, "Experiments() after Close")
	_, err = s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrClosed, "Claim() after Close")
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: 1, Values: value(1)}}), trials.ErrClosed, "Propose() after Close")
	wantErr(t, s.Release(ctx, exp, []trials.ID{1}), trials.ErrClosed, "Release() after Close")
	_, err = s.Reserve(ctx, exp, owner, longTTL)
	wantErr(t, err, trials.ErrClosed, "Reserve() after Close")
	wantErr(t, s.Heartbeat(ctx, exp, l, longTTL), trials.ErrClosed, "Heartbeat() after Close")
	wantErr(t, s.Report(ctx, exp, l, trials.Report{Step: 1}), trials.ErrClosed, "Report() after Close")
	wantErr(t, s.Finish(ctx, exp, l, trials.StateDone, trials.OK(1)), trials.ErrClosed, "Finish() after Close")
	wantErr(t, s.Requeue(ctx, exp, []trials.ID{tr.ID}), trials.ErrClosed, "Requeue() after Close")
	wantErr(t, s.Cancel(ctx, exp, []trials.ID{tr.ID}), trials.ErrClosed, "Cancel() after Close")
	_, err = s.Get(ctx, exp, tr.ID)
	wantErr(t, err, trials.ErrClosed, "Get() after Close")
	_, _, err = s.Changes(ctx, exp, 0)
	wantErr(t, err, trials.ErrClosed, "Changes() after Close")
	_, err = s.Attachment(ctx, exp, tr.ID, "a")
	wantErr(t, err, trials.ErrClosed, "Attachment() after Close")
}

// ---- benchmarks ----

// Bench runs the store benchmarks against stores made by newStore, one
// fresh store per sub-benchmark:
//
//   - Cycle/trials=N: the per-trial cycle of a search, Claim(1), Propose
//     as running for the proposer, Finish and an incremental Changes, in
//     an experiment that starts with N finished trials;
//   - ReserveFinish: a worker's Reserve and Finish of a queued trial.
func Bench(b *testing.B, newStore func(b *testing.B) trials.Store) {
	b.Run("Cycle", func(b *testing.B) {
		for _, n := range []int{100, 10_000} {
			b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) { benchCycle(b, newStore(b), n) })
		}
	})
	b.Run("ReserveFinish", func(b *testing.B) { benchReserveFinish(b, newStore(b)) })
}

// prefill adds n finished trials to exp.
func prefill(b *testing.B, s trials.Store, exp string, n int) {
	const batch = 500
	for n > 0 {
		k := min(n, batch)
		n -= k
		ids := claim(b, s, exp, k)
		ps := make([]trials.Proposal, k)
		for i, id := range ids {
			ps[i] = trials.Proposal{ID: id, Values: value(id), Owner: owner, LeaseTTL: longTTL}
		}
		propose(b, s, exp, ps...)
		for _, id := range ids {
			finish(b, s, exp, trials.Lease{ID: id, Attempt: 1}, trials.StateDone, trials.OK(float64(id%97)))
		}
	}
}

func benchCycle(b *testing.B, s trials.Store, n int) {
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	prefill(b, s, exp, n)
	_, since := changes(b, s, exp, 0)
	values := []float64{0.5}
	r := trials.OK(0.5)
	b.ReportAllocs()
	for b.Loop() {
		ids, err := s.Claim(ctx, exp, 1, "")
		if err != nil {
			b.Fatalf("Claim(1) = %v", err)
		}
		id := ids[0]
		if err := s.Propose(ctx, exp, []trials.Proposal{{ID: id, Values: values, Owner: owner, LeaseTTL: longTTL}}); err != nil {
			b.Fatalf("Propose(%d) = %v", id, err)
		}
		if err := s.Finish(ctx, exp, trials.Lease{ID: id, Attempt: 1}, trials.StateDone, r); err != nil {
			b.Fatalf("Finish(%d) = %v", id, err)
		}
		ts, next, err := s.Changes(ctx, exp, since)
		if err != nil || len(ts) != 1 {
			b.Fatalf("Changes(%d) = %d trials, %v; want 1", since, len(ts), err)
		}
		since = next
	}
}

func benchReserveFinish(b *testing.B, s trials.Store) {
	const batch = 1000
	ctx := b.Context()
	open(b, s, spec(exp, 0))
	queue(b, s, exp, batch)
	r := trials.OK(0.5)
	b.ReportAllocs()
	for b.Loop() {
		tr, err := s.Reserve(ctx, exp, owner, longTTL)
		if errors.Is(err, trials.ErrNoQueued) {
			b.StopTimer()
			queue(b, s, exp, batch)
			b.StartTimer()
			tr, err = s.Reserve(ctx, exp, owner, longTTL)
		}
		if err != nil {
			b.Fatalf("Reserve() = %v", err)
		}
		if err := s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r); err != nil {
			b.Fatalf("Finish(%+v) = %v", tr.Lease(), err)
		}
	}
}
