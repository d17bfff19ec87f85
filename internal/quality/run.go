package quality

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/internal/parzen"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// An Algo is an algorithm under test: a name for tables and a constructor
// (called once per search).
type Algo struct {
	Name string
	New  func() fmin.Algorithm
	// Parallel is how many trials are in flight; 0 means one. They run
	// as a pipeline (the oldest finishes, a new one is asked for), or, if
	// Batch, as fmin.Minimize's Deterministic mode runs them: in batches of
	// Parallel, each recorded once all of it is done.
	Parallel int
	Batch    bool
	// Async, with Parallel, keeps Parallel trials in flight whose
	// evaluations take random times (uniform between 0.5 and 1.5 of a
	// mean, drawn from the seed): the trial that finishes first is told and
	// one more asked for, as independent workers would.
	Async bool
}

// Algos returns the algorithms compared by default: random search
// ("random"); HyperOpt's TPE ("tpe-hyperopt", tpe.HyperoptCompat()) and
// the same with 10 start-up trials ("tpe-hyperopt-startup10"), as the
// published peer figures used; this library's default TPE ("tpe",
// tpe.Search{}); and the default with each of its choices undone in turn:
// per-hyperparameter estimators ("tpe-independent"), HyperOpt's
// square-root good group ("tpe-sqrt-gamma"), Optuna's 10% good group
// ("tpe-gamma-0.1"), 20 start-up trials ("tpe-startup20"), a floor on the
// kernel widths half as high ("tpe-min-bandwidth-0.01"), 48 candidates
// ("tpe-candidates48"), the prior weighing 1 (HyperOpt's) or 0.25 instead
// of 0.5 ("tpe-prior-weight-1", "tpe-prior-weight-0.25"), full weight for
// the last 100 observations instead of 25 ("tpe-linear-forgetting-100")
// duplicates allowed ("tpe-allow-duplicates") and the good group of a
// conditional hyperparameter taken from the best trials overall
// ("tpe-overall-split"). Every option of
// tpe.Search that changes sequential results is there; the lie matters
// only with trials in flight (ParallelAlgos).
func Algos() []Algo {
	return []Algo{
		{Name: "random", New: func() fmin.Algorithm { return random.Search{} }},
		{Name: "tpe-hyperopt", New: func() fmin.Algorithm { return tpe.HyperoptCompat() }},
		{Name: "tpe-hyperopt-startup10", New: func() fmin.Algorithm {
			a := tpe.HyperoptCompat()
			a.StartupTrials = 10
			return a
		}},
		{Name: "tpe", New: func() fmin.Algorithm { return tpe.Search{} }},
		{Name: "tpe-independent", New: func() fmin.Algorithm { return tpe.Search{Independent: true} }},
		{Name: "tpe-sqrt-gamma", New: func() fmin.Algorithm { return tpe.Search{GammaRule: tpe.GammaSqrt} }},
		{Name: "tpe-gamma-0.1", New: func() fmin.Algorithm { return tpe.Search{Gamma: 0.1} }},
		{Name: "tpe-startup20", New: func() fmin.Algorithm { return tpe.Search{StartupTrials: 20} }},
		{Name: "tpe-min-bandwidth-0.01", New: func() fmin.Algorithm { return tpe.Search{MinBandwidth: 0.01} }},
		{Name: "tpe-candidates48", New: func() fmin.Algorithm { return tpe.Search{Candidates: 48} }},
		{Name: "tpe-prior-weight-1", New: func() fmin.Algorithm { return tpe.Search{PriorWeight: 1} }},
		{Name: "tpe-prior-weight-0.25", New: func() fmin.Algorithm { return tpe.Search{PriorWeight: 0.25} }},
		{Name: "tpe-linear-forgetting-100", New: func() fmin.Algorithm { return tpe.Search{LinearForgetting: 100} }},
		{Name: "tpe-allow-duplicates", New: func() fmin.Algorithm { return tpe.Search{AllowDuplicates: true} }},
		{Name: "tpe-overall-split", New: func() fmin.Algorithm { return tpe.Search{OverallSplit: true} }},
	}
}

