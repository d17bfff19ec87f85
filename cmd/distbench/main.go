// Command distbench measures the throughput of distributed searches: a
// driver in this process and 1 to 8 worker processes (this program, run
// again) sharing an SQLite file or a PostgreSQL database, over 10 uniform
// parameters, with random search and TPE, and an objective that returns at
// once or sleeps. It prints a table of trials per second, and the speed-up
// from one worker.
//
//	go run ./cmd/distbench [-stores sqlite,postgres] [-workers 1,2,4,8] [-trials 500,2000]
//	    [-algos random,tpe] [-sleeps 0,50ms] [-dsn postgres://...]
//
// Without -dsn, the PostgreSQL runs start a private server of their own on
// loopback (Debian's postgresql package provides the programs), with the
// server's default durability settings (fsync on) unless -nofsync.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/hyperopt-go/hyperopt/fmin"
	"github.com/hyperopt-go/hyperopt/internal/pgtest"
	"github.com/hyperopt-go/hyperopt/internal/storeurl"
	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(worker(os.Args[2:]))
	}
	stores := flag.String("stores", "sqlite,postgres", "stores to measure: sqlite, postgres")
	workers := flag.String("workers", "1,2,4,8", "numbers of worker processes")
	sizes := flag.String("trials", "500,2000", "numbers of trials")
	algos := flag.String("algos", "random,tpe", "algorithms: random, tpe")
	sleeps := flag.String("sleeps", "0,50ms", "objective durations; those above 0 run at the smallest number of trials only")
	dsn := flag.String("dsn", "", "a PostgreSQL database to use instead of a private server")
	nofsync := flag.Bool("nofsync", false, "run the private PostgreSQL server with fsync=off (faster commits; not what production runs)")
	cpuprofile := flag.String("cpuprofile", "", "write the driver process's CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}

	ctx := context.Background()
	dir, err := os.MkdirTemp("", "distbench")
	check(err)
	defer os.RemoveAll(dir)
	ns := ints(*sizes)
	var ds []time.Duration
	for _, f := range strings.Split(*sleeps, ",") {
		d, err := time.ParseDuration(f)
		check(err)
		ds = append(ds, d)
	}
	fmt.Println("| store | algorithm | objective | trials | workers | seconds | trials/s | speed-up |")
	fmt.Println("|---|---|---|---:|---:|---:|---:|---:|")
	for _, st := range strings.Split(*stores, ",") {
		name := ""
		switch st {
		case "sqlite":
			name = filepath.Join(dir, "bench.db")
		case "postgres":
			name = *dsn
			if name == "" {
				c, err := pgtest.Start(&pgtest.Options{Durable: !*nofsync})
				check(err)
				defer c.Stop()
				name = c.DSN("postgres")
			}
		default:
			check(fmt.Errorf("unknown store %q", st))
		}
		run := 0
		for _, algo := range strings.Split(*algos, ",") {
			for _, d := range ds {
				for _, n := range ns {
					if d > 0 && n != ns[0] {
						continue
					}
					var base float64
					for _, w := range ints(*workers) {
						run++
						key := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), run)
						secs, err := measure(ctx, name, key, algo, n, w, d)
						check(err)
						rate := float64(n) / secs
						if base == 0 {
							base = rate
						}
						obj := "trivial"
						if d > 0 {
							obj = "sleep " + d.String()
						}
						fmt.Printf("| %s | %s | %s | %d | %d | %.2f | %.0f | %.2fx |\n", st, algo, obj, n, w, secs, rate, rate/base)
					}
				}
			}
		}
	}
}

func searchSpace() *space.Space {
	d := space.Dict{}
	for i := range 10 {
		l := "x" + strconv.Itoa(i)
		d[l] = space.Uniform(l, -5, 5)
	}
	s, err := space.New(d)
	check(err)
	return s
}

// measure runs one search of n trials with w worker processes and returns
// the seconds from the driver's start to its end.
func measure(ctx context.Context, name, key, algo string, n, w int, sleep time.Duration) (float64, error) {
	store, err := storeurl.Open(ctx, name)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	// Random search proposes the same whatever the results, so its
	// driver may queue far ahead; TPE learns from every result, so its
	// queue is kept near the number of workers.
	// Its workers reserve and record 8 trials at a time (one transaction
	// for 8 trials), TPE's one.
	var alg fmin.Algorithm = random.Search{}
	queue, batch := max(2*w, 64), 8
	if algo == "tpe" {
		alg, queue, batch = tpe.Search{}, 2*w, 1
	}
	s := searchSpace()
	opts := &fmin.Options{Store: store, Experiment: key, MaxEvals: n, Algorithm: alg, Seed: 1,
		RemoteWorkers: true, QueueLen: queue, LeaseTTL: 30 * time.Second, Progress: fmin.ProgressOff}
	o, err := fmin.NewOptimizer(ctx, s, opts)
	if err != nil {
		return 0, err
	}
	_ = o.Close()
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	procs := make([]*exec.Cmd, w)
	for i := range procs {
		procs[i] = exec.Command(self, "worker", name, key, sleep.String(), strconv.Itoa(batch))
		procs[i].Stderr = os.Stderr
		if err := procs[i].Start(); err != nil {
			return 0, err
		}
	}
	// Let the workers start and wait for work, so that the figure is the
	// search's, not the programs' start.
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	res, err := fmin.Minimize(ctx, nil, s, opts)
	secs := time.Since(start).Seconds()
	for _, p := range procs {
		if werr := p.Wait(); werr != nil {
			err = errors.Join(err, fmt.Errorf("worker: %w", werr))
		}
	}
	if err != nil {
		return 0, err
	}
	if c := res.Trials.Counts(); c[trials.StateDone] != n {
		return 0, fmt.Errorf("%s: %v trials, want %d done", key, c, n)
	}
	return secs, nil
}

// worker is a worker process: store name, experiment key, sleep, batch.
func worker(args []string) int {
	ctx := context.Background()
	store, err := storeurl.Open(ctx, args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	defer store.Close()
	sleep, _ := time.ParseDuration(args[2])
	batch, _ := strconv.Atoi(args[3])
	obj := func(ctx context.Context, t *fmin.Trial) (trials.Result, error) {
		if sleep > 0 {
			time.Sleep(sleep)
		}
		sum := 0.0
		for _, x := range t.Values() {
			sum += x * x
		}
		return trials.OK(sum), nil
	}
	w := &fmin.Worker{Store: store, Experiment: args[1], LeaseTTL: 30 * time.Second, Poll: 50 * time.Millisecond, IdleTimeout: time.Minute, Batch: batch}
	if _, err := w.Run(ctx, obj, searchSpace()); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	return 0
}

func ints(list string) []int {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		out = append(out, n)
	}
	return out
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "distbench:", err)
		os.Exit(1)
	}
}
