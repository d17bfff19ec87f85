package space

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Encode is the inverse of [Space.Eval]: it returns the point whose config
// is cfg. A choice's option is identified by the config itself: a constant
// option by equality (numbers compare by value, so 3 matches 3.0), a sub-space
// by its keys, constants and bounds. A config that fits no option is an
// error wrapping [ErrNoMatch]; one that fits several is an error wrapping
// [ErrAmbiguous]; both name the choice's label.
//
// cfg may use any map type with string keys for a Dict, any slice or array
// for a List, any integer or float type (or json.Number) for a number, so
// that configs read back from JSON encode too. A value for an integer
// hyperparameter must be a whole number; every value must lie in the support
// of its prior.
func (s *Space) Encode(cfg any) (Values, error) {
	if s.zero() {
		return nil, ErrZeroSpace
	}
	e := encoder{s: s, v: s.NewValues(), trail: make([]int, 0, len(s.params))}
	if err := e.encode(s.root, cfg); err != nil {
		return nil, err
	}
	return e.v, nil
}

type encoder struct {
	s     *Space
	v     Values
	trail []int      // hyperparameters set, in order, so that a failed option can be undone
	path  []pathStep // where the walk is in the config, rendered only for errors
	quiet int        // > 0 while trying the options of a choice: mismatches need no message
}

// pathStep is one step into a config: a dict key, or a list index if key is
// empty and index >= 0.
type pathStep struct {
	key   string
	index int
}

func (e *encoder) pathString() string {
	var b strings.Builder
	b.WriteString("config")
	for _, p := range e.path {
		if p.index >= 0 {
			fmt.Fprintf(&b, "[%d]", p.index)
		} else {
			b.WriteString("[" + strconv.Quote(p.key) + "]")
		}
	}
	return b.String()
}

// errQuiet is the mismatch returned while trying the options of a choice,
// where only success matters; the messages are built if no option fits.
var errQuiet = &Error{Msg: "no match", Err: ErrNoMatch}

func (e *encoder) set(i int, x float64) {
	e.v[i] = x
	e.trail = append(e.trail, i)
}

func (e *encoder) undo(mark int) {
	for _, i := range e.trail[mark:] {
		e.v[i] = math.NaN()
	}
	e.trail = e.trail[:mark]
}

func (e *encoder) mismatch(label, format string, args ...any) error {
	if e.quiet > 0 {
		return errQuiet
	}
	return &Error{Path: e.pathString(), Label: label, Msg: fmt.Sprintf(format, args...), Err: ErrNoMatch}
}

func (e *encoder) child(n *cnode, cfg any, step pathStep) error {
	e.path = append(e.path, step)
	err := e.encode(n, cfg)
	e.path = e.path[:len(e.path)-1]
	return err
}

func (e *encoder) encode(n *cnode, cfg any) error {
	switch n.kind {
	case cConst:
		if !constEqual(n.value, cfg) {
			if e.quiet > 0 {
				return errQuiet
			}
			return e.mismatch("", "%s differs from the constant %s", describe(cfg), describe(n.value))
		}
		return nil
	case cDict:
		if m, ok := cfg.(map[string]any); ok && len(m) == len(n.keys) {
			// The common case, without building the key list.
			for i, k := range n.keys {
				x, ok := m[k]
				if !ok {
					return e.dictMismatch(n, cfg)
				}
				if err := e.child(n.kids[i], x, pathStep{key: k, index: -1}); err != nil {
					return err
				}
			}
			return nil
		}
		get, keys, ok := mapOf(cfg)
		if !ok || len(keys) != len(n.keys) {
			return e.dictMismatch(n, cfg)
		}
		for i, k := range n.keys {
			x, ok := get(k)
			if !ok {
				return e.dictMismatch(n, cfg)
			}
			if err := e.child(n.kids[i], x, pathStep{key: k, index: -1}); err != nil {
				return err
			}
		}
		return nil
	case cList:
		rv := reflect.ValueOf(cfg)
		if cfg == nil || (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) {
			if e.quiet > 0 {
				return errQuiet
			}
			return e.mismatch("", "expected a list of %d elements, got %s", len(n.kids), describe(cfg))
		}
		if rv.Len() != len(n.kids) {
			return e.mismatch("", "expected a list of %d elements, got %d", len(n.kids), rv.Len())
		}
		l, isAny := cfg.([]any)
		for i, k := range n.kids {
			var x any
			if isAny {
				x = l[i]
			} else {
				x = rv.Index(i).Interface()
			}
			if err := e.child(k, x, pathStep{index: i}); err != nil {
				return err
			}
		}
		return nil
	}
	p := &e.s.params[n.param]
	if p.options != nil {
		return e.encodeChoice(n.param, cfg)
	}
	x, ok := number(cfg)
	if !ok {
		if e.quiet > 0 {
			return errQuiet
		}
		return e.mismatch(p.label, "expected a number for %v, got %s", p.dist, describe(cfg))
	}
	if !p.dist.Contains(x) {
		return e.mismatch(p.label, "value %v is outside the support of %v", x, p.dist)
	}
	if old := e.v[n.param]; !math.IsNaN(old) {
		if old != x {
			return e.mismatch(p.label, "shared hyperparameter has two values, %v and %v", old, x)
		}
		return nil
	}
	e.set(n.param, x)
	return nil
}

