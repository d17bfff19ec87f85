package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
)

// applicationID marks a file as a store of this package ("HYOT").
const applicationID = 0x48594f54

// schemaVersion is the version of the schema this package writes, kept in
// PRAGMA user_version.
const schemaVersion = 1

// schemaV1 creates the tables of version 1 (see the package documentation).
var schemaV1 = []string{
	`CREATE TABLE experiments (
		id INTEGER PRIMARY KEY,
		key TEXT NOT NULL UNIQUE,
		space BLOB,
		fingerprint TEXT NOT NULL DEFAULT '',
		seed INTEGER NOT NULL DEFAULT 0,
		max_evals INTEGER NOT NULL DEFAULT 0,
		max_attempts INTEGER NOT NULL DEFAULT 0,
		algorithm TEXT NOT NULL DEFAULT '',
		algorithm_options BLOB,
		created INTEGER NOT NULL DEFAULT 0,
		claimed INTEGER NOT NULL DEFAULT 0,
		next_id INTEGER NOT NULL DEFAULT 0,
		seq INTEGER NOT NULL DEFAULT 0,
		report_seq INTEGER NOT NULL DEFAULT 0
	)`,
	`CREATE TABLE trials (
		exp INTEGER NOT NULL,
		id INTEGER NOT NULL,
		state INTEGER NOT NULL,
		vals BLOB,
		owner TEXT NOT NULL DEFAULT '',
		attempt INTEGER NOT NULL DEFAULT 0,
		lease_until INTEGER NOT NULL DEFAULT 0,
		booked INTEGER NOT NULL DEFAULT 0,
		started INTEGER NOT NULL DEFAULT 0,
		ended INTEGER NOT NULL DEFAULT 0,
		seq INTEGER NOT NULL DEFAULT 0,
		loss INTEGER NOT NULL DEFAULT 0,
		status INTEGER NOT NULL DEFAULT 0,
		loss_variance INTEGER NOT NULL DEFAULT 0,
		true_loss INTEGER NOT NULL DEFAULT 0,
		has_true_loss INTEGER NOT NULL DEFAULT 0,
		extras TEXT,
		err TEXT NOT NULL DEFAULT '',
		stack TEXT NOT NULL DEFAULT '',
		attachments TEXT,
		PRIMARY KEY (exp, id)
	) WITHOUT ROWID`,
	`CREATE INDEX trials_seq ON trials (exp, seq)`,
	`CREATE INDEX trials_queued ON trials (exp, id) WHERE state = 1`,
	`CREATE INDEX trials_running ON trials (exp, id) WHERE state = 2`,
	`CREATE TABLE claims (
		exp INTEGER NOT NULL,
		request TEXT NOT NULL,
		first_id INTEGER NOT NULL,
		n INTEGER NOT NULL,
		PRIMARY KEY (exp, request)
	) WITHOUT ROWID`,
	`CREATE TABLE reports (
		exp INTEGER NOT NULL,
		seq INTEGER NOT NULL,
		id INTEGER NOT NULL,
		attempt INTEGER NOT NULL,
		step INTEGER NOT NULL,
		value INTEGER NOT NULL,
		PRIMARY KEY (exp, seq)
	) WITHOUT ROWID`,
	`CREATE INDEX reports_trial ON reports (exp, id, attempt, step, seq)`,
	`CREATE TABLE attachments (
		exp INTEGER NOT NULL,
		id INTEGER NOT NULL,
		name TEXT NOT NULL,
		data BLOB NOT NULL,
		UNIQUE (exp, id, name)
	)`,
}

// fileState is what the header and catalogue of a file say.
type fileState struct {
	appID, version int64
	tables         int64
}

func readFileState(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (fileState, error) {
	var f fileState
	if err := q.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&f.appID); err != nil {
		return f, err
	}
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&f.version); err != nil {
		return f, err
	}
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&f.tables)
	return f, err
}

