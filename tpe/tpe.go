package tpe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"

	"github.com/hyperopt-go/hyperopt/internal/parzen"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// Search is the Tree-structured Parzen Estimator. Its zero value is this
// library's default TPE, whose settings were chosen on the quality
// benchmark (internal/quality; see the package documentation), and each
// field says what its zero means. HyperoptCompat returns HyperOpt 0.2.7's
// TPE.
type Search struct {
	// Independent models each hyperparameter on its own, with HyperOpt's
	// adaptive Parzen estimators, as HyperOpt does. If false (the
	// default), the hyperparameters that are active together (under the
	// same conditions) are modelled jointly, with product kernels whose
	// widths adapt to the spread of the good points; a hyperparameter
	// alone in its group is modelled on its own either way.
	Independent bool `json:"independent,omitempty"`
	// GammaRule is how the size of the good group grows with the number n
	// of observations: GammaLinear (the zero value), ceil(Gamma·n), as
	// Optuna does, or GammaSqrt, ceil(Gamma·√n), as HyperOpt does; both
	// at most 25.
	//
	// Range: GammaLinear or GammaSqrt.
	GammaRule GammaRule `json:"gamma_rule,omitempty"`
	// Gamma is the fraction of GammaRule. If 0, 0.05 under GammaLinear
	// and 0.25 under GammaSqrt. (Of 0.03, 0.05 and 0.075 under the linear
	// rule, 0.05 ranked best at 100 evaluations on the benchmark's
	// selection problems; HyperOpt's rule ranks below it: see
	// internal/quality's "tpe-sqrt-gamma".)
	//
	// Range: 0 (the default) or a fraction in (0, 1] under GammaLinear; 0
	// or any finite positive factor under GammaSqrt. NaN is refused.
	Gamma float64 `json:"gamma,omitempty"`
	// MinBandwidth is the narrowest an observation's kernel in the joint
	// model gets, as a fraction of its hyperparameter's range (of the
	// prior's σ for the normal kinds): the floor that keeps a search from
	// collapsing onto the first good region it finds. (The penalty kernels
	// of trials in flight are half as wide as the good kernels.) If 0,
	// 0.02: of 0.01, 0.015, 0.02, 0.03 and 0.05 on the selection problems,
	// 0.02 and 0.03 were best at 50 and 100 evaluations, and 0.01 is
	// better only at 200.
	//
	// Range: 0 (the default) or a fraction in [1e-6, 0.5].
	MinBandwidth float64 `json:"min_bandwidth,omitempty"`
	// PriorWeight is the weight of the prior among the components of each
	// Parzen estimator, and, in the per-hyperparameter estimators, the
	// pseudocount of a categorical's options. (In the joint model an
	// observation's categorical kernel keeps its option with probability
	// 1/2 and spreads 1/2 by the prior.) If 0, 0.5 (HyperOpt: 1; of 0.1,
	// 0.25, 0.5, 0.75 and 1, 0.5 had the best mean rank on the benchmark's
	// selection problems over the four checkpoints, and 1 the worst).
	//
	// Range: 0 (the default) or any finite positive weight. NaN is refused.
	PriorWeight float64 `json:"prior_weight,omitempty"`
	// StartupTrials is how many observations (pending trials included) the
	// history needs before TPE models it; until then points are drawn from
	// the prior, as random search would draw them. If 0, 10 (HyperOpt:
	// 20, which ranks lower at 50 and 100 evaluations on the selection
	// problems); negative means none.
	//
	// Range: at most 1,000,000 (beyond that the search is random search:
	// use random.Search); any negative value means none.
	StartupTrials int `json:"startup_trials,omitempty"`
	// Candidates is how many points are drawn from the good model, of
	// which the one with the highest ratio of good to bad density wins
	// (HyperOpt's n_EI_candidates). If 0, 24. (48 does better on the
	// continuous held-out problems but worse on the conditional and mixed
	// selection ones, and costs twice the time.)
	//
	// Range: 0 (the default) or a count in [1, 10,000]. A suggestion's time
	// grows linearly with it and with the observations: with 50 of them on
	// ten uniforms, about 25 ms at 10,000 (50 ms with Independent), against
	// 0.2 ms at 24; 1e8, once accepted, took about ten seconds.
	Candidates int `json:"candidates,omitempty"`
	// LinearForgetting is how many of the most recent observations keep
	// full weight in the per-hyperparameter estimators; older ones are
	// down-weighted linearly. If 0, 25.
	//
	// Range: 0 (the default) or any positive count.
	LinearForgetting int `json:"linear_forgetting,omitempty"`
	// Liar is the loss assumed for trials that have no result yet (queued,
	// running, and the earlier proposals of the same call): a constant
	// liar, so that several proposals in flight do not crowd one region.
	// The zero value, LieInf, is HyperOpt's behaviour. In the joint model,
	// a trial in flight that the lie puts in the bad group adds a narrow
	// kernel to the bad density (a local penalty) rather than one as wide
	// as the bad observations'.
	//
	// Range: LieInf, LieWorst, LieMean or LieBest.
	Liar Lie `json:"liar,omitempty"`
	// AllowDuplicates lets TPE propose a point already in the history (or
	// in the same call) on a space whose hyperparameters are all discrete
	// (choices, randints, quantized kinds), as HyperOpt does (HyperOpt
	// issue 608: 48 of 500 trials identical). If false (the default), such
	// a proposal is replaced by a draw from the prior that is unseen,
	// while unseen points remain.
	AllowDuplicates bool `json:"allow_duplicates,omitempty"`
	// OverallSplit takes the good group of every hyperparameter from the
	// best trials overall, as HyperOpt does. If false (the default), a
	// conditional hyperparameter's good group is the best γ of the trials
	// where it is active, its own branch's best ok trials, and the lie for
	// the branch's trials in flight comes from the branch's own results.
	// Overall, a branch that another leads has none of the good trials and
	// all of its own in the bad group, so when the search tries it again
	// it proposes its hyperparameters as far as it can from the branch's
	// best trial, and the branch can never catch up. On internal/quality's
	// conditional problem, over 100 seeds, the median regret fell from 0.5
	// (a wrong branch) to 0.0031 at 200 evaluations and to 0.00019 at 400
	// (go run ./cmd/quality -seeds 100 -evals 400 -problems '^conditional$'
	// -algos tpe,tpe-overall-split).
	OverallSplit bool `json:"overall_split,omitempty"`
}

