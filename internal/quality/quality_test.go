package quality

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// TestProblems checks each problem for 50 seeds: Root compiles and has Dim
// hyperparameters, the shift has its length and range, Argmin's config is
// a point of the space (so the optimum stays in the box: Encode refuses a
// value outside the support), Loss there equals Optimum within 1e-6 (read
// directly and after a round trip through the space), and no point drawn
// from the prior, nor any small step from the argmin, beats Optimum.
func TestProblems(t *testing.T) {
	names := map[string]bool{}
	sel := 0
	nameOK := regexp.MustCompile(`^[a-z0-9_-]+$`)
	for _, p := range Problems() {
		if names[p.Name] {
			t.Errorf("duplicate problem name %q", p.Name)
		}
		names[p.Name] = true
		if !nameOK.MatchString(p.Name) {
			t.Errorf("name %q is not fit for a benchmark name", p.Name)
		}
		if p.Selection {
			sel++
		}
		t.Run(p.Name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			for seed := uint64(1); seed <= 50; seed++ {
				shift := p.Shift(seed)
				if len(shift) != p.ShiftDim {
					t.Fatalf("seed %d: shift of length %d, want %d", seed, len(shift), p.ShiftDim)
				}
				for _, x := range shift {
					if math.Abs(x) > p.ShiftRange {
						t.Fatalf("seed %d: shift %v outside ±%v", seed, shift, p.ShiftRange)
					}
				}
				if !slices.Equal(shift, p.Shift(seed)) {
					t.Fatalf("seed %d: shift not repeatable", seed)
				}
				s, err := space.New(p.Root(shift))
				if err != nil {
					t.Fatalf("space.New: %v", err)
				}
				if n := len(s.Params()); n != p.Dim {
					t.Fatalf("%d hyperparameters, Dim = %d", n, p.Dim)
				}
				cfg := p.Argmin(shift)
				if got := p.Loss(cfg, shift); math.Abs(got-p.Optimum) > 1e-6 {
					t.Fatalf("seed %d: Loss(Argmin) = %.12g, Optimum = %.12g", seed, got, p.Optimum)
				}
				v, err := s.Encode(cfg)
				if err != nil {
					t.Fatalf("seed %d: the argmin %v is not in the space: %v", seed, cfg, err)
				}
				back, err := s.Eval(v)
				if err != nil {
					t.Fatal(err)
				}
				if got := p.Loss(back, shift); math.Abs(got-p.Optimum) > 1e-6 {
					t.Fatalf("seed %d: Loss(Eval(Encode(Argmin))) = %.12g, Optimum = %.12g", seed, got, p.Optimum)
				}
				for range 200 {
					c, err := s.Eval(s.Sample(r))
					if err != nil {
						t.Fatal(err)
					}
					if l := p.Loss(c, shift); l < p.Optimum-1e-9 || math.IsNaN(l) {
						t.Fatalf("seed %d: Loss(%v) = %.12g < Optimum %.12g", seed, c, l, p.Optimum)
					}
				}
				// Small steps from the argmin along each continuous
				// hyperparameter that is active there.
				for _, info := range s.Params() {
					x := v[info.Index]
					if math.IsNaN(x) || (info.Dist.Kind != space.KindUniform && info.Dist.Kind != space.KindLogUniform) {
						continue
					}
					for _, d := range []float64{-1e-4, 1e-4} {
						w := slices.Clone(v)
						w[info.Index] = x * (1 + d)
						if x == 0 {
							w[info.Index] = d
						}
						if !info.Dist.Contains(w[info.Index]) {
							continue
						}
						c, err := s.Eval(w)
						if err != nil {
							t.Fatal(err)
						}
						if l := p.Loss(c, shift); l < p.Optimum-1e-9 {
							t.Fatalf("seed %d: a step on %s to %v gives %.12g < Optimum %.12g", seed, info.Label, w[info.Index], l, p.Optimum)
						}
					}
				}
			}
		})
	}
	if len(names) != 19 || sel != 9 {
		t.Errorf("%d problems, %d of them choosing defaults; the package documentation says 19 and 9", len(names), sel)
	}
}

// TestShiftMoves checks that the shift depends on the seed and has spread:
// over 200 seeds each entry covers most of its range, so an algorithm that
// seeks a fixed point gains nothing.
func TestShiftMoves(t *testing.T) {
	p := Problems()[1] // sphere-10
	lo, hi := make([]float64, p.ShiftDim), make([]float64, p.ShiftDim)
	for seed := uint64(1); seed <= 200; seed++ {
		for i, x := range p.Shift(seed) {
			lo[i], hi[i] = min(lo[i], x), max(hi[i], x)
		}
	}
	for i := range lo {
		if lo[i] > -1.2 || hi[i] < 1.2 {
			t.Errorf("shift entry %d spans [%v, %v] over 200 seeds", i, lo[i], hi[i])
		}
	}
	if slices.Equal(p.Shift(1), p.Shift(2)) {
		t.Error("seeds 1 and 2 have the same shift")
	}
}

// TestNoisyMean checks that the noisy domains' Loss is the mean of what a
// search observes: 4,000 draws at a few configs, within 5 standard errors.
func TestNoisyMean(t *testing.T) {
	n := 0
	for _, p := range Problems() {
		if p.Noisy == nil {
			continue
		}
		n++
		s, err := space.New(p.Root(nil))
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 4))
		for range 5 {
			cfg, _ := s.Eval(s.Sample(r))
			sum, sq := 0.0, 0.0
			const draws = 4000
			for range draws {
				l := p.Noisy(cfg, nil, r)
				sum += l
				sq += l * l
			}
			mean := sum / draws
			se := math.Sqrt((sq/draws - mean*mean) / draws)
			if want := p.Loss(cfg, nil); math.Abs(mean-want) > 5*se+1e-12 {
				t.Errorf("%s at %v: mean of noisy losses %v, Loss %v (se %v)", p.Name, cfg, mean, want, se)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d noisy problems, want 2 (n_arms, gauss_wave2)", n)
	}
}