// check decides whether the file can be used: ok if it holds the current
// schema, create if it is empty, an error otherwise.
func (s *Store) check(f fileState) (create bool, err error) {
	switch {
	case f.appID == applicationID && f.version == schemaVersion:
		return false, nil
	case f.appID == applicationID && f.version > schemaVersion:
		return false, fmt.Errorf("sqlite: open %s: written by schema version %d of the trials store, this program knows versions up to %d: open it with a newer version of hyperopt-go: %w",
			s.path, f.version, schemaVersion, trials.ErrSchema)
	case f.appID == applicationID:
		return false, fmt.Errorf("sqlite: open %s: a trials store with an unknown schema version %d (this program knows 1 to %d): %w",
			s.path, f.version, schemaVersion, trials.ErrSchema)
	case f.appID == 0 && f.tables == 0:
		return true, nil
	}
	return false, fmt.Errorf("sqlite: open %s: an SQLite database of another application (application_id %#x, %d tables), not a trials store; the store leaves it untouched: give the path of a store file or of a new one: %w",
		s.path, f.appID, f.tables, trials.ErrSchema)
}

// initSchema checks the file and creates the schema in an empty one. It
// changes nothing in a file that is not one of its stores.
func (s *Store) initSchema(ctx context.Context) error {
	wait := 5 * time.Millisecond
	for {
		err := s.initOnce(ctx)
		if err == nil || !isBusy(err) {
			return err
		}
		t := time.NewTimer(wait)
		wait = min(2*wait, maxRetryWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sqlite: open %s: %w (the file stayed busy: %v)", s.path, ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (s *Store) initOnce(ctx context.Context) error {
	f, err := readFileState(ctx, s.w)
	if err != nil {
		if isBusy(err) {
			return err
		}
		return s.fileErr(err)
	}
	create, err := s.check(f)
	if err != nil {
		return err
	}
	// The file is ours or empty: it may be put in WAL mode.
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode=WAL`).Scan(&mode); err != nil {
		if isBusy(err) {
			return err
		}
		return s.fileErr(err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlite: open %s: cannot use WAL mode (journal mode is %q): put the file on a local file system", s.path, mode)
	}
	if !create {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		if isBusy(err) {
			return err
		}
		return s.fileErr(err)
	}
	defer tx.Rollback()
	// Another process may have created the schema meanwhile.
	if f, err = readFileState(ctx, tx); err != nil {
		return s.fileErr(err)
	}
	if create, err = s.check(f); err != nil || !create {
		return err
	}
	for _, q := range schemaV1 {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return s.fileErr(err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, applicationID)); err != nil {
		return s.fileErr(err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return s.fileErr(err)
	}
	if err := tx.Commit(); err != nil {
		if isBusy(err) {
			return err
		}
		return s.fileErr(err)
	}
	return nil
}

// trialCols are the columns of a trial row, in the order scanTrial reads.
const trialCols = `id, state, vals, owner, attempt, lease_until, booked, started, ended, seq,
	loss, status, loss_variance, true_loss, has_true_loss, extras, err, stack, attachments`

const expCols = `id, key, space, fingerprint, seed, max_evals, max_attempts, algorithm, algorithm_options,
	created, claimed, next_id, seq, report_seq`

// stmts are the prepared statements of the hot paths.
type stmts struct {
	// writes
	expRow, expSave                  *sql.Stmt
	trialRow, trialState             *sql.Stmt
	insertTrial, insertReleased      *sql.Stmt
	firstQueued, firstExpired        *sql.Stmt
	reserve, expire                  *sql.Stmt
	heartbeat, finish                *sql.Stmt
	insertAttachment, lastReport     *sql.Stmt
	insertReport, claimGet, claimPut *sql.Stmt
	// reads
	rExpSeq, rTrial, rReports, rChanges *sql.Stmt
	rReservable                         *sql.Stmt
}

func (s *Store) prepare(ctx context.Context) error {
	var err error
	p := func(db *sql.DB, q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, q)
		return st
	}
	s.st = stmts{
		expRow:         p(s.w, `SELECT id, seq, report_seq, max_evals, max_attempts, claimed, next_id FROM experiments WHERE key = ?`),
		expSave:        p(s.w, `UPDATE experiments SET seq = ?, report_seq = ?, claimed = ?, next_id = ? WHERE id = ?`),
		trialRow:       p(s.w, `SELECT `+trialCols+` FROM trials WHERE exp = ? AND id = ?`),
		trialState:     p(s.w, `SELECT state, attempt FROM trials WHERE exp = ? AND id = ?`),
		insertTrial:    p(s.w, `INSERT INTO trials (exp, id, state, vals, owner, attempt, lease_until, booked, started, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		insertReleased: p(s.w, `INSERT INTO trials (exp, id, state) VALUES (?, ?, 0) ON CONFLICT DO NOTHING`),
		firstQueued:    p(s.w, `SELECT id FROM trials INDEXED BY trials_queued WHERE exp = ? AND state = 1 ORDER BY id LIMIT 1`),
		firstExpired:   p(s.w, `SELECT id, attempt, owner FROM trials INDEXED BY trials_running WHERE exp = ? AND state = 2 AND lease_until < ? ORDER BY id LIMIT 1`),
		reserve: p(s.w, `UPDATE trials SET state = 2, owner = ?, started = ?, lease_until = ?, attempt = attempt + 1, seq = ?
			WHERE exp = ? AND id = ? RETURNING `+trialCols),
		expire: p(s.w, `UPDATE trials SET state = 4, loss = 0, status = 0, loss_variance = 0, true_loss = 0, has_true_loss = 0,
			extras = NULL, err = ?, stack = '', ended = ?, lease_until = 0, seq = ? WHERE exp = ? AND id = ?`),
		heartbeat: p(s.w, `UPDATE trials SET lease_until = ? WHERE exp = ? AND id = ? AND state = 2 AND attempt = ?`),
		finish: p(s.w, `UPDATE trials SET state = ?, loss = ?, status = ?, loss_variance = ?, true_loss = ?, has_true_loss = ?,
			extras = ?, err = ?, stack = ?, attachments = ?, ended = ?, seq = ? WHERE exp = ? AND id = ?`),
		insertAttachment: p(s.w, `INSERT OR REPLACE INTO attachments (exp, id, name, data) VALUES (?, ?, ?, ?)`),
		lastReport:       p(s.w, `SELECT value FROM reports INDEXED BY reports_trial WHERE exp = ? AND id = ? AND attempt = ? AND step = ? ORDER BY seq DESC LIMIT 1`),
		insertReport:     p(s.w, `INSERT INTO reports (exp, seq, id, attempt, step, value) VALUES (?, ?, ?, ?, ?, ?)`),
		claimGet:         p(s.w, `SELECT first_id, n FROM claims WHERE exp = ? AND request = ?`),
		claimPut:         p(s.w, `INSERT INTO claims (exp, request, first_id, n) VALUES (?, ?, ?, ?)`),

		rExpSeq:  p(s.r, `SELECT id, seq, report_seq FROM experiments WHERE key = ?`),
		rTrial:   p(s.r, `SELECT `+trialCols+` FROM trials WHERE exp = ? AND id = ? AND state != 0`),
		rReports: p(s.r, `SELECT step, value FROM reports INDEXED BY reports_trial WHERE exp = ? AND id = ? AND attempt = ? ORDER BY seq`),
		rChanges: p(s.r, `SELECT `+trialCols+` FROM trials INDEXED BY trials_seq WHERE exp = ? AND seq > ? ORDER BY seq LIMIT ?`),
		rReservable: p(s.r, `SELECT EXISTS (SELECT 1 FROM trials INDEXED BY trials_queued WHERE exp = ?1 AND state = 1)
			OR EXISTS (SELECT 1 FROM trials INDEXED BY trials_running WHERE exp = ?1 AND state = 2 AND lease_until < ?2)`),
	}
	if err != nil {
		s.st.close()
		return err
	}
	return nil
}

func (st *stmts) close() {
	for _, x := range []*sql.Stmt{st.expRow, st.expSave, st.trialRow, st.trialState, st.insertTrial, st.insertReleased,
		st.firstQueued, st.firstExpired, st.reserve, st.expire, st.heartbeat, st.finish, st.insertAttachment,
		st.lastReport, st.insertReport, st.claimGet, st.claimPut, st.rExpSeq, st.rTrial, st.rReports, st.rChanges, st.rReservable} {
		if x != nil {
			_ = x.Close()
		}
	}
}
