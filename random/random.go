// Package random implements random search: every proposal is an ancestral
// draw from the space's prior (HyperOpt's rand.suggest).
package random

import (
	"context"
	"errors"
	"math/rand/v2"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// Search is random search. It ignores the history: the proposal for trial
// id is drawn from a PCG stream seeded by (seed, id) alone, so a search
// proposes the same points whatever the order, batching or parallelism of
// its calls. The zero value is ready to use.
type Search struct{}

// Name returns the name random search is registered under, "random".
func (Search) Name() string { return "random" }

// Suggest returns one draw from the prior of s for each ID. It never runs
// out of points; it fails only for a nil space or a canceled ctx.
func (Search) Suggest(ctx context.Context, s *space.Space, h *trials.History, ids []trials.ID, seed uint64) ([]space.Values, error) {
	if s == nil {
		return nil, errors.New("random: nil space")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]space.Values, len(ids))
	var pcg rand.PCG
	r := rand.New(&pcg)
	for i, id := range ids {
		pcg.Seed(seed, uint64(id))
		out[i] = s.Sample(r)
	}
	return out, nil
}
