package trials

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// History is the columnar view of an experiment's trials that algorithms
// read, as HyperOpt's idxs/vals: for each trial its ID, state and loss, and
// for each hyperparameter the column of its values (NaN where inactive). It
// includes queued and running trials (pending: loss NaN), so that an
// algorithm can keep away from points already in flight.
//
// A History only grows and updates in place: trials are appended in the
// order they first appear and never removed, and a trial's values never
// change, so row i of every column is the same trial for ever. Its Seq grows
// with every change, so an algorithm may cache what it derives, keyed by
// (experiment, Seq). The driver keeps it up to date from Store.Changes with
// [History.Apply], without re-reading the experiment.
//
// The slices returned by its methods are shared and must not be modified.
// Its read methods are safe for concurrent use by several readers; Apply,
// which only the owner of the History calls (a [Trials] for the History it
// hands out), must not run concurrently with them.
type History struct {
	seq    int64
	ids    []ID
	states []State
	losses []float64
	cols   [][]float64
	rows   int
	index  map[ID]int

	sortMu     sync.Mutex // guards sorted and sortedUpTo: Sorted is called by readers
	sorted     [][]int32  // per hyperparameter, active rows by value; built on demand
	sortedUpTo []int      // rows included in sorted
}

// NewHistory returns an empty history for a space of nparams
// hyperparameters.
func NewHistory(nparams int) *History {
	return &History{cols: make([][]float64, nparams), index: make(map[ID]int)}
}

// Apply records changed trials (as Store.Changes returns them) and the
// sequence number they bring the history to. Trials whose values have the
// wrong length are skipped.
func (h *History) Apply(ts []Trial, seq int64) {
	for i := range ts {
		t := &ts[i]
		r, ok := h.index[t.ID]
		if !ok {
			if len(t.Values) != len(h.cols) {
				continue
			}
			r = h.rows
			h.rows++
			h.index[t.ID] = r
			h.ids = append(h.ids, t.ID)
			h.states = append(h.states, 0)
			h.losses = append(h.losses, 0)
			for p, x := range t.Values {
				h.cols[p] = append(h.cols[p], x)
			}
		}
		h.states[r] = t.State
		h.losses[r] = lossOf(t)
	}
	h.seq = max(h.seq, seq)
}

// lossOf is the loss an algorithm sees: the loss of an ok trial, +Inf for a
// failed one, NaN for a trial without a result (pending, error, canceled).
func lossOf(t *Trial) float64 {
	if t.State != StateDone {
		return math.NaN()
	}
	return t.Result.Objective()
}

// Seq returns the sequence number of the last change the history includes.
func (h *History) Seq() int64 { return h.seq }

// Len returns the number of trials.
func (h *History) Len() int { return h.rows }

// ID returns the ID of the trial in row i.
func (h *History) ID(i int) ID { return h.ids[i] }

// State returns the state of the trial in row i.
func (h *History) State(i int) State { return h.states[i] }

// Loss returns the loss of the trial in row i as algorithms see it: its
// loss if done and ok, +Inf if done and failed, NaN if it has no result
// (queued, running, error, canceled).
func (h *History) Loss(i int) float64 { return h.losses[i] }

// Losses returns the losses of all rows (see Loss).
func (h *History) Losses() []float64 { return h.losses }

// States returns the states of all rows.
func (h *History) States() []State { return h.states }

// IDs returns the IDs of all rows.
func (h *History) IDs() []ID { return h.ids }

// Column returns the values of hyperparameter p in every row (NaN where it
// is inactive).
func (h *History) Column(p int) []float64 { return h.cols[p] }

// Value returns the value of hyperparameter p in row i.
func (h *History) Value(i, p int) float64 { return h.cols[p][i] }

// Row returns the row of the trial with the given ID.
func (h *History) Row(id ID) (int, bool) {
	r, ok := h.index[id]
	return r, ok
}

// Sorted returns the rows where hyperparameter p is active, in increasing
// order of its value (equal values by trial ID). The order is built on the
// first call and kept up to date as trials are appended, so algorithms that
// fit models to sorted observations need not sort on every suggestion.
//
// Sorted is safe for concurrent use by several readers (two algorithms
// suggesting from one History, say): the index is built under a lock and
// never changed in place, so a slice it returned stays as it was. The slice
// is shared and must not be modified.
func (h *History) Sorted(p int) []int32 {
	h.sortMu.Lock()
	defer h.sortMu.Unlock()
	if h.sorted == nil {
		h.sorted = make([][]int32, len(h.cols))
		h.sortedUpTo = make([]int, len(h.cols))
	}
	col := h.cols[p]
	s, done := h.sorted[p], h.sortedUpTo[p]
	if done == h.rows {
		return s
	}
	cmp := func(a, b int32) int {
		switch x, y := col[a], col[b]; {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		// Equal values by trial ID, so that the order does not depend on
		// the order rows arrived in (a resumed search reads them anew).
		return cmp.Compare(h.ids[a], h.ids[b])
	}
	var add []int32
	for r := done; r < h.rows; r++ {
		if !math.IsNaN(col[r]) {
			add = append(add, int32(r))
		}
	}
	slices.SortFunc(add, cmp)
	// Merge into a new slice: readers may hold the old one.
	merged := make([]int32, 0, len(s)+len(add))
	i, j := 0, 0
	for i < len(s) && j < len(add) {
		if cmp(add[j], s[i]) < 0 {
			merged = append(merged, add[j])
			j++
		} else {
			merged = append(merged, s[i])
			i++
		}
	}
	merged = append(append(merged, s[i:]...), add[j:]...)
	h.sorted[p], h.sortedUpTo[p] = merged, h.rows
	return merged
}
