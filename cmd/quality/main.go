// Command quality prints the quality benchmark's table: for each test
// problem of internal/quality and each algorithm, the regret (best loss
// found minus the problem's known minimum) after 25, 50, 100 and 200
// evaluations, median and [25th, 75th] percentiles over seeds, then each
// algorithm's mean rank on the problems that choose defaults and on the
// held-out ones, and the wall time taken. From the repository's root:
//
//	go run ./cmd/quality
//	go run ./cmd/quality -seeds 5 -evals 100 -problems 'sphere|rosen' -algos random,tpe-hyperopt
//
// With -bound d it prints instead quality.ParallelBound's rows on the
// d-dimensional sphere: what waiting for 8 results at a time costs an
// evolution strategy that always samples at its best step size, a floor
// for what 8 trials in flight cost a rank-based search such as TPE:
//
//	go run ./cmd/quality -bound 10 -seeds 400 -evals 100
//
// The searches run in GOMAXPROCS goroutines, one sequential search each;
// the table does not depend on how many.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/hyperopt-go/hyperopt/internal/quality"
)

func main() {
	seeds := flag.Int("seeds", 20, "number of seeds (searches per problem and algorithm), 1..seeds")
	evals := flag.Int("evals", 200, "evaluations per search")
	problems := flag.String("problems", "", "regular expression: run only the problems whose name matches")
	var names []string
	for _, a := range quality.Algos() {
		names = append(names, a.Name)
	}
	var more []string
	for _, a := range quality.ParallelAlgos() {
		more = append(more, a.Name)
	}
	algos := flag.String("algos", strings.Join(names, ","), "comma-separated algorithms to compare; also available: "+strings.Join(more, ", "))
	bound := flag.Int("bound", 0, "if positive, print the evolution-strategy bound on the sphere of this dimension instead of the table")
	flag.Parse()
	if *bound > 0 {
		if *seeds < 2 || *evals < 1 {
			fmt.Fprintf(os.Stderr, "quality: -bound needs -seeds (%d) of at least 2 and -evals (%d) of at least 1\n", *seeds, *evals)
			os.Exit(1)
		}
		printBound(*bound, *seeds, *evals)
		return
	}
	if err := run(*seeds, *evals, *problems, *algos); err != nil {
		fmt.Fprintln(os.Stderr, "quality:", err)
		os.Exit(1)
	}
}

func run(seeds, evals int, problems, algos string) error {
	re, err := regexp.Compile(problems)
	if err != nil {
		return fmt.Errorf("-problems: %w", err)
	}
	var ps []quality.Problem
	for _, p := range quality.Problems() {
		if re.MatchString(p.Name) {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return fmt.Errorf("no problem matches %q", problems)
	}
	byName := map[string]quality.Algo{}
	var known []string
	for _, a := range append(quality.Algos(), quality.ParallelAlgos()...) {
		byName[a.Name] = a
		known = append(known, a.Name)
	}
	var as []quality.Algo
	for _, n := range strings.Split(algos, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		a, ok := byName[n]
		if !ok {
			return fmt.Errorf("unknown algorithm %q (known: %s)", n, strings.Join(known, ", "))
		}
		as = append(as, a)
	}
	if len(as) == 0 {
		return fmt.Errorf("-algos names no algorithm")
	}
	if seeds < 1 || evals < 1 {
		return fmt.Errorf("-seeds (%d) and -evals (%d) must be at least 1", seeds, evals)
	}

	start := time.Now()
	rows, err := quality.Table(context.Background(), ps, as, seeds, evals, quality.Checkpoints(evals))
	if err != nil {
		return err
	}
	quality.Format(os.Stdout, rows)
	fmt.Printf("\n%d problems × %d algorithms × %d seeds × %d evaluations in %v (GOMAXPROCS=%d)\n",
		len(ps), len(as), seeds, evals, time.Since(start).Round(time.Millisecond), runtime.GOMAXPROCS(0))
	return nil
}

// printBound prints quality.ParallelBound's rows and the ratio of the best
// batch's median to the sequential one.
func printBound(dim, seeds, evals int) {
	start := time.Now()
	rows := quality.ParallelBound(seeds, evals, dim)
	fmt.Printf("sphere-%d, optimum shifted per seed, median regret at %d evaluations over %d seeds, oracle step sizes\n", dim, evals, seeds)
	fmt.Printf("%-16s %6s %12s\n", "strategy", "step", "median")
	best := rows[1].Median
	for _, r := range rows {
		name := fmt.Sprintf("(%d/%d_w, %d)-ES", r.Mu, r.Mu, r.Lambda)
		if r.Lambda == 1 {
			name = "(1+1)-ES"
		} else {
			best = min(best, r.Median)
		}
		fmt.Printf("%-16s %6.1f %12.4g\n", name, r.Step, r.Median)
	}
	fmt.Printf("best batch of 8 / sequential: %.2f (%v)\n", best/rows[0].Median, time.Since(start).Round(time.Millisecond))
}