// ErrInvalidOption is wrapped by the errors of Validate (and so of
// Suggest) for a Search field out of its range.
var ErrInvalidOption = errors.New("tpe: invalid option")

// Validate reports the first field of t out of its range (each field's doc
// says its range), with an error wrapping ErrInvalidOption that names the
// field and the value. Zero values, meaning the defaults, are valid.
func (t Search) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("%w: %s = %v, want %s", ErrInvalidOption, field, v, want)
	}
	switch {
	case int(t.GammaRule) >= len(gammaRuleNames):
		return bad("GammaRule", t.GammaRule, "GammaLinear or GammaSqrt")
	case !(t.Gamma >= 0) || math.IsInf(t.Gamma, 1) || (t.GammaRule == GammaLinear && t.Gamma > 1):
		return bad("Gamma", t.Gamma, "0 (the default) or a fraction in (0, 1] (any positive factor under GammaSqrt)")
	case t.MinBandwidth != 0 && !(t.MinBandwidth >= minMinBandwidth && t.MinBandwidth <= maxWidth):
		return bad("MinBandwidth", t.MinBandwidth, fmt.Sprintf("0 (the default) or a fraction in [%g, %v]", minMinBandwidth, maxWidth))
	case !(t.PriorWeight >= 0) || math.IsInf(t.PriorWeight, 1):
		return bad("PriorWeight", t.PriorWeight, "0 (the default, 0.5) or a positive weight")
	case t.StartupTrials > maxStartupTrials:
		return bad("StartupTrials", t.StartupTrials, fmt.Sprintf("at most %d (negative for none)", maxStartupTrials))
	case t.Candidates < 0 || t.Candidates > maxCandidates:
		return bad("Candidates", t.Candidates, fmt.Sprintf("0 (the default, 24) or a count in [1, %d]", maxCandidates))
	case t.LinearForgetting < 0:
		return bad("LinearForgetting", t.LinearForgetting, "0 (the default, 25) or a positive count")
	case int(t.Liar) >= len(lieNames):
		return bad("Liar", t.Liar, "LieInf, LieWorst, LieMean or LieBest")
	}
	return nil
}

