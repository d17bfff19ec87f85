package space_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// flatSpace has 10 hyperparameters of mixed kinds, none conditional.
func flatSpace() any {
	d := space.Dict{}
	for i := range 10 {
		l := fmt.Sprintf("x%d", i)
		switch i % 5 {
		case 0:
			d[l] = space.Uniform(l, -5, 5)
		case 1:
			d[l] = space.LogUniform(l, 1e-5, 1)
		case 2:
			d[l] = space.QUniformInt(l, 1, 100, 1)
		case 3:
			d[l] = space.Normal(l, 0, 1)
		case 4:
			d[l] = space.Choice(l, "a", "b", "c")
		}
	}
	return d
}

var benchSpaces = []struct {
	name string
	root func() any
}{
	{"flat10", flatSpace},
	{"conditional3", conditionalSpace},
}

func BenchmarkSample(b *testing.B) {
	for _, bs := range benchSpaces {
		b.Run(bs.name, func(b *testing.B) {
			s := mustNew(b, bs.root())
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				s.Sample(r)
			}
		})
	}
}

func samplePoints(b *testing.B, s *space.Space, n int) []space.Values {
	r := rand.New(rand.NewPCG(3, 4))
	pts := make([]space.Values, n)
	for i := range pts {
		pts[i] = s.Sample(r)
	}
	return pts
}

func BenchmarkEval(b *testing.B) {
	for _, bs := range benchSpaces {
		b.Run(bs.name, func(b *testing.B) {
			s := mustNew(b, bs.root())
			pts := samplePoints(b, s, 256)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.Eval(pts[i%len(pts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	for _, bs := range benchSpaces {
		b.Run(bs.name, func(b *testing.B) {
			s := mustNew(b, bs.root())
			pts := samplePoints(b, s, 256)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.Validate(pts[i%len(pts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bs := range benchSpaces {
		b.Run(bs.name, func(b *testing.B) {
			s := mustNew(b, bs.root())
			pts := samplePoints(b, s, 256)
			cfgs := make([]any, len(pts))
			for i, v := range pts {
				cfgs[i], _ = s.Eval(v)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.Encode(cfgs[i%len(cfgs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
