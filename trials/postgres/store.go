// Package postgres is the PostgreSQL store of trials: a [trials.Store]
// that many processes on many machines share, the engine of a distributed
// search (driver and workers, or peers).
//
// Open connects with a DSN (a URL or key=value string, as libpq and pgx
// read them) and creates or migrates the store's tables in a schema of
// their own ("hyperopt" unless Options.Schema says otherwise); see
// SchemaVersion for the schema.
//
// Every operation of a trial's life (Claim, Propose, Reserve, Heartbeat,
// Report, Finish, ReserveN, FinishN, ...) is one statement, a PL/pgSQL
// function the migration installs, and so one round trip and one
// transaction. Each write that
// changes a trial locks its experiment's row and stamps the experiment's
// next sequence number, so that commits are ordered by sequence number and
// Changes never skips one that commits late. Leases expire by the
// database's clock, never the client's.
//
// Exactly once: a call that fails with a connection error (the server
// restarting, a connection dropped) is retried with backoff for up to
// Options.RetryTimeout. This is safe because the operations are idempotent
// under the Store contract: a Claim carries a request ID (one is made up
// when the caller gives none), a Finish, Report, Propose, Heartbeat,
// Requeue, Cancel or Release repeated after its commit succeeded returns
// nil, and a Reserve marks the trial it takes with a token of the call, so
// that its retry returns that trial. The batch operations of
// trials.Batcher are retried alike: a ReserveN marks its trials with a
// token of the call, and each finish of a FinishN is a Finish. Between a
// call's commit and its retry the trial may move on (a proposed trial reserved by a worker, say): a
// retried Propose or Report accepts the values or report its first call
// recorded in whatever state the trial is now, and a Requeue or Cancel
// records a token of the call, which its retry finds. Load is retried only
// when the failed attempt never reached the server.
//
// Wait listens for notifications (LISTEN/NOTIFY) on one dedicated
// connection per Store, opened at the first Wait; every write notifies in
// its transaction, so the notification arrives at commit. After that
// connection is lost and made again, every waiter is woken to read the
// state afresh.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hyperopt-go/hyperopt/trials"
)

// Options configures a Store. The zero value is the default.
type Options struct {
	// Schema is the PostgreSQL schema (namespace) of the store's tables
	// and functions, created if missing; "" means "hyperopt". Several
	// stores may share a database in different schemas.
	Schema string
	// MaxConns is the size of the connection pool; 0 means 4. Wait uses
	// one more connection of its own.
	MaxConns int32
	// RetryTimeout bounds how long an operation is retried after
	// connection errors (a server restarting, say); 0 means 30s, and a
	// negative value turns retries off.
	RetryTimeout time.Duration
}

// Store is the PostgreSQL store. Its methods are safe for concurrent use;
// a process should open one Store per database and share it.
type Store struct {
	pool    *pgxpool.Pool
	connCfg *pgx.ConnConfig // for the listening connection
	schema  string
	channel string
	retry   time.Duration
	where   string // host, port and database, for errors

	closed atomic.Bool
	done   chan struct{} // closed by Close

	listenOnce sync.Once
	listenWG   sync.WaitGroup
	cancel     context.CancelFunc // stops the listener
	ready      chan struct{}      // closed when the listener first listens
	wmu        sync.Mutex
	wakers     map[string]chan struct{} // by experiment: closed and replaced at a change
}

var (
	_ trials.Store  = (*Store)(nil)
	_ trials.Waiter = (*Store)(nil)
	_ trials.Loader = (*Store)(nil)
)