// ParallelAlgos returns TPE with 8 trials in flight as a pipeline: the
// default under each constant liar (tpe.Search.Liar), "tpe-par8" (+Inf,
// the default lie) and "tpe-par8-worst", "-mean", "-best", and HyperOpt's
// TPE ("tpe-hyperopt-par8"); and both in batches of 8, as fmin.Minimize
// runs them with Parallelism 8 in Deterministic mode ("tpe-batch8",
// "tpe-hyperopt-batch8"); and the default with 4 and 8 asynchronous
// workers whose trials take random times ("tpe-async4", "tpe-async8").
// Compare them with "tpe" and "tpe-hyperopt", the same algorithms one trial
// at a time.
func ParallelAlgos() []Algo {
	out := []Algo{{Name: "tpe-par8", New: func() fmin.Algorithm { return tpe.Search{} }, Parallel: 8}}
	for _, l := range []tpe.Lie{tpe.LieWorst, tpe.LieMean, tpe.LieBest} {
		out = append(out, Algo{Name: "tpe-par8-" + l.String(), New: func() fmin.Algorithm { return tpe.Search{Liar: l} }, Parallel: 8})
	}
	return append(out,
		Algo{Name: "tpe-hyperopt-par8", New: func() fmin.Algorithm { return tpe.HyperoptCompat() }, Parallel: 8},
		Algo{Name: "tpe-batch8", New: func() fmin.Algorithm { return tpe.Search{} }, Parallel: 8, Batch: true},
		Algo{Name: "tpe-hyperopt-batch8", New: func() fmin.Algorithm { return tpe.HyperoptCompat() }, Parallel: 8, Batch: true},
		Algo{Name: "tpe-async4", New: func() fmin.Algorithm { return tpe.Search{} }, Parallel: 4, Async: true},
		Algo{Name: "tpe-async8", New: func() fmin.Algorithm { return tpe.Search{} }, Parallel: 8, Async: true},
	)
}

// Checkpoints returns the evaluation counts the table reports for a budget
// of evals: those of 25, 50, 100 and 200 that do not exceed it, and evals
// itself if it is none of them.
func Checkpoints(evals int) []int {
	var cs []int
	for _, c := range []int{25, 50, 100, 200} {
		if c <= evals {
			cs = append(cs, c)
		}
	}
	if evals > 0 && !slices.Contains(cs, evals) {
		cs = append(cs, evals)
	}
	return cs
}

// noiseStream is added to a trial's ID to make the PCG stream of its noise
// (the algorithms use the stream of the ID itself).
const noiseStream = 1 << 32

// Run searches p with a for evals evaluations with the given seed (not 0,
// which would make fmin draw a seed of its own), sequentially or, if
// a.Parallel > 1, with a.Parallel trials in flight (as a pipeline, or in
// batches if a.Batch), and returns
// the best loss seen after each evaluation (+Inf until a trial has an ok
// loss). The shift is p.Shift(seed). The result depends only on (p, a,
// seed, evals).
func Run(ctx context.Context, p Problem, a Algo, seed uint64, evals int) ([]float64, error) {
	if seed == 0 {
		return nil, errors.New("quality: seed 0 (fmin would draw a random one)")
	}
	if evals < 1 {
		return nil, fmt.Errorf("quality: evals = %d", evals)
	}
	shift := p.Shift(seed)
	s, err := space.New(p.Root(shift))
	if err != nil {
		return nil, fmt.Errorf("quality: %s: %w", p.Name, err)
	}
	loss := func(id trials.ID, cfg any) float64 {
		if p.Noisy != nil {
			r := rand.New(rand.NewPCG(seed, uint64(id)+noiseStream))
			return p.Noisy(cfg, shift, r)
		}
		return p.Loss(cfg, shift)
	}
	var losses []float64
	if a.Parallel > 1 && !a.Batch {
		losses, err = pipeline(ctx, s, a, seed, evals, loss)
	} else {
		losses, err = minimize(ctx, s, a, seed, evals, loss)
	}
	if err != nil {
		return nil, fmt.Errorf("quality: %s, %s, seed %d: %w", p.Name, a.Name, seed, err)
	}
	best := make([]float64, evals)
	b := math.Inf(1)
	for i, l := range losses {
		if l < b { // false for NaN: a trial without an ok loss
			b = l
		}
		best[i] = b
	}
	return best, nil
}

// minimize runs fmin.Minimize, one trial at a time or in batches of
// a.Parallel, and returns the losses in ID order, the order of evaluation
// (NaN for a trial without an ok loss).
func minimize(ctx context.Context, s *space.Space, a Algo, seed uint64, evals int, loss func(trials.ID, any) float64) ([]float64, error) {
	obj := func(_ context.Context, t *fmin.Trial) (trials.Result, error) {
		return trials.OK(loss(t.ID(), t.Config())), nil
	}
	res, err := fmin.Minimize(ctx, obj, s, &fmin.Options{
		Algorithm:     a.New(),
		MaxEvals:      evals,
		Seed:          seed,
		Progress:      fmin.ProgressOff,
		Parallelism:   max(a.Parallel, 1),
		Deterministic: a.Parallel > 1,
	})
	if err != nil {
		return nil, err
	}
	losses := res.Trials.Losses()
	if len(losses) != evals {
		return nil, fmt.Errorf("%d trials, want %d (stop: %v)", len(losses), evals, res.Stop)
	}
	return losses, nil
}

