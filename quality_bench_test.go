package hyperopt_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hyperopt-go/hyperopt/internal/quality"
)

// BenchmarkQuality runs the quality benchmark (internal/quality): for each
// problem and algorithm, one 200-evaluation search per iteration, with the
// iteration's index plus 1 as the seed (0 would make fmin draw a seed of its
// own), and reports the mean over iterations of the regret (best loss minus
// the known minimum) after 25, 50, 100 and 200 evaluations. The algorithms
// are quality.Algos and quality.ParallelAlgos. Twenty iterations are
// the 20 seeds of the table that go run ./cmd/quality prints (which gives
// medians and quartiles instead of means):
//
//	go test -run '^$' -bench Quality -benchtime 20x .
func BenchmarkQuality(b *testing.B) {
	const evals = 200
	ctx := context.Background()
	for _, p := range quality.Problems() {
		for _, a := range append(quality.Algos(), quality.ParallelAlgos()...) {
			b.Run(fmt.Sprintf("problem=%s/algo=%s", p.Name, a.Name), func(b *testing.B) {
				checkpoints := quality.Checkpoints(evals)
				sum := make([]float64, len(checkpoints))
				n := 0
				for b.Loop() {
					n++
					c, err := quality.Run(ctx, p, a, uint64(n), evals)
					if err != nil {
						b.Fatal(err)
					}
					for i, e := range checkpoints {
						sum[i] += c[e-1] - p.Optimum
					}
				}
				for i, e := range checkpoints {
					b.ReportMetric(sum[i]/float64(n), fmt.Sprintf("regret@%d", e))
				}
			})
		}
	}
}
