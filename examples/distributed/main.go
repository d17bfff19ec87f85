// Command distributed runs one search across several processes that share
// a store, as HyperOpt's MongoTrials does: a driver proposes trials, and
// workers (on this machine or others) evaluate them. The objective trains a
// small linear model with minibatch SGD on a fixed synthetic data set and
// returns its validation error.
//
// On one machine, with an SQLite file:
//
//	go run ./examples/distributed local -store search.db -workers 4
//
// runs the driver here and four worker processes of this same program. With
// PostgreSQL and several machines, start the driver once and any number of
// workers anywhere that reaches the database:
//
//	go run ./examples/distributed driver -store postgres://user@db/hyperopt -evals 500
//	go run ./examples/distributed worker -store postgres://user@db/hyperopt
//
// A worker ends when the search is finished; Ctrl-C (SIGINT) or SIGTERM
// gives its current trial back to the queue for another worker. Killing a
// worker outright loses nothing: its trial is run again once its lease
// expires. The driver can be stopped and started again: it resumes the
// experiment where it was.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/internal/storeurl"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// Config is what a trial trains with.
type Config struct {
	LR       float64 `hyperopt:"lr"`
	Batch    int     `hyperopt:"batch"`
	Epochs   int     `hyperopt:"epochs"`
	L2       float64 `hyperopt:"l2"`
	Momentum float64 `hyperopt:"momentum"`
}

func searchSpace() (*space.Space, error) {
	return space.New(space.Dict{
		"lr":       space.LogUniform("lr", 1e-4, 1),
		"batch":    space.Choice("batch", 8, 16, 32, 64),
		"epochs":   space.QUniformInt("epochs", 1, 30, 1),
		"l2":       space.LogUniform("l2", 1e-6, 1e-1),
		"momentum": space.Uniform("momentum", 0, 0.99),
	})
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	store := fs.String("store", "search.db", "the shared store: an SQLite file, or a postgres:// DSN")
	exp := fs.String("experiment", "sgd", "the experiment's key")
	evals := fs.Int("evals", 200, "driver: the number of trials")
	queue := fs.Int("queue", 0, "driver: trials kept queued ahead of the workers (0: the number of workers, or 4)")
	algo := fs.String("algo", "tpe", "driver: tpe or random")
	seed := fs.Uint64("seed", 0, "driver: the seed (0: the stored one, or a random one)")
	workers := fs.Int("workers", 4, "local: the number of worker processes")
	cost := fs.Duration("cost", 0, "worker: extra time each evaluation takes, to play a heavier model")
	ttl := fs.Duration("lease", 10*time.Second, "the lease of a running trial: a dead worker's trial runs again after this long")
	verbose := fs.Bool("v", false, "log to stderr")
	_ = fs.Parse(args)

	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := searchSpace()
	if err != nil {
		fail(err)
	}
	st, err := storeurl.Open(ctx, *store)
	if err != nil {
		fail(err)
	}
	defer st.Close()

	switch cmd {
	case "driver", "local":
		var alg fmin.Algorithm = tpe.Search{}
		if *algo == "random" {
			alg = random.Search{}
		}
		q := *queue
		if q == 0 {
			q = 4
			if cmd == "local" {
				q = *workers
			}
		}
		opts := &fmin.Options{Store: st, Experiment: *exp, MaxEvals: *evals, Algorithm: alg, Seed: *seed,
			RemoteWorkers: true, QueueLen: q, LeaseTTL: *ttl, Logger: log, Progress: fmin.ProgressAuto}
		var procs []*exec.Cmd
		if cmd == "local" {
			// Create the experiment before the workers look for it.
			o, err := fmin.NewOptimizer(ctx, s, opts)
			if err != nil {
				fail(err)
			}
			_ = o.Close()
			procs = startWorkers(*workers, *store, *exp, *cost, *ttl, *verbose)
		}
		res, err := fmin.Minimize(ctx, nil, s, opts)
		for _, p := range procs {
			_ = p.Wait()
		}
		if err != nil && res == nil {
			fail(err)
		}
		var best Config
		_ = space.DecodeConfig(res.Config, &best)
		fmt.Printf("stopped: %v after %v; %v\n", res.Stop, res.Elapsed.Round(time.Millisecond), res.Trials.Counts())
		fmt.Printf("best validation MSE %.5f with %+v\n", res.Best.Result.Loss, best)
		if err != nil {
			fail(err)
		}
	case "worker":
		w := &fmin.Worker{Store: st, Experiment: *exp, LeaseTTL: *ttl, Logger: log, MaxConsecutiveErrors: 10}
		obj := fmin.Typed(func(ctx context.Context, c Config, t *fmin.Trial) (trials.Result, error) {
			return train(ctx, c, *cost, t)
		})
		res, err := w.Run(ctx, obj, s)
		if res != nil {
			fmt.Fprintf(os.Stderr, "worker %d: %v after %d trials (%d errors, %d lost, %d given back)\n",
				os.Getpid(), res.Stop, res.Evaluated, res.Errors, res.Lost, res.GivenBack)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			fail(err)
		}
	default:
		usage()
	}
}

