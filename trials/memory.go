package trials

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
)

// Memory is the in-memory Store, the default of a search: fast, safe for
// concurrent use by many goroutines, gone when the process ends (export it
// with [Export] to keep it). The zero value is not usable; call [NewMemory].
type Memory struct {
	now func() time.Time

	mu     sync.Mutex
	exps   map[string]*memExp
	closed bool
	done   chan struct{} // closed by Close
}

var (
	_ Store   = (*Memory)(nil)
	_ Waiter  = (*Memory)(nil)
	_ Loader  = (*Memory)(nil)
	_ Batcher = (*Memory)(nil)
)

// MemoryOptions configures a Memory store. The zero value is the default.
type MemoryOptions struct {
	// Now is the clock of leases and trial times; nil means time.Now.
	Now func() time.Time
}

// NewMemory returns an empty in-memory store. opts may be nil.
func NewMemory(opts *MemoryOptions) *Memory {
	m := &Memory{now: time.Now, exps: make(map[string]*memExp), done: make(chan struct{})}
	if opts != nil && opts.Now != nil {
		m.now = opts.Now
	}
	return m
}

type slotKind uint8

const (
	slotClaimed  slotKind = iota // claimed, no values yet
	slotReleased                 // claimed, then released
	slotTrial                    // has values
)

type memExp struct {
	Experiment
	slots    []slotKind // by ID
	trials   []*Trial   // by ID; nil unless slots[id] == slotTrial
	log      []ID       // log[s-1] is the trial changed at sequence number s
	reports  []TrialReport
	requests map[string][]ID
	queued   idHeap // queued IDs, lowest first; entries may be stale
	running  map[ID]struct{}
	changed  chan struct{} // closed and replaced at every change: wakes Wait
}

// idHeap is a min-heap of trial IDs.
type idHeap []ID

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(ID)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// touch stamps t with the experiment's next sequence number.
func (e *memExp) touch(t *Trial) {
	e.Seq++
	t.Seq = e.Seq
	e.log = append(e.log, t.ID)
	close(e.changed)
	e.changed = make(chan struct{})
	switch t.State {
	case StateQueued:
		heap.Push(&e.queued, t.ID)
		delete(e.running, t.ID)
	case StateRunning:
		e.running[t.ID] = struct{}{}
	default:
		delete(e.running, t.ID)
	}
}

func (m *Memory) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

func (m *Memory) exp(key string) (*memExp, error) {
	e, ok := m.exps[key]
	if !ok {
		return nil, fmt.Errorf("experiment %q: %w", key, ErrNotFound)
	}
	return e, nil
}

// lockExp locks the store and returns experiment exp; when it returns no
// error the caller holds m.mu and must unlock it.
func (m *Memory) lockExp(ctx context.Context, exp string) (*memExp, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	e, err := m.exp(exp)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	return e, nil
}

// trial returns the trial with values id of e.
func (e *memExp) trial(id ID) (*Trial, error) {
	if id < 0 || int(id) >= len(e.slots) || e.slots[id] != slotTrial {
		return nil, fmt.Errorf("trial %d of experiment %q: %w", id, e.Key, ErrNotFound)
	}
	return e.trials[id], nil
}

// Open implements Store.
func (m *Memory) Open(ctx context.Context, spec ExperimentSpec) (Experiment, error) {
	if err := m.lock(ctx); err != nil {
		return Experiment{}, err
	}
	defer m.mu.Unlock()
	if e, ok := m.exps[spec.Key]; ok {
		x, err := CheckSpec(e.Experiment, spec)
		if err != nil {
			return Experiment{}, err
		}
		e.MaxEvals, e.MaxAttempts = x.MaxEvals, x.MaxAttempts
		return e.copy(), nil
	}
	x, err := NewExperiment(spec, m.now())
	if err != nil {
		return Experiment{}, err
	}
	e := newMemExp(x)
	m.exps[spec.Key] = e
	return e.copy(), nil
}

func newMemExp(x Experiment) *memExp {
	return &memExp{
		Experiment: x,
		requests:   map[string][]ID{},
		running:    map[ID]struct{}{},
		changed:    make(chan struct{}),
	}
}