func pick(t *testing.T, names ...string) []Problem {
	var ps []Problem
	for _, p := range Problems() {
		if slices.Contains(names, p.Name) {
			ps = append(ps, p)
		}
	}
	if len(ps) != len(names) {
		t.Fatalf("found %d of problems %v", len(ps), names)
	}
	return ps
}

// TestRun checks one search's curve: one entry per evaluation, never
// increasing, never below the optimum, and the same for the same seed.
func TestRun(t *testing.T) {
	ctx := context.Background()
	p := pick(t, "rosenbrock-2")[0]
	for _, a := range Algos() {
		c1, err := Run(ctx, p, a, 7, 30)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Run(ctx, p, a, 7, 30)
		if err != nil {
			t.Fatal(err)
		}
		if len(c1) != 30 || !slices.Equal(c1, c2) {
			t.Fatalf("%s: curves %v and %v for the same seed", a.Name, c1, c2)
		}
		for i := range c1 {
			if c1[i] < p.Optimum || (i > 0 && c1[i] > c1[i-1]) || math.IsInf(c1[i], 0) {
				t.Fatalf("%s: curve %v is not a best-so-far above the optimum", a.Name, c1)
			}
		}
	}
	if _, err := Run(ctx, p, Algos()[0], 0, 10); err == nil {
		t.Error("Run with seed 0: no error")
	}
}

// TestParallelRun checks the runs with trials in flight: a pipeline and a
// batch give a curve of one entry per evaluation, the same for the same
// seed, and differ from each other and from the sequential run (the
// algorithm sees other histories).
func TestParallelRun(t *testing.T) {
	ctx := context.Background()
	p := pick(t, "sphere-10")[0]
	byName := map[string]Algo{}
	for _, a := range append(Algos(), ParallelAlgos()...) {
		byName[a.Name] = a
	}
	curves := map[string][]float64{}
	for _, name := range []string{"tpe", "tpe-par8", "tpe-batch8"} {
		a, ok := byName[name]
		if !ok {
			t.Fatalf("no algorithm %q", name)
		}
		c1, err := Run(ctx, p, a, 3, 40)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Run(ctx, p, a, 3, 40)
		if err != nil {
			t.Fatal(err)
		}
		if len(c1) != 40 || !slices.Equal(c1, c2) {
			t.Fatalf("%s: curves %v and %v for the same seed", name, c1, c2)
		}
		curves[name] = c1
	}
	if slices.Equal(curves["tpe"], curves["tpe-par8"]) || slices.Equal(curves["tpe-par8"], curves["tpe-batch8"]) {
		t.Errorf("in-flight runs match another mode: %v", curves)
	}
}

// TestTable is the cheap, always-on form of the benchmark: 2 seeds, 30
// evaluations, 3 problems, every algorithm. It checks the rows' shape, that
// percentiles are ordered, that regret is finite, not negative on
// noise-free problems and never grows with evaluations (the best so far
// only improves, seed by seed, so its quantiles do too), and that the table
// does not depend on the number of goroutines.
func TestTable(t *testing.T) {
	ctx := context.Background()
	ps := pick(t, "sphere-2", "mixed", "conditional")
	as := Algos()
	cps := []int{10, 25, 30}
	rows, err := Table(ctx, ps, as, 2, 30, cps)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(ps)*len(as)*len(cps) {
		t.Fatalf("%d rows, want %d", len(rows), len(ps)*len(as)*len(cps))
	}
	for i, r := range rows {
		if r.Seeds != 2 || r.Evals != cps[i%len(cps)] {
			t.Errorf("row %d: %+v", i, r)
		}
		if !(r.P25 <= r.Median && r.Median <= r.P75) || math.IsInf(r.P75, 0) || math.IsNaN(r.Median) || r.P25 < 0 {
			t.Errorf("row %+v: regret not finite, ordered and >= 0", r)
		}
		if i%len(cps) > 0 {
			prev := rows[i-1]
			if r.Median > prev.Median || r.P25 > prev.P25 || r.P75 > prev.P75 {
				t.Errorf("regret grew from %+v to %+v", prev, r)
			}
		}
	}

	old := runtime.GOMAXPROCS(1)
	again, err := Table(ctx, ps, as, 2, 30, cps)
	runtime.GOMAXPROCS(old)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows, again) {
		t.Errorf("the table depends on GOMAXPROCS:\n%v\n%v", rows, again)
	}

	var buf bytes.Buffer
	Format(&buf, rows)
	out := buf.String()
	for _, want := range []string{"sphere-2 *", "tpe-hyperopt-startup10", "regret@30 median [p25, p75]", "mean rank"} {
		if !strings.Contains(out, want) {
			t.Errorf("Format's output lacks %q:\n%s", want, out)
		}
	}

	if _, err := Table(ctx, ps, as, 2, 30, []int{31}); err == nil {
		t.Error("a checkpoint past evals: no error")
	}
}

func TestCheckpoints(t *testing.T) {
	for _, c := range []struct {
		evals int
		want  []int
	}{{200, []int{25, 50, 100, 200}}, {30, []int{25, 30}}, {10, []int{10}}, {300, []int{25, 50, 100, 200, 300}}} {
		if got := Checkpoints(c.evals); !slices.Equal(got, c.want) {
			t.Errorf("Checkpoints(%d) = %v, want %v", c.evals, got, c.want)
		}
	}
}