// pipeline keeps a.Parallel trials in flight with fmin's Optimizer, as
// workers whose trials all take the same time would: the oldest trial in
// flight finishes (or, if a.Async, the one whose random time is up first),
// then one more is asked for. Each proposal so sees the
// a.Parallel-1 trials still running as pending, and the run is repeatable.
// It returns the losses in the order they were told (that of the IDs
// unless a.Async).
func pipeline(ctx context.Context, s *space.Space, a Algo, seed uint64, evals int, loss func(trials.ID, any) float64) ([]float64, error) {
	o, err := fmin.NewOptimizer(ctx, s, &fmin.Options{Algorithm: a.New(), MaxEvals: evals, Seed: seed})
	if err != nil {
		return nil, err
	}
	inFlight, err := o.Ask(ctx, min(a.Parallel, evals))
	if err != nil {
		return nil, err
	}
	// In Async mode each trial in flight gets a finish time; the earliest
	// is next. The clock's stream is apart from the algorithm's (which
	// draws from the trial IDs' streams).
	clock := rand.New(rand.NewPCG(seed, 1<<40))
	now := 0.0
	finish := map[trials.ID]float64{}
	due := func(ts []trials.Trial) {
		for _, t := range ts {
			finish[t.ID] = now + 0.5 + clock.Float64()
		}
	}
	due(inFlight)
	losses := make([]float64, 0, evals)
	for len(inFlight) > 0 {
		next := 0
		if a.Async {
			for i, t := range inFlight {
				if finish[t.ID] < finish[inFlight[next].ID] {
					next = i
				}
			}
			now = finish[inFlight[next].ID]
		}
		t := inFlight[next]
		inFlight = slices.Delete(inFlight, next, next+1)
		cfg, err := s.Eval(t.Values)
		if err != nil {
			return nil, err
		}
		l := loss(t.ID, cfg)
		if err := o.Tell(ctx, t.ID, trials.OK(l)); err != nil {
			return nil, err
		}
		losses = append(losses, l)
		if len(losses)+len(inFlight) < evals {
			more, err := o.Ask(ctx, 1)
			if err != nil {
				return nil, err
			}
			due(more)
			inFlight = append(inFlight, more...)
		}
	}
	if len(losses) != evals {
		return nil, fmt.Errorf("%d trials, want %d", len(losses), evals)
	}
	return losses, nil
}

// A Row is the regret of one algorithm on one problem after a number of
// evaluations, over seeds: the best loss found minus the problem's
// Optimum.
type Row struct {
	Problem   string
	Selection bool // the problem is one of those that choose defaults
	Algo      string
	Evals     int // the checkpoint
	Seeds     int
	// Median, P25 and P75 are the median and the 25th and 75th
	// percentiles of the regret over seeds (linear interpolation between
	// order statistics, as numpy's default).
	Median, P25, P75 float64
}

// Table runs every problem with every algorithm for seeds 1..seeds, evals
// evaluations each (one search per seed, read at every checkpoint), and
// returns one Row per (problem, algorithm, checkpoint) in that order. The
// searches run in runtime.GOMAXPROCS(0) goroutines; each search is
// sequential and its result depends only on its seed, so the table does
// not depend on the schedule.
func Table(ctx context.Context, problems []Problem, algos []Algo, seeds int, evals int, checkpoints []int) ([]Row, error) {
	if seeds < 1 {
		return nil, fmt.Errorf("quality: seeds = %d", seeds)
	}
	for _, c := range checkpoints {
		if c < 1 || c > evals {
			return nil, fmt.Errorf("quality: checkpoint %d outside [1, %d]", c, evals)
		}
	}
	type job struct{ p, a, s int }
	curves := make([][][][]float64, len(problems)) // [problem][algo][seed] best-so-far
	jobs := make(chan job)
	for i := range problems {
		curves[i] = make([][][]float64, len(algos))
		for j := range algos {
			curves[i][j] = make([][]float64, seeds)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c, err := Run(ctx, problems[j.p], algos[j.a], uint64(j.s+1), evals)
				if err != nil {
					cancel(err)
					continue
				}
				curves[j.p][j.a][j.s] = c
			}
		}()
	}
