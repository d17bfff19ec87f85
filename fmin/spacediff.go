package fmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/trials"
)

// explainMismatch adds to a space mismatch from store.Open what differs
// between the experiment's stored space and s: the hyperparameters added,
// removed, or with another distribution. Other errors are returned as they
// are.
func explainMismatch(ctx context.Context, err error, store trials.Store, key string, s *space.Space) error {
	if !errors.Is(err, trials.ErrSpaceMismatch) {
		return err
	}
	es, lerr := store.Experiments(context.WithoutCancel(ctx))
	if lerr != nil {
		return err
	}
	for _, e := range es {
		if e.Key != key {
			continue
		}
		var stored space.Space
		if uerr := stored.UnmarshalJSON(e.Space); uerr != nil {
			return err
		}
		return fmt.Errorf("%w: %s", err, spaceDiff(&stored, s))
	}
	return err
}

// spaceDiff describes how space b differs from space a, by label.
func spaceDiff(a, b *space.Space) string {
	dists := func(s *space.Space) map[string]space.Dist {
		m := make(map[string]space.Dist, s.Len())
		for i := range s.Len() {
			m[s.Label(i)] = s.Dist(i)
		}
		return m
	}
	da, db := dists(a), dists(b)
	var added, removed, changed []string
	for l, d := range db {
		old, ok := da[l]
		switch {
		case !ok:
			added = append(added, fmt.Sprintf("%q %v", l, d))
		case old.String() != d.String():
			changed = append(changed, fmt.Sprintf("%q from %v to %v", l, old, d))
		}
	}
	for l, d := range da {
		if _, ok := db[l]; !ok {
			removed = append(removed, fmt.Sprintf("%q %v", l, d))
		}
	}
	var parts []string
	for _, p := range []struct {
		what string
		list []string
	}{{"added", added}, {"removed", removed}, {"changed", changed}} {
		if len(p.list) > 0 {
			slices.Sort(p.list)
			parts = append(parts, p.what+" "+strings.Join(p.list, ", "))
		}
	}
	if len(parts) == 0 {
		return "the same hyperparameters with the same distributions; the structure or constants of the space differ"
	}
	return "hyperparameters " + strings.Join(parts, "; ")
}