func (e *memExp) copy() Experiment {
	x := e.Experiment
	x.Space = bytes.Clone(x.Space)
	x.AlgorithmOptions = bytes.Clone(x.AlgorithmOptions)
	return x
}

// Experiments implements Store.
func (m *Memory) Experiments(ctx context.Context) ([]Experiment, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := make([]Experiment, 0, len(m.exps))
	for _, k := range slices.Sorted(maps.Keys(m.exps)) {
		out = append(out, m.exps[k].copy())
	}
	return out, nil
}

// Claim implements Store.
func (m *Memory) Claim(ctx context.Context, exp string, n int, requestID string) ([]ID, error) {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	if requestID != "" {
		if ids, ok := e.requests[requestID]; ok {
			return slices.Clone(ids), nil
		}
	}
	if n <= 0 {
		return nil, fmt.Errorf("trials: claim %d trials: count must be positive", n)
	}
	if e.MaxEvals > 0 {
		n = min(n, e.MaxEvals-e.Claimed)
		if n <= 0 {
			return nil, fmt.Errorf("experiment %q has claimed %d of %d: %w", exp, e.Claimed, e.MaxEvals, ErrBudget)
		}
	}
	ids := make([]ID, n)
	for i := range ids {
		ids[i] = e.NextID
		e.NextID++
		e.slots = append(e.slots, slotClaimed)
		e.trials = append(e.trials, nil)
	}
	e.Claimed += n
	if requestID != "" {
		e.requests[requestID] = slices.Clone(ids)
	}
	return ids, nil
}

// Propose implements Store.
func (m *Memory) Propose(ctx context.Context, exp string, ps []Proposal) error {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	// Check everything first: a Propose is all or nothing.
	var first map[ID]int // the index in ps of each trial's first proposal
	if len(ps) > 1 {
		first = make(map[ID]int, len(ps))
	}
	for i, p := range ps {
		if p.ID < 0 || int(p.ID) >= len(e.slots) {
			return fmt.Errorf("propose trial %d of %q: never claimed: %w", p.ID, exp, ErrConflict)
		}
		// The same trial twice in one call: only an identical repeat is a retry.
		if j, dup := first[p.ID]; dup {
			if q := ps[j]; !space.Values.Equal(q.Values, p.Values) || q.Owner != p.Owner {
				return fmt.Errorf("propose trial %d of %q: twice in one call, with different proposals: %w", p.ID, exp, ErrConflict)
			}
		} else if first != nil {
			first[p.ID] = i
		}
		switch e.slots[p.ID] {
		case slotReleased:
			return fmt.Errorf("propose trial %d of %q: released: %w", p.ID, exp, ErrConflict)
		case slotTrial:
			t := e.trials[p.ID]
			retry := space.Values.Equal(t.Values, p.Values) && t.Owner == p.Owner &&
				((p.Owner == "" && t.State == StateQueued) || (p.Owner != "" && t.State == StateRunning && t.Attempt == 1))
			if !retry {
				return fmt.Errorf("propose trial %d of %q: already proposed: %w", p.ID, exp, ErrConflict)
			}
		}
	}
	now := m.now()
	for _, p := range ps {
		if e.slots[p.ID] == slotTrial {
			continue // an identical retry
		}
		t := &Trial{ID: p.ID, Experiment: exp, State: StateQueued, Values: slices.Clone(p.Values), Booked: now}
		if p.Owner != "" {
			t.State, t.Owner, t.Attempt, t.Started, t.LeaseUntil = StateRunning, p.Owner, 1, now, now.Add(p.LeaseTTL)
		}
		e.slots[p.ID] = slotTrial
		e.trials[p.ID] = t
		e.touch(t)
	}
	return nil
}

// Release implements Store.
func (m *Memory) Release(ctx context.Context, exp string, ids []ID) error {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	for _, id := range ids {
		if id < 0 || int(id) >= len(e.slots) {
			return fmt.Errorf("release trial %d of %q: %w", id, exp, ErrNotFound)
		}
		if e.slots[id] == slotTrial {
			return fmt.Errorf("release trial %d of %q: it has values: %w", id, exp, ErrConflict)
		}
	}
	for _, id := range ids {
		if e.slots[id] == slotClaimed {
			e.slots[id] = slotReleased
			e.Claimed--
		}
	}
	return nil
}

