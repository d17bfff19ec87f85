package trials

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/hyperopt-go/hyperopt/space"
)

// ErrNoResult is returned by Best, Argmin and AverageBestError when no trial
// has an ok result (HyperOpt's AllTrialsFailed).
var ErrNoResult = errors.New("trials: no trial has an ok result")

// Trials is the view of one experiment that users and the driver hold: the
// trials in ID order and everything derived from them (best trial, losses,
// counts, argmin as a typed config, HyperOpt's average best error), for any
// Store. It reads the store incrementally: Refresh asks only for the changes
// since the last read.
//
// A Trials is not safe for concurrent use; the slices and trials it returns
// are shared and must not be modified.
type Trials struct {
	store Store
	exp   string
	space *space.Space
	seq   int64
	list  []Trial // by ID
	hist  *History
}

// New returns an empty view of experiment exp of store, whose points belong
// to s; call Refresh to read the store.
func New(store Store, exp string, s *space.Space) *Trials {
	return &Trials{store: store, exp: exp, space: s, hist: NewHistory(s.Len())}
}

// Experiment returns the experiment's key.
func (t *Trials) Experiment() string { return t.exp }

// Store returns the store the view reads.
func (t *Trials) Store() Store { return t.store }

// Space returns the space of the experiment.
func (t *Trials) Space() *space.Space { return t.space }

// refreshPage is how many changed trials Refresh asks a store for at once,
// so that a first read of a large experiment is not one huge reply.
const refreshPage = 5000

// Refresh reads the changes since the last Refresh from the store, a page
// at a time.
func (t *Trials) Refresh(ctx context.Context) error {
	for {
		ts, seq, err := t.store.Changes(ctx, t.exp, t.seq, refreshPage)
		if err != nil {
			return fmt.Errorf("refresh %q: %w", t.exp, err)
		}
		t.apply(ts, seq)
		if len(ts) < refreshPage {
			return nil
		}
	}
}

func (t *Trials) apply(ts []Trial, seq int64) {
	for _, c := range ts {
		n := len(t.list)
		if n == 0 || t.list[n-1].ID < c.ID {
			t.list = append(t.list, c)
			continue
		}
		i, found := slices.BinarySearchFunc(t.list, c.ID, func(x Trial, id ID) int { return int(x.ID - id) })
		if found {
			t.list[i] = c
		} else {
			t.list = slices.Insert(t.list, i, c)
		}
	}
	t.hist.Apply(ts, seq)
	t.seq = max(t.seq, seq)
}

// Seq returns the sequence number the view has read up to.
func (t *Trials) Seq() int64 { return t.seq }

// History returns the columnar view the algorithms read. It is updated by
// Refresh.
func (t *Trials) History() *History { return t.hist }

// Len returns the number of trials.
func (t *Trials) Len() int { return len(t.list) }

// All returns the trials in ID order. They carry no intermediate reports
// (read those with [Store.Get] or [Store.Reports]) and no attachment bytes.
func (t *Trials) All() []Trial { return t.list }

// Get returns the trial with the given ID.
func (t *Trials) Get(id ID) (Trial, bool) {
	i, found := slices.BinarySearchFunc(t.list, id, func(x Trial, id ID) int { return int(x.ID - id) })
	if !found {
		return Trial{}, false
	}
	return t.list[i], true
}

// Counts returns the number of trials in each state.
func (t *Trials) Counts() map[State]int {
	c := make(map[State]int, 5)
	for i := range t.list {
		c[t.list[i].State]++
	}
	return c
}

// Losses returns each trial's loss in ID order: the loss of an ok result,
// NaN for a trial without one (pending, failed, error, canceled).
func (t *Trials) Losses() []float64 {
	out := make([]float64, len(t.list))
	for i := range t.list {
		out[i] = math.NaN()
		if r := &t.list[i]; r.State == StateDone && r.Result.Status == StatusOK {
			out[i] = r.Result.Loss
		}
	}
	return out
}

// Statuses returns each trial's result status in ID order (0 for a trial
// without a result).
func (t *Trials) Statuses() []Status {
	out := make([]Status, len(t.list))
	for i := range t.list {
		if t.list[i].State == StateDone {
			out[i] = t.list[i].Result.Status
		}
	}
	return out
}

// Best returns the done trial with the lowest ok loss, the lowest ID among
// equals, or ErrNoResult.
func (t *Trials) Best() (Trial, error) {
	best := -1
	for i := range t.list {
		r := &t.list[i]
		if r.State == StateDone && r.Result.Status == StatusOK && (best < 0 || r.Result.Loss < t.list[best].Result.Loss) {
			best = i
		}
	}
	if best < 0 {
		return Trial{}, fmt.Errorf("experiment %q, %d trials: %w", t.exp, len(t.list), ErrNoResult)
	}
	return t.list[best], nil
}

// Argmin returns the config of the best trial (see [space.Space.Eval]):
// choices as their options' values, integers as ints.
func (t *Trials) Argmin() (any, error) {
	b, err := t.Best()
	if err != nil {
		return nil, err
	}
	return t.space.Eval(b.Values)
}

// AverageBestError is HyperOpt's average_best_error: the expected true loss
// of the best trial when losses are noisy. If no ok result has a loss
// variance, it is the true loss of the best trial. Otherwise the trials
// whose loss is within three standard deviations of the best are weighted
// by the probability that each is the true minimum, estimated from 1,000
// draws of a generator with a fixed seed (so the value is reproducible).
func (t *Trials) AverageBestError() (float64, error) {
	type obs struct{ loss, variance, true float64 }
	var ok []obs
	for i := range t.list {
		r := &t.list[i]
		if r.State == StateDone && r.Result.Status == StatusOK {
			ok = append(ok, obs{r.Result.Loss, r.Result.LossVariance, r.Result.True()})
		}
	}
	if len(ok) == 0 {
		return 0, fmt.Errorf("experiment %q: %w", t.exp, ErrNoResult)
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].loss < ok[j].loss })
	noisy := false
	for _, o := range ok {
		noisy = noisy || o.variance != 0
	}
	if !noisy {
		return ok[0].true, nil
	}
	cut := ok[0].loss + 3*math.Sqrt(ok[0].variance)
	n := 0
	for n < len(ok) && ok[n].loss < cut {
		n++
	}
	n = max(n, 1)
	cand := ok[:n]
	// The Monte Carlo estimate of P(candidate i is the minimum), as
	// hyperopt's utils.pmin_sampled with 1000 samples; 232342 is the seed
	// HyperOpt uses there.
	const samples = 1000
	r := rand.New(rand.NewPCG(232342, 0))
	wins := make([]int, n)
	for range samples {
		best, bestV := 0, math.Inf(1)
		for i, c := range cand {
			v := c.loss + math.Sqrt(c.variance)*r.NormFloat64()
			if v < bestV {
				best, bestV = i, v
			}
		}
		wins[best]++
	}
	sum := 0.0
	for i, c := range cand {
		sum += float64(wins[i]) / samples * c.true
	}
	return sum, nil
}