// maxCandidates is the most Candidates accepted: a suggestion's time grows
// linearly with them (1e8 took about ten seconds).
const maxCandidates = 10_000

// maxStartupTrials is the most StartupTrials accepted: a search that long
// on the prior alone is random search.
const maxStartupTrials = 1_000_000

// minMinBandwidth is the smallest MinBandwidth accepted: narrower kernels
// than a millionth of the range only lose precision.
const minMinBandwidth = 1e-6

// nBelow is the size of the good group for n observations.
func (c Search) nBelow(n int) int {
	if c.GammaRule == GammaLinear {
		return min(int(math.Ceil(c.Gamma*float64(n))), gammaCap)
	}
	return parzen.NBelow(n, c.Gamma, gammaCap)
}

// HyperoptCompat returns TPE exactly as HyperOpt 0.2.7's tpe.suggest
// computes it, with its defaults (independent estimators, good groups
// taken from the best trials overall, γ = 0.25 under the square-root rule,
// 20 start-up trials, duplicates allowed): the settings that
// testdata/golden_suggest.json pins.
func HyperoptCompat() Search {
	return Search{
		Independent: true, GammaRule: GammaSqrt, Gamma: 0.25, PriorWeight: 1,
		StartupTrials: 20, Candidates: 24, LinearForgetting: 25, Liar: LieInf,
		AllowDuplicates: true, OverallSplit: true,
	}
}

// GammaRule says how the good group grows with the number of observations.
type GammaRule uint8

// The rules.
const (
	// GammaLinear: ceil(γ·n), at most 25.
	GammaLinear GammaRule = iota
	// GammaSqrt: ceil(γ·√n), at most 25 (HyperOpt's).
	GammaSqrt
)

var gammaRuleNames = [...]string{GammaLinear: "linear", GammaSqrt: "sqrt"}

// String returns the rule's name: "linear" or "sqrt".
func (g GammaRule) String() string {
	if int(g) < len(gammaRuleNames) {
		return gammaRuleNames[g]
	}
	return fmt.Sprintf("GammaRule(%d)", int(g))
}

// MarshalText returns the rule's name.
func (g GammaRule) MarshalText() ([]byte, error) {
	if int(g) >= len(gammaRuleNames) {
		return nil, fmt.Errorf("tpe: unknown gamma rule %d", int(g))
	}
	return []byte(g.String()), nil
}

// UnmarshalText reads a rule's name.
func (g *GammaRule) UnmarshalText(b []byte) error {
	for i, n := range gammaRuleNames {
		if n == string(b) {
			*g = GammaRule(i)
			return nil
		}
	}
	return fmt.Errorf("tpe: unknown gamma rule %q (want linear or sqrt)", b)
}

// Lie says which loss TPE assumes for a trial without a result.
type Lie uint8

// The lies.
const (
	// LieInf: +Inf, so pending trials rank last and fall in the bad
	// group, as in HyperOpt; the next proposals are pushed away from them.
	LieInf Lie = iota
	// LieWorst: the worst ok loss so far.
	LieWorst
	// LieMean: the mean of the ok losses so far.
	LieMean
	// LieBest: the best ok loss so far; pending trials count as good ones.
	LieBest
)

var lieNames = [...]string{LieInf: "inf", LieWorst: "worst", LieMean: "mean", LieBest: "best"}

// String returns the lie's name: "inf", "worst", "mean" or "best".
func (l Lie) String() string {
	if int(l) < len(lieNames) {
		return lieNames[l]
	}
	return fmt.Sprintf("Lie(%d)", int(l))
}