// Reserve implements Store.
func (m *Memory) Reserve(ctx context.Context, exp, owner string, ttl time.Duration) (Trial, error) {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return Trial{}, err
	}
	defer m.mu.Unlock()
	t := e.reserve(owner, ttl, m.now())
	if t == nil {
		return Trial{}, ErrNoQueued // the common case of a driver's loop: no formatting
	}
	return strip(t), nil
}

// ReserveN implements Batcher.
func (m *Memory) ReserveN(ctx context.Context, exp, owner string, ttl time.Duration, n int) ([]Trial, error) {
	if n <= 0 {
		return nil, fmt.Errorf("trials: reserve %d trials: count must be positive", n)
	}
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := m.now()
	var out []Trial
	for len(out) < n {
		t := e.reserve(owner, ttl, now)
		if t == nil {
			break
		}
		out = append(out, strip(t))
	}
	if len(out) == 0 {
		return nil, ErrNoQueued
	}
	return out, nil
}

// reserve takes the next trial to hand out for owner, or returns nil.
func (e *memExp) reserve(owner string, ttl time.Duration, now time.Time) *Trial {
	var t *Trial
	for e.queued.Len() > 0 {
		id := heap.Pop(&e.queued).(ID)
		if c := e.trials[id]; c.State == StateQueued {
			t = c
			break
		}
	}
	for t == nil {
		// A running trial whose lease expired, lowest ID first.
		var c *Trial
		for id := range e.running {
			r := e.trials[id]
			if r.LeaseUntil.Before(now) && (c == nil || r.ID < c.ID) {
				c = r
			}
		}
		if c == nil {
			return nil
		}
		if c.Attempt >= e.MaxAttempts {
			// Its last attempt: it ends in error rather than running again.
			c.State, c.Result, c.Ended, c.LeaseUntil = StateError, ExpiredResult(c.Attempt, e.MaxAttempts, c.Owner), now, time.Time{}
			e.touch(c)
			continue
		}
		t = c
	}
	t.State, t.Owner, t.Started, t.LeaseUntil = StateRunning, owner, now, now.Add(ttl)
	t.Attempt++
	t.Reports = nil // a trial's reports are those of its current attempt
	e.touch(t)
	return t
}

// leased returns the running trial that l is the current lease of.
func (e *memExp) leased(l Lease) (*Trial, error) {
	t, err := e.trial(l.ID)
	if err != nil {
		return nil, err
	}
	if t.State != StateRunning || t.Attempt != l.Attempt {
		return nil, fmt.Errorf("trial %d of %q: lease of attempt %d, trial is %v at attempt %d: %w", l.ID, e.Key, l.Attempt, t.State, t.Attempt, ErrConflict)
	}
	return t, nil
}

// Heartbeat implements Store.
// A heartbeat changes only the lease's expiry, which Changes does not need
// to carry: it does not advance the sequence number.
func (m *Memory) Heartbeat(ctx context.Context, exp string, l Lease, ttl time.Duration) error {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	t, err := e.leased(l)
	if err != nil {
		return err
	}
	t.LeaseUntil = m.now().Add(ttl)
	return nil
}

// Report implements Store.
func (m *Memory) Report(ctx context.Context, exp string, l Lease, r Report) error {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	t, err := e.trial(l.ID)
	if err != nil {
		return err
	}
	// A retry of a report that was recorded (its trial may have finished
	// since) is a success. The trial holds its current attempt's reports.
	if t.Attempt == l.Attempt {
		for i := len(t.Reports) - 1; i >= 0; i-- {
			if p := t.Reports[i]; p.Step == r.Step {
				if p.Value == r.Value || (p.Value != p.Value && r.Value != r.Value) {
					return nil
				}
				return fmt.Errorf("report step %d of trial %d of %q: already reported as %v: %w", r.Step, l.ID, exp, p.Value, ErrConflict)
			}
		}
	}
	if _, err := e.leased(l); err != nil {
		return err
	}
	t.Reports = append(t.Reports, r)
	e.ReportSeq++
	e.reports = append(e.reports, TrialReport{ID: l.ID, Attempt: l.Attempt, Report: r, Seq: e.ReportSeq})
	return nil
}

