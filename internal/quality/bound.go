package quality

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hyperopt-go/hyperopt/internal/parzen"
)

// A BoundRow is one evolution strategy of [ParallelBound] at its best step
// size.
type BoundRow struct {
	// Lambda is how many points the strategy evaluates per generation
	// without seeing their results: 1 is the sequential (1+1)-ES, 8 a
	// batch of 8.
	Lambda int
	// Mu is how many of a generation's best points the next generation is
	// centred on (their weighted mean); 1 for the (1+1)-ES.
	Mu int
	// Step is the best normalized step size on the grid: the strategy
	// samples with σ = Step·R/d, R the distance of its centre to the
	// optimum and d the dimension.
	Step float64
	// Median is the median regret after the evaluations, over the seeds,
	// at that step size.
	Median float64
}

// ParallelBound measures what waiting for results costs a search that
// uses the losses only through their order (as TPE does), in the best case:
// evolution strategies on the dim-dimensional sphere of [Problems] (optimum
// shifted per seed within [-1.5, 1.5]^dim, box [-5, 5]^dim) that are told
// the distance to the optimum and so always sample at the step size they
// choose, the best on a grid. Each starts from the best of 10 uniform
// points, as TPE's start-up does, and runs to evals evaluations.
//
// The first row is the sequential (1+1)-ES (Mu 1, Lambda 1). The others
// evaluate batches of 8 and centre the next batch on the log-weighted mean
// of the best Mu of the batch, for Mu from 1 to 6: the (Mu/Mu_w, 8)-ES,
// which is how CMA-ES recombines. The ratio of the best batch row's median
// to the sequential one is a floor for what 8 trials in flight cost such a
// search at that budget: on the 10-D sphere it is 2.2 at 100 evaluations
// (the (4/4_w, 8)-ES's 1.61 against the (1+1)-ES's 0.74, 400 seeds) and
// 4.8 at 200 (0.036 against 0.0076).
func ParallelBound(seeds, evals, dim int) []BoundRow {
	rows := []BoundRow{bestStep(seeds, evals, dim, 1, 1)}
	for mu := 1; mu <= 6; mu++ {
		rows = append(rows, bestStep(seeds, evals, dim, 8, mu))
	}
	return rows
}

// bestStep returns the strategy's row at the normalized step, on the grid
// 0.2, 0.4, …, 8, with the smallest median regret.
func bestStep(seeds, evals, dim, lambda, mu int) BoundRow {
	best := BoundRow{Lambda: lambda, Mu: mu, Median: math.Inf(1)}
	regret := make([]float64, seeds)
	for i := 1; i <= 40; i++ {
		step := 0.2 * float64(i)
		for s := range seeds {
			regret[s] = oracleES(uint64(s), evals, dim, lambda, mu, step)
		}
		if m := parzen.Quantile(regret, 0.5); m < best.Median {
			best.Median, best.Step = m, step
		}
	}
	return best
}

// oracleES runs one evolution strategy on the shifted sphere and returns
// its regret (the best loss, the minimum being 0) after evals evaluations.
// With lambda 1 it is the (1+1)-ES: it moves to a sample that is better
// than its centre. Otherwise it samples lambda points around its centre
// and moves to the weighted mean of the best mu of them. Each sample is
// the centre plus σ times a standard normal vector, clamped to the box,
// with σ = step·R/dim.
func oracleES(seed uint64, evals, dim, lambda, mu int, step float64) float64 {
	r := rand.New(rand.NewPCG(seed, shiftStream))
	opt := make([]float64, dim)
	for i := range opt {
		opt[i] = (2*r.Float64() - 1) * 1.5
	}
	loss := func(x []float64) float64 {
		f := 0.0
		for i, v := range x {
			f += (v - opt[i]) * (v - opt[i])
		}
		return f
	}
	centre := make([]float64, dim)
	centreLoss := math.Inf(1)
	x := make([]float64, dim)
	n := 0
	for ; n < min(10, evals); n++ {
		for i := range x {
			x[i] = 10*r.Float64() - 5
		}
		if f := loss(x); f < centreLoss {
			centreLoss = f
			copy(centre, x)
		}
	}
	best := centreLoss

	// weights of the (mu/mu_w, lambda)-ES: log-decreasing, summing to 1.
	w := make([]float64, mu)
	sum := 0.0
	for i := range w {
		w[i] = math.Log(float64(mu)+0.5) - math.Log(float64(i+1))
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	type point struct {
		x    []float64
		loss float64
	}
	batch := make([]point, lambda)
	for i := range batch {
		batch[i].x = make([]float64, dim)
	}
	for n < evals {
		sigma := step * math.Sqrt(centreLoss) / float64(dim)
		k := min(lambda, evals-n)
		for b := range k {
			p := &batch[b]
			for i := range p.x {
				p.x[i] = math.Max(-5, math.Min(5, centre[i]+sigma*r.NormFloat64()))
			}
			p.loss = loss(p.x)
			best = math.Min(best, p.loss)
		}
		n += k
		if lambda == 1 {
			if batch[0].loss < centreLoss {
				centreLoss = batch[0].loss
				copy(centre, batch[0].x)
			}
			continue
		}
		sel := batch[:k]
		slices.SortFunc(sel, func(a, b point) int { return cmp.Compare(a.loss, b.loss) })
		clear(centre)
		m := min(mu, k)
		for j := range m {
			for i := range centre {
				centre[i] += w[j] * sel[j].x[i]
			}
		}
		if m < mu { // a short last batch: renormalize
			scale := 0.0
			for j := range m {
				scale += w[j]
			}
			for i := range centre {
				centre[i] /= scale
			}
		}
		centreLoss = loss(centre) // known to the oracle, not an evaluation
	}
	return best
}