// MarshalText returns the lie's name.
func (l Lie) MarshalText() ([]byte, error) {
	if int(l) >= len(lieNames) {
		return nil, fmt.Errorf("tpe: unknown lie %d", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads a lie's name.
func (l *Lie) UnmarshalText(b []byte) error {
	for i, n := range lieNames {
		if n == string(b) {
			*l = Lie(i)
			return nil
		}
	}
	return fmt.Errorf("tpe: unknown lie %q (want inf, worst, mean or best)", b)
}

// value returns the loss to assume for pending trials, given the losses of
// the observations (+Inf for those without an ok result).
func (l Lie) value(losses []float64, pending []bool) float64 {
	if l == LieInf {
		return math.Inf(1)
	}
	n, sum := 0, 0.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, x := range losses {
		if pending[i] || math.IsInf(x, 0) || math.IsNaN(x) {
			continue
		}
		n++
		sum += x
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if n == 0 {
		return math.Inf(1)
	}
	switch l {
	case LieWorst:
		return hi
	case LieMean:
		return sum / float64(n)
	default:
		return lo
	}
}

// Name returns the name TPE is registered under, "tpe".
func (Search) Name() string { return "tpe" }

// gammaCap is HyperOpt's cap on the good group's size (DEFAULT_LF).
const gammaCap = 25

func (t Search) withDefaults() Search {
	if t.Gamma == 0 {
		t.Gamma = 0.05
		if t.GammaRule == GammaSqrt {
			t.Gamma = 0.25
		}
	}
	if t.MinBandwidth == 0 {
		t.MinBandwidth = 0.02
	}
	if t.PriorWeight == 0 {
		t.PriorWeight = 0.5
	}
	switch {
	case t.StartupTrials == 0:
		t.StartupTrials = 10
	case t.StartupTrials < 0:
		t.StartupTrials = 0
	}
	if t.Candidates == 0 {
		t.Candidates = 24
	}
	if t.LinearForgetting == 0 {
		t.LinearForgetting = 25
	}
	return t
}

// Suggest proposes one point per ID. Observations are the trials that are
// queued, running or done (errors and cancellations are left out, as
// HyperOpt leaves them); a trial without an ok result counts as a loss of
// +Inf, so failed trials fall in the bad group, and pending ones get the
// Liar's loss. Each point is built ancestrally: each active group of
// hyperparameters (or each hyperparameter, if Independent) is modelled on
// the trials where it was active, candidates are drawn from its good model
// and the best ratio of good to bad density wins. The draws for ID id come
// from a PCG stream seeded by (seed, id). Several IDs in one call are
// proposed in turn, each seeing the earlier ones as pending, as HyperOpt's
// fmin sees its queued trials.
func (t Search) Suggest(ctx context.Context, s *space.Space, h *trials.History, ids []trials.ID, seed uint64) ([]space.Values, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if s == nil || h == nil {
		return nil, errors.New("tpe: nil space or history")
	}
	w := workspaces.Get().(*workspace)
	defer workspaces.Put(w)
	var pcg rand.PCG
	c := &call{Search: t.withDefaults(), s: s, h: h, obs: w.observations(h), w: w, r: *rand.New(&pcg)}
	out := make([]space.Values, len(ids))
	var seen map[string]bool // points already in the history, if deduplicating
	if !c.AllowDuplicates && discrete(s) {
		seen = make(map[string]bool, h.Len())
		row := make(space.Values, s.Len())
		for i := range h.Len() {
			for p := range row {
				row[p] = h.Value(i, p)
			}
			seen[pointKey(row)] = true
		}
	}
	for j, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pcg.Seed(seed, uint64(id))
		if len(c.obs.rows)+j < c.StartupTrials {
			// From the prior, with random search's stream: the first
			// trials of a TPE search are those of a random search.
			out[j] = s.Sample(&c.r)
		} else {
			if c.g == nil && !(c.Independent && c.OverallSplit) {
				c.g = newLayout(s) // once per call: Params copies its conditions
			}
			c.pending = out[:j]
			out[j] = c.propose()
		}
		if seen != nil {
			out[j] = unseen(s, out[j], seen, &c.r)
			seen[pointKey(out[j])] = true
		}
	}
	return out, nil
}

// maxUnseenDraws bounds the prior draws that look for a point not yet
// evaluated; with 60 equally likely points of which one is unseen, 10,000
// draws miss it with probability e^-166.
const maxUnseenDraws = 10000

// unseen returns v if it is not in seen, else a draw from the prior that is
// (or v if none is found: the space may be exhausted).
func unseen(s *space.Space, v space.Values, seen map[string]bool, r *rand.Rand) space.Values {
	if !seen[pointKey(v)] {
		return v
	}
	for range maxUnseenDraws {
		if x := s.Sample(r); !seen[pointKey(x)] {
			return x
		}
	}
	return v
}

// discrete reports whether every hyperparameter of s takes countably many
// values (a choice, randint or quantized kind), so that TPE can propose a
// point twice.
func discrete(s *space.Space) bool {
	for p := range s.Len() {
		if k := s.Dist(p).Kind; k != space.KindChoice && k != space.KindRandInt && !k.Quantized() {
			return false
		}
	}
	return true
}

// pointKey identifies a point by its values' bits (NaN inactive).
func pointKey(v space.Values) string {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		bits := math.Float64bits(x)
		switch {
		case math.IsNaN(x):
			bits = math.Float64bits(math.NaN())
		case x == 0:
			bits = 0 // -0 is the point 0
		}
		b = binary.LittleEndian.AppendUint64(b, bits)
	}
	return string(b)
}

// obsSet is the history's observations in ID order.
type obsSet struct {
	rows    []int     // history rows
	losses  []float64 // their losses (+Inf without an ok result)
	pending []bool    // whether each has no result yet (queued or running)
	index   []int32   // by history row: the observation's index in rows, -1 if none
}

// observations lists the history's observations, in buffers of w.
func (w *workspace) observations(h *trials.History) obsSet {
	o := obsSet{rows: w.obsRows[:0], index: growInt32(w.obsIndex, h.Len())}
	for i := range h.Len() {
		o.index[i] = -1
		switch h.State(i) {
		case trials.StateError, trials.StateCanceled:
			continue
		}
		o.rows = append(o.rows, i)
	}
	if !sort.SliceIsSorted(o.rows, func(a, b int) bool { return h.ID(o.rows[a]) < h.ID(o.rows[b]) }) {
		sort.Slice(o.rows, func(a, b int) bool { return h.ID(o.rows[a]) < h.ID(o.rows[b]) })
	}
	o.losses = slices.Grow(w.obsLosses[:0], len(o.rows))[:len(o.rows)]
	o.pending = slices.Grow(w.obsPending[:0], len(o.rows))[:len(o.rows)]
	for i, r := range o.rows {
		o.index[r] = int32(i)
		l := h.Loss(r)
		o.pending[i] = h.State(r) != trials.StateDone
		if math.IsNaN(l) {
			l = math.Inf(1)
		}
		o.losses[i] = l
	}
	w.obsRows, w.obsIndex, w.obsLosses, w.obsPending = o.rows, o.index, o.losses, o.pending
	return o
}

func growInt32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// workspaces recycles the buffers of Suggest between calls: a suggestion
// over a long history would otherwise allocate (and clear) hundreds of
// kilobytes. It holds no state that affects results.
var workspaces = sync.Pool{New: func() any { return new(workspace) }}

// workspace holds buffers reused across hyperparameters and calls.
type workspace struct {
	obsRows    []int
	obsIndex   []int32
	obsLosses  []float64
	obsPending []bool
	below      []bool
	gBelow     [][]bool  // by joint group, its own split (groupBelow)
	gLosses    []float64 // a group's losses, for its split
	gPending   []bool    // whether each is in flight
	gIndex     []int     // their observations' indices
	gSplit     []bool    // the split of gLosses
	losses     []float64
	order      []int
	obsB, obsA []float64
	ageA       []int32
	rankA      []int32
	intB, intA []int
	l, g       parzen.Mixture
	scratch    parzen.Scratch
	cand, ll   []float64
	pl, pg     []float64
	probs      []float64 // a categorical dimension's probabilities (jointKDE.sample)
}

// call is the state of one Suggest call that proposing a point reads: the
// settings (with defaults), the space and history, the observations, the
// buffers, the random stream of the point being proposed, the groups of
// hyperparameters and the points proposed earlier in the call.
type call struct {
	Search
	s       *space.Space
	h       *trials.History
	obs     obsSet
	w       *workspace
	r       rand.Rand      // seeded per point
	g       *layout        // the joint model's groups, nil until needed (see propose)
	pending []space.Values // the points proposed earlier in this call
}

// propose builds one point given the observations and the points already
// proposed in this call (c.pending); c.g holds the hyperparameters' groups
// (by the conditions under which they are active), nil if neither the
// joint model nor the split by branch needs them.
func (c *call) propose() space.Values {
	s, o, w, g, pending := c.s, &c.obs, c.w, c.g, c.pending
	w.losses = append(w.losses[:0], o.losses...)
	lie := c.Liar.value(o.losses, o.pending)
	if c.Liar != LieInf {
		for i, p := range o.pending {
			if p {
				w.losses[i] = lie
			}
		}
	}
	for range pending {
		w.losses = append(w.losses, lie)
	}
	w.below = parzen.SplitN(w.below, w.losses, c.nBelow(len(w.losses)), &w.order)
	if g == nil {
		return s.SampleWith(func(p int, _ space.Values) float64 {
			orig := s.Dist(p)
			return fromModel(orig, c.drawParam(w.below, p, modelDist(orig)))
		})
	}
	var joint space.Values
	if !c.Independent {
		joint = s.NewValues()
	}
	tried := make([]bool, len(g.groups))
	ready := make([]bool, len(g.groups))
	return s.SampleWith(func(p int, _ space.Values) float64 {
		gi := g.groupOf[p]
		below := w.below
		if !c.OverallSplit {
			below = c.groupBelow(gi, ready)
		}
		if joint != nil {
			if !tried[gi] {
				tried[gi] = true
				group := g.groups[gi]
				if len(group) > 1 && !c.jointPropose(below, group, joint) {
					for _, q := range group {
						joint[q] = math.NaN()
					}
				}
			}
			if x := joint[p]; !math.IsNaN(x) {
				return x
			}
		}
		orig := s.Dist(p)
		return fromModel(orig, c.drawParam(below, p, modelDist(orig)))
	})
}

// groupBelow returns the good group for the hyperparameters of group gi:
// the γ-best of the observations where the group is active, or w.below if
// the group is always active (see Search.OverallSplit). ready marks the
// groups whose split is in w.gBelow already.
func (c *call) groupBelow(gi int, ready []bool) []bool {
	h, o, w, g, pending := c.h, &c.obs, c.w, c.g, c.pending
	if g.always[gi] {
		return w.below
	}
	if ready[gi] {
		return w.gBelow[gi]
	}
	p := g.groups[gi][0] // a group's members are active together
	w.gLosses, w.gPending, w.gIndex = w.gLosses[:0], w.gPending[:0], w.gIndex[:0]
	for i, row := range o.rows {
		if !math.IsNaN(h.Value(row, p)) {
			w.gLosses = append(w.gLosses, o.losses[i])
			w.gPending = append(w.gPending, o.pending[i])
			w.gIndex = append(w.gIndex, i)
		}
	}
	for k, v := range pending {
		if !math.IsNaN(v[p]) {
			w.gLosses = append(w.gLosses, math.Inf(1))
			w.gPending = append(w.gPending, true)
			w.gIndex = append(w.gIndex, len(o.rows)+k)
		}
	}
	// The lie comes from the branch's own results: the overall ones would
	// rank a trial in flight among the branch's best while another branch
	// leads. Nor are failed trials, or trials in flight under LieInf,
	// ever good: a branch without ok results has no good group.
	lie := c.Liar.value(w.gLosses, w.gPending)
	ok := 0
	for k, x := range w.gLosses {
		if w.gPending[k] {
			w.gLosses[k] = lie
			x = lie
		}
		if x < math.Inf(1) {
			ok++
		}
	}
	w.gSplit = parzen.SplitN(w.gSplit, w.gLosses, min(c.nBelow(len(w.gLosses)), ok), &w.order)
	if len(w.gBelow) < len(g.groups) {
		w.gBelow = slices.Grow(w.gBelow, len(g.groups))[:len(g.groups)]
	}
	b := slices.Grow(w.gBelow[gi][:0], len(w.losses))[:len(w.losses)]
	clear(b)
	for k, i := range w.gIndex {
		b[i] = w.gSplit[k]
	}
	w.gBelow[gi], ready[gi] = b, true
	return b
}

// drawParam proposes hyperparameter p, modelled with prior d, from the
// good (below) and bad observations.
func (c *call) drawParam(below []bool, p int, d space.Dist) float64 {
	h, o, w, pending := c.h, &c.obs, c.w, c.pending
	{
		col := h.Column(p)
		// The good observations, oldest first.
		w.obsB = w.obsB[:0]
		for i, row := range o.rows {
			if x := col[row]; below[i] && !math.IsNaN(x) {
				w.obsB = append(w.obsB, x)
			}
		}
		pendingAbove := false
		for j, v := range pending {
			if x := v[p]; !math.IsNaN(x) {
				if below[len(o.rows)+j] {
					w.obsB = append(w.obsB, x)
				} else {
					pendingAbove = true
				}
			}
		}
		continuous := d.Kind != space.KindChoice && d.Kind != space.KindRandInt
		if continuous && !pendingAbove {
			// The bad observations come sorted from the history, with
			// their age ranks: no sort per suggestion.
			w.rankA = slices.Grow(w.rankA[:0], len(o.rows))[:len(o.rows)]
			n := int32(0)
			for i, row := range o.rows {
				if !below[i] && !math.IsNaN(col[row]) {
					w.rankA[i] = n
					n++
				}
			}
			w.obsA, w.ageA = w.obsA[:0], w.ageA[:0]
			for _, row := range h.Sorted(p) {
				if i := o.index[row]; i >= 0 && !below[i] {
					w.obsA = append(w.obsA, col[row])
					w.ageA = append(w.ageA, w.rankA[i])
				}
			}
			return c.draw(d, true)
		}
		w.obsA = w.obsA[:0]
		for i, row := range o.rows {
			if x := col[row]; !below[i] && !math.IsNaN(x) {
				w.obsA = append(w.obsA, x)
			}
		}
		for j, v := range pending {
			if x := v[p]; !math.IsNaN(x) && !below[len(o.rows)+j] {
				w.obsA = append(w.obsA, x)
			}
		}
		return c.draw(d, false)
	}
}

// draw proposes a value of one hyperparameter from its good (w.obsB,
// oldest first) and bad (w.obsA: oldest first, or sorted with ages w.ageA
// if sortedA) observations.
func (c *call) draw(d space.Dist, sortedA bool) float64 {
	if d.Kind == space.KindChoice || d.Kind == space.KindRandInt {
		return c.drawCategorical(d)
	}
	w := c.w
	var (
		priorMu, priorSigma float64
		low, high           = math.Inf(-1), math.Inf(1)
		logKind             = d.Kind.Log()
		q                   float64
	)
	if d.Kind.Quantized() {
		q = d.Q
	}
	switch d.Kind {
	case space.KindUniform, space.KindQUniform:
		low, high = d.Low, d.High
		priorMu, priorSigma = 0.5*(high+low), high-low
	case space.KindLogUniform, space.KindQLogUniform:
		low, high = math.Log(d.Low), math.Log(d.High)
		priorMu, priorSigma = 0.5*(high+low), high-low
	case space.KindNormal, space.KindQNormal, space.KindLogNormal, space.KindQLogNormal:
		priorMu, priorSigma = d.Mu, d.Sigma
	}
	if logKind {
		// HyperOpt fits the logarithms; quantized observations that
		// rounded below the lower bound (0, say) are lifted to it first.
		// Both maps keep the order of sorted observations.
		floor := parzen.EPS
		if d.Kind == space.KindQLogUniform {
			floor = math.Max(parzen.EPS, d.Low)
		}
		for _, obs := range [][]float64{w.obsB, w.obsA} {
			for i, x := range obs {
				if d.Kind == space.KindLogUniform || d.Kind == space.KindLogNormal {
					obs[i] = math.Log(x)
				} else {
					obs[i] = math.Log(math.Max(x, floor))
				}
			}
		}
	}
	parzen.Fit(&w.l, w.obsB, c.PriorWeight, priorMu, priorSigma, c.LinearForgetting, &w.scratch)
	if sortedA {
		parzen.FitSorted(&w.g, w.obsA, w.ageA, c.PriorWeight, priorMu, priorSigma, c.LinearForgetting, &w.scratch)
	} else {
		parzen.Fit(&w.g, w.obsA, c.PriorWeight, priorMu, priorSigma, c.LinearForgetting, &w.scratch)
	}
	w.cand = parzen.Sample(w.cand, &c.r, &w.l, low, high, q, logKind, c.Candidates)
	if logKind {
		w.ll = w.scratch.LGMMLogPDF(w.ll, w.cand, &w.l, low, high, q)
	} else {
		w.ll = w.scratch.GMMLogPDF(w.ll, w.cand, &w.l, low, high, q)
	}
	x := w.cand[w.scratch.ArgmaxRatio(w.cand, w.ll, &w.g, low, high, q, logKind)]
	// Keep the value in the range the prior's draws are kept in: exp of a
	// log-space draw can round past a bound or overflow.
	return d.Clamp(x)
}

// maxCategories is the most options a randint is modelled with as a
// categorical (HyperOpt's way, one count per option); a wider one is
// modelled as the integers of a quantized uniform, whose estimator does not
// grow with the number of options.
const maxCategories = 1 << 16

// fromModel returns x, drawn from modelDist(orig), as a value of orig: a
// wide randint's rounding may reach an end's neighbour.
func fromModel(orig space.Dist, x float64) float64 {
	if modelDist(orig).Kind != orig.Kind {
		x = math.Min(math.Max(x, orig.Low), orig.High-1)
	}
	return x
}

// modelDist returns the prior TPE models a hyperparameter with.
func modelDist(d space.Dist) space.Dist {
	if d.Kind == space.KindRandInt && d.High-d.Low > maxCategories {
		// Every integer of [Low, High) gets the whole of its rounding
		// interval.
		return space.Dist{Kind: space.KindQUniform, Low: d.Low - 0.5, High: d.High - 0.5, Q: 1, Int: true}
	}
	return d
}

func (c *call) drawCategorical(d space.Dist) float64 {
	w := c.w
	k := int(d.High - d.Low)
	off := d.Low
	w.intB, w.intA = w.intB[:0], w.intA[:0]
	for _, x := range w.obsB {
		w.intB = append(w.intB, int(x-off))
	}
	for _, x := range w.obsA {
		w.intA = append(w.intA, int(x-off))
	}
	w.pl = parzen.Categorical(w.pl, w.intB, k, d.Probs, c.PriorWeight, c.LinearForgetting)
	w.pg = parzen.Categorical(w.pg, w.intA, k, d.Probs, c.PriorWeight, c.LinearForgetting)
	best, bestScore := -1, math.Inf(-1)
	for range c.Candidates {
		i := space.DrawCategorical(&c.r, w.pl)
		sc := math.Log(w.pl[i]) - math.Log(w.pg[i])
		if best < 0 || sc > bestScore {
			best, bestScore = i, sc
		}
	}
	return off + float64(best)
}