// dictMismatch explains why cfg does not fit dict node n.
func (e *encoder) dictMismatch(n *cnode, cfg any) error {
	if e.quiet > 0 {
		return errQuiet
	}
	get, keys, ok := mapOf(cfg)
	if !ok {
		return e.mismatch("", "expected a map for a dict with keys %v, got %s", n.keys, describe(cfg))
	}
	for _, k := range n.keys {
		if _, ok := get(k); !ok {
			return e.mismatch("", "key %q is missing (expected keys %v, got %v)", k, n.keys, keys)
		}
	}
	for _, k := range keys {
		if _, found := slices.BinarySearch(n.keys, k); !found {
			return e.mismatch("", "unexpected key %q (expected keys %v)", k, n.keys)
		}
	}
	return e.mismatch("", "keys %v do not match %v", keys, n.keys)
}

func (e *encoder) encodeChoice(i int, cfg any) error {
	p := &e.s.params[i]
	if old := e.v[i]; !math.IsNaN(old) {
		// A shared choice already decided elsewhere: its option must fit here too.
		return e.encode(p.options[int(old)], cfg)
	}
	found := -1
	// What the option that fits set, in order, kept while the others are
	// tried so that it need not be encoded again: encoding it again made
	// Encode exponential in the depth of nested choices. Without shared
	// hyperparameters it stays in place instead (copying it at every level
	// would be quadratic).
	var kept []setting
	e.quiet++
	for j, opt := range p.options {
		mark := len(e.trail)
		e.set(i, float64(j))
		err := e.encode(opt, cfg)
		if err == nil && found < 0 && j == len(p.options)-1 {
			// The last option fits and no other did: keep what it set.
			e.quiet--
			return nil
		}
		if err == nil && found < 0 && !e.s.shared {
			// No hyperparameter is used in two places, so the other
			// options neither read nor write what this one set: keep it
			// in place (the choice's own index is put back below).
			found = j
			continue
		}
		if err == nil && found < 0 {
			kept = make([]setting, 0, len(e.trail)-mark)
			for _, k := range e.trail[mark:] {
				kept = append(kept, setting{k, e.v[k]})
			}
		}
		e.undo(mark)
		if err == nil {
			if found >= 0 {
				e.quiet--
				return &Error{Path: e.pathString(), Label: p.label, Msg: fmt.Sprintf("config %s fits options %d and %d of the choice; make the options distinguishable (e.g. by a constant key)", describe(cfg), found, j), Err: ErrAmbiguous}
			}
			found = j
		} else if isReason(err, ErrAmbiguous) {
			e.quiet--
			return err
		}
	}
	e.quiet--
	if found < 0 {
		if e.quiet > 0 {
			return errQuiet
		}
		// Try the options again, this time for the reasons they fail.
		var reasons []string
		for j, opt := range p.options[:min(len(p.options), 4)] {
			mark := len(e.trail)
			e.set(i, float64(j))
			err := e.encode(opt, cfg)
			e.undo(mark)
			reasons = append(reasons, fmt.Sprintf("option %d: %s", j, msgOf(err)))
		}
		return &Error{Path: e.pathString(), Label: p.label, Msg: fmt.Sprintf("config %s fits none of the %d options of the choice (%s)", describe(cfg), len(p.options), strings.Join(reasons, "; ")), Err: ErrNoMatch}
	}
	if kept == nil {
		// Kept in place; the other options' tries reset the index.
		e.v[i] = float64(found)
		return nil
	}
	// The choice's own index comes first in kept, as set before its option.
	for _, k := range kept {
		e.set(k.i, k.x)
	}
	return nil
}

