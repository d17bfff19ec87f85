package quality

import (
	"math"
	"testing"
)

// TestParallelBound checks the evolution-strategy bound that documents
// what 8 trials in flight cost a rank-based search: on the 10-D sphere at
// 100 evaluations (100 seeds here, 400 in the documented figure), the
// sequential (1+1)-ES samples best near the step its theory gives (σ ≈
// 1.22·R/d), recombining the best half of a batch beats moving to the best
// point alone, and the best batch of 8 is still more than 1.5 times behind
// the sequential strategy.
func TestParallelBound(t *testing.T) {
	rows := ParallelBound(100, 100, 10)
	seq := rows[0]
	if seq.Lambda != 1 || seq.Mu != 1 || len(rows) != 7 {
		t.Fatalf("rows = %+v, want the (1+1)-ES then 6 batch rows", rows)
	}
	if seq.Step < 0.8 || seq.Step > 1.6 {
		t.Errorf("(1+1)-ES best step %.1f, want near 1.2", seq.Step)
	}
	bestBatch := math.Inf(1)
	for _, r := range rows[1:] {
		t.Logf("(%d/%d_w, %d)-ES: step %.1f, median regret@100 %.3g", r.Mu, r.Mu, r.Lambda, r.Step, r.Median)
		bestBatch = math.Min(bestBatch, r.Median)
	}
	t.Logf("(1+1)-ES: step %.1f, median regret@100 %.3g; best batch / sequential = %.2f", seq.Step, seq.Median, bestBatch/seq.Median)
	if one, four := rows[1], rows[4]; four.Median >= one.Median {
		t.Errorf("(4/4_w, 8) median %.3g, not below (1, 8) %.3g", four.Median, one.Median)
	}
	if bestBatch < 1.5*seq.Median {
		t.Errorf("best batch of 8 median %.3g within 1.5x of the sequential %.3g", bestBatch, seq.Median)
	}
}