// Open connects to the database named by dsn, creates or migrates the
// store's schema, and returns the store. opts may be nil. A database whose
// schema was written by a newer version of this package, or whose tables
// of the same names belong to another program, is refused with an error
// wrapping trials.ErrSchema. Open does not retry: an unreachable server or
// a refused login is reported at once, naming the host and database.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = "hyperopt"
	}
	if len(o.Schema) > 50 {
		return nil, fmt.Errorf("postgres: schema name %q is longer than 50 bytes", o.Schema)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4
	}
	switch {
	case o.RetryTimeout == 0:
		o.RetryTimeout = 30 * time.Second
	case o.RetryTimeout < 0:
		o.RetryTimeout = 0
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors leave the password out.
		return nil, fmt.Errorf("postgres: the DSN is not valid (want a URL postgres://user:password@host:port/database or key=value pairs): %w", err)
	}
	cfg.MaxConns = o.MaxConns
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.Schema}.Sanitize()
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "hyperopt-go"
	}
	s := &Store{
		connCfg: cfg.ConnConfig.Copy(),
		schema:  o.Schema,
		channel: "hyperopt." + o.Schema,
		retry:   o.RetryTimeout,
		where:   fmt.Sprintf("host %s port %d database %q user %q", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, cfg.ConnConfig.User),
		done:    make(chan struct{}),
		ready:   make(chan struct{}),
		wakers:  map[string]chan struct{}{},
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", s.where, err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, s.connectErr(err)
	}
	err = migrate(ctx, conn.Conn(), o.Schema)
	conn.Release()
	if err != nil {
		pool.Close()
		if errors.Is(err, trials.ErrSchema) {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: %s: set up schema %q: %w", s.where, o.Schema, err)
	}
	s.pool = pool
	return s, nil
}

// connectErr explains a failure to connect.
func (s *Store) connectErr(err error) error {
	hint := "is a PostgreSQL server running there and accepting TCP connections? check the host and port of the DSN"
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", "28000":
			hint = "the server refused the login: check the user and password of the DSN (or PGPASSWORD, ~/.pgpass)"
		case "3D000":
			hint = "the database does not exist: create it (createdb, or CREATE DATABASE) or fix the DSN"
		case "57P03":
			hint = "the server is starting up or shutting down: try again"
		default:
			hint = "the server refused the connection"
		}
	}
	return fmt.Errorf("postgres: connect to %s: %w (%s)", s.where, err, hint)
}

// Close implements trials.Store: it stops the listener, wakes every Wait
// with ErrClosed and closes the pool. It may be called more than once.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.done)
	s.listenOnce.Do(func() {}) // no listener may start after Close
	if s.cancel != nil {
		s.cancel()
	}
	s.listenWG.Wait()
	s.pool.Close()
	return nil
}

// sqlErr turns an error of the store's functions into one wrapping the
// trials sentinel it stands for.
func (s *Store) sqlErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "HO404":
			return fmt.Errorf("%s: %w", pe.Message, trials.ErrNotFound)
		case "HO409":
			return fmt.Errorf("%s: %w", pe.Message, trials.ErrConflict)
		case "HO402":
			return fmt.Errorf("%s: %w", pe.Message, trials.ErrBudget)
		case "HO400":
			return fmt.Errorf("trials: %s", pe.Message)
		}
	}
	if s.closed.Load() {
		return trials.ErrClosed
	}
	return fmt.Errorf("postgres: %s: %w", s.where, err)
}

