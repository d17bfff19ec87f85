package fmin

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// Optimizer is the ask/tell interface that Minimize is built on, for tools
// that run the evaluations themselves: Ask for trials to evaluate, Tell
// their results; Add results of points evaluated elsewhere. Its methods are
// safe for concurrent use.
//
// A trial that Ask handed out is leased to the optimizer, and the optimizer
// keeps the lease alive (it heartbeats in the background) until the trial
// is told, so that an evaluation longer than the lease is never handed out
// a second time while its asker lives; Close stops the heartbeats of
// trials never told, which another evaluator may then take over once their
// leases expire.
//
// Locking: the asking side (Ask, Enqueue, Add, Refresh) runs one call at a
// time, since an algorithm's Suggest is called from one goroutine at a time
// and reads the view those calls update; the telling side (Tell, TellError,
// Heartbeat, Report) writes to the store directly and never waits for an
// Ask or a Suggest.
type Optimizer struct {
	space *space.Space
	store trials.Store
	exp   trials.Experiment
	alg   Algorithm
	owner string
	ttl   time.Duration
	log   *slog.Logger

	requests atomic.Uint64 // request IDs of claims

	askMu sync.Mutex     // serializes the asking side; guards t
	t     *trials.Trials // the view Suggest reads

	lmu     sync.Mutex
	leases  map[trials.ID]trials.Lease // handed out by Ask, not yet told
	beating bool                       // the heartbeat goroutine runs
	closed  bool
	stop    chan struct{} // closed by Close
}

