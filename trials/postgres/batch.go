package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
)

var _ trials.Batcher = (*Store)(nil)

// ReserveN implements trials.Batcher: one statement (hyperopt_reserve_n),
// one transaction, one notification, with the meaning of n Reserve calls.
// The trials it takes are marked with a token of the call, so that a retry
// after a lost acknowledgement returns them rather than taking others.
// The trials come in the order they were taken: queued ones by ID, then
// those whose lease had expired, by ID.
func (s *Store) ReserveN(ctx context.Context, exp, owner string, ttl time.Duration, n int) ([]trials.Trial, error) {
	if n <= 0 {
		return nil, fmt.Errorf("trials: reserve %d trials: count must be positive", n)
	}
	n = min(n, math.MaxInt32)
	token := fmt.Sprintf("%016x%016x", trials.NewSeed(), trials.NewSeed())
	retry := false
	var out []trials.Trial
	err := s.do(ctx, false, func(ctx context.Context) error {
		out = out[:0]
		rows, err := s.pool.Query(ctx, "SELECT "+trialCols+" FROM hyperopt_reserve_n($1, $2, $3, $4, $5, $6)",
			exp, owner, ttl.Microseconds(), n, token, retry)
		retry = true
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTrial(rows, exp)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("experiment %q: %w", exp, trials.ErrNoQueued)
	}
	slices.SortFunc(out, func(a, b trials.Trial) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// FinishN implements trials.Batcher: one statement (hyperopt_finish_n),
// one transaction, one notification. Each finish is checked and recorded
// as Finish would, in order; a retry of the call after a lost
// acknowledgement finds the finishes it recorded and returns nil for them,
// as Finish's retry does. A result whose extras are not JSON-able is
// refused in its errs entry and not sent.
func (s *Store) FinishN(ctx context.Context, exp string, fs []trials.Finishing) ([]error, error) {
	for _, f := range fs {
		if f.State != trials.StateDone && f.State != trials.StateError {
			return nil, fmt.Errorf("trials: finish trial %d with state %v: want done or error", f.Lease.ID, f.State)
		}
	}
	errs := make([]error, len(fs))
	var (
		index                         []int // of fs, for each finish sent
		ids                           = []int64{}
		attempts, nnames              = []int32{}, []int32{}
		states, statuses              = []int16{}, []int16{}
		losses, variances, trueLosses = []float64{}, []float64{}, []float64{}
		hasTrue                       = []bool{}
		extras, data                  = [][]byte{}, [][]byte{}
		errTexts, stacks, names       = []string{}, []string{}, []string{}
	)
	for i, f := range fs {
		r := f.Result
		if f.State == trials.StateDone {
			r = r.Normalize()
		}
		x, ns, ds, err := resultArgs(r)
		if err != nil {
			errs[i] = err
			continue
		}
		index = append(index, i)
		ids, attempts, states = append(ids, int64(f.Lease.ID)), append(attempts, int32(f.Lease.Attempt)), append(states, int16(f.State))
		losses, statuses, variances = append(losses, r.Loss), append(statuses, int16(r.Status)), append(variances, r.LossVariance)
		trueLosses, hasTrue, extras = append(trueLosses, r.TrueLoss), append(hasTrue, r.HasTrueLoss), append(extras, x)
		errTexts, stacks = append(errTexts, r.Err), append(stacks, r.Stack)
		nnames, names, data = append(nnames, int32(len(ns))), append(names, ns...), append(data, ds...)
	}
	err := s.do(ctx, false, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, "SELECT code, msg FROM hyperopt_finish_n($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
			exp, ids, attempts, states, losses, statuses, variances, trueLosses, hasTrue, extras, errTexts, stacks, nnames, names, data)
		if err != nil {
			return err
		}
		defer rows.Close()
		k := 0
		for rows.Next() {
			var code, msg *string
			if err := rows.Scan(&code, &msg); err != nil {
				return err
			}
			if k >= len(index) {
				return &permanent{fmt.Errorf("postgres: %s: hyperopt_finish_n returned more rows than finishes", s.where)}
			}
			errs[index[k]] = nil
			if code != nil {
				errs[index[k]] = finishErr(*code, deref(msg))
			}
			k++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if k != len(index) {
			return &permanent{fmt.Errorf("postgres: %s: hyperopt_finish_n returned %d rows for %d finishes", s.where, k, len(index))}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// finishErr is the error of a finish that hyperopt_finish_n refused, as
// sqlErr makes it of the same refusal raised by hyperopt_finish.
func finishErr(code, msg string) error {
	switch code {
	case "HO404":
		return fmt.Errorf("%s: %w", msg, trials.ErrNotFound)
	case "HO409":
		return fmt.Errorf("%s: %w", msg, trials.ErrConflict)
	}
	return fmt.Errorf("postgres: finish refused (%s): %s", code, msg)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
