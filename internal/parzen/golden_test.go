package parzen

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
)

// gf is a float of testdata/golden.json: a number or "inf", "-inf", "nan".
type gf float64

func (g *gf) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		switch s {
		case "inf":
			*g = gf(math.Inf(1))
		case "-inf":
			*g = gf(math.Inf(-1))
		case "nan":
			*g = gf(math.NaN())
		default:
			return fmt.Errorf("bad float %q", s)
		}
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*g = gf(f)
	return err
}

func floats(g []gf) []float64 {
	out := make([]float64, len(g))
	for i, x := range g {
		out[i] = float64(x)
	}
	return out
}

// bound reads a nullable bound: nil is -Inf or +Inf.
func bound(g *gf, inf float64) float64 {
	if g == nil {
		return inf
	}
	return float64(*g)
}

type mixtureCase struct {
	Name    string `json:"name"`
	Samples []gf   `json:"samples"`
	Weights []gf   `json:"weights"`
	Mus     []gf   `json:"mus"`
	Sigmas  []gf   `json:"sigmas"`
	Low     *gf    `json:"low"`
	High    *gf    `json:"high"`
	Q       *gf    `json:"q"`
	LPDF    []gf   `json:"lpdf"`
	PAccept gf     `json:"p_accept"`
}

type golden struct {
	Generator string `json:"generator"`
	Parzen    []struct {
		Name        string `json:"name"`
		Obs         []gf   `json:"obs"`
		PriorWeight gf     `json:"prior_weight"`
		PriorMu     gf     `json:"prior_mu"`
		PriorSigma  gf     `json:"prior_sigma"`
		LF          int    `json:"lf"`
		Weights     []gf   `json:"weights"`
		Mus         []gf   `json:"mus"`
		Sigmas      []gf   `json:"sigmas"`
	} `json:"parzen"`
	LFWeights []struct {
		N       int  `json:"n"`
		LF      int  `json:"lf"`
		Weights []gf `json:"weights"`
	} `json:"lf_weights"`
	GMM1  []mixtureCase `json:"gmm1_lpdf"`
	LGMM1 []mixtureCase `json:"lgmm1_lpdf"`
	Cat   []struct {
		Name        string `json:"name"`
		Kind        string `json:"kind"`
		Obs         []int  `json:"obs"`
		K           int    `json:"k"`
		Offset      int    `json:"offset"`
		P           []gf   `json:"p"`
		PriorWeight gf     `json:"prior_weight"`
		LF          int    `json:"lf"`
		Posterior   []gf   `json:"posterior"`
	} `json:"categorical"`
	Split []struct {
		Name   string `json:"name"`
		Losses []gf   `json:"losses"`
		Gamma  gf     `json:"gamma"`
		ObsIDs []int  `json:"obs_ids"`
		Below  []int  `json:"below"`
		Above  []int  `json:"above"`
	} `json:"split"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	n := len(g.Parzen) + len(g.LFWeights) + len(g.GMM1) + len(g.LGMM1) + len(g.Cat) + len(g.Split)
	if n < 100 || len(g.Parzen) < 14 || len(g.GMM1) < 16 || len(g.LGMM1) < 16 || len(g.Cat) < 8 || len(g.Split) < 8 {
		t.Fatalf("golden file holds %d fixtures (%d parzen, %d gmm1, %d lgmm1, %d categorical, %d split): truncated?",
			n, len(g.Parzen), len(g.GMM1), len(g.LGMM1), len(g.Cat), len(g.Split))
	}
	return &g
}

// tol is the agreement asked of every function: 1e-12, absolute or
// relative. HyperOpt normalizes with numpy's pairwise np.sum and takes erf
// from scipy, so the last bits can differ. The largest deviations seen:
// Fit 7e-18, GMM1_lpdf 4e-16, LGMM1_lpdf 6e-16, the categorical posterior
// 0; the quantized mixtures 1.1e-13 (GMM1) and 2.5e-14 (LGMM1), where
// HyperOpt's erf(b) - erf(a) loses the digits the two share and this
// package's tail difference keeps them: the fixtures stay where HyperOpt
// still has 12 digits (it underflows to log(0) farther out). The same
// margin covers arm64, where the compiler fuses x*y + z into one rounding:
// that changes a result by an ulp or so (2.2e-16 relative) per operation,
// far below 1e-12, while a real change of a formula fails (a fixture's
// value changed by 1e-10 relative does).
const tol = 1e-12

func close(a, b, tol float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) || math.IsNaN(a) || math.IsNaN(b) {
		return a == b || (math.IsNaN(a) && math.IsNaN(b))
	}
	return scalar.EqualWithinAbsOrRel(a, b, tol, tol)
}

func checkSlice(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d values %v, want %d %v", what, len(got), got, len(want), want)
		return
	}
	for i := range got {
		if !close(got[i], want[i], tol) {
			t.Errorf("%s[%d] = %.17g, want %.17g (HyperOpt)", what, i, got[i], want[i])
		}
	}
}

func TestGoldenParzen(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	for _, c := range g.Parzen {
		var m Mixture
		Fit(&m, floats(c.Obs), float64(c.PriorWeight), float64(c.PriorMu), float64(c.PriorSigma), c.LF, nil)
		checkSlice(t, c.Name+" weights", m.Weights, floats(c.Weights), tol)
		checkSlice(t, c.Name+" mus", m.Mus, floats(c.Mus), tol)
		checkSlice(t, c.Name+" sigmas", m.Sigmas, floats(c.Sigmas), tol)
	}
	for _, c := range g.LFWeights {
		checkSlice(t, fmt.Sprintf("linear_forgetting_weights(%d, %d)", c.N, c.LF), LinearForgettingWeights(nil, c.N, c.LF), floats(c.Weights), tol)
	}
}

func TestGoldenGMM1(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	for _, c := range g.GMM1 {
		m := Mixture{floats(c.Weights), floats(c.Mus), floats(c.Sigmas)}
		low, high := bound(c.Low, math.Inf(-1)), bound(c.High, math.Inf(1))
		q := bound(c.Q, 0)
		got := GMMLogPDF(nil, floats(c.Samples), &m, low, high, q)
		checkSlice(t, "GMM1_lpdf "+c.Name, got, floats(c.LPDF), tol)
		if a := Accept(&m, low, high); !close(a, float64(c.PAccept), tol) {
			t.Errorf("%s: p_accept %.17g, want %.17g", c.Name, a, float64(c.PAccept))
		}
	}
}

func TestGoldenLGMM1(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	for _, c := range g.LGMM1 {
		m := Mixture{floats(c.Weights), floats(c.Mus), floats(c.Sigmas)}
		low, high := bound(c.Low, math.Inf(-1)), bound(c.High, math.Inf(1))
		q := bound(c.Q, 0)
		got := LGMMLogPDF(nil, floats(c.Samples), &m, low, high, q)
		want := floats(c.LPDF)
		if q == 0 && c.Low != nil {
			// HyperOpt omits the truncation's normalization here; this
			// package divides by p_accept, the same for every sample.
			for i := range want {
				want[i] -= math.Log(float64(c.PAccept))
			}
		}
		checkSlice(t, "LGMM1_lpdf "+c.Name, got, want, tol)
	}
}

func TestGoldenCategorical(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	for _, c := range g.Cat {
		obs := make([]int, len(c.Obs))
		for i, o := range c.Obs {
			obs[i] = o - c.Offset
		}
		var p []float64
		if c.Kind == "categorical" && c.P != nil {
			p = floats(c.P)
		}
		got := Categorical(nil, obs, c.K, p, float64(c.PriorWeight), c.LF)
		checkSlice(t, c.Name, got, floats(c.Posterior), tol)
	}
}

func TestGoldenSplit(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	for _, c := range g.Split {
		below := Split(nil, floats(c.Losses), float64(c.Gamma), 25, nil)
		var gb, ga []int
		for _, id := range c.ObsIDs {
			if below[id] {
				gb = append(gb, id)
			} else {
				ga = append(ga, id)
			}
		}
		if !slices.Equal(gb, nonNil(c.Below)) || !slices.Equal(ga, nonNil(c.Above)) {
			t.Errorf("%s: below %v above %v, want %v and %v", c.Name, gb, ga, c.Below, c.Above)
		}
	}
}

func nonNil(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	return s
}
