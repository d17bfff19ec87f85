package space

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A Condition says that choice Label has option Option selected.
type Condition struct {
	Label  string
	Option int
}

// String returns "label=option".
func (c Condition) String() string { return c.Label + "=" + strconv.Itoa(c.Option) }

// ParamInfo describes one hyperparameter of a space.
type ParamInfo struct {
	Index int    // position in Values
	Label string // label
	Dist  Dist   // prior
	// Conditions says when the hyperparameter is active, as HyperOpt's
	// expr_to_config does: it is active when every condition of at least one
	// of the lists holds. Conditions is nil for a hyperparameter that is
	// always active, including one used in every option of a choice.
	Conditions [][]Condition
}

// Params lists the hyperparameters of s in the order of [Values], with their
// priors and the choices they depend on. The conditions are worked out once
// per space, on the first call; each call returns a fresh copy that the
// caller may change.
func (s *Space) Params() []ParamInfo {
	if s.zero() {
		return nil
	}
	var conds [][][]Condition
	if s.cache != nil {
		s.cache.once.Do(func() { s.cache.conds = s.conditions() })
		conds = s.cache.conds
	} else {
		conds = s.conditions()
	}
	total := 0
	for _, c := range conds {
		for _, and := range c {
			total += len(and)
		}
	}
	// One backing array for every copied condition list, each capped so
	// that appending to one cannot overwrite the next.
	buf := make([]Condition, 0, total)
	out := make([]ParamInfo, len(s.params))
	for i, p := range s.params {
		d := p.dist
		d.Probs = slices.Clone(d.Probs)
		var c [][]Condition
		if conds[i] != nil {
			c = make([][]Condition, len(conds[i]))
			for j, and := range conds[i] {
				start := len(buf)
				buf = append(buf, and...)
				c[j] = buf[start:len(buf):len(buf)]
			}
		}
		out[i] = ParamInfo{Index: i, Label: p.label, Dist: d, Conditions: c}
	}
	return out
}

// paramsCache holds what Params computes once per space. Space holds it by
// pointer, so that copying a Space (as UnmarshalJSON does) copies no lock.
type paramsCache struct {
	once  sync.Once
	conds [][][]Condition // by hyperparameter, ParamInfo.Conditions
}

// conditions works out ParamInfo.Conditions for every hyperparameter: the
// paths of choices from the root to each use of it, simplified.
func (s *Space) conditions() [][][]Condition {
	paths := make([][][]Condition, len(s.params))
	if s.root == nil {
		return paths
	}
	var path []Condition
	var walk func(n *cnode)
	walk = func(n *cnode) {
		switch n.kind {
		case cParam:
			paths[n.param] = append(paths[n.param], slices.Clone(path))
			p := &s.params[n.param]
			for j, o := range p.options {
				path = append(path, Condition{p.label, j})
				walk(o)
				path = path[:len(path)-1]
			}
		case cDict, cList:
			for _, k := range n.kids {
				walk(k)
			}
		}
	}
	walk(s.root)
	for i := range paths {
		paths[i] = s.simplify(paths[i])
	}
	return paths
}

// simplify reduces a set of alternative condition paths: duplicates and
// paths implied by shorter ones go, and paths that differ only in the option
// of one choice and cover all its options merge into their common rest. It
// returns nil when the result is "always".
func (s *Space) simplify(paths [][]Condition) [][]Condition {
	if len(paths) == 1 {
		return s.simplifyOne(paths[0])
	}
	for {
		for _, p := range paths {
			if len(p) == 0 {
				return nil
			}
		}
		paths = absorb(paths)
		merged, ok := s.mergeOnce(paths)
		if !ok {
			return paths
		}
		paths = merged
	}
}