// NewOptimizer opens (creating or resuming) the experiment that opts
// describe, over space s. Of opts it uses Algorithm, MaxEvals, Seed, Store,
// Experiment, Owner, LeaseTTL, Logger and Points (enqueued if the experiment
// has no trials yet); opts may be nil. Canceled trials of a resumed
// experiment are requeued.
func NewOptimizer(ctx context.Context, s *space.Space, opts *Options) (*Optimizer, error) {
	if s == nil {
		return nil, errors.New("fmin: nil space")
	}
	if opts == nil {
		opts = &Options{}
	}
	if opts.MaxEvals < 0 {
		return nil, fmt.Errorf("fmin: MaxEvals must be >= 0, got %d", opts.MaxEvals)
	}
	o := &Optimizer{
		space:  s,
		store:  opts.Store,
		alg:    opts.Algorithm,
		owner:  opts.Owner,
		ttl:    opts.LeaseTTL,
		log:    opts.Logger,
		leases: map[trials.ID]trials.Lease{},
		stop:   make(chan struct{}),
	}
	if o.store == nil {
		o.store = trials.NewMemory(nil)
	}
	if o.owner == "" {
		o.owner = defaultOwner()
	}
	if o.ttl <= 0 {
		o.ttl = 30 * time.Second
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	key := opts.Experiment
	if key == "" {
		key = "default"
		if err := checkDefaultKey(ctx, o.store); err != nil {
			return nil, err
		}
	}
	spec := trials.ExperimentSpec{Key: key, Seed: opts.Seed, MaxEvals: opts.MaxEvals, Update: opts.MaxEvals > 0}
	if doc, err := s.MarshalJSON(); err == nil {
		spec.Space = doc
		spec.Fingerprint, _ = s.Fingerprint()
	} else {
		// A space with constants JSON cannot hold (functions, say) can
		// still be searched; a store then cannot check it is the same.
		o.log.Warn("space has no JSON form; the store cannot check it on resume", "err", err)
	}
	// The store resolves seed 0 (the stored seed, or a new one chosen once
	// for every process that creates the experiment at the same time).
	// MaxEvals sets the budget of a resumed experiment, as HyperOpt's
	// max_evals does; 0 keeps the stored one. Without an algorithm, an
	// existing experiment's stored one is rebuilt, so that every process of
	// a distributed search runs the same.
	var err error
	if o.alg == nil {
		o.alg, err = storedAlgorithm(ctx, o.store, key, opts.Registry)
		if err != nil {
			return nil, err
		}
	}
	spec.Algorithm, spec.AlgorithmOptions, err = describe(o.alg)
	if err != nil {
		return nil, err
	}
	o.exp, err = o.store.Open(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("fmin: open experiment %q: %w", key, explainMismatch(ctx, err, o.store, key, s))
	}
	o.t = trials.New(o.store, key, s)
	if err := o.t.Refresh(ctx); err != nil {
		return nil, err
	}
	var canceled []trials.Lease
	for _, t := range o.t.All() {
		if t.State == trials.StateCanceled {
			canceled = append(canceled, t.Lease())
		}
	}
	if len(canceled) > 0 {
		// ErrConflict: another process requeued or reserved one of them
		// since the read; it is in hand, and the next read shows it.
		if err := o.store.Requeue(ctx, key, canceled); err != nil && !errors.Is(err, trials.ErrConflict) {
			return nil, fmt.Errorf("fmin: requeue canceled trials: %w", err)
		}
		o.log.Info("requeued canceled trials", "n", len(canceled))
	}
	if o.t.Len() == 0 && opts.CarryOver != nil {
		n, skipped, err := o.addTrials(ctx, opts.CarryOver)
		if err != nil {
			return nil, err
		}
		o.log.Info("carried trials over", "from", opts.CarryOver.Experiment(), "added", n, "skipped", len(skipped))
	}
	if o.t.Len() == 0 && len(opts.Points) > 0 {
		if _, err := o.enqueue(ctx, opts.Points); err != nil {
			return nil, err
		}
	}
	return o, o.t.Refresh(ctx)
}

// ErrAmbiguousExperiment: Options.Experiment is empty, and the store holds
// experiments but none named "default" (an imported one, say): resuming one
// of them needs its key, and a new search beside them is named "default"
// explicitly.
var ErrAmbiguousExperiment = errors.New("fmin: which experiment?")

// checkDefaultKey refuses an empty experiment key on a store that holds
// experiments but no "default" one.
func checkDefaultKey(ctx context.Context, store trials.Store) error {
	es, err := store.Experiments(ctx)
	if err != nil {
		return fmt.Errorf("fmin: list experiments: %w", err)
	}
	if len(es) == 0 {
		return nil
	}
	keys := make([]string, 0, len(es))
	for _, e := range es {
		if e.Key == "default" {
			return nil
		}
		keys = append(keys, strconv.Quote(e.Key))
	}
	if len(keys) > 5 {
		keys = append(keys[:5], "...")
	}
	return fmt.Errorf("%w: Options.Experiment is empty and the store holds %s but no \"default\": set Experiment to the one to resume, or to \"default\" for a new search beside them",
		ErrAmbiguousExperiment, strings.Join(keys, ", "))
}

// storedAlgorithm returns the algorithm experiment key records, rebuilt
// from reg (NewRegistry() if nil), or the default TPE if the experiment
// does not exist yet.
func storedAlgorithm(ctx context.Context, store trials.Store, key string, reg *Registry) (Algorithm, error) {
	es, err := store.Experiments(ctx)
	if err != nil {
		return nil, fmt.Errorf("fmin: open experiment %q: %w", key, err)
	}
	for _, e := range es {
		if e.Key != key || e.Algorithm == "" {
			continue
		}
		if reg == nil {
			reg = NewRegistry()
		}
		a, err := reg.New(e.Algorithm, e.AlgorithmOptions)
		if err != nil {
			return nil, fmt.Errorf("fmin: experiment %q was created with algorithm %s %s, which cannot be rebuilt here (set Options.Algorithm, or register it in Options.Registry): %w",
				key, e.Algorithm, e.AlgorithmOptions, err)
		}
		return a, nil
	}
	return tpe.Search{}, nil
}

func defaultOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = crand.Read(b[:])
	return fmt.Sprintf("%s:%d:%x", host, os.Getpid(), b)
}