// startWorkers starts n worker processes of this program.
func startWorkers(n int, store, exp string, cost, ttl time.Duration, verbose bool) []*exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	var out []*exec.Cmd
	for range n {
		c := exec.Command(self, "worker", "-store", store, "-experiment", exp, "-cost", cost.String(), "-lease", ttl.String(), "-v="+strconv.FormatBool(verbose))
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Start(); err != nil {
			fail(err)
		}
		out = append(out, c)
	}
	return out
}

// train fits y = w·x + b by minibatch SGD with momentum and L2 on a fixed
// data set and returns the mean squared error on its validation part,
// reporting it after each epoch. A diverging run fails (an infinite loss).
func train(ctx context.Context, c Config, cost time.Duration, t *fmin.Trial) (trials.Result, error) {
	const n, dim = 600, 8
	r := rand.New(rand.NewPCG(1, 2)) // the same data for every trial
	x := make([][dim]float64, n)
	y := make([]float64, n)
	var truth [dim]float64
	for j := range truth {
		truth[j] = r.NormFloat64()
	}
	for i := range x {
		for j := range dim {
			x[i][j] = r.NormFloat64()
			y[i] += truth[j] * x[i][j]
		}
		y[i] += 0.5 + 0.3*r.NormFloat64()
	}
	trainN := n * 4 / 5
	var w, v [dim]float64
	var b, vb float64
	order := rand.New(rand.NewPCG(uint64(t.ID()), 3))
	mse := math.Inf(1)
	for epoch := range c.Epochs {
		if err := ctx.Err(); err != nil {
			return trials.Result{}, err
		}
		idx := order.Perm(trainN)
		for s := 0; s < trainN; s += c.Batch {
			var gw [dim]float64
			var gb float64
			end := min(s+c.Batch, trainN)
			for _, i := range idx[s:end] {
				pred := b
				for j := range dim {
					pred += w[j] * x[i][j]
				}
				e := pred - y[i]
				for j := range dim {
					gw[j] += e * x[i][j]
				}
				gb += e
			}
			k := float64(end - s)
			for j := range dim {
				v[j] = c.Momentum*v[j] - c.LR*(gw[j]/k+c.L2*w[j])
				w[j] += v[j]
			}
			vb = c.Momentum*vb - c.LR*gb/k
			b += vb
		}
		mse = 0
		for i := trainN; i < n; i++ {
			pred := b
			for j := range dim {
				pred += w[j] * x[i][j]
			}
			mse += (pred - y[i]) * (pred - y[i])
		}
		mse /= float64(n - trainN)
		if math.IsNaN(mse) || math.IsInf(mse, 0) || mse > 1e6 {
			return trials.Fail(fmt.Sprintf("diverged at epoch %d", epoch+1)), nil
		}
		if err := t.Report(ctx, int64(epoch+1), mse); err != nil {
			return trials.Result{}, err
		}
	}
	if cost > 0 {
		select {
		case <-time.After(cost):
		case <-ctx.Done():
			return trials.Result{}, ctx.Err()
		}
	}
	return trials.OK(mse), nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: distributed driver|worker|local [-store search.db|postgres://...] [-experiment sgd] [flags]; -h after the subcommand lists them")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "distributed:", err)
	os.Exit(1)
}