// Finish implements Store.
func (m *Memory) Finish(ctx context.Context, exp string, l Lease, state State, r Result) error {
	if state != StateDone && state != StateError {
		return fmt.Errorf("trials: finish with state %v: want done or error", state)
	}
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	return e.finish(l, state, r, m.now())
}

// FinishN implements Batcher.
func (m *Memory) FinishN(ctx context.Context, exp string, fs []Finishing) ([]error, error) {
	for _, f := range fs {
		if f.State != StateDone && f.State != StateError {
			return nil, fmt.Errorf("trials: finish trial %d with state %v: want done or error", f.Lease.ID, f.State)
		}
	}
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := m.now()
	errs := make([]error, len(fs))
	for i, f := range fs {
		errs[i] = e.finish(f.Lease, f.State, f.Result, now)
	}
	return errs, nil
}

// finish records a result under lease l.
func (e *memExp) finish(l Lease, state State, r Result, now time.Time) error {
	t, err := e.trial(l.ID)
	if err != nil {
		return err
	}
	if err := CheckResult(r); err != nil {
		return fmt.Errorf("finish trial %d of %q: %w", l.ID, e.Key, err)
	}
	if state == StateDone {
		r = r.Normalize()
	}
	if t.State == StateDone || t.State == StateError {
		if t.Attempt == l.Attempt && t.State == state && t.Result.Equal(r) {
			return nil // a retry of the finish that succeeded
		}
		return fmt.Errorf("finish trial %d of %q: already finished with another result: %w", l.ID, e.Key, ErrConflict)
	}
	if _, err := e.leased(l); err != nil {
		return err
	}
	t.State, t.Result, t.Ended = state, cloneResult(r), now
	e.touch(t)
	return nil
}

func cloneResult(r Result) Result { return r.Clone() }

// Requeue implements Store.
func (m *Memory) Requeue(ctx context.Context, exp string, ls []Lease) error {
	return m.move(ctx, exp, ls, StateQueued, func(s State) bool { return s == StateRunning || s == StateCanceled || s == StateError })
}

// Cancel implements Store.
func (m *Memory) Cancel(ctx context.Context, exp string, ls []Lease) error {
	return m.move(ctx, exp, ls, StateCanceled, func(s State) bool { return s == StateQueued || s == StateRunning })
}

func (m *Memory) move(ctx context.Context, exp string, ls []Lease, to State, from func(State) bool) error {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	for _, l := range ls {
		t, err := e.trial(l.ID)
		if err != nil {
			return err
		}
		if t.Attempt != l.Attempt {
			return fmt.Errorf("%s trial %d of %q: attempt %d given, trial is %v at attempt %d: %w", verb(to), l.ID, exp, l.Attempt, t.State, t.Attempt, ErrConflict)
		}
	}
	now := m.now()
	for _, l := range ls {
		t := e.trials[l.ID]
		if !from(t.State) {
			continue
		}
		t.State, t.LeaseUntil = to, time.Time{}
		if to == StateQueued {
			t.Result = Result{}
			t.Ended = time.Time{}
		} else {
			t.Ended = now
		}
		e.touch(t)
	}
	return nil
}

func verb(to State) string {
	if to == StateQueued {
		return "requeue"
	}
	return "cancel"
}

// strip returns a copy of t without attachment bytes.
func strip(t *Trial) Trial {
	c := t.Clone()
	if len(c.Result.Attachments) > 0 {
		a := make(map[string][]byte, len(c.Result.Attachments))
		for k := range c.Result.Attachments {
			a[k] = nil
		}
		c.Result.Attachments = a
	}
	return c
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, exp string, id ID) (Trial, error) {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return Trial{}, err
	}
	defer m.mu.Unlock()
	t, err := e.trial(id)
	if err != nil {
		return Trial{}, err
	}
	return strip(t), nil
}