// setting is one hyperparameter set by the encoder: its index and value.
type setting struct {
	i int
	x float64
}

func isReason(err, target error) bool {
	se, ok := err.(*Error)
	return ok && se.Err == target
}

func msgOf(err error) string {
	if se, ok := err.(*Error); ok {
		if se.Label != "" {
			return strconv.Quote(se.Label) + ": " + se.Msg
		}
		return se.Msg
	}
	return err.Error()
}

// describe formats a config value for an error message, shortened.
func describe(v any) string {
	var s string
	switch v.(type) {
	case string:
		s = fmt.Sprintf("%q", v)
	case nil:
		return "nil"
	default:
		s = fmt.Sprintf("%v", v)
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return fmt.Sprintf("%s (%T)", s, v)
}

// number converts any Go integer or float, or a json.Number, to float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case nil, string, bool:
		return 0, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}

// mapOf gives access to a map with string keys of any type.
func mapOf(v any) (get func(string) (any, bool), keys []string, ok bool) {
	if m, isMap := v.(map[string]any); isMap {
		keys = make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return func(k string) (any, bool) { x, ok := m[k]; return x, ok }, keys, true
	}
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, nil, false
	}
	keys = make([]string, 0, rv.Len())
	for _, k := range rv.MapKeys() {
		keys = append(keys, k.String())
	}
	slices.Sort(keys)
	kt := rv.Type().Key()
	return func(k string) (any, bool) {
		x := rv.MapIndex(reflect.ValueOf(k).Convert(kt))
		if !x.IsValid() {
			return nil, false
		}
		return x.Interface(), true
	}, keys, true
}

// constEqual reports whether a config value equals a constant of the space:
// numbers by value whatever their types, maps and slices element by element,
// anything else by reflect.DeepEqual.
func constEqual(c, v any) bool {
	if a, ok := number(c); ok {
		b, ok := number(v)
		return ok && (a == b || (math.IsNaN(a) && math.IsNaN(b)))
	}
	if cv := reflect.ValueOf(c); cv.Kind() == reflect.Func {
		// Functions are not comparable: the same function value (code
		// pointer) counts as equal, so a choice of functions encodes.
		vv := reflect.ValueOf(v)
		return vv.Kind() == reflect.Func && vv.Type() == cv.Type() && vv.Pointer() == cv.Pointer() && cv.IsNil() == vv.IsNil()
	}
	switch c := c.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == c
	case bool:
		b, ok := v.(bool)
		return ok && b == c
	case nil:
		return v == nil
	}
	cv, vv := reflect.ValueOf(c), reflect.ValueOf(v)
	switch cv.Kind() {
	case reflect.Map:
		getC, keysC, ok1 := mapOf(c)
		getV, keysV, ok2 := mapOf(v)
		if !ok1 || !ok2 || len(keysC) != len(keysV) {
			return reflect.DeepEqual(c, v)
		}
		for _, k := range keysC {
			a, _ := getC(k)
			b, ok := getV(k)
			if !ok || !constEqual(a, b) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if v == nil || (vv.Kind() != reflect.Slice && vv.Kind() != reflect.Array) || cv.Len() != vv.Len() {
			return false
		}
		for i := range cv.Len() {
			if !constEqual(cv.Index(i).Interface(), vv.Index(i).Interface()) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(c, v)
}
