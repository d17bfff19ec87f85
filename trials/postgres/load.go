package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hyperopt-go/hyperopt/trials"
)

// Load implements trials.Loader in one transaction: the trials, reports,
// attachments and released IDs are written with COPY. It is retried only
// if a failed attempt never reached the server.
func (s *Store) Load(ctx context.Context, spec trials.ExperimentSpec, ts []trials.Trial, missing []trials.ID) (trials.Experiment, error) {
	n, err := trials.CheckLoad(ts, missing)
	if err != nil {
		return trials.Experiment{}, err
	}
	fresh, err := trials.NewExperiment(spec, time.Now())
	if err != nil {
		return trials.Experiment{}, err
	}
	order := make([]*trials.Trial, len(ts))
	for i := range ts {
		order[i] = &ts[i]
	}
	// Trials are stamped in the order of their IDs, and their reports
	// after them in the same order.
	slices.SortFunc(order, func(a, b *trials.Trial) int { return cmp.Compare(a.ID, b.ID) })
	var trialRows, reportRows, attRows [][]any
	for i, t := range order {
		r := t.Result
		extras, names, data, err := resultArgs(r)
		if err != nil {
			return trials.Experiment{}, fmt.Errorf("trials: load trial %d: %w", t.ID, err)
		}
		vals := []float64(t.Values)
		if vals == nil {
			vals = []float64{}
		}
		trialRows = append(trialRows, []any{int64(t.ID), int16(t.State), vals, t.Owner, int32(t.Attempt),
			tsOrNil(t.Booked), tsOrNil(t.Started), tsOrNil(t.Ended), int64(i + 1),
			r.Loss, int16(r.Status), r.LossVariance, r.TrueLoss, r.HasTrueLoss, extras, r.Err, r.Stack, names})
		for j, name := range names {
			attRows = append(attRows, []any{int64(t.ID), name, data[j]})
		}
	}
	for _, t := range order {
		for _, r := range t.Reports {
			reportRows = append(reportRows, []any{int64(len(reportRows) + 1), int64(t.ID), int32(t.Attempt), r.Step, r.Value})
		}
	}
	var out trials.Experiment
	err = s.do(ctx, true, func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO experiments (key, space, fingerprint, seed, max_evals, max_attempts, algorithm, algorithm_options, created)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) ON CONFLICT (key) DO NOTHING`,
				fresh.Key, nilIfEmpty(fresh.Space), fresh.Fingerprint, int64(fresh.Seed), fresh.MaxEvals, fresh.MaxAttempts,
				fresh.Algorithm, nilIfEmpty(fresh.AlgorithmOptions)); err != nil {
				return err
			}
			var eid int64
			stored, err := scanExp(tx.QueryRow(ctx, "SELECT "+expCols+", id FROM experiments WHERE key = $1 FOR UPDATE", spec.Key), &eid)
			if err != nil {
				return err
			}
			x, err := trials.CheckSpec(stored, spec)
			if err != nil {
				return &permanent{err}
			}
			if stored.NextID != 0 {
				return &permanent{fmt.Errorf("trials: load %q: the experiment already has trials: %w", spec.Key, trials.ErrConflict)}
			}
			withExp := func(rows [][]any) [][]any {
				out := make([][]any, len(rows))
				for i, r := range rows {
					out[i] = append([]any{eid}, r...)
				}
				return out
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"trials"}, []string{"experiment", "id", "state", "vals", "owner", "attempt",
				"booked", "started", "ended", "seq", "loss", "status", "loss_variance", "true_loss", "has_true_loss",
				"extras", "err", "stack", "attachments"}, pgx.CopyFromRows(withExp(trialRows))); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"reports"}, []string{"experiment", "seq", "id", "attempt", "step", "value"},
				pgx.CopyFromRows(withExp(reportRows))); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"attachments"}, []string{"experiment", "id", "name", "data"},
				pgx.CopyFromRows(withExp(attRows))); err != nil {
				return err
			}
			rel := make([][]any, len(missing))
			for i, id := range missing {
				rel[i] = []any{eid, int64(id)}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"released"}, []string{"experiment", "id"}, pgx.CopyFromRows(rel)); err != nil {
				return err
			}
			if out, err = scanExp(tx.QueryRow(ctx, `UPDATE experiments SET max_evals = $2, max_attempts = $3, next_id = $4,
				claimed = $5, seq = $6, report_seq = $7 WHERE id = $1 RETURNING `+expCols,
				eid, x.MaxEvals, x.MaxAttempts, int64(n), len(ts), int64(len(ts)), int64(len(reportRows)))); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "SELECT hyperopt_notify($1, $2)", spec.Key, int64(len(ts)))
			return err
		})
	})
	return out, err
}

func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