// claim claims up to n trial IDs with a request ID of its own, retrying a
// call that failed for a reason other than the budget, the experiment or
// ctx (a dropped connection, say) with the same request ID, so that a claim
// whose reply was lost is not made twice.
func (o *Optimizer) claim(ctx context.Context, n int) ([]trials.ID, error) {
	req := o.requestID()
	var err error
	for attempt := range claimTries {
		var ids []trials.ID
		ids, err = o.store.Claim(ctx, o.exp.Key, n, req)
		if err == nil || !retryable(err) || attempt == claimTries-1 {
			return ids, err
		}
		o.log.Warn("claim failed; retrying with the same request ID", "err", err, "request", req)
		select {
		case <-ctx.Done():
			return nil, errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
		}
	}
	return nil, err
}

// claimTries is how many times claim calls Store.Claim.
const claimTries = 4

// retryable reports whether a store call that failed with err may be
// retried: not when it was refused for a reason a retry would meet again.
func retryable(err error) bool {
	for _, e := range []error{trials.ErrBudget, trials.ErrNotFound, trials.ErrClosed, trials.ErrConflict, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// requestID returns a request ID unique to this call: the optimizer's
// owner name and a counter.
func (o *Optimizer) requestID() string {
	return o.owner + "/" + strconv.FormatUint(o.requests.Add(1), 10)
}

// Seed returns the experiment's seed.
func (o *Optimizer) Seed() uint64 { return o.exp.Seed }

// Experiment returns the experiment as the store had it when opened.
func (o *Optimizer) Experiment() trials.Experiment { return o.exp }

// Trials returns the experiment's trials as of the optimizer's last Ask,
// Enqueue, Add or Refresh (Tell writes to the store and leaves the view to
// the next of those). It must not be used concurrently with the optimizer's
// methods.
func (o *Optimizer) Trials() *trials.Trials { return o.t }

// Refresh reads the store's changes into Trials. It waits for an Ask in
// progress.
func (o *Optimizer) Refresh(ctx context.Context) error {
	o.askMu.Lock()
	defer o.askMu.Unlock()
	return o.t.Refresh(ctx)
}

// Enqueue encodes configs (see [space.Space.Encode]) and queues them as
// trials to evaluate, within the budget; it returns their IDs, fewer than
// len(configs) if the budget runs out.
func (o *Optimizer) Enqueue(ctx context.Context, configs []any) ([]trials.ID, error) {
	o.askMu.Lock()
	defer o.askMu.Unlock()
	return o.enqueue(ctx, configs)
}

func (o *Optimizer) enqueue(ctx context.Context, configs []any) ([]trials.ID, error) {
	vals := make([]space.Values, len(configs))
	for i, c := range configs {
		v, err := o.space.Encode(c)
		if err != nil {
			return nil, fmt.Errorf("fmin: point %d: %w", i, err)
		}
		vals[i] = v
	}
	ids, err := o.claim(ctx, len(vals))
	if err != nil {
		return nil, fmt.Errorf("fmin: enqueue: %w", err)
	}
	ps := make([]trials.Proposal, len(ids))
	for i, id := range ids {
		ps[i] = trials.Proposal{ID: id, Values: vals[i]}
	}
	if err := o.propose(ctx, ps); err != nil {
		return nil, fmt.Errorf("fmin: enqueue: %w", err)
	}
	if len(ids) < len(configs) {
		o.log.Warn("budget reached: points left out", "enqueued", len(ids), "given", len(configs))
	}
	return ids, o.t.Refresh(context.WithoutCancel(ctx))
}

// maxAsk is the most trials one Ask proposes: a bound on the memory one
// call may take, whatever n the caller gives.
const maxAsk = 10_000

// Ask returns up to n trials for the caller to evaluate, recorded as running
// under the optimizer's lease: queued ones first (points to evaluate,
// requeued trials), then new ones proposed by the algorithm. It returns
// fewer near the budget's end (and at most 10,000), an error wrapping
// trials.ErrBudget when the budget is spent, and ErrExhausted when the
// algorithm has nothing left to propose. The optimizer keeps the trials'
// leases alive until they are told (see Optimizer).
func (o *Optimizer) Ask(ctx context.Context, n int) ([]trials.Trial, error) {
	if n <= 0 {
		return nil, fmt.Errorf("fmin: ask for %d trials", n)
	}
	n = min(n, maxAsk)
	o.askMu.Lock()
	defer o.askMu.Unlock()
	// Queued trials first (points to evaluate, requeued ones): they hold
	// budget already.
	var out []trials.Trial
	for len(out) < n {
		t, err := o.store.Reserve(ctx, o.exp.Key, o.owner, o.ttl)
		if errors.Is(err, trials.ErrNoQueued) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("fmin: ask: %w", err)
		}
		out = append(out, t)
		o.keepAlive(t.Lease())
	}
	if len(out) > 0 {
		if err := o.t.Refresh(context.WithoutCancel(ctx)); err != nil {
			return nil, err
		}
	}
	if len(out) == n {
		return out, nil
	}
	more, err := o.ask(ctx, n-len(out), false)
	if err != nil && len(out) > 0 {
		return out, nil // hand out what is reserved; the next Ask reports the error
	}
	for _, t := range more {
		o.keepAlive(t.Lease())
	}
	return append(out, more...), err
}

// ask claims up to n new trials, has the algorithm propose their points and
// records them: running under the optimizer's lease, or queued for other
// evaluators if queued is set. The caller holds askMu.
func (o *Optimizer) ask(ctx context.Context, n int, queued bool) ([]trials.Trial, error) {
	if n <= 0 {
		return nil, fmt.Errorf("fmin: ask for %d trials", n)
	}
	if err := o.t.Refresh(ctx); err != nil {
		return nil, err
	}
	ids, err := o.claim(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("fmin: ask: %w", err)
	}
	vals, err := o.alg.Suggest(ctx, o.space, o.t.History(), ids, o.exp.Seed)
	if err != nil && ctx.Err() != nil {
		// Canceled between Claim and the proposals: the claimed IDs still
		// get their points (a suggestion is bounded work), so that the
		// experiment's IDs stay dense and a resumed search proposes what an
		// uninterrupted one would.
		vals, err = o.alg.Suggest(context.WithoutCancel(ctx), o.space, o.t.History(), ids, o.exp.Seed)
	}
	if err == nil && len(vals) == 0 {
		err = ErrExhausted
	}
	if err == nil && len(vals) != len(ids) {
		err = fmt.Errorf("fmin: algorithm returned %d points for %d trials", len(vals), len(ids))
	}
	for i := 0; err == nil && i < len(vals); i++ {
		if verr := o.space.Validate(vals[i]); verr != nil {
			err = fmt.Errorf("fmin: algorithm proposed an invalid point for trial %d: %w", ids[i], verr)
		}
	}
	if err != nil {
		if rerr := o.store.Release(context.WithoutCancel(ctx), o.exp.Key, ids); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	ps := make([]trials.Proposal, len(ids))
	for i, id := range ids {
		ps[i] = trials.Proposal{ID: id, Values: vals[i]}
		if !queued {
			ps[i].Owner, ps[i].LeaseTTL = o.owner, o.ttl
		}
	}
	if err := o.propose(ctx, ps); err != nil {
		return nil, fmt.Errorf("fmin: ask: %w", err)
	}
	// The trials are now recorded: hand them out even if ctx ends now, so
	// that the caller records them (as canceled, say) instead of leaving
	// them running.
	if err := o.t.Refresh(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	out := make([]trials.Trial, len(ids))
	for i, id := range ids {
		out[i], _ = o.t.Get(id)
	}
	return out, nil
}

// propose records the values of claimed trials. Once IDs are claimed they
// must get values or go back to the budget, whatever happens to ctx: a
// claimed ID left without values would use budget for ever and leave a gap
// in the IDs that breaks the determinism of a resumed search. So the writes
// ignore ctx's cancellation, and a failed Propose releases the IDs.
func (o *Optimizer) propose(ctx context.Context, ps []trials.Proposal) error {
	wctx := context.WithoutCancel(ctx)
	err := o.store.Propose(wctx, o.exp.Key, ps)
	if err == nil {
		return nil
	}
	ids := make([]trials.ID, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	if rerr := o.store.Release(wctx, o.exp.Key, ids); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// next returns a trial for this process to evaluate: a queued one if there
// is one, else a new one from the algorithm. The caller heartbeats it.
func (o *Optimizer) next(ctx context.Context) (trials.Trial, error) {
	o.askMu.Lock()
	defer o.askMu.Unlock()
	t, err := o.store.Reserve(ctx, o.exp.Key, o.owner, o.ttl)
	if err == nil {
		return t, o.t.Refresh(context.WithoutCancel(ctx))
	}
	if !errors.Is(err, trials.ErrNoQueued) {
		return trials.Trial{}, err
	}
	ts, err := o.ask(ctx, 1, false)
	if err != nil {
		return trials.Trial{}, err
	}
	return ts[0], nil
}

// Tell records the result of a trial that Ask returned: done, with the
// result normalized (a NaN or infinite loss fails). Telling the same result
// again returns nil; a different one, for a finished trial, is an error
// wrapping trials.ErrConflict, and so is a trial whose lease another
// evaluator took over; an unknown trial is trials.ErrNotFound.
func (o *Optimizer) Tell(ctx context.Context, id trials.ID, r trials.Result) error {
	return o.finish(ctx, id, trials.StateDone, r)
}

// TellError records that evaluating a trial that Ask returned failed with
// err (state error: the algorithms leave it out).
func (o *Optimizer) TellError(ctx context.Context, id trials.ID, err error) error {
	return o.finish(ctx, id, trials.StateError, trials.Result{Err: err.Error()})
}

func (o *Optimizer) finish(ctx context.Context, id trials.ID, state trials.State, r trials.Result) error {
	l, err := o.lease(ctx, id)
	if err != nil {
		return fmt.Errorf("fmin: tell: %w", err)
	}
	if err := o.finishLease(ctx, l, state, r); err != nil {
		return err
	}
	o.forget(l)
	return nil
}

// lease returns the lease under which trial id was handed out: the one Ask
// recorded, or for a trial asked elsewhere (by an earlier process, say) its
// current one in the store.
func (o *Optimizer) lease(ctx context.Context, id trials.ID) (trials.Lease, error) {
	o.lmu.Lock()
	l, ok := o.leases[id]
	o.lmu.Unlock()
	if ok {
		return l, nil
	}
	t, err := o.store.Get(ctx, o.exp.Key, id)
	if err != nil {
		return trials.Lease{}, fmt.Errorf("trial %d of %q: %w", id, o.exp.Key, err)
	}
	return t.Lease(), nil
}

// finishLease records a result under the lease it was evaluated under: if
// the trial was taken over since (a new attempt), the store refuses it with
// ErrConflict rather than crediting this result to the new attempt.
func (o *Optimizer) finishLease(ctx context.Context, l trials.Lease, state trials.State, r trials.Result) error {
	// The result is recorded whatever happens to ctx now: a canceled ctx
	// must not leave the caller unsure whether to record it again.
	if err := o.store.Finish(context.WithoutCancel(ctx), o.exp.Key, l, state, r); err != nil {
		return fmt.Errorf("fmin: finish trial %d: %w", l.ID, err)
	}
	return nil
}

// cancelLease marks a trial canceled if l is still its current attempt:
// a trial taken over by another evaluator since (the store refuses the
// stale attempt with ErrConflict) is left to it.
func (o *Optimizer) cancelLease(ctx context.Context, l trials.Lease) error {
	err := o.store.Cancel(ctx, o.exp.Key, []trials.Lease{l})
	if errors.Is(err, trials.ErrConflict) {
		return nil
	}
	return err
}

// Heartbeat extends the lease of a trial that Ask returned, by the lease
// TTL from now. The optimizer does this by itself while it lives; a caller
// that evaluates elsewhere may also heartbeat explicitly. A lease taken
// over by another evaluator, or a trial finished or canceled, is an error
// wrapping trials.ErrConflict: stop evaluating it.
func (o *Optimizer) Heartbeat(ctx context.Context, id trials.ID) error {
	l, err := o.lease(ctx, id)
	if err != nil {
		return fmt.Errorf("fmin: heartbeat: %w", err)
	}
	if err := o.store.Heartbeat(ctx, o.exp.Key, l, o.ttl); err != nil {
		return fmt.Errorf("fmin: heartbeat trial %d: %w", id, err)
	}
	return nil
}

// Report records an intermediate value (a validation loss after an epoch,
// say) of a trial that Ask returned, under its lease.
func (o *Optimizer) Report(ctx context.Context, id trials.ID, step int64, value float64) error {
	l, err := o.lease(ctx, id)
	if err != nil {
		return fmt.Errorf("fmin: report: %w", err)
	}
	if err := o.store.Report(ctx, o.exp.Key, l, trials.Report{Step: step, Value: value}); err != nil {
		return fmt.Errorf("fmin: report trial %d: %w", id, err)
	}
	return nil
}

// keepAlive records a lease handed out by Ask and makes sure the heartbeat
// goroutine runs.
func (o *Optimizer) keepAlive(l trials.Lease) {
	o.lmu.Lock()
	defer o.lmu.Unlock()
	if o.closed {
		return
	}
	o.leases[l.ID] = l
	if !o.beating {
		o.beating = true
		go o.heartbeats()
	}
}

// forget drops a lease that was told.
func (o *Optimizer) forget(l trials.Lease) {
	o.lmu.Lock()
	defer o.lmu.Unlock()
	if o.leases[l.ID] == l {
		delete(o.leases, l.ID)
	}
}

// heartbeats extends the leases of the trials Ask handed out until they are
// told, every third of the lease TTL. It ends when none is left or Close
// is called; a lease the store refuses (taken over, canceled) is dropped.
func (o *Optimizer) heartbeats() {
	tick := time.NewTicker(max(o.ttl/3, time.Millisecond))
	defer tick.Stop()
	var ls []trials.Lease
	for {
		select {
		case <-o.stop:
			return
		case <-tick.C:
		}
		o.lmu.Lock()
		if len(o.leases) == 0 {
			o.beating = false
			o.lmu.Unlock()
			return
		}
		ls = ls[:0]
		for _, l := range o.leases {
			ls = append(ls, l)
		}
		o.lmu.Unlock()
		for _, l := range ls {
			err := o.store.Heartbeat(context.Background(), o.exp.Key, l, o.ttl)
			if errors.Is(err, trials.ErrConflict) || errors.Is(err, trials.ErrNotFound) {
				// Told by another path, canceled, or taken over after an
				// outage longer than the lease: nothing left to keep.
				o.forget(l)
			} else if err != nil {
				o.log.Warn("heartbeat failed", "trial", l.ID, "err", err)
			}
		}
	}
}

// Close stops the heartbeats of trials that Ask handed out and that were
// never told: their leases then expire and another evaluator may take them
// over. The optimizer must not be used after Close. Close does not close
// the store.
func (o *Optimizer) Close() error {
	o.lmu.Lock()
	defer o.lmu.Unlock()
	if !o.closed {
		o.closed = true
		close(o.stop)
	}
	return nil
}

// AddTrials adds the finished trials of another experiment, over another
// space (an earlier version of this one: a range widened, an option
// added), whose configs fit this optimizer's space, with their results, as
// if evaluated here: the algorithm learns from them. Done trials are added
// (ok and failed); error, canceled and unfinished ones are not. It returns
// how many were added and the IDs (in old) of the done trials whose configs
// do not fit (a value out of the new range, an option removed). Added
// trials count toward the budget; it stops early, without error, when the
// budget is spent. Intermediate reports and attachments are not copied.
func (o *Optimizer) AddTrials(ctx context.Context, old *trials.Trials) (added int, skipped []trials.ID, err error) {
	o.askMu.Lock()
	defer o.askMu.Unlock()
	return o.addTrials(ctx, old)
}

func (o *Optimizer) addTrials(ctx context.Context, old *trials.Trials) (int, []trials.ID, error) {
	type point struct {
		v space.Values
		r trials.Result
	}
	var ps []point
	var skipped []trials.ID
	for _, t := range old.All() {
		if t.State != trials.StateDone {
			continue
		}
		cfg, err := old.Space().Eval(t.Values)
		if err != nil {
			skipped = append(skipped, t.ID)
			continue
		}
		v, err := o.space.Encode(cfg)
		if err != nil || o.space.Validate(v) != nil {
			skipped = append(skipped, t.ID)
			continue
		}
		r := t.Result.Clone()
		r.Attachments = nil
		ps = append(ps, point{v, r})
	}
	added := 0
	for len(ps) > 0 {
		ids, err := o.claim(ctx, len(ps))
		if errors.Is(err, trials.ErrBudget) {
			break
		}
		if err != nil {
			return added, skipped, fmt.Errorf("fmin: add trials: %w", err)
		}
		props := make([]trials.Proposal, len(ids))
		for i, id := range ids {
			props[i] = trials.Proposal{ID: id, Values: ps[i].v, Owner: o.owner, LeaseTTL: o.ttl}
		}
		if err := o.propose(ctx, props); err != nil {
			return added, skipped, fmt.Errorf("fmin: add trials: %w", err)
		}
		wctx := context.WithoutCancel(ctx)
		for i, id := range ids {
			if err := o.store.Finish(wctx, o.exp.Key, trials.Lease{ID: id, Attempt: 1}, trials.StateDone, ps[i].r); err != nil {
				return added, skipped, fmt.Errorf("fmin: add trials: %w", err)
			}
			added++
		}
		ps = ps[len(ids):]
	}
	return added, skipped, o.t.Refresh(context.WithoutCancel(ctx))
}

// Add records a point evaluated elsewhere (a warm start): its config, as
// [space.Space.Eval] returns it, and its result. It counts toward the
// budget.
func (o *Optimizer) Add(ctx context.Context, config any, r trials.Result) (trials.Trial, error) {
	v, err := o.space.Encode(config)
	if err != nil {
		return trials.Trial{}, fmt.Errorf("fmin: add: %w", err)
	}
	o.askMu.Lock()
	defer o.askMu.Unlock()
	ids, err := o.claim(ctx, 1)
	if err != nil {
		return trials.Trial{}, fmt.Errorf("fmin: add: %w", err)
	}
	if err := o.propose(ctx, []trials.Proposal{{ID: ids[0], Values: v, Owner: o.owner, LeaseTTL: o.ttl}}); err != nil {
		return trials.Trial{}, fmt.Errorf("fmin: add: %w", err)
	}
	if err := o.store.Finish(context.WithoutCancel(ctx), o.exp.Key, trials.Lease{ID: ids[0], Attempt: 1}, trials.StateDone, r); err != nil {
		return trials.Trial{}, fmt.Errorf("fmin: add: %w", err)
	}
	// Recorded: a canceled ctx must not make the caller retry (and add the
	// point twice).
	if err := o.t.Refresh(context.WithoutCancel(ctx)); err != nil {
		return trials.Trial{}, err
	}
	t, _ := o.t.Get(ids[0])
	return t, nil
}
