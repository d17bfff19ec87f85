package trials

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// MaxExtrasDepth is how deep maps and slices may nest in a result's
// Extras: a store refuses a result whose extras nest deeper (see
// [CheckResult]).
const MaxExtrasDepth = 1000

// ErrResult is wrapped by the errors of a result that no store keeps: an
// unknown status, or extras that are not JSON-able, contain themselves or
// nest deeper than MaxExtrasDepth.
var ErrResult = errors.New("trials: bad result")

// CheckResult reports why r cannot be stored and read back, or nil: its
// status must be none, ok or fail, and its extras JSON-able (maps, slices,
// strings, numbers, booleans, nil, or values encoding/json can write),
// without a cycle, and nested at most MaxExtrasDepth deep. Non-finite
// numbers are allowed in extras where they are float64, float32 or
// []float64 values, alone or in map[string]any and []any; Export writes
// them as described there. Stores call it before keeping a result; Memory
// does.
func CheckResult(r Result) error {
	switch r.Status {
	case 0, StatusOK, StatusFail:
	default:
		return fmt.Errorf("%w: unknown status %d", ErrResult, r.Status)
	}
	if len(r.Extras) == 0 {
		return nil
	}
	if _, _, err := encodeExtras(r.Extras); err != nil {
		return err
	}
	return nil
}

// encodeExtras returns the JSON form of extras, non-finite numbers written
// as the strings "NaN", "+Inf" and "-Inf", and the JSON Pointers (RFC 6901)
// of those strings, sorted.
func encodeExtras(extras map[string]any) ([]byte, []string, error) {
	tree, paths, err := extrasTree(extras)
	if err != nil {
		return nil, nil, err
	}
	b, err := json.Marshal(tree)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: extras are not JSON-able: %v", ErrResult, err)
	}
	return b, paths, nil
}

// extrasTree returns a copy of extras that encoding/json can write: its
// maps and slices copied, its non-finite numbers replaced by their names,
// whose JSON Pointers it returns, sorted.
func extrasTree(extras map[string]any) (map[string]any, []string, error) {
	w := extrasWalker{onPath: map[uintptr]bool{}}
	t, err := w.walk(extras, "", 0)
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(w.paths)
	m, _ := t.(map[string]any)
	return m, w.paths, nil
}

type extrasWalker struct {
	onPath map[uintptr]bool // the maps and slices being walked
	paths  []string
}

