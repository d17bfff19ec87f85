package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "modernc.org/sqlite"

	"github.com/hyperopt-go/hyperopt/trials"
)

// Options configures a Store. The zero value is the default of every field;
// a nil *Options is the zero value.
type Options struct {
	// BusyTimeout is how long one statement waits for another process's
	// write lock before SQLite reports the file busy (the store then
	// retries until the caller's context ends). 0 means 10s.
	BusyTimeout time.Duration
	// SyncFull sets PRAGMA synchronous=FULL: every commit is flushed to
	// the disk, so that it survives a power loss too. The default
	// (NORMAL) survives the end of any process but may lose the last
	// commits to a power loss; see the package documentation.
	SyncFull bool
	// RetryTimeout bounds how long one call retries while the file stays
	// busy (another connection holding its write lock) before it returns
	// the busy error; 0 means 1 minute. The caller's context may end the
	// retries sooner.
	RetryTimeout time.Duration
	// PollInterval is how often Wait reads the file for changes made by
	// other processes while the experiment is changing (a read of one
	// small row); after a second without a change seen by this Store, it
	// reads 5 times less often. 0 means 5ms (25ms when idle).
	PollInterval time.Duration
	// Readers is the most connections that read at once. 0 means
	// max(4, GOMAXPROCS).
	Readers int
	// Now is the clock of leases and trial times; nil means time.Now.
	Now func() time.Time
}

// Store is a trials.Store kept in an SQLite file. It is safe for concurrent
// use by several goroutines, and several Stores, in one process or in
// several, may open the same file. Create it with [Open].
type Store struct {
	path  string
	now   func() time.Time
	poll  time.Duration
	retry time.Duration

	w  *sql.DB // the write connection, IMMEDIATE transactions
	r  *sql.DB // the read connections
	st stmts

	closed atomic.Bool
	done   chan struct{} // closed by Close

	// idle: the last Reserve or ReserveN of this Store found nothing to
	// take, so the next one looks with a read first (see reservable).
	idle atomic.Bool
	// lastChange is when (Unix ns) this Store last committed or saw a
	// change of a trial: Wait polls slower after a while without one.
	lastChange atomic.Int64

	mu      sync.Mutex
	changed chan struct{} // closed and replaced after every committed change: wakes Wait
}

var (
	_ trials.Store   = (*Store)(nil)
	_ trials.Waiter  = (*Store)(nil)
	_ trials.Loader  = (*Store)(nil)
	_ trials.Batcher = (*Store)(nil)
)

// sqliteHeader is how every SQLite database file begins.
const sqliteHeader = "SQLite format 3\x00"

