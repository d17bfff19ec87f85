package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/postgres"
)

func leaseIDs(ts []trials.Trial) []trials.ID {
	ids := make([]trials.ID, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

// TestMigrateV1 makes a version-1 store with the version-1 DDL and
// functions, then opens it: it is migrated to the current version in
// place, keeps its trials, serves the batch operations, and the
// version-1 functions a process opened before the migration calls still
// work.
func TestMigrateV1(t *testing.T) {
	t.Parallel()
	dsn := cluster.NewDatabase(t)
	c := ctx(t)
	old, err := pgx.Connect(c, dsn)
	require.NoError(t, err)
	defer old.Close(context.Background())
	_, err = old.Exec(c, "CREATE SCHEMA hyperopt; SET search_path = hyperopt")
	require.NoError(t, err)
	_, err = old.Exec(c, postgres.SchemaV1)
	require.NoError(t, err)
	_, err = old.Exec(c, `INSERT INTO meta (name, value) VALUES ('application', 'hyperopt-go trials'), ('version', '1');
		INSERT INTO experiments (key, fingerprint, seed, max_evals, max_attempts, algorithm, created)
		VALUES ('e', 'f', 7, 0, 3, 'random', now())`)
	require.NoError(t, err)
	// Five trials: 0 done, 1 running, 2..4 queued.
	_, err = old.Exec(c, `SELECT hyperopt_claim('e', 5, 'r');
		SELECT hyperopt_propose('e', '{0,1,2,3,4}', '{1,1,1,1,1}', '{0,10,20,30,40}', '{"","","","",""}', '{0,0,0,0,0}', false);
		SELECT id FROM hyperopt_reserve('e', 'old', 3600000000, 't0', false);
		SELECT id FROM hyperopt_reserve('e', 'old', 3600000000, 't1', false);
		SELECT hyperopt_finish('e', 0, 1, 3::smallint, 0.5, 1::smallint, 0, 0, false, NULL, '', '', '{a}', '{"\\x6869"}')`)
	require.NoError(t, err)
	var seqBefore int64
	require.NoError(t, old.QueryRow(c, "SELECT seq FROM experiments WHERE key = 'e'").Scan(&seqBefore))

	s, err := postgres.Open(c, dsn, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	var version string
	require.NoError(t, old.QueryRow(c, "SELECT value FROM meta WHERE name = 'version'").Scan(&version))
	require.Equal(t, fmt.Sprint(postgres.SchemaVersion), version)

	ts, seq, err := s.Changes(c, "e", 0, 0)
	require.NoError(t, err)
	require.Equal(t, seqBefore, seq)
	require.Len(t, ts, 5)
	byID := map[trials.ID]trials.Trial{}
	for _, tr := range ts {
		byID[tr.ID] = tr
	}
	require.Equal(t, trials.StateDone, byID[0].State)
	require.Equal(t, 0.5, byID[0].Result.Loss)
	a, err := s.Attachment(c, "e", 0, "a")
	require.NoError(t, err)
	require.Equal(t, []byte("hi"), a)
	require.Equal(t, trials.StateRunning, byID[1].State)
	require.Equal(t, "old", byID[1].Owner)
	for id := trials.ID(2); id <= 4; id++ {
		require.Equal(t, trials.StateQueued, byID[id].State)
		require.Equal(t, []float64{float64(10 * id)}, []float64(byID[id].Values))
	}

	got, err := s.ReserveN(c, "e", "new", time.Hour, 2)
	require.NoError(t, err)
	require.Equal(t, []trials.ID{2, 3}, leaseIDs(got))
	errs, err := s.FinishN(c, "e", []trials.Finishing{
		{Lease: got[0].Lease(), State: trials.StateDone, Result: trials.OK(2)},
		{Lease: trials.Lease{ID: 1, Attempt: 1}, State: trials.StateError, Result: trials.Result{Err: "x"}},
	})
	require.NoError(t, err)
	require.Equal(t, []error{nil, nil}, errs)

	// The functions of version 1, as a process of that version calls them.
	var id int64
	require.NoError(t, old.QueryRow(c, "SELECT id FROM hyperopt_reserve('e', 'old', 3600000000, 't2', false)").Scan(&id))
	require.Equal(t, int64(4), id)
	_, err = old.Exec(c, "SELECT hyperopt_finish('e', 4, 1, 3::smallint, 4, 1::smallint, 0, 0, false, NULL, '', '', '{}', '{}')")
	require.NoError(t, err)
	_, err = old.Exec(c, "SELECT hyperopt_finish('e', 4, 1, 3::smallint, 5, 1::smallint, 0, 0, false, NULL, '', '', '{}', '{}')")
	require.ErrorContains(t, err, "already finished")

	ts, _, err = s.Changes(c, "e", 0, 0)
	require.NoError(t, err)
	states := map[trials.ID]trials.State{}
	for i, tr := range ts {
		states[tr.ID] = tr.State
		if i > 0 {
			require.Greater(t, tr.Seq, ts[i-1].Seq)
		}
	}
	require.Equal(t, map[trials.ID]trials.State{0: trials.StateDone, 1: trials.StateError, 2: trials.StateDone,
		3: trials.StateRunning, 4: trials.StateDone}, states)

	// Opening again finds the current version and changes nothing.
	s2, err := postgres.Open(c, dsn, nil)
	require.NoError(t, err)
	require.NoError(t, s2.Close())
}

// TestBatchLostReply loses the acknowledgement of a ReserveN and of a
// FinishN that committed: the store's retries return the trials the first
// call took and find the finishes recorded, each stamped once.
func TestBatchLostReply(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(cluster.NewDatabase(t))
	require.NoError(t, err)
	px := newProxy(t, u.Host)
	u.Host = fmt.Sprintf("127.0.0.1:%d", px.port())
	c := ctx(t)
	s, err := postgres.Open(c, u.String(), &postgres.Options{RetryTimeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Open(c, trials.ExperimentSpec{Key: "e", Fingerprint: "f", Algorithm: "random"})
	require.NoError(t, err)
	ids, err := s.Claim(c, "e", 6, "")
	require.NoError(t, err)
	var ps []trials.Proposal
	for _, id := range ids {
		ps = append(ps, trials.Proposal{ID: id, Values: []float64{float64(id)}})
	}
	require.NoError(t, s.Propose(c, "e", ps))
	_, seq0, err := s.Changes(c, "e", 0, 0)
	require.NoError(t, err)

	px.cut.Store(true)
	got, err := s.ReserveN(c, "e", "w", time.Hour, 3)
	require.NoError(t, err)
	require.Equal(t, int32(1), px.cuts.Load(), "no reply was dropped")
	require.Equal(t, []trials.ID{0, 1, 2}, leaseIDs(got))
	changed, seq1, err := s.Changes(c, "e", seq0, 0)
	require.NoError(t, err)
	require.Equal(t, []trials.ID{0, 1, 2}, leaseIDs(changed), "the retried ReserveN took other trials")
	require.Equal(t, seq0+3, seq1)

	fs := make([]trials.Finishing, len(got))
	for i, tr := range got {
		fs[i] = trials.Finishing{Lease: tr.Lease(), State: trials.StateDone, Result: trials.OK(float64(tr.ID))}
	}
	fs[1].Result.Attachments = map[string][]byte{"m": []byte("model"), "e": {}}
	px.cut.Store(true)
	errs, err := s.FinishN(c, "e", fs)
	require.NoError(t, err)
	require.Equal(t, int32(2), px.cuts.Load(), "no reply was dropped")
	require.Equal(t, []error{nil, nil, nil}, errs)
	changed, seq2, err := s.Changes(c, "e", seq1, 0)
	require.NoError(t, err)
	require.Equal(t, seq1+3, seq2, "a finish was stamped more than once")
	require.True(t, slices.EqualFunc(changed, got, func(a, b trials.Trial) bool { return a.ID == b.ID && a.State == trials.StateDone }))
	m, err := s.Attachment(c, "e", got[1].ID, "m")
	require.NoError(t, err)
	require.Equal(t, []byte("model"), m)
}

// TestBatchSemantics checks what the suite leaves out: the order of
// ReserveN's trials and their seq stamps (queued ones, then expired
// leases, with those at their last attempt ended on the way), a trial
// finished twice in one FinishN, per-finish errors as Finish's, and a
// refused element that does not stop the others.
func TestBatchSemantics(t *testing.T) {
	t.Parallel()
	s, _ := open(t, nil)
	c := ctx(t)
	_, err := s.Open(c, trials.ExperimentSpec{Key: "e", Fingerprint: "f", Algorithm: "random", MaxAttempts: 2})
	require.NoError(t, err)
	ids, err := s.Claim(c, "e", 6, "")
	require.NoError(t, err)
	// 0, 1, 2 running with short leases; 1 at its last attempt (2).
	var ps []trials.Proposal
	for _, id := range ids[:3] {
		ps = append(ps, trials.Proposal{ID: id, Values: []float64{1}, Owner: "a", LeaseTTL: time.Millisecond})
	}
	require.NoError(t, s.Propose(c, "e", ps))
	time.Sleep(5 * time.Millisecond)
	one, err := s.ReserveN(c, "e", "b", time.Millisecond, 2)
	require.NoError(t, err)
	require.Equal(t, []trials.ID{0, 1}, leaseIDs(one))
	// 3, 4 queued.
	require.NoError(t, s.Propose(c, "e", []trials.Proposal{{ID: ids[3], Values: []float64{3}}, {ID: ids[4], Values: []float64{4}}}))
	require.NoError(t, s.Finish(c, "e", trials.Lease{ID: 0, Attempt: 2}, trials.StateDone, trials.OK(0)))
	time.Sleep(5 * time.Millisecond)
	_, seq, err := s.Changes(c, "e", 0, 0)
	require.NoError(t, err)

	got, err := s.ReserveN(c, "e", "c", time.Hour, 4)
	require.NoError(t, err)
	// Queued 3, 4; then expired: 1 at its last attempt ends in error, 2 is taken.
	require.Equal(t, []trials.ID{3, 4, 2}, leaseIDs(got))
	require.Equal(t, []int{1, 1, 2}, []int{got[0].Attempt, got[1].Attempt, got[2].Attempt})
	changed, next, err := s.Changes(c, "e", seq, 0)
	require.NoError(t, err)
	require.Equal(t, []trials.ID{3, 4, 1, 2}, leaseIDs(changed))
	require.Equal(t, seq+4, next)
	require.Equal(t, trials.StateError, changed[2].State)
	require.Equal(t, trials.ExpiredResult(2, 2, "b"), changed[2].Result)

	_, err = s.ReserveN(c, "e", "c", time.Hour, 4)
	require.ErrorIs(t, err, trials.ErrNoQueued)

	fs := []trials.Finishing{
		{Lease: got[0].Lease(), State: trials.StateDone, Result: trials.OK(1)},
		{Lease: got[0].Lease(), State: trials.StateDone, Result: trials.OK(1)}, // the same again: a repeat
		{Lease: got[0].Lease(), State: trials.StateDone, Result: trials.OK(2)}, // another result: a conflict
		{Lease: got[1].Lease(), State: trials.StateDone, Result: trials.Result{Extras: map[string]any{"f": func() {}}}},
		{Lease: trials.Lease{ID: 1, Attempt: 2}, State: trials.StateDone, Result: trials.OK(1)}, // expired
		{Lease: trials.Lease{ID: 99, Attempt: 1}, State: trials.StateDone, Result: trials.OK(1)},
		{Lease: got[2].Lease(), State: trials.StateError, Result: trials.Result{Err: "boom"}},
	}
	errs, err := s.FinishN(c, "e", fs)
	require.NoError(t, err)
	require.Len(t, errs, len(fs))
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.ErrorIs(t, errs[2], trials.ErrConflict)
	require.Error(t, errs[3])
	require.ErrorIs(t, errs[4], trials.ErrConflict)
	require.ErrorIs(t, errs[5], trials.ErrNotFound)
	require.NoError(t, errs[6])
	// The same refusals as Finish's, word for word.
	require.Equal(t, s.Finish(c, "e", fs[2].Lease, fs[2].State, fs[2].Result).Error(), errs[2].Error())
	require.Equal(t, s.Finish(c, "e", fs[4].Lease, fs[4].State, fs[4].Result).Error(), errs[4].Error())
	require.Equal(t, s.Finish(c, "e", fs[5].Lease, fs[5].State, fs[5].Result).Error(), errs[5].Error())
	require.Equal(t, s.Finish(c, "e", fs[3].Lease, fs[3].State, fs[3].Result).Error(), errs[3].Error())
	g, err := s.Get(c, "e", got[1].ID)
	require.NoError(t, err)
	require.Equal(t, trials.StateRunning, g.State)
	changed, next2, err := s.Changes(c, "e", next, 0)
	require.NoError(t, err)
	require.Equal(t, []trials.ID{3, 2}, leaseIDs(changed))
	require.Equal(t, next+2, next2)

	// Nothing to finish: the experiment must still exist.
	errs, err = s.FinishN(c, "e", nil)
	require.NoError(t, err)
	require.Empty(t, errs)
	_, err = s.FinishN(c, "nope", nil)
	require.ErrorIs(t, err, trials.ErrNotFound)
}