func nonFinite(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

func (w *extrasWalker) float(x float64, path string) any {
	if nonFinite(x) {
		w.paths = append(w.paths, path)
		return fmt.Sprint(x)
	}
	return x
}

// enter marks container p as being walked, or says why it cannot be.
func (w *extrasWalker) enter(p uintptr, path string, depth int) error {
	if depth >= MaxExtrasDepth {
		return fmt.Errorf("%w: extras at %q nest deeper than %d", ErrResult, path, MaxExtrasDepth)
	}
	if w.onPath[p] {
		return fmt.Errorf("%w: extras at %q contain themselves", ErrResult, path)
	}
	w.onPath[p] = true
	return nil
}

func (w *extrasWalker) walk(v any, path string, depth int) (any, error) {
	switch x := v.(type) {
	case float64:
		return w.float(x, path), nil
	case float32:
		if nonFinite(float64(x)) {
			return w.float(float64(x), path), nil
		}
	case []float64:
		if !slices.ContainsFunc(x, nonFinite) {
			return x, nil
		}
		s := make([]any, len(x))
		for i, f := range x {
			s[i] = w.float(f, path+"/"+strconv.Itoa(i))
		}
		return s, nil
	case map[string]any:
		if x == nil {
			return x, nil
		}
		p := reflect.ValueOf(x).Pointer()
		if err := w.enter(p, path, depth); err != nil {
			return nil, err
		}
		defer delete(w.onPath, p)
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, err := w.walk(e, path+"/"+pointerToken(k), depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case []any:
		if len(x) == 0 {
			return x, nil
		}
		p := reflect.ValueOf(x).Pointer()
		if err := w.enter(p, path, depth); err != nil {
			return nil, err
		}
		defer delete(w.onPath, p)
		s := make([]any, len(x))
		for i, e := range x {
			c, err := w.walk(e, path+"/"+strconv.Itoa(i), depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = c
		}
		return s, nil
	}
	return v, nil
}

// pointerToken escapes a key for a JSON Pointer.
func pointerToken(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

// restoreNonFinite turns the strings at the JSON Pointers paths of extras
// (as decoded from JSON) back into the numbers they name.
func restoreNonFinite(extras map[string]any, paths []string) error {
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("extras_nonfinite: %q is not a JSON Pointer", p)
		}
		toks := strings.Split(p[1:], "/")
		var parent any = extras
		for i, tok := range toks {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			last := i == len(toks)-1
			var cur any
			var set func(any)
			switch c := parent.(type) {
			case map[string]any:
				v, ok := c[tok]
				if !ok {
					return fmt.Errorf("extras_nonfinite: %q: no key %q", p, tok)
				}
				cur, set = v, func(x any) { c[tok] = x }
			case []any:
				j, err := strconv.Atoi(tok)
				if err != nil || j < 0 || j >= len(c) {
					return fmt.Errorf("extras_nonfinite: %q: no index %q", p, tok)
				}
				cur, set = c[j], func(x any) { c[j] = x }
			default:
				return fmt.Errorf("extras_nonfinite: %q: %q is not in a map or list", p, tok)
			}
			if !last {
				parent = cur
				continue
			}
			f, err := readFloat(cur)
			if s, ok := cur.(string); err != nil || !ok {
				return fmt.Errorf("extras_nonfinite: %q is %v, want \"NaN\", \"+Inf\" or \"-Inf\"", p, cur)
			} else if !nonFinite(f) {
				return fmt.Errorf("extras_nonfinite: %q is %q, want \"NaN\", \"+Inf\" or \"-Inf\"", p, s)
			}
			set(f)
		}
	}
	return nil
}

// extrasEnvelope marks the stored form of extras that hold non-finite
// numbers (or a key of that name of their own): see MarshalExtras.
const extrasEnvelope = "$hyperopt_extras"

// MarshalExtras returns the JSON a durable store keeps for a result's
// extras, nil for none. Extras without non-finite numbers are their plain
// JSON object, as encoding/json writes it; extras with some (a metric that
// was NaN, say) are kept whole, as {"$hyperopt_extras": 1, "extras": {...},
// "nonfinite": [JSON Pointers]} with those numbers written as the strings
// "NaN", "+Inf" and "-Inf", so that every extra the store accepts reads
// back. It fails, wrapping ErrResult, where CheckResult would.
func MarshalExtras(extras map[string]any) ([]byte, error) {
	if len(extras) == 0 {
		return nil, nil
	}
	b, paths, err := encodeExtras(extras)
	if err != nil {
		return nil, err
	}
	if _, own := extras[extrasEnvelope]; len(paths) == 0 && !own {
		return b, nil
	}
	return json.Marshal(map[string]any{extrasEnvelope: 1, "extras": json.RawMessage(b), "nonfinite": paths})
}

// UnmarshalExtras reads extras that MarshalExtras wrote (or plain JSON
// objects, as stores wrote before non-finite numbers were kept): numbers
// come back as float64, non-finite ones included.
func UnmarshalExtras(b []byte) (map[string]any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("trials: stored extras: %w", err)
	}
	if _, ok := m[extrasEnvelope]; !ok {
		return m, nil
	}
	var env struct {
		Extras    map[string]any `json:"extras"`
		NonFinite []string       `json:"nonfinite"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("trials: stored extras: %w", err)
	}
	if env.Extras == nil {
		env.Extras = map[string]any{}
	}
	if err := restoreNonFinite(env.Extras, env.NonFinite); err != nil {
		return nil, fmt.Errorf("trials: stored extras: %w", err)
	}
	return env.Extras, nil
}