// Changes implements Store. It costs time in proportion to the number of
// changes since since, not to the number of trials.
func (m *Memory) Changes(ctx context.Context, exp string, since int64, limit int) ([]Trial, int64, error) {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return nil, 0, err
	}
	defer m.mu.Unlock()
	since = max(0, min(since, e.Seq))
	var out []Trial
	for i, id := range e.log[since:] {
		// A trial is listed at its last change only.
		if t := e.trials[id]; t.Seq == since+int64(i)+1 {
			if limit > 0 && len(out) == limit {
				return out, out[len(out)-1].Seq, nil
			}
			c := strip(t)
			c.Reports = nil
			out = append(out, c)
		}
	}
	return out, e.Seq, nil
}

// Reports implements Store.
func (m *Memory) Reports(ctx context.Context, exp string, since int64, limit int) ([]TrialReport, int64, error) {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return nil, 0, err
	}
	defer m.mu.Unlock()
	since = max(0, min(since, e.ReportSeq))
	rs := e.reports[since:]
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
		return slices.Clone(rs), rs[len(rs)-1].Seq, nil
	}
	return slices.Clone(rs), e.ReportSeq, nil
}

// Wait implements Waiter.
func (m *Memory) Wait(ctx context.Context, exp string, since int64) (int64, error) {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return 0, err
	}
	seq, ch := e.Seq, e.changed
	m.mu.Unlock()
	if seq > since {
		return seq, nil
	}
	select {
	case <-ch:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-m.done:
		return 0, ErrClosed
	}
	if err := m.lock(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	return e.Seq, nil
}

// Load implements Loader.
func (m *Memory) Load(ctx context.Context, spec ExperimentSpec, ts []Trial, missing []ID) (Experiment, error) {
	n, err := CheckLoad(ts, missing)
	if err != nil {
		return Experiment{}, err
	}
	if err := m.lock(ctx); err != nil {
		return Experiment{}, err
	}
	defer m.mu.Unlock()
	var x Experiment
	if old, ok := m.exps[spec.Key]; ok {
		if x, err = CheckSpec(old.Experiment, spec); err != nil {
			return Experiment{}, err
		}
		if old.NextID != 0 {
			return Experiment{}, fmt.Errorf("trials: load %q: the experiment already has trials: %w", spec.Key, ErrConflict)
		}
	} else if x, err = NewExperiment(spec, m.now()); err != nil {
		return Experiment{}, err
	}
	e := newMemExp(x)
	e.NextID, e.Claimed = ID(n), len(ts)
	e.slots = make([]slotKind, n)
	e.trials = make([]*Trial, n)
	for _, id := range missing {
		e.slots[id] = slotReleased
	}
	order := make([]*Trial, len(ts))
	for i := range ts {
		t := ts[i].Clone()
		t.Experiment, t.LeaseUntil = spec.Key, time.Time{}
		e.slots[t.ID], e.trials[t.ID] = slotTrial, &t
		order[i] = &t
	}
	// Trials are stamped in the order of their IDs, and their reports
	// after them in the same order.
	slices.SortFunc(order, func(a, b *Trial) int { return cmp.Compare(a.ID, b.ID) })
	for _, t := range order {
		e.touch(t)
		for _, r := range t.Reports {
			e.ReportSeq++
			e.reports = append(e.reports, TrialReport{ID: t.ID, Attempt: t.Attempt, Report: r, Seq: e.ReportSeq})
		}
	}
	m.exps[spec.Key] = e
	return e.copy(), nil
}

// Attachment implements Store.
func (m *Memory) Attachment(ctx context.Context, exp string, id ID, name string) ([]byte, error) {
	e, err := m.lockExp(ctx, exp)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	t, err := e.trial(id)
	if err != nil {
		return nil, err
	}
	b, ok := t.Result.Attachments[name]
	if !ok {
		return nil, fmt.Errorf("attachment %q of trial %d of %q: %w", name, id, exp, ErrNotFound)
	}
	return bytes.Clone(b), nil
}

// Close implements Store. The data is dropped.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		close(m.done)
	}
	m.closed = true
	m.exps = nil
	return nil
}
