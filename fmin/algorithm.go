package fmin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/space"
	"github.com/hyperopt-go/hyperopt/tpe"
	"github.com/hyperopt-go/hyperopt/trials"
)

// An Algorithm proposes points to evaluate (HyperOpt's suggest).
//
// Suggest returns one point of s for each new trial ID, as h stands (h
// includes queued and running trials; see [trials.History]), or no point at
// all when the algorithm has nothing left to propose, which ends the search.
// The proposal for each ID must depend only on (seed, the ID, h): draw from
// a generator seeded by them, never from shared state. The driver calls
// Suggest from one goroutine at a time and records the proposals before the
// next call.
//
// An Algorithm that implements Name() string is recorded by that name in
// the experiment, with its options as JSON (json.Marshal of the value), so
// that every process of a distributed search can rebuild it from a
// [Registry].
type Algorithm interface {
	Suggest(ctx context.Context, s *space.Space, h *trials.History, ids []trials.ID, seed uint64) ([]space.Values, error)
}

// Named is implemented by algorithms that a Registry can rebuild.
type Named interface {
	Name() string
}

// A Constructor builds an algorithm from its options as JSON (nil or empty
// for the defaults).
type Constructor func(options json.RawMessage) (Algorithm, error)

// ErrUnknownAlgorithm is returned by Registry.New for a name it lacks.
var ErrUnknownAlgorithm = errors.New("fmin: unknown algorithm")

// Registry maps algorithm names to constructors, so that every process of
// a search (peers, a driver resumed in another process) rebuilds the
// algorithm an experiment records (see Options.Registry).
// It is not safe for concurrent Register calls; make one with
// [NewRegistry].
type Registry struct {
	m map[string]Constructor
}

// NewRegistry returns a registry holding the algorithms of this module:
// "random" and "tpe".
func NewRegistry() *Registry {
	r := &Registry{m: map[string]Constructor{}}
	r.m["random"] = func(opts json.RawMessage) (Algorithm, error) {
		var s random.Search
		if err := unmarshalOptions(opts, &s); err != nil {
			return nil, fmt.Errorf("random: %w", err)
		}
		return s, nil
	}
	r.m["tpe"] = func(opts json.RawMessage) (Algorithm, error) {
		var s tpe.Search
		if err := unmarshalOptions(opts, &s); err != nil {
			return nil, fmt.Errorf("tpe: %w", err)
		}
		if err := s.Validate(); err != nil {
			return nil, err
		}
		return s, nil
	}
	return r
}

func unmarshalOptions(opts json.RawMessage, v any) error {
	if len(opts) == 0 || string(opts) == "null" {
		return nil
	}
	// An unknown field is an error: an option from another version, or a
	// misspelt one, is not silently dropped.
	dec := json.NewDecoder(bytes.NewReader(opts))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("options: more than one JSON value")
	}
	return nil
}

// Register adds an algorithm. An empty name, a nil constructor or a name
// already registered is an error.
func (r *Registry) Register(name string, c Constructor) error {
	if name == "" || c == nil {
		return fmt.Errorf("fmin: register algorithm %q: empty name or nil constructor", name)
	}
	if _, dup := r.m[name]; dup {
		return fmt.Errorf("fmin: algorithm %q is already registered", name)
	}
	r.m[name] = c
	return nil
}

// New builds the named algorithm with the given options.
func (r *Registry) New(name string, options json.RawMessage) (Algorithm, error) {
	c, ok := r.m[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownAlgorithm, name, r.Names())
	}
	a, err := c(options)
	if err == nil && a == nil {
		err = fmt.Errorf("fmin: the constructor of algorithm %q returned no algorithm", name)
	}
	return a, err
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string { return slices.Sorted(maps.Keys(r.m)) }

// describe returns the name and options JSON an experiment records for a.
func describe(a Algorithm) (string, json.RawMessage, error) {
	n, ok := a.(Named)
	if !ok {
		return fmt.Sprintf("custom:%T", a), nil, nil
	}
	opts, err := json.Marshal(a)
	if err != nil {
		return "", nil, fmt.Errorf("fmin: options of algorithm %q: %w", n.Name(), err)
	}
	return n.Name(), opts, nil
}
