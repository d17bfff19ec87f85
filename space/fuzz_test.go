package space_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperopt-go/hyperopt/space"
)

// FuzzUnmarshalJSON feeds arbitrary documents to the JSON reader: it must
// return an error or a space whose JSON form is a fixed point, and that
// samples and evaluates. The seed corpus is in testdata/fuzz/FuzzUnmarshalJSON.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, root := range []any{conditionalSpace(), space.Uniform("x", 0, 1), space.List{1, 2.5, "s", nil}} {
		b, err := json.Marshal(mustNew(f, root))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s space.Space
		if err := s.UnmarshalJSON(data); err != nil {
			if !errors.Is(err, space.ErrInvalidSpace) {
				t.Fatalf("error %v is not ErrInvalidSpace", err)
			}
			return
		}
		b, err := s.MarshalJSON()
		if err != nil {
			t.Fatalf("Marshal of an unmarshaled space: %v", err)
		}
		var u space.Space
		if err := u.UnmarshalJSON(b); err != nil {
			t.Fatalf("Unmarshal(Marshal(s)): %v\n%s", err, b)
		}
		if b2, _ := u.MarshalJSON(); string(b2) != string(b) {
			t.Fatalf("JSON not a fixed point:\n%s\n%s", b, b2)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range 3 {
			v := s.Sample(r)
			cfg, err := s.Eval(v)
			if err != nil {
				t.Fatalf("Eval(Sample()) = %v", err)
			}
			_ = cfg
		}
	})
}

// valuesFrom builds a Values of length n from fuzz bytes: each entry is NaN,
// a small integer, raw float64 bits or a prior draw, as the bytes say.
func valuesFrom(s *space.Space, data []byte) space.Values {
	v := make(space.Values, s.Len())
	prior := s.Sample(rand.New(rand.NewPCG(uint64(len(data)), 7)))
	for i := range v {
		if len(data) == 0 {
			v[i] = prior[i]
			continue
		}
		mode := data[0]
		data = data[1:]
		switch mode % 4 {
		case 0:
			v[i] = math.NaN()
		case 1:
			v[i] = float64(int8(mode)) / 4
		case 2:
			if len(data) >= 8 {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(data))
				data = data[8:]
			}
		case 3:
			v[i] = prior[i]
		}
	}
	return v
}

// FuzzEval evaluates arbitrary Values of a three-level conditional space:
// either an ErrInvalidValues error, or a config that Encode maps back to the
// same Values. The seed corpus is in testdata/fuzz/FuzzEval.
func FuzzEval(f *testing.F) {
	s := mustNew(f, conditionalSpace())
	f.Add([]byte{})
	f.Add([]byte{3, 3, 3, 3, 1, 3, 3, 0, 0, 0})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24})
	f.Fuzz(func(t *testing.T, data []byte) {
		v := valuesFrom(s, data)
		cfg, err := s.Eval(v)
		if err != nil {
			if !errors.Is(err, space.ErrInvalidValues) {
				t.Fatalf("Eval(%v) error %v is not ErrInvalidValues", v, err)
			}
			if s.Validate(v) == nil {
				t.Fatalf("Eval(%v) failed (%v) but Validate accepts it", v, err)
			}
			return
		}
		if err := s.Validate(v); err != nil {
			t.Fatalf("Eval(%v) succeeded but Validate: %v", v, err)
		}
		back, err := s.Encode(cfg)
		if err != nil {
			t.Fatalf("Encode(Eval(%v)): %v", v, err)
		}
		if !space.Values.Equal(back, v) {
			t.Fatalf("Encode(Eval(v)) = %v, want %v", back, v)
		}
	})
}

// FuzzEncode encodes arbitrary JSON configs: an ErrInvalidConfig error, or
// Values that evaluate to an equal config.
func FuzzEncode(f *testing.F) {
	s := mustNew(f, conditionalSpace())
	f.Add([]byte(`{"batch":32,"lr":0.01,"momentum":0.9,"seed":42,"model":{"type":"svm","C":1,"kernel":{"name":"linear"}}}`))
	f.Add([]byte(`{"batch":32,"lr":0.01,"momentum":0.9,"seed":42,"model":{"type":"mlp","layers":[16],"dropout":0.1,"activation":"relu","decay":0.001}}`))
	f.Add([]byte(`{"model":{"type":"forest"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg any
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		v, err := s.Encode(cfg)
		if err != nil {
			if !errors.Is(err, space.ErrInvalidConfig) {
				t.Fatalf("Encode error %v is not ErrInvalidConfig", err)
			}
			return
		}
		out, err := s.Eval(v)
		if err != nil {
			t.Fatalf("Eval(Encode(cfg)): %v", err)
		}
		back, err := s.Encode(out)
		if err != nil || !space.Values.Equal(back, v) {
			t.Fatalf("Encode(Eval(Encode(cfg))) = %v, %v; want %v", back, err, v)
		}
	})
}