// Open opens the store kept in the file at path, creating the file and its
// schema if the file does not exist or is empty. opts may be nil.
//
// Open refuses, without changing it, a file that is not an SQLite database,
// is truncated or corrupted, belongs to another application, or was written
// by a newer version of this package's schema (the last two wrap
// trials.ErrSchema); and a path whose directory does not exist or that is
// read-only. Each error names the path and what to do.
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	if o.RetryTimeout <= 0 {
		o.RetryTimeout = time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Millisecond
	}
	if o.Readers <= 0 {
		o.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if path == "" {
		return nil, errors.New("sqlite: open: empty path: give the path of a store file")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := checkFile(abs); err != nil {
		return nil, err
	}

	s := &Store{path: abs, now: o.Now, poll: o.PollInterval, retry: o.RetryTimeout, done: make(chan struct{}), changed: make(chan struct{})}
	syncMode := "NORMAL"
	if o.SyncFull {
		syncMode = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "synchronous("+syncMode+")")
	q.Add("_pragma", "foreign_keys(0)")
	q.Add("_pragma", "journal_size_limit(67108864)") // the log shrinks back to 64 MiB after a checkpoint
	q.Add("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: abs}
	if s.w, err = sql.Open("sqlite", u.String()+"?"+q.Encode()); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	if err := s.initSchema(ctx); err != nil {
		s.w.Close()
		return nil, err
	}

	q.Set("_txlock", "deferred")
	q.Add("_pragma", "query_only(1)")
	if s.r, err = sql.Open("sqlite", u.String()+"?"+q.Encode()); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	s.r.SetMaxOpenConns(o.Readers)
	s.r.SetMaxIdleConns(o.Readers)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)

	if err := s.prepare(ctx); err != nil {
		s.w.Close()
		s.r.Close()
		return nil, s.fileErr(err)
	}
	return s, nil
}

// checkFile refuses paths that cannot hold a store and files that are not
// SQLite databases, before SQLite touches them.
func checkFile(path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sqlite: open %s: directory %s does not exist: create it first: %w", path, dir, err)
		}
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("sqlite: open %s: %s is not a directory", path, dir)
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // a new store
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("sqlite: open %s: it is a directory: give the path of a store file in it", path)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("sqlite: open %s: not a regular file (mode %v): give the path of a store file", path, fi.Mode())
	}
	if fi.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("sqlite: open %s: the file is read-only (mode %v): the store writes to it; make it writable (chmod u+w) or copy it", path, fi.Mode().Perm())
	}
	if fi.Size() == 0 {
		return nil // an empty file is an empty database
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer f.Close()
	var h [100]byte
	n, _ := f.ReadAt(h[:], 0)
	if n < len(sqliteHeader) || string(h[:len(sqliteHeader)]) != sqliteHeader {
		return fmt.Errorf("sqlite: open %s: not an SQLite database (it does not begin with the SQLite header); the store leaves it untouched: give the path of a store file or of a new one: %w", path, trials.ErrSchema)
	}
	if n < len(h) {
		return fmt.Errorf("sqlite: open %s: truncated SQLite file (%d bytes, shorter than its header): restore it from a copy", path, fi.Size())
	}
	// The header's page size and page count, when valid, tell how long the
	// file must be at least.
	pageSize := int64(h[16])<<8 | int64(h[17])
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(h[28])<<24 | int64(h[29])<<16 | int64(h[30])<<8 | int64(h[31])
	valid := string(h[24:28]) == string(h[92:96])
	if valid && pageSize >= 512 && pages > 0 && fi.Size() < pageSize*pages {
		return fmt.Errorf("sqlite: open %s: truncated SQLite file (%d bytes, its header says %d pages of %d): restore it from a copy", path, fi.Size(), pages, pageSize)
	}
	return nil
}

// SQLite's primary result codes that the store handles.
const (
	codeBusy     = 5
	codeLocked   = 6
	codeReadOnly = 8
	codeCorrupt  = 11
	codeCantOpen = 14
	codeNotADB   = 26
)

// sqliteCode returns the primary result code of an SQLite error, or 0.
func sqliteCode(err error) int {
	var e *sqlite3.Error
	if errors.As(err, &e) {
		return e.Code() & 0xff
	}
	return 0
}

func isBusy(err error) bool {
	switch sqliteCode(err) {
	case codeBusy, codeLocked:
		return true
	}
	return err != nil && strings.Contains(err.Error(), "database is locked")
}

// fileErr explains the errors that say the file cannot be used.
func (s *Store) fileErr(err error) error {
	switch sqliteCode(err) {
	case codeCorrupt:
		return fmt.Errorf("sqlite: open %s: the database is corrupted (%w): restore it from a copy; the store does not repair files", s.path, err)
	case codeNotADB:
		return fmt.Errorf("sqlite: open %s: not an SQLite database (%w); the store leaves it untouched: give the path of a store file or of a new one: %w", s.path, err, trials.ErrSchema)
	case codeReadOnly:
		return fmt.Errorf("sqlite: open %s: the file or its directory is read-only (%w): the store writes to the file and to its -wal and -shm files beside it; make them writable", s.path, err)
	case codeCantOpen:
		return fmt.Errorf("sqlite: open %s: cannot open the file (%w): check that its directory exists and is writable", s.path, err)
	}
	return fmt.Errorf("sqlite: open %s: %w", s.path, err)
}

// enter checks ctx and that the store is open.
func (s *Store) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return trials.ErrClosed
	}
	return nil
}