feed:
	for s := range seeds {
		for i := range problems {
			for j := range algos {
				select {
				case jobs <- job{i, j, s}:
				case <-ctx.Done():
					break feed
				}
			}
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}

	var rows []Row
	regret := make([]float64, seeds)
	for i, p := range problems {
		for j, a := range algos {
			for _, c := range checkpoints {
				for s := range seeds {
					regret[s] = curves[i][j][s][c-1] - p.Optimum
				}
				rows = append(rows, Row{
					Problem: p.Name, Selection: p.Selection, Algo: a.Name, Evals: c, Seeds: seeds,
					Median: parzen.Quantile(regret, 0.5), P25: parzen.Quantile(regret, 0.25), P75: parzen.Quantile(regret, 0.75),
				})
			}
		}
	}
	return rows, nil
}

// Format writes rows as a fixed-width table, one line per (problem,
// algorithm) with a "median [p25, p75]" cell per checkpoint, problems that
// choose defaults marked "*"; then, per checkpoint, each algorithm's mean
// rank by median regret (1 = best, ties shared) over the selection
// problems and over the held-out ones.
func Format(w io.Writer, rows []Row) {
	type key struct{ problem, algo string }
	var (
		keys   []key
		cps    []int
		algos  []string
		cells  = map[key]map[int]Row{}
		sel    = map[string]bool{}
		probs  []string
		seeds  int
		medCol = map[string]map[int]map[string]float64{} // problem → checkpoint → algo → median
	)
	for _, r := range rows {
		k := key{r.Problem, r.Algo}
		if cells[k] == nil {
			keys = append(keys, k)
			cells[k] = map[int]Row{}
		}
		cells[k][r.Evals] = r
		if !slices.Contains(cps, r.Evals) {
			cps = append(cps, r.Evals)
		}
		if !slices.Contains(algos, r.Algo) {
			algos = append(algos, r.Algo)
		}
		if medCol[r.Problem] == nil {
			probs = append(probs, r.Problem)
			medCol[r.Problem] = map[int]map[string]float64{}
		}
		if medCol[r.Problem][r.Evals] == nil {
			medCol[r.Problem][r.Evals] = map[string]float64{}
		}
		medCol[r.Problem][r.Evals][r.Algo] = r.Median
		sel[r.Problem] = r.Selection
		seeds = r.Seeds
	}
	slices.Sort(cps)

	g := func(x float64) string { return fmt.Sprintf("%.3g", x) }
	header := []string{"problem", "algo"}
	for _, c := range cps {
		header = append(header, fmt.Sprintf("regret@%d median [p25, p75]", c))
	}
	table := [][]string{header}
	for _, k := range keys {
		name := k.problem
		if sel[k.problem] {
			name += " *"
		}
		line := []string{name, k.algo}
		for _, c := range cps {
			r, ok := cells[k][c]
			if !ok {
				line = append(line, "-")
				continue
			}
			line = append(line, fmt.Sprintf("%s [%s, %s]", g(r.Median), g(r.P25), g(r.P75)))
		}
		table = append(table, line)
	}
	fmt.Fprintf(w, "regret = best loss - known minimum, over %d seeds; * = problem that chooses defaults\n\n", seeds)
	writeAligned(w, table)

	for _, part := range []struct {
		title string
		want  bool
	}{{"selection problems (*)", true}, {"held-out problems", false}} {
		var ps []string
		for _, p := range probs {
			if sel[p] == part.want {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 || len(algos) < 2 {
			continue
		}
		fmt.Fprintf(w, "\nmean rank by median regret (1 = best), %s, %d problems\n", part.title, len(ps))
		head := []string{"algo"}
		for _, c := range cps {
			head = append(head, fmt.Sprintf("@%d", c))
		}
		rt := [][]string{head}
		for _, a := range algos {
			line := []string{a}
			for _, c := range cps {
				sum, n := 0.0, 0
				for _, p := range ps {
					if m, ok := medCol[p][c][a]; ok {
						sum += rank(m, medCol[p][c])
						n++
					}
				}
				line = append(line, fmt.Sprintf("%.2f", sum/float64(max(n, 1))))
			}
			rt = append(rt, line)
		}
		writeAligned(w, rt)
	}
}

// rank returns the rank of m among the values of all (1 = lowest), ties
// sharing the mean of their ranks.
func rank(m float64, all map[string]float64) float64 {
	below, equal := 0, 0
	for _, v := range all {
		switch {
		case v < m:
			below++
		case v == m:
			equal++
		}
	}
	return float64(below) + float64(equal+1)/2
}

// writeAligned writes rows of cells in columns padded to their widest
// cell, two spaces apart.
func writeAligned(w io.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}
