package space_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// A uint64 constant beyond int's range once marshalled to JSON that
// UnmarshalJSON refused. It survives the round trip.
func TestUint64ConstJSON(t *testing.T) {
	s, err := space.New(space.Dict{"seed": uint64(1 << 63), "x": space.Uniform("x", 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var s2 space.Space
	if err := json.Unmarshal(b, &s2); err != nil {
		t.Errorf("MarshalJSON succeeded but UnmarshalJSON fails on its output: %v", err)
	}
}

// PChoice probabilities that already summed to 1 were once rescaled, so a
// space's JSON (and fingerprint) changed with each round trip. Within
// 1e-12 of 1 they are kept as given, and the JSON is stable.
func TestPChoiceJSONStable(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for trial := 0; trial < 2000; trial++ {
		n := 2 + r.IntN(6)
		opts := make([]space.Option, n)
		ps := make([]float64, n)
		sum := 0.0
		for i := range ps {
			ps[i] = r.Float64()
			sum += ps[i]
		}
		for i := range ps {
			opts[i] = space.Option{P: ps[i] / sum, Value: i}
		}
		s, err := space.New(space.PChoice("c", opts...))
		if err != nil {
			continue
		}
		checked++
		b1, _ := json.Marshal(s)
		var s2 space.Space
		if err := json.Unmarshal(b1, &s2); err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(&s2)
		if string(b1) != string(b2) {
			t.Errorf("pchoice JSON not stable under round trip:\n%s\n%s", b1, b2)
			return
		}
	}
	if checked < 1000 {
		t.Errorf("New accepted %d of 2000 spaces, want at least 1000: the test checked too few", checked)
	}
}
