package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hyperopt-go/hyperopt/trials"
)

// scanExperiment reads a row of expCols.
func scanExperiment(sc scanner) (int64, trials.Experiment, error) {
	var (
		id            int64
		e             trials.Experiment
		seed, created int64
		next          int64
		space, opts   []byte
	)
	err := sc.Scan(&id, &e.Key, &space, &e.Fingerprint, &seed, &e.MaxEvals, &e.MaxAttempts, &e.Algorithm,
		&opts, &created, &e.Claimed, &next, &e.Seq, &e.ReportSeq)
	e.Space, e.AlgorithmOptions = space, opts
	e.Seed, e.Created, e.NextID = uint64(seed), fromNanos(created), trials.ID(next)
	return id, e, err
}

// bytesOrNil returns b, nil if it is empty (stored as NULL).
func bytesOrNil(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

// openTx opens or creates spec's experiment in w, as Open does, and returns
// it with its row ID.
func (w *wtx) openTx(spec trials.ExperimentSpec) (int64, trials.Experiment, error) {
	row := w.tx.QueryRowContext(w.ctx, `SELECT `+expCols+` FROM experiments WHERE key = ?`, spec.Key)
	id, stored, err := scanExperiment(row)
	switch {
	case err == nil:
		x, err := trials.CheckSpec(stored, spec)
		if err != nil {
			return 0, trials.Experiment{}, err
		}
		if x.MaxEvals != stored.MaxEvals || x.MaxAttempts != stored.MaxAttempts {
			if _, err := w.tx.ExecContext(w.ctx, `UPDATE experiments SET max_evals = ?, max_attempts = ? WHERE id = ?`,
				x.MaxEvals, x.MaxAttempts, id); err != nil {
				return 0, trials.Experiment{}, err
			}
		}
		return id, x, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, trials.Experiment{}, err
	}
	x, err := trials.NewExperiment(spec, w.s.now())
	if err != nil {
		return 0, trials.Experiment{}, err
	}
	err = w.tx.QueryRowContext(w.ctx, `INSERT INTO experiments (key, space, fingerprint, seed, max_evals, max_attempts,
		algorithm, algorithm_options, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		x.Key, bytesOrNil(x.Space), x.Fingerprint, int64(x.Seed), x.MaxEvals, x.MaxAttempts, x.Algorithm,
		bytesOrNil(x.AlgorithmOptions), nanos(x.Created)).Scan(&id)
	if err != nil {
		return 0, trials.Experiment{}, err
	}
	// The time as stored.
	x.Created = fromNanos(nanos(x.Created))
	return id, x, nil
}

// Open implements trials.Store.
func (s *Store) Open(ctx context.Context, spec trials.ExperimentSpec) (trials.Experiment, error) {
	var x trials.Experiment
	err := s.write(ctx, "open experiment "+spec.Key, func(w *wtx) error {
		var err error
		_, x, err = w.openTx(spec)
		return err
	})
	if err != nil {
		return trials.Experiment{}, err
	}
	return x, nil
}

// Experiments implements trials.Store.
func (s *Store) Experiments(ctx context.Context) ([]trials.Experiment, error) {
	var out []trials.Experiment
	err := s.read(ctx, "experiments", func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT `+expCols+` FROM experiments ORDER BY key`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			_, e, err := scanExperiment(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []trials.Experiment{}
	}
	return out, nil
}

// Load implements trials.Loader: the experiment and all its trials are
// written in one transaction, or nothing is.
func (s *Store) Load(ctx context.Context, spec trials.ExperimentSpec, ts []trials.Trial, missing []trials.ID) (trials.Experiment, error) {
	n, err := trials.CheckLoad(ts, missing)
	if err != nil {
		return trials.Experiment{}, err
	}
	// Encode everything before the transaction.
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	sortByID(order, ts)
	enc := make([]encodedResult, len(ts))
	for i := range ts {
		if enc[i], err = encodeResult(ts[i].Result); err != nil {
			return trials.Experiment{}, fmt.Errorf("trials: load trial %d: %w", ts[i].ID, err)
		}
	}
	var x trials.Experiment
	err = s.write(ctx, "load experiment "+spec.Key, func(w *wtx) error {
		id, e, err := w.openTx(spec)
		if err != nil {
			return err
		}
		if e.NextID != 0 {
			return fmt.Errorf("trials: load %q: the experiment already has trials: %w", spec.Key, trials.ErrConflict)
		}
		if err := w.exp(spec.Key); err != nil {
			return err
		}
		for _, m := range missing {
			if _, err := w.stmt(s.st.insertReleased).ExecContext(w.ctx, id, int64(m)); err != nil {
				return err
			}
		}
		ins, err := w.tx.PrepareContext(w.ctx, `INSERT INTO trials (exp, id, state, vals, owner, attempt, lease_until, booked,
			started, ended, seq, loss, status, loss_variance, true_loss, has_true_loss, extras, err, stack, attachments)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, i := range order {
			t := &ts[i]
			r := t.Result
			seq := w.touch()
			if _, err := ins.ExecContext(w.ctx, id, int64(t.ID), int64(t.State), encodeValues(t.Values), t.Owner, t.Attempt,
				nanos(t.Booked), nanos(t.Started), nanos(t.Ended), seq, fbits(r.Loss), int64(r.Status), fbits(r.LossVariance),
				fbits(r.TrueLoss), boolInt(r.HasTrueLoss), enc[i].extras, r.Err, r.Stack, enc[i].names); err != nil {
				return err
			}
			for name, data := range r.Attachments {
				if _, err := w.stmt(s.st.insertAttachment).ExecContext(w.ctx, id, int64(t.ID), name, nonNil(data)); err != nil {
					return err
				}
			}
			for _, rp := range t.Reports {
				w.e.reportSeq++
				if _, err := w.stmt(s.st.insertReport).ExecContext(w.ctx, id, w.e.reportSeq, int64(t.ID), t.Attempt, rp.Step, fbits(rp.Value)); err != nil {
					return err
				}
			}
		}
		w.e.nextID, w.e.claimed = int64(n), len(ts)
		w.dirty = true
		e.NextID, e.Claimed, e.Seq, e.ReportSeq = trials.ID(n), len(ts), w.e.seq, w.e.reportSeq
		x = e
		return nil
	})
	if err != nil {
		return trials.Experiment{}, err
	}
	return x, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