// notify wakes the waiters of this process.
func (s *Store) notify() {
	s.lastChange.Store(time.Now().UnixNano())
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// expRow is the part of an experiment row that writes read and change.
type expRow struct {
	id                  int64
	seq, reportSeq      int64
	maxEvals, maxAttmpt int
	claimed             int
	nextID              int64
}

// wtx is a write transaction.
type wtx struct {
	ctx   context.Context
	tx    *sql.Tx
	s     *Store
	key   string
	e     expRow
	dirty bool // e changed: write it back
	moved bool // a trial changed: wake waiters
}

// stmt returns st bound to the transaction.
func (w *wtx) stmt(st *sql.Stmt) *sql.Stmt { return w.tx.StmtContext(w.ctx, st) }

// exp reads the experiment row of key.
func (w *wtx) exp(key string) error {
	w.key = key
	err := w.stmt(w.s.st.expRow).QueryRowContext(w.ctx, key).Scan(&w.e.id, &w.e.seq, &w.e.reportSeq, &w.e.maxEvals, &w.e.maxAttmpt, &w.e.claimed, &w.e.nextID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("experiment %q: %w", key, trials.ErrNotFound)
	}
	return err
}

// touch takes the experiment's next sequence number for a trial change.
func (w *wtx) touch() int64 {
	w.e.seq++
	w.dirty, w.moved = true, true
	return w.e.seq
}

// maxRetryWait bounds one backoff sleep between retries of a busy write.
const maxRetryWait = 100 * time.Millisecond

// write runs fn in an IMMEDIATE transaction, retrying it while the file is
// busy, and commits it if fn returns nil. fn must have no effect outside
// the transaction: it may run several times.
func (s *Store) write(ctx context.Context, op string, fn func(w *wtx) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	var b backoff
	for {
		moved, err := s.writeOnce(ctx, fn)
		if err == nil {
			if moved {
				s.notify()
			}
			return nil
		}
		if !isBusy(err) {
			return s.opErr(op, err)
		}
		if err := s.wait(ctx, &b, op, err); err != nil {
			return err
		}
	}
}

// backoff is the state of the retries of one call on a busy file.
type backoff struct {
	next     time.Duration
	deadline time.Time
}

// wait sleeps before the next try of a call that found the file busy
// (busyErr), for a growing, jittered time. It returns an error when ctx
// ends, the store closes, or the file stayed busy past Options.RetryTimeout.
func (s *Store) wait(ctx context.Context, b *backoff, op string, busyErr error) error {
	now := time.Now()
	if b.next == 0 {
		b.next, b.deadline = time.Millisecond, now.Add(s.retry)
	}
	if !now.Before(b.deadline) {
		return fmt.Errorf("sqlite: %s %s: the file stayed locked by another connection for more than %v (Options.RetryTimeout; a process holding a transaction open?): %w", op, s.path, s.retry, busyErr)
	}
	d := min(b.next/2+rand.N(b.next), b.deadline.Sub(now))
	b.next = min(2*b.next, maxRetryWait)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("sqlite: %s %s: %w (the file was busy: %v)", op, s.path, ctx.Err(), busyErr)
	case <-s.done:
		return trials.ErrClosed
	case <-t.C:
		return nil
	}
}

// opErr returns err as a call's answer: ErrClosed once the store is
// closed; the store's own answers (not found, conflict, ...) and the
// context's errors as they are; a database failure wrapped with the
// operation.
func (s *Store) opErr(op string, err error) error {
	if s.closed.Load() {
		return trials.ErrClosed
	}
	if sqliteCode(err) == 0 && !errors.Is(err, sql.ErrConnDone) && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return fmt.Errorf("sqlite: %s %s: %w", op, s.path, err)
}

func (s *Store) writeOnce(ctx context.Context, fn func(w *wtx) error) (moved bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	w := &wtx{ctx: ctx, tx: tx, s: s}
	if err := fn(w); err != nil {
		_ = tx.Rollback()
		return false, err
	}
	if w.dirty {
		if _, err := w.stmt(s.st.expSave).ExecContext(ctx, w.e.seq, w.e.reportSeq, w.e.claimed, w.e.nextID, w.e.id); err != nil {
			_ = tx.Rollback()
			return false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return w.moved, nil
}

// read runs fn in a read transaction: one snapshot of the file.
func (s *Store) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	var b backoff
	for {
		err := s.readOnce(ctx, fn)
		if err == nil {
			return nil
		}
		if !isBusy(err) {
			return s.opErr(op, err)
		}
		if err := s.wait(ctx, &b, op, err); err != nil {
			return err
		}
	}
}

func (s *Store) readOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// Path returns the absolute path of the store's file.
func (s *Store) Path() string { return s.path }

// Close implements trials.Store. Calls after the first return nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.done)
	s.st.close()
	err := errors.Join(s.r.Close(), s.w.Close())
	if err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}