// simplifyOne is simplify for a hyperparameter used in one place, in time
// linear in its path: no other path can absorb it or merge with it, so only
// the conditions on choices of a single option go (each always holds). A
// path names each choice at most once, since a choice cannot be nested in
// itself.
func (s *Space) simplifyOne(path []Condition) [][]Condition {
	out := path[:0]
	for _, c := range path {
		if s.params[s.index[c.Label]].dist.High != 1 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return [][]Condition{out}
}

// absorb removes duplicate paths and paths that contain all the conditions
// of another path.
func absorb(paths [][]Condition) [][]Condition {
	var out [][]Condition
	for i, p := range paths {
		keep := true
		for j, q := range paths {
			if i == j {
				continue
			}
			// A path names each choice at most once, so a longer path
			// cannot be a subset of a shorter one.
			if len(q) <= len(p) && subset(q, p) && (len(q) < len(p) || j < i) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

func subset(a, b []Condition) bool {
	for _, c := range a {
		if !slices.Contains(b, c) {
			return false
		}
	}
	return true
}

// mergeOnce finds paths equal but for the option of one choice that together
// cover all its options, and replaces them by their common rest.
func (s *Space) mergeOnce(paths [][]Condition) ([][]Condition, bool) {
	type group struct {
		rest    []Condition
		options map[int]bool
		members []int
	}
	groups := map[string]*group{}
	for i, p := range paths {
		for k, c := range p {
			rest := slices.Concat(p[:k], p[k+1:])
			key := c.Label + "\x00" + fmt.Sprint(rest)
			g := groups[key]
			if g == nil {
				g = &group{rest: rest, options: map[int]bool{}}
				groups[key] = g
			}
			g.options[c.Option] = true
			g.members = append(g.members, i)
			idx := s.index[c.Label]
			if len(g.options) == int(s.params[idx].dist.High) {
				out := [][]Condition{g.rest}
				for j, q := range paths {
					if !slices.Contains(g.members, j) {
						out = append(out, q)
					}
				}
				return out, true
			}
		}
	}
	return paths, false
}

// Fix returns a space in which the hyperparameters named in values are held
// constant (HyperOpt's partial sampling). values maps labels to values: a
// number for a scalar hyperparameter (in its support), and for a choice the
// value of the option to keep, either a constant option's value or, for an
// option that is a [Dict], a map of some of its constant entries that only
// that option has (such as {"type": "svm"}). The choice is then replaced by
// that option, so the hyperparameters of the other options disappear.
//
// The new space numbers its hyperparameters afresh; to carry a point back to
// s, Eval it in the new space and Encode the config in s. An unknown label,
// a value outside the support or a value that selects no option (or several)
// is an error wrapping [ErrInvalidConfig].
func (s *Space) Fix(values map[string]any) (*Space, error) {
	if s.zero() {
		return nil, ErrZeroSpace
	}
	fixedScalar := map[int]any{}
	fixedOption := map[int]int{}
	labels := make([]string, 0, len(values))
	for l := range values {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for _, label := range labels {
		val := values[label]
		i, ok := s.index[label]
		if !ok {
			return nil, &Error{Label: label, Msg: "no hyperparameter has this label", Err: ErrNoMatch}
		}
		p := &s.params[i]
		if p.options == nil {
			x, ok := number(val)
			if !ok || !p.dist.Contains(x) {
				return nil, &Error{Label: label, Msg: fmt.Sprintf("cannot fix %v to %s: not a value of its support", p.dist, describe(val)), Err: ErrNoMatch}
			}
			if p.dist.Int {
				fixedScalar[i] = int(x)
			} else {
				fixedScalar[i] = x
			}
			continue
		}
		var hits []int
		for j, o := range p.options {
			if optionMatches(o, val) {
				hits = append(hits, j)
			}
		}
		switch len(hits) {
		case 0:
			return nil, &Error{Label: label, Msg: fmt.Sprintf("%s selects none of the %d options (give a constant option's value, or a map of constant entries of a dict option)", describe(val), len(p.options)), Err: ErrNoMatch}
		case 1:
			fixedOption[i] = hits[0]
		default:
			return nil, &Error{Label: label, Msg: fmt.Sprintf("%s selects options %v; give enough entries to single one out", describe(val), hits), Err: ErrAmbiguous}
		}
	}
	newParams := map[int]*Param{}
	var rebuild func(n *cnode) any
	rebuild = func(n *cnode) any {
		switch n.kind {
		case cConst:
			return Const(n.value)
		case cDict:
			d := make(Dict, len(n.keys))
			for i, k := range n.keys {
				d[k] = rebuild(n.kids[i])
			}
			return d
		case cList:
			l := make(List, len(n.kids))
			for i, k := range n.kids {
				l[i] = rebuild(k)
			}
			return l
		}
		if x, ok := fixedScalar[n.param]; ok {
			return Const(x)
		}
		p := &s.params[n.param]
		if j, ok := fixedOption[n.param]; ok {
			return rebuild(p.options[j])
		}
		if np, ok := newParams[n.param]; ok {
			return np
		}
		np := &Param{label: p.label, dist: p.dist}
		np.dist.Probs = slices.Clone(p.dist.Probs)
		newParams[n.param] = np
		if p.options != nil {
			np.options = make([]any, len(p.options))
			for j, o := range p.options {
				np.options[j] = rebuild(o)
			}
		}
		return np
	}
	return New(rebuild(s.root))
}

// optionMatches reports whether val selects option o for Fix.
func optionMatches(o *cnode, val any) bool {
	switch o.kind {
	case cConst:
		return constEqual(o.value, val)
	case cDict:
		get, keys, ok := mapOf(val)
		if !ok || len(keys) == 0 {
			return false
		}
		for _, k := range keys {
			i, found := slices.BinarySearch(o.keys, k)
			if !found || o.kids[i].kind != cConst {
				return false
			}
			x, _ := get(k)
			if !constEqual(o.kids[i].value, x) {
				return false
			}
		}
		return true
	}
	return false
}

// String returns a short description of the space: its hyperparameters,
// priors and conditions, one per line.
func (s *Space) String() string {
	var b strings.Builder
	for _, p := range s.Params() {
		fmt.Fprintf(&b, "%s: %v", p.Label, p.Dist)
		if p.Conditions != nil {
			alts := make([]string, len(p.Conditions))
			for i, c := range p.Conditions {
				parts := make([]string, len(c))
				for j, x := range c {
					parts[j] = x.String()
				}
				alts[i] = strings.Join(parts, " and ")
			}
			fmt.Fprintf(&b, " if %s", strings.Join(alts, " or "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
