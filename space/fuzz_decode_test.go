package space_test

import (
	"encoding/json"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// decodeTarget is a struct with every kind of field DecodeConfig fills.
type decodeTarget struct {
	LR     float64 `hyperopt:"lr"`
	Layers []int   `hyperopt:"layers"`
	Model  struct {
		Kind  string   `hyperopt:"kind"`
		Depth *int     `hyperopt:"depth"`
		C     float32  `hyperopt:"C"`
		Tags  []string `hyperopt:"tags"`
	} `hyperopt:"model"`
	Extra map[string]any `hyperopt:"extra"`
	Flag  bool           `hyperopt:"flag"`
	Count uint8          `hyperopt:"count"`
}

// FuzzDecodeConfig decodes arbitrary JSON configs into a typed struct: a
// config that does not fit is an error, never a panic, and a config that
// fits decodes the same twice.
func FuzzDecodeConfig(f *testing.F) {
	for _, seed := range []string{
		`{"lr": 0.1, "layers": [1, 2], "model": {"kind": "tree", "depth": 3, "C": 1.5, "tags": ["a"]}, "flag": true, "count": 7}`,
		`{"lr": "x"}`,
		`{"count": 300}`,
		`{"count": -1}`,
		`{"model": {"depth": 1e308}}`,
		`{"layers": [1.5]}`,
		`{"model": [1, 2]}`,
		`{"extra": {"a": {"b": [null]}}}`,
		`{"lr": null, "model": null}`,
		`[]`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var cfg any
		if json.Unmarshal(doc, &cfg) != nil {
			return
		}
		var a, b decodeTarget
		if err := space.DecodeConfig(cfg, &a); err != nil {
			return
		}
		if err := space.DecodeConfig(cfg, &b); err != nil {
			t.Fatalf("the second decode of %s failed: %v", doc, err)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("two decodes of %s differ: %s and %s", doc, ja, jb)
		}
	})
}