// transient reports whether err is a failure of the connection or of the
// server's availability, after which an idempotent operation may be tried
// again.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03", "40001", "40P01", "53300":
			return true
		}
		return strings.HasPrefix(pe.Code, "08")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	msg := err.Error()
	for _, m := range []string{"conn closed", "connection reset", "broken pipe", "unexpected EOF", "connection refused"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// do runs op, retrying it on transient errors with backoff for up to the
// store's retry timeout. safeOnly limits retries to failures that never
// reached the server.
func (s *Store) do(ctx context.Context, safeOnly bool, op func(ctx context.Context) error) error {
	if s.closed.Load() {
		return trials.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var deadline time.Time
	wait := 10 * time.Millisecond
	for {
		err := op(ctx)
		if err == nil {
			return nil
		}
		var p *permanent
		if errors.As(err, &p) {
			return p.err
		}
		if s.closed.Load() {
			return trials.ErrClosed
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		retry := transient(err)
		if safeOnly {
			retry = pgconn.SafeToRetry(err)
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "HO") {
			retry = false
		}
		if !retry || s.retry <= 0 {
			return s.sqlErr(err)
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(s.retry)
		} else if time.Now().After(deadline) {
			return fmt.Errorf("postgres: %s: gave up after retrying for %v: %w", s.where, s.retry, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return trials.ErrClosed
		}
		wait = min(2*wait, time.Second)
	}
}

const expCols = `key, space, fingerprint, seed, max_evals, max_attempts, algorithm, algorithm_options, created, claimed, next_id, seq, report_seq`

func scanExp(row pgx.Row, extra ...any) (trials.Experiment, error) {
	var x trials.Experiment
	var seed int64
	var next int64
	err := row.Scan(append([]any{&x.Key, &x.Space, &x.Fingerprint, &seed, &x.MaxEvals, &x.MaxAttempts, &x.Algorithm,
		&x.AlgorithmOptions, &x.Created, &x.Claimed, &next, &x.Seq, &x.ReportSeq}, extra...)...)
	x.Seed, x.NextID = uint64(seed), trials.ID(next)
	return x, err
}

// Open implements trials.Store.
func (s *Store) Open(ctx context.Context, spec trials.ExperimentSpec) (trials.Experiment, error) {
	fresh, err := trials.NewExperiment(spec, time.Now())
	if err != nil {
		return trials.Experiment{}, err
	}
	var out trials.Experiment
	err = s.do(ctx, false, func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO experiments (key, space, fingerprint, seed, max_evals, max_attempts, algorithm, algorithm_options, created)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) ON CONFLICT (key) DO NOTHING`,
				fresh.Key, nilIfEmpty(fresh.Space), fresh.Fingerprint, int64(fresh.Seed), fresh.MaxEvals, fresh.MaxAttempts,
				fresh.Algorithm, nilIfEmpty(fresh.AlgorithmOptions)); err != nil {
				return err
			}
			stored, err := scanExp(tx.QueryRow(ctx, "SELECT "+expCols+" FROM experiments WHERE key = $1 FOR UPDATE", spec.Key))
			if err != nil {
				return err
			}
			x, err := trials.CheckSpec(stored, spec)
			if err != nil {
				return &permanent{err}
			}
			if x.MaxEvals != stored.MaxEvals || x.MaxAttempts != stored.MaxAttempts {
				if _, err := tx.Exec(ctx, "UPDATE experiments SET max_evals = $2, max_attempts = $3 WHERE key = $1",
					spec.Key, x.MaxEvals, x.MaxAttempts); err != nil {
					return err
				}
			}
			out = x
			return nil
		})
	})
	return out, unwrapPermanent(err)
}

// permanent marks an error that is the answer, not a failure to retry.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

func unwrapPermanent(err error) error {
	var p *permanent
	if errors.As(err, &p) {
		return p.err
	}
	return err
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Experiments implements trials.Store.
func (s *Store) Experiments(ctx context.Context) ([]trials.Experiment, error) {
	var out []trials.Experiment
	err := s.do(ctx, false, func(ctx context.Context) error {
		out = nil
		rows, err := s.pool.Query(ctx, "SELECT "+expCols+" FROM experiments ORDER BY key COLLATE \"C\"")
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (trials.Experiment, error) { return scanExp(r) })
		return err
	})
	return out, err
}

// Claim implements trials.Store. A claim without a request ID gets one of
// its own, so that retrying it after a lost acknowledgement is safe.
func (s *Store) Claim(ctx context.Context, exp string, n int, requestID string) ([]trials.ID, error) {
	req := requestID
	if req == "" {
		req = fmt.Sprintf("auto-%016x%016x", trials.NewSeed(), trials.NewSeed())
	} else {
		req = "user-" + req
	}
	if n > math.MaxInt32 {
		n = math.MaxInt32
	}
	var ids []trials.ID
	err := s.do(ctx, false, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, "SELECT hyperopt_claim($1, $2, $3)", exp, n, req)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (trials.ID, error) {
			var id int64
			err := r.Scan(&id)
			return trials.ID(id), err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// Propose implements trials.Store.
func (s *Store) Propose(ctx context.Context, exp string, ps []trials.Proposal) error {
	ids := make([]int64, len(ps))
	lens := make([]int32, len(ps))
	owners := make([]string, len(ps))
	ttls := make([]int64, len(ps))
	var vals []float64
	for i, p := range ps {
		ids[i], lens[i], owners[i], ttls[i] = int64(p.ID), int32(len(p.Values)), p.Owner, p.LeaseTTL.Microseconds()
		vals = append(vals, p.Values...)
	}
	if vals == nil {
		vals = []float64{}
	}
	retry := false
	return s.do(ctx, false, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, "SELECT hyperopt_propose($1, $2, $3, $4, $5, $6, $7)", exp, ids, lens, vals, owners, ttls, retry)
		retry = true
		return err
	})
}

// Release implements trials.Store.
func (s *Store) Release(ctx context.Context, exp string, ids []trials.ID) error {
	xs := make([]int64, len(ids))
	for i, id := range ids {
		xs[i] = int64(id)
	}
	return s.do(ctx, false, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, "SELECT hyperopt_release($1, $2)", exp, xs)
		return err
	})
}

// trialCols are the columns of a trial, as scanTrial reads them.
const trialCols = `id, state, vals, owner, attempt, lease_until, booked, started, ended, seq,
	loss, status, loss_variance, true_loss, has_true_loss, extras, err, stack, expired_max, attachments`

func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time
}

// scanTrial reads a row of trialCols (and then extra, if any) into a
// trial of experiment exp.
func scanTrial(row pgx.Row, exp string, extra ...any) (trials.Trial, error) {
	var (
		t                           trials.Trial
		id                          int64
		state, status               int16
		lease, booked, start, ended pgtype.Timestamptz
		extras                      []byte
		expiredMax                  int
		names                       []string
	)
	dest := append([]any{&id, &state, &t.Values, &t.Owner, &t.Attempt, &lease, &booked, &start, &ended, &t.Seq,
		&t.Result.Loss, &status, &t.Result.LossVariance, &t.Result.TrueLoss, &t.Result.HasTrueLoss,
		&extras, &t.Result.Err, &t.Result.Stack, &expiredMax, &names}, extra...)
	if err := row.Scan(dest...); err != nil {
		return trials.Trial{}, err
	}
	t.ID, t.Experiment, t.State, t.Result.Status = trials.ID(id), exp, trials.State(state), trials.Status(status)
	t.LeaseUntil, t.Booked, t.Started, t.Ended = timeOf(lease), timeOf(booked), timeOf(start), timeOf(ended)
	if expiredMax > 0 {
		t.Result = trials.ExpiredResult(t.Attempt, expiredMax, t.Owner)
	}
	if len(extras) > 0 {
		var err error
		if t.Result.Extras, err = trials.UnmarshalExtras(extras); err != nil {
			return trials.Trial{}, fmt.Errorf("postgres: trial %d of %q: extras: %w", id, exp, err)
		}
	}
	if len(names) > 0 {
		t.Result.Attachments = make(map[string][]byte, len(names))
		for _, n := range names {
			t.Result.Attachments[n] = nil
		}
	}
	return t, nil
}

// Reserve implements trials.Store. Each call marks the trial it takes
// with a token of its own, so that a retry after a lost acknowledgement
// returns the same trial rather than taking another.
func (s *Store) Reserve(ctx context.Context, exp, owner string, ttl time.Duration) (trials.Trial, error) {
	var t trials.Trial
	found := false
	token := fmt.Sprintf("%016x%016x", trials.NewSeed(), trials.NewSeed())
	retry := false
	err := s.do(ctx, false, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, "SELECT "+trialCols+" FROM hyperopt_reserve($1, $2, $3, $4, $5)",
			exp, owner, ttl.Microseconds(), token, retry)
		retry = true
		if err != nil {
			return err
		}
		defer rows.Close()
		found = false
		for rows.Next() {
			if t, err = scanTrial(rows, exp); err != nil {
				return err
			}
			found = true
		}
		return rows.Err()
	})
	if err != nil {
		return trials.Trial{}, err
	}
	if !found {
		return trials.Trial{}, fmt.Errorf("experiment %q: %w", exp, trials.ErrNoQueued)
	}
	return t, nil
}

// Heartbeat implements trials.Store. It does not stamp a sequence number.
func (s *Store) Heartbeat(ctx context.Context, exp string, l trials.Lease, ttl time.Duration) error {
	return s.do(ctx, false, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, "SELECT hyperopt_heartbeat($1, $2, $3, $4)", exp, int64(l.ID), l.Attempt, ttl.Microseconds())
		return err
	})
}

// Report implements trials.Store.
func (s *Store) Report(ctx context.Context, exp string, l trials.Lease, r trials.Report) error {
	retry := false
	return s.do(ctx, false, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, "SELECT hyperopt_report($1, $2, $3, $4, $5, $6)", exp, int64(l.ID), l.Attempt, r.Step, r.Value, retry)
		retry = true
		return err
	})
}

// resultArgs returns the columns of a result: its extras as JSON and its
// attachments' names (sorted) and bytes.
func resultArgs(r trials.Result) (extras []byte, names []string, data [][]byte, err error) {
	if err := trials.CheckResult(r); err != nil {
		return nil, nil, nil, err
	}
	if extras, err = trials.MarshalExtras(r.Extras); err != nil {
		return nil, nil, nil, err
	}
	names = make([]string, 0, len(r.Attachments))
	for n := range r.Attachments {
		names = append(names, n)
	}
	slices.Sort(names)
	data = make([][]byte, len(names))
	for i, n := range names {
		data[i] = r.Attachments[n]
		if data[i] == nil {
			data[i] = []byte{}
		}
	}
	return extras, names, data, nil
}

// Finish implements trials.Store.
func (s *Store) Finish(ctx context.Context, exp string, l trials.Lease, state trials.State, r trials.Result) error {
	if state != trials.StateDone && state != trials.StateError {
		return fmt.Errorf("trials: finish with state %v: want done or error", state)
	}
	if state == trials.StateDone {
		r = r.Normalize()
	}
	extras, names, data, err := resultArgs(r)
	if err != nil {
		return err
	}
	return s.do(ctx, false, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, "SELECT hyperopt_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
			exp, int64(l.ID), l.Attempt, int16(state), r.Loss, int16(r.Status), r.LossVariance, r.TrueLoss, r.HasTrueLoss,
			extras, r.Err, r.Stack, names, data)
		return err
	})
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
	ids := make([]int64, len(ls))
	attempts := make([]int32, len(ls))
	for i, l := range ls {
		ids[i], attempts[i] = int64(l.ID), int32(l.Attempt)
	}
	token := fmt.Sprintf("%016x%016x", trials.NewSeed(), trials.NewSeed())
	retry := false
	return s.do(ctx, false, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, "SELECT hyperopt_move($1, $2, $3, $4, $5, $6)", exp, ids, attempts, int16(to), token, retry)
		retry = true
		return err
	})
}

// notFound returns the ErrNotFound error of a lookup of what (a trial, say)
// in experiment exp that found no row: the experiment's, if it does not
// exist, else what's. The error is marked permanent, not to be retried.
func (s *Store) notFound(ctx context.Context, exp string, what string) error {
	var one int
	err := s.pool.QueryRow(ctx, "SELECT 1 FROM experiments WHERE key = $1", exp).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return &permanent{fmt.Errorf("experiment %q: %w", exp, trials.ErrNotFound)}
	case err != nil:
		return err
	}
	return &permanent{fmt.Errorf("%s of experiment %q: %w", what, exp, trials.ErrNotFound)}
}

// Get implements trials.Store.
func (s *Store) Get(ctx context.Context, exp string, id trials.ID) (trials.Trial, error) {
	var t trials.Trial
	err := s.do(ctx, false, func(ctx context.Context) error {
		var steps []int64
		var values []float64
		var err error
		t, err = scanTrial(s.pool.QueryRow(ctx, `SELECT `+trialCols+`,
			(SELECT array_agg(r.step ORDER BY r.seq) FROM reports r WHERE r.experiment = t.experiment AND r.id = t.id AND r.attempt = t.attempt),
			(SELECT array_agg(r.value ORDER BY r.seq) FROM reports r WHERE r.experiment = t.experiment AND r.id = t.id AND r.attempt = t.attempt)
			FROM trials t WHERE t.experiment = (SELECT e.id FROM experiments e WHERE e.key = $1) AND t.id = $2`, exp, int64(id)),
			exp, &steps, &values)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.notFound(ctx, exp, fmt.Sprintf("trial %d", id))
		}
		t.Reports = nil
		for i := range steps {
			t.Reports = append(t.Reports, trials.Report{Step: steps[i], Value: values[i]})
		}
		return err
	})
	return t, unwrapPermanent(err)
}

// Changes implements trials.Store. It reads the experiment's Seq S, then
// the trials changed after since up to S: every transaction that stamped a
// number up to S has committed, since each held the experiment's row lock
// until its commit, so none is missed.
func (s *Store) Changes(ctx context.Context, exp string, since int64, limit int) ([]trials.Trial, int64, error) {
	return readPage(ctx, s, exp, "seq", `SELECT `+trialCols+` FROM trials
		WHERE experiment + 0 = (SELECT id FROM experiments WHERE key = $1) AND seq > $2 ORDER BY seq LIMIT $3`,
		since, limit, func(rows pgx.Rows) (trials.Trial, int64, error) {
			t, err := scanTrial(rows, exp)
			return t, t.Seq, err
		})
}

// Reports implements trials.Store, as Changes does for the report
// sequence.
func (s *Store) Reports(ctx context.Context, exp string, since int64, limit int) ([]trials.TrialReport, int64, error) {
	return readPage(ctx, s, exp, "report_seq", `SELECT id, attempt, step, value, seq FROM reports
		WHERE experiment + 0 = (SELECT id FROM experiments WHERE key = $1) AND seq > $2 ORDER BY seq LIMIT $3`,
		since, limit, func(rows pgx.Rows) (trials.TrialReport, int64, error) {
			var r trials.TrialReport
			var id int64
			err := rows.Scan(&id, &r.Attempt, &r.Step, &r.Value, &r.Seq)
			r.ID = trials.ID(id)
			return r, r.Seq, err
		})
}

// readPage reads, in one round trip, experiment exp's sequence number S
// (column seqCol of its row) and the rows of query (parameters: the key,
// since, a row limit) up to S, at most limit of them (none: no limit), each
// read by scan, which also returns its sequence number. It returns them and
// the sequence number to pass next: the last one's if the limit cut the
// list short, else S. A row stamped after S committed after S was read and
// is left to the next call.
func readPage[T any](ctx context.Context, s *Store, exp, seqCol, query string, since int64, limit int, scan func(pgx.Rows) (T, int64, error)) ([]T, int64, error) {
	var out []T
	var next int64
	err := s.do(ctx, false, func(ctx context.Context) error {
		out = nil
		var b pgx.Batch
		b.Queue("SELECT "+seqCol+" FROM experiments WHERE key = $1", exp)
		lim := int64(math.MaxInt64)
		if limit > 0 {
			lim = int64(limit) + 1
		}
		b.Queue(query, exp, since, lim)
		br := s.pool.SendBatch(ctx, &b)
		defer br.Close()
		var seq int64
		if err := br.QueryRow().Scan(&seq); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return &permanent{fmt.Errorf("experiment %q: %w", exp, trials.ErrNotFound)}
			}
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var cut int64 // the seq of the limit-th row
		for rows.Next() {
			x, xs, err := scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if xs > seq {
				break
			}
			out = append(out, x)
			if len(out) == limit {
				cut = xs
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		next = seq
		if limit > 0 && len(out) > limit {
			out = out[:limit]
			next = cut
		}
		return br.Close()
	})
	if err != nil {
		return nil, 0, unwrapPermanent(err)
	}
	return out, next, nil
}

// Attachment implements trials.Store.
func (s *Store) Attachment(ctx context.Context, exp string, id trials.ID, name string) ([]byte, error) {
	var data []byte
	err := s.do(ctx, false, func(ctx context.Context) error {
		var found bool
		err := s.pool.QueryRow(ctx, `SELECT coalesce(a.data, ''::bytea), a.name IS NOT NULL FROM trials t
			LEFT JOIN attachments a ON a.experiment = t.experiment AND a.id = t.id AND a.name = $3
			WHERE t.experiment = (SELECT id FROM experiments WHERE key = $1) AND t.id = $2`, exp, int64(id), name).Scan(&data, &found)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.notFound(ctx, exp, fmt.Sprintf("trial %d", id))
		}
		if err == nil && !found {
			return &permanent{fmt.Errorf("attachment %q of trial %d of %q: %w", name, id, exp, trials.ErrNotFound)}
		}
		return err
	})
	if err != nil {
		return nil, unwrapPermanent(err)
	}
	return data, nil
}
