package space_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperopt-go/hyperopt/space"
)

// The zero Space and a nil *Space answer with ErrZeroSpace, or nothing,
// instead of panicking (marshalling a zero Space once panicked).
func TestZeroSpace(t *testing.T) {
	for name, s := range map[string]*space.Space{"zero": {}, "nil": nil} {
		_, err := s.MarshalJSON()
		require.ErrorIs(t, err, space.ErrZeroSpace, name)
		require.ErrorIs(t, err, space.ErrInvalidSpace, name)
		_, err = s.Fingerprint()
		assert.ErrorIs(t, err, space.ErrZeroSpace, name)
		_, err = s.Eval(nil)
		assert.ErrorIs(t, err, space.ErrZeroSpace, name)
		assert.ErrorIs(t, s.Validate(nil), space.ErrZeroSpace, name)
		_, err = s.Encode(map[string]any{})
		assert.ErrorIs(t, err, space.ErrZeroSpace, name)
		_, err = s.Fix(map[string]any{"x": 1})
		assert.ErrorIs(t, err, space.ErrZeroSpace, name)
		assert.Zero(t, s.Len(), name)
		_, ok := s.Index("x")
		assert.False(t, ok, name)
		assert.Empty(t, s.Params(), name)
		assert.Empty(t, s.String(), name)
		assert.Empty(t, s.Sample(rand.New(rand.NewPCG(1, 2))), name)
	}
}
