package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

func sortByID(order []int, ts []trials.Trial) {
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case ts[a].ID < ts[b].ID:
			return -1
		case ts[a].ID > ts[b].ID:
			return 1
		}
		return 0
	})
}

// Claim implements trials.Store.
func (s *Store) Claim(ctx context.Context, exp string, n int, requestID string) ([]trials.ID, error) {
	var ids []trials.ID
	err := s.write(ctx, "claim", func(w *wtx) error {
		if err := w.exp(exp); err != nil {
			return err
		}
		if requestID != "" {
			var first, k int64
			err := w.stmt(s.st.claimGet).QueryRowContext(ctx, w.e.id, requestID).Scan(&first, &k)
			if err == nil {
				ids = dense(first, int(k))
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if n <= 0 {
			return fmt.Errorf("trials: claim %d trials: count must be positive", n)
		}
		k := n
		if w.e.maxEvals > 0 {
			k = min(n, w.e.maxEvals-w.e.claimed)
			if k <= 0 {
				return fmt.Errorf("experiment %q has claimed %d of %d: %w", exp, w.e.claimed, w.e.maxEvals, trials.ErrBudget)
			}
		}
		first := w.e.nextID
		w.e.nextID += int64(k)
		w.e.claimed += k
		w.dirty = true
		if requestID != "" {
			if _, err := w.stmt(s.st.claimPut).ExecContext(ctx, w.e.id, requestID, first, k); err != nil {
				return err
			}
		}
		ids = dense(first, k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func dense(first int64, n int) []trials.ID {
	ids := make([]trials.ID, n)
	for i := range ids {
		ids[i] = trials.ID(first + int64(i))
	}
	return ids
}

// Propose implements trials.Store.
func (s *Store) Propose(ctx context.Context, exp string, ps []trials.Proposal) error {
	vals := make([][]byte, len(ps))
	for i := range ps {
		vals[i] = encodeValues(ps[i].Values)
	}
	return s.write(ctx, "propose", func(w *wtx) error {
		if err := w.exp(exp); err != nil {
			return err
		}
		now := s.now()
		ins := w.stmt(s.st.insertTrial)
		for i, p := range ps {
			if p.ID < 0 || int64(p.ID) >= w.e.nextID {
				return fmt.Errorf("propose trial %d of %q: never claimed: %w", p.ID, exp, trials.ErrConflict)
			}
			state, owner, attempt, started, lease := trials.StateQueued, "", 0, int64(0), int64(0)
			if p.Owner != "" {
				state, owner, attempt, started, lease = trials.StateRunning, p.Owner, 1, nanos(now), nanos(now.Add(p.LeaseTTL))
			}
			seq := w.e.seq + 1
			res, err := ins.ExecContext(ctx, w.e.id, int64(p.ID), int64(state), vals[i], owner, attempt, lease, nanos(now), started, seq)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil {
				return err
			} else if k == 1 {
				w.touch()
				continue
			}
			// The ID has a row: released, or proposed before.
			var r trialRow
			if err := r.scan(w.stmt(s.st.trialRow).QueryRowContext(ctx, w.e.id, int64(p.ID))); err != nil {
				return err
			}
			if r.state == 0 {
				return fmt.Errorf("propose trial %d of %q: released: %w", p.ID, exp, trials.ErrConflict)
			}
			old, err := decodeValues(r.vals)
			if err != nil {
				return err
			}
			st := trials.State(r.state)
			retry := space.Values.Equal(old, p.Values) && r.owner == p.Owner &&
				((p.Owner == "" && st == trials.StateQueued) || (p.Owner != "" && st == trials.StateRunning && r.attempt == 1))
			if !retry {
				return fmt.Errorf("propose trial %d of %q: already proposed: %w", p.ID, exp, trials.ErrConflict)
			}
		}
		return nil
	})
}

// Release implements trials.Store.
func (s *Store) Release(ctx context.Context, exp string, ids []trials.ID) error {
	return s.write(ctx, "release", func(w *wtx) error {
		if err := w.exp(exp); err != nil {
			return err
		}
		for _, id := range ids {
			if id < 0 || int64(id) >= w.e.nextID {
				return fmt.Errorf("release trial %d of %q: %w", id, exp, trials.ErrNotFound)
			}
			res, err := w.stmt(s.st.insertReleased).ExecContext(ctx, w.e.id, int64(id))
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil {
				return err
			} else if k == 1 {
				w.e.claimed--
				w.dirty = true
				continue
			}
			var state, attempt int64
			if err := w.stmt(s.st.trialState).QueryRowContext(ctx, w.e.id, int64(id)).Scan(&state, &attempt); err != nil {
				return err
			}
			if state != 0 {
				return fmt.Errorf("release trial %d of %q: it has values: %w", id, exp, trials.ErrConflict)
			}
		}
		return nil
	})
}

// Reserve implements trials.Store.
func (s *Store) Reserve(ctx context.Context, exp, owner string, ttl time.Duration) (trials.Trial, error) {
	if ok, err := s.reservable(ctx, exp); err != nil {
		return trials.Trial{}, err
	} else if !ok {
		return trials.Trial{}, trials.ErrNoQueued
	}
	var (
		t     trials.Trial
		found bool
	)
	err := s.write(ctx, "reserve", func(w *wtx) error {
		if err := w.exp(exp); err != nil {
			return err
		}
		var err error
		t, found, err = w.reserve(owner, ttl, s.now())
		return err
	})
	if err != nil {
		return trials.Trial{}, err
	}
	s.idle.Store(!found)
	if !found {
		return trials.Trial{}, trials.ErrNoQueued // a driver's loop meets it often: no formatting
	}
	return t, nil
}

// ReserveN implements trials.Batcher: up to n Reserves in one transaction,
// all at one instant of the store's clock.
func (s *Store) ReserveN(ctx context.Context, exp, owner string, ttl time.Duration, n int) ([]trials.Trial, error) {
	if n <= 0 {
		return nil, fmt.Errorf("trials: reserve %d trials: count must be positive", n)
	}
	if ok, err := s.reservable(ctx, exp); err != nil {
		return nil, err
	} else if !ok {
		return nil, trials.ErrNoQueued
	}
	var out []trials.Trial
	err := s.write(ctx, "reserve", func(w *wtx) error {
		out = out[:0] // fn may run again after a busy try
		if err := w.exp(exp); err != nil {
			return err
		}
		now := s.now()
		for len(out) < n {
			t, found, err := w.reserve(owner, ttl, now)
			if err != nil {
				return err
			}
			if !found {
				break
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.idle.Store(len(out) == 0)
	if len(out) == 0 {
		return nil, trials.ErrNoQueued
	}
	return out, nil
}

// reservable tells a Reserve whether it may find a trial to take: a queued
// trial, or a running one whose lease expired. It looks, with a read that
// takes no lock, only while this Store's last Reserve found nothing (an
// idle worker's or driver's loop, which would otherwise take the file's
// write lock to find nothing, in turn with every other idle process);
// otherwise it answers yes without looking. A trial queued after the read
// is one that this Reserve did not see, as if it had run a moment earlier.
func (s *Store) reservable(ctx context.Context, exp string) (bool, error) {
	if !s.idle.Load() {
		return true, nil
	}
	var ok bool
	err := s.read(ctx, "reserve", func(tx *sql.Tx) error {
		eid, _, _, err := s.readExp(ctx, tx, exp)
		if err != nil {
			return err
		}
		return tx.StmtContext(ctx, s.st.rReservable).QueryRowContext(ctx, eid, nanos(s.now())).Scan(&ok)
	})
	return ok, err
}

// reserve takes the trial to hand out to owner at now, as Reserve says: the
// lowest queued ID, or failing that the lowest running trial whose lease
// expired, ending in error on the way those at their last attempt. found is
// false if there is none (the trials ended in error stay so).
func (w *wtx) reserve(owner string, ttl time.Duration, now time.Time) (t trials.Trial, found bool, err error) {
	ctx, s := w.ctx, w.s
	var id int64
	err = w.stmt(s.st.firstQueued).QueryRowContext(ctx, w.e.id).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// A running trial whose lease expired, lowest ID first; one at
		// its last attempt ends in error instead.
		for {
			var attempt int64
			var last string
			err = w.stmt(s.st.firstExpired).QueryRowContext(ctx, w.e.id, nanos(now)).Scan(&id, &attempt, &last)
			if errors.Is(err, sql.ErrNoRows) {
				return trials.Trial{}, false, nil
			}
			if err != nil {
				return trials.Trial{}, false, err
			}
			if int(attempt) < w.e.maxAttmpt {
				break
			}
			r := trials.ExpiredResult(int(attempt), w.e.maxAttmpt, last)
			if _, err := w.stmt(s.st.expire).ExecContext(ctx, r.Err, nanos(now), w.touch(), w.e.id, id); err != nil {
				return trials.Trial{}, false, err
			}
		}
	} else if err != nil {
		return trials.Trial{}, false, err
	}
	var r trialRow
	if err := r.scan(w.stmt(s.st.reserve).QueryRowContext(ctx, owner, nanos(now), nanos(now.Add(ttl)), w.touch(), w.e.id, id)); err != nil {
		return trials.Trial{}, false, err
	}
	t, err = r.trial(w.key)
	if err != nil {
		return trials.Trial{}, false, err
	}
	return t, true, nil
}

// leaseErr explains why lease l is not the current lease of a running
// trial.
func (w *wtx) leaseErr(l trials.Lease) error {
	var state, attempt int64
	err := w.stmt(w.s.st.trialState).QueryRowContext(w.ctx, w.e.id, int64(l.ID)).Scan(&state, &attempt)
	if errors.Is(err, sql.ErrNoRows) || err == nil && state == 0 {
		return fmt.Errorf("trial %d of experiment %q: %w", l.ID, w.key, trials.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("trial %d of %q: lease of attempt %d, trial is %v at attempt %d: %w", l.ID, w.key, l.Attempt, trials.State(state), attempt, trials.ErrConflict)
}

// Heartbeat implements trials.Store. It does not change the sequence
// number.
func (s *Store) Heartbeat(ctx context.Context, exp string, l trials.Lease, ttl time.Duration) error {
	return s.write(ctx, "heartbeat", func(w *wtx) error {
		if err := w.exp(exp); err != nil {
			return err
		}
		res, err := w.stmt(s.st.heartbeat).ExecContext(ctx, nanos(s.now().Add(ttl)), w.e.id, int64(l.ID), l.Attempt)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil {
			return err
		} else if k == 0 {
			return w.leaseErr(l)
		}
		return nil
	})
}

// Report implements trials.Store.
func (s *Store) Report(ctx context.Context, exp string, l trials.Lease, r trials.Report) error {
	return s.write(ctx, "report", func(w *wtx) error {
		if err := w.exp(exp); err != nil {
			return err
		}
		var state, attempt int64
		err := w.stmt(s.st.trialState).QueryRowContext(ctx, w.e.id, int64(l.ID)).Scan(&state, &attempt)
		if errors.Is(err, sql.ErrNoRows) || err == nil && state == 0 {
			return fmt.Errorf("trial %d of experiment %q: %w", l.ID, exp, trials.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if int(attempt) == l.Attempt {
			// A retry of a report that was recorded (the trial may have
			// finished since) is a success.
			var v int64
			err := w.stmt(s.st.lastReport).QueryRowContext(ctx, w.e.id, int64(l.ID), l.Attempt, r.Step).Scan(&v)
			if err == nil {
				if sameFloat(ffrom(v), r.Value) {
					return nil
				}
				return fmt.Errorf("report step %d of trial %d of %q: already reported as %v: %w", r.Step, l.ID, exp, ffrom(v), trials.ErrConflict)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if trials.State(state) != trials.StateRunning || int(attempt) != l.Attempt {
			return fmt.Errorf("trial %d of %q: lease of attempt %d, trial is %v at attempt %d: %w", l.ID, exp, l.Attempt, trials.State(state), attempt, trials.ErrConflict)
		}
		w.e.reportSeq++
		w.dirty = true
		_, err = w.stmt(s.st.insertReport).ExecContext(ctx, w.e.id, w.e.reportSeq, int64(l.ID), l.Attempt, r.Step, fbits(r.Value))
		return err
	})
}

// Finish implements trials.Store.
func (s *Store) Finish(ctx context.Context, exp string, l trials.Lease, state trials.State, r trials.Result) error {
	if state != trials.StateDone && state != trials.StateError {
		return fmt.Errorf("trials: finish with state %v: want done or error", state)
	}
	f, err := newFinishing(exp, trials.Finishing{Lease: l, State: state, Result: r})
	if err != nil {
		return err
	}
	return s.write(ctx, "finish", func(w *wtx) error {
		if err := w.exp(exp); err != nil {
			return err
		}
		return w.finish(&f, s.now())
	})
}

// FinishN implements trials.Batcher: a Finish of each element in one
// transaction, all at one instant of the store's clock. A finish that
// Finish would refuse (ErrConflict, ErrNotFound) is refused in errs and
// changes nothing; any other failure (a state other than done or error, a
// result that cannot be encoded, the database's errors) is the call's error
// and records none.
func (s *Store) FinishN(ctx context.Context, exp string, fs []trials.Finishing) ([]error, error) {
	ps := make([]finishing, len(fs))
	for i, f := range fs {
		if f.State != trials.StateDone && f.State != trials.StateError {
			return nil, fmt.Errorf("trials: finish trial %d with state %v: want done or error", f.Lease.ID, f.State)
		}
		var err error
		if ps[i], err = newFinishing(exp, f); err != nil {
			return nil, err
		}
	}
	errs := make([]error, len(fs))
	err := s.write(ctx, "finish", func(w *wtx) error {
		clear(errs) // fn may run again after a busy try
		if err := w.exp(exp); err != nil {
			return err
		}
		now := s.now()
		for i := range ps {
			err := w.finish(&ps[i], now)
			if errors.Is(err, trials.ErrConflict) || errors.Is(err, trials.ErrNotFound) {
				errs[i] = err // refused before it wrote anything
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// finishing is a finish ready to record: its result normalized (if done)
// and encoded.
type finishing struct {
	l     trials.Lease
	state trials.State
	r     trials.Result
	enc   encodedResult
}

func newFinishing(exp string, f trials.Finishing) (finishing, error) {
	r := f.Result
	if f.State == trials.StateDone {
		r = r.Normalize()
	}
	enc, err := encodeResult(r)
	if err != nil {
		return finishing{}, fmt.Errorf("finish trial %d of %q: %w", f.Lease.ID, exp, err)
	}
	return finishing{l: f.Lease, state: f.State, r: r, enc: enc}, nil
}

// finish records f at now, as Finish says. It refuses (an error wrapping
// ErrNotFound or ErrConflict) before it writes anything, so that FinishN
// may go on with the transaction after a refusal; an error that wraps
// neither may come after a write and must end the transaction.
func (w *wtx) finish(f *finishing, now time.Time) error {
	ctx, s, l, r := w.ctx, w.s, f.l, f.r
	var row trialRow
	err := row.scan(w.stmt(s.st.trialRow).QueryRowContext(ctx, w.e.id, int64(l.ID)))
	if errors.Is(err, sql.ErrNoRows) || err == nil && row.state == 0 {
		return fmt.Errorf("trial %d of experiment %q: %w", l.ID, w.key, trials.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if st := trials.State(row.state); st == trials.StateDone || st == trials.StateError {
		if int(row.attempt) == l.Attempt && st == f.state {
			same, err := w.sameResult(&row, r, f.enc)
			if err != nil || same {
				return err // nil: a retry of the finish that succeeded
			}
		}
		return fmt.Errorf("finish trial %d of %q: already finished with another result: %w", l.ID, w.key, trials.ErrConflict)
	}
	if trials.State(row.state) != trials.StateRunning || int(row.attempt) != l.Attempt {
		return fmt.Errorf("trial %d of %q: lease of attempt %d, trial is %v at attempt %d: %w", l.ID, w.key, l.Attempt, trials.State(row.state), row.attempt, trials.ErrConflict)
	}
	if _, err := w.stmt(s.st.finish).ExecContext(ctx, int64(f.state), fbits(r.Loss), int64(r.Status), fbits(r.LossVariance),
		fbits(r.TrueLoss), boolInt(r.HasTrueLoss), f.enc.extras, r.Err, r.Stack, f.enc.names, nanos(now), w.touch(),
		w.e.id, int64(l.ID)); err != nil {
		return err
	}
	for name, data := range r.Attachments {
		if _, err := w.stmt(s.st.insertAttachment).ExecContext(ctx, w.e.id, int64(l.ID), name, nonNil(data)); err != nil {
			return err
		}
	}
	return nil
}

// sameResult reports whether the stored result of row is r.
func (w *wtx) sameResult(row *trialRow, r trials.Result, enc encodedResult) (bool, error) {
	stored, err := row.result()
	if err != nil {
		return false, err
	}
	// Extras compare by their JSON form, which is what is stored.
	if x, _ := enc.extras.(string); x != string(row.extras) {
		return false, nil
	}
	stored.Extras, r.Extras = nil, nil
	if len(stored.Attachments) != len(r.Attachments) {
		return false, nil
	}
	for name := range stored.Attachments {
		want, ok := r.Attachments[name]
		if !ok {
			return false, nil
		}
		var b []byte
		err := w.tx.QueryRowContext(w.ctx, `SELECT data FROM attachments WHERE exp = ? AND id = ? AND name = ?`, w.e.id, row.id, name).Scan(&b)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
		if !bytes.Equal(b, want) {
			return false, nil
		}
	}
	stored.Attachments, r.Attachments = nil, nil
	return stored.Equal(r), nil
}

// Requeue implements trials.Store.
func (s *Store) Requeue(ctx context.Context, exp string, ls []trials.Lease) error {
	return s.move(ctx, exp, ls, trials.StateQueued)
}

// Cancel implements trials.Store.
func (s *Store) Cancel(ctx context.Context, exp string, ls []trials.Lease) error {
	return s.move(ctx, exp, ls, trials.StateCanceled)
}

func (s *Store) move(ctx context.Context, exp string, ls []trials.Lease, to trials.State) error {
	verb := "cancel"
	from := func(st trials.State) bool { return st == trials.StateQueued || st == trials.StateRunning }
	if to == trials.StateQueued {
		verb = "requeue"
		from = func(st trials.State) bool {
			return st == trials.StateRunning || st == trials.StateCanceled || st == trials.StateError
		}
	}
	return s.write(ctx, verb, func(w *wtx) error {
		if err := w.exp(exp); err != nil {
			return err
		}
		states := make([]trials.State, len(ls))
		for i, l := range ls {
			var state, attempt int64
			err := w.stmt(s.st.trialState).QueryRowContext(ctx, w.e.id, int64(l.ID)).Scan(&state, &attempt)
			if errors.Is(err, sql.ErrNoRows) || err == nil && state == 0 {
				return fmt.Errorf("trial %d of experiment %q: %w", l.ID, exp, trials.ErrNotFound)
			}
			if err != nil {
				return err
			}
			if int(attempt) != l.Attempt {
				return fmt.Errorf("%s trial %d of %q: attempt %d given, trial is %v at attempt %d: %w", verb, l.ID, exp, l.Attempt, trials.State(state), attempt, trials.ErrConflict)
			}
			states[i] = trials.State(state)
		}
		now := nanos(s.now())
		for i, l := range ls {
			if !from(states[i]) || slices.ContainsFunc(ls[:i], func(p trials.Lease) bool { return p.ID == l.ID }) {
				continue // a lease given twice acts once, as the trial has moved
			}
			var err error
			if to == trials.StateQueued {
				_, err = w.tx.ExecContext(ctx, `UPDATE trials SET state = 1, lease_until = 0, loss = 0, status = 0, loss_variance = 0,
					true_loss = 0, has_true_loss = 0, extras = NULL, err = '', stack = '', attachments = NULL, ended = 0, seq = ?
					WHERE exp = ? AND id = ?`, w.touch(), w.e.id, int64(l.ID))
				if err == nil {
					_, err = w.tx.ExecContext(ctx, `DELETE FROM attachments WHERE exp = ? AND id = ?`, w.e.id, int64(l.ID))
				}
			} else {
				_, err = w.tx.ExecContext(ctx, `UPDATE trials SET state = 5, lease_until = 0, ended = ?, seq = ? WHERE exp = ? AND id = ?`,
					now, w.touch(), w.e.id, int64(l.ID))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// readExp returns the row ID, Seq and ReportSeq of experiment exp.
func (s *Store) readExp(ctx context.Context, tx *sql.Tx, exp string) (id, seq, reportSeq int64, err error) {
	err = tx.StmtContext(ctx, s.st.rExpSeq).QueryRowContext(ctx, exp).Scan(&id, &seq, &reportSeq)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("experiment %q: %w", exp, trials.ErrNotFound)
	}
	return id, seq, reportSeq, err
}

// Get implements trials.Store.
func (s *Store) Get(ctx context.Context, exp string, id trials.ID) (trials.Trial, error) {
	var t trials.Trial
	err := s.read(ctx, "get", func(tx *sql.Tx) error {
		eid, _, _, err := s.readExp(ctx, tx, exp)
		if err != nil {
			return err
		}
		var r trialRow
		err = r.scan(tx.StmtContext(ctx, s.st.rTrial).QueryRowContext(ctx, eid, int64(id)))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("trial %d of experiment %q: %w", id, exp, trials.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if t, err = r.trial(exp); err != nil {
			return err
		}
		rows, err := tx.StmtContext(ctx, s.st.rReports).QueryContext(ctx, eid, int64(id), r.attempt)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rp trials.Report
			var v int64
			if err := rows.Scan(&rp.Step, &v); err != nil {
				return err
			}
			rp.Value = ffrom(v)
			t.Reports = append(t.Reports, rp)
		}
		return rows.Err()
	})
	if err != nil {
		return trials.Trial{}, err
	}
	return t, nil
}

// Changes implements trials.Store. It reads the trials through the index on
// (experiment, seq): its cost is in proportion to the changes returned.
func (s *Store) Changes(ctx context.Context, exp string, since int64, limit int) ([]trials.Trial, int64, error) {
	var (
		out  []trials.Trial
		next int64
	)
	err := s.read(ctx, "changes", func(tx *sql.Tx) error {
		eid, seq, _, err := s.readExp(ctx, tx, exp)
		if err != nil {
			return err
		}
		since = max(0, min(since, seq))
		rows, err := tx.StmtContext(ctx, s.st.rChanges).QueryContext(ctx, eid, since, pageRows(limit))
		if err != nil {
			return err
		}
		out, next, err = readPage(rows, limit, seq, func(rows *sql.Rows) (trials.Trial, int64, error) {
			var r trialRow
			if err := r.scan(rows); err != nil {
				return trials.Trial{}, 0, err
			}
			t, err := r.trial(exp)
			return t, t.Seq, err
		})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, next, nil
}

// Reports implements trials.Store.
func (s *Store) Reports(ctx context.Context, exp string, since int64, limit int) ([]trials.TrialReport, int64, error) {
	var (
		out  []trials.TrialReport
		next int64
	)
	err := s.read(ctx, "reports", func(tx *sql.Tx) error {
		eid, _, rseq, err := s.readExp(ctx, tx, exp)
		if err != nil {
			return err
		}
		since = max(0, min(since, rseq))
		rows, err := tx.QueryContext(ctx, `SELECT seq, id, attempt, step, value FROM reports WHERE exp = ? AND seq > ? ORDER BY seq LIMIT ?`, eid, since, pageRows(limit))
		if err != nil {
			return err
		}
		out, next, err = readPage(rows, limit, rseq, func(rows *sql.Rows) (trials.TrialReport, int64, error) {
			var r trials.TrialReport
			var v int64
			err := rows.Scan(&r.Seq, &r.ID, &r.Attempt, &r.Step, &v)
			r.Value = ffrom(v)
			return r, r.Seq, err
		})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, next, nil
}

// pageRows is the LIMIT of a page's query: one row more than limit, to
// tell a full last page from a cut one, or -1 (no limit) for limit <= 0.
func pageRows(limit int) int64 {
	if limit <= 0 {
		return -1
	}
	return int64(limit) + 1
}

// readPage reads a page of rows (queried with LIMIT pageRows(limit)), each
// read by scan, which also returns its sequence number, and closes rows. It
// returns at most limit of them (limit <= 0: all) and the sequence number
// to pass next: the last one's if the limit cut the list short, else end.
func readPage[T any](rows *sql.Rows, limit int, end int64, scan func(*sql.Rows) (T, int64, error)) ([]T, int64, error) {
	defer rows.Close()
	var out []T
	var last int64 // the seq of the last row kept
	for rows.Next() {
		if limit > 0 && len(out) == limit {
			return out, last, rows.Err() // a row more than the page: it was cut
		}
		x, seq, err := scan(rows)
		if err != nil {
			return nil, 0, err
		}
		out, last = append(out, x), seq
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return out, end, nil
}

// Attachment implements trials.Store.
func (s *Store) Attachment(ctx context.Context, exp string, id trials.ID, name string) ([]byte, error) {
	var b []byte
	err := s.read(ctx, "attachment", func(tx *sql.Tx) error {
		eid, _, _, err := s.readExp(ctx, tx, exp)
		if err != nil {
			return err
		}
		var state int64
		err = tx.QueryRowContext(ctx, `SELECT state FROM trials WHERE exp = ? AND id = ? AND state != 0`, eid, int64(id)).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("trial %d of experiment %q: %w", id, exp, trials.ErrNotFound)
		}
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT data FROM attachments WHERE exp = ? AND id = ? AND name = ?`, eid, int64(id), name).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("attachment %q of trial %d of %q: %w", name, id, exp, trials.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return nonNil(b), nil
}

// Wait implements trials.Waiter. A change committed by this process wakes
// it at once; one committed by another process is seen within
// Options.PollInterval while the experiment is busy, and within
// idlePolls × PollInterval once this Store has seen no change for idleAfter.
func (s *Store) Wait(ctx context.Context, exp string, since int64) (int64, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		var seq int64
		err := s.read(ctx, "wait", func(tx *sql.Tx) error {
			var err error
			_, seq, _, err = s.readExp(ctx, tx, exp)
			return err
		})
		if err != nil {
			return 0, err
		}
		if seq > since {
			s.lastChange.Store(time.Now().UnixNano())
			return seq, nil
		}
		d := s.poll
		if time.Since(time.Unix(0, s.lastChange.Load())) > idleAfter {
			d *= idlePolls
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-ch:
		case <-timer.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-s.done:
			return 0, trials.ErrClosed
		}
	}
}

// Wait polls every PollInterval while the experiment changes, so that a
// driver and its workers of a quick objective hand trials to each other
// without waiting long; after idleAfter without a change seen by this Store
// (a worker with nothing to do, a driver waiting on long evaluations), it
// polls idlePolls times less often, so that waiting costs little.
const (
	idleAfter = time.Second
	idlePolls = 5
)
