package space

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Space is a compiled, validated search space, made by [New]. It is
// immutable and safe for concurrent use.
//
// Its hyperparameters are numbered in the order a depth-first walk of the
// space first meets them, dict keys taken in sorted order, a choice before
// its options; [Values] are indexed by these numbers.
type Space struct {
	root   *cnode
	params []pinfo
	index  map[string]int
	cache  *paramsCache // what Params computes, once
	shared bool         // some hyperparameter is used in more than one place
}

// Values is a point of a space in the form algorithms and stores use, as
// HyperOpt's misc.vals: one float64 per hyperparameter, by its position in
// the compiled space. A choice stores the index of its option; NaN marks a
// hyperparameter that is inactive at this point (inside an unselected
// branch). Use [Space.Eval] and [Space.Encode] to go to and from configs.
type Values []float64

// Clone returns a copy of v.
func (v Values) Clone() Values { return slices.Clone(v) }

// Active reports whether hyperparameter i is active in v (not NaN).
func (v Values) Active(i int) bool { return !math.IsNaN(v[i]) }

// Equal reports whether v and w are the same point: the same length and
// the same value for each hyperparameter, NaN (inactive) equal to NaN, 0
// equal to -0. A []float64 converts: space.Values(a).Equal(b).
func (v Values) Equal(w Values) bool {
	return slices.EqualFunc(v, w, func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) })
}

type ckind uint8

const (
	cConst ckind = iota
	cParam
	cDict
	cList
)

// cnode is a node of the compiled space.
type cnode struct {
	kind  ckind
	param int      // cParam: index in Space.params
	keys  []string // cDict: sorted keys
	kids  []*cnode // cDict: values by key; cList: elements
	value any      // cConst
}

type pinfo struct {
	label   string
	dist    Dist
	options []*cnode // choice options
}

// New validates root and compiles it into a Space. It returns an [*Error]
// naming the hyperparameter (and where in the space it is) for an empty or
// duplicate label, bounds with low >= high (also when a bound is 0), a log
// kind's bound <= 0, q <= 0, sigma <= 0, a NaN or infinite argument, a choice
// without options, PChoice probabilities that are negative or do not sum to
// 1, a ranged RandInt with upper <= low, a cycle, or a nil *Param.
//
// root may be any node, or a map[string]any or []any holding nodes.
func New(root any) (*Space, error) {
	c := compiler{
		s:       &Space{index: make(map[string]int), cache: &paramsCache{}},
		params:  make(map[*Param]*cnode),
		onStack: make(map[any]bool),
	}
	r, err := c.compile(root, "root")
	if err != nil {
		return nil, err
	}
	c.s.root = r
	if n := expandedSize(r, c.s, map[*cnode]int{}); n > maxExpanded {
		return nil, &Error{Path: "root", Msg: fmt.Sprintf("the space has more than %d nodes once shared hyperparameters are expanded where they are used", maxExpanded), Err: ErrStructure}
	}
	return c.s, nil
}

// maxExpanded bounds the size of a space counted with each use of a shared
// node separately: walks over the space (Sample, Eval, Encode, Params) visit
// every use, so a document that nests shared choices could otherwise be
// exponentially slow to use.
const maxExpanded = 1 << 20

// expandedSize returns the number of node visits of a full walk from n,
// capped at maxExpanded+1.
func expandedSize(n *cnode, s *Space, memo map[*cnode]int) int {
	if v, ok := memo[n]; ok {
		return v
	}
	total := 1
	kids := n.kids
	if n.kind == cParam {
		kids = s.params[n.param].options
	}
	for _, k := range kids {
		total = min(total+expandedSize(k, s, memo), maxExpanded+1)
	}
	memo[n] = total
	return total
}

type compiler struct {
	s       *Space
	params  map[*Param]*cnode
	onStack map[any]bool // params, maps and slices being compiled: a second visit is a cycle
	depth   int          // dicts, lists and choices around the node being compiled
}

// containerKey identifies a map or slice for cycle detection.
type containerKey struct {
	p   uintptr
	len int
	t   reflect.Type
}

func (c *compiler) compile(n any, path string) (*cnode, error) {
	switch n := n.(type) {
	case *Param:
		return c.compileParam(n, path)
	case Dict:
		return c.compileDict(n, path)
	case map[string]any:
		return c.compileDict(n, path)
	case List:
		return c.compileList(n, path)
	case []any:
		return c.compileList(n, path)
	case constant:
		if err := c.checkConst(n.v, path); err != nil {
			return nil, err
		}
		return &cnode{kind: cConst, value: n.v}, nil
	}
	if err := c.checkConst(n, path); err != nil {
		return nil, err
	}
	return &cnode{kind: cConst, value: n}, nil
}

func (c *compiler) compileParam(p *Param, path string) (*cnode, error) {
	if p == nil {
		return nil, &Error{Path: path, Msg: "nil *Param", Err: ErrStructure}
	}
	if cn, ok := c.params[p]; ok {
		if c.onStack[p] {
			return nil, &Error{Path: path, Label: p.label, Msg: "choice contains itself", Err: ErrStructure}
		}
		c.s.shared = true
		return cn, nil
	}
	if p.label == "" {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("%v hyperparameter has an empty label", p.dist.Kind), Err: ErrEmptyLabel}
	}
	if !utf8.ValidString(p.label) {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("%v hyperparameter label %q is not valid UTF-8 (JSON could not keep it)", p.dist.Kind, p.label), Err: ErrStructure}
	}
	if _, dup := c.s.index[p.label]; dup {
		return nil, &Error{Path: path, Label: p.label, Msg: "label used by two different hyperparameters (reuse the same *Param to share one)", Err: ErrDuplicateLabel}
	}
	if msg, err := p.dist.check(); err != nil {
		return nil, &Error{Path: path, Label: p.label, Msg: msg, Err: err}
	}
	d := p.dist
	if d.Probs != nil {
		sum := 0.0
		for _, x := range d.Probs {
			sum += x
		}
		d.Probs = slices.Clone(d.Probs)
		// Rescale only probabilities that are off by more than rounding:
		// rescaling normalized ones would move them by a few ulps on every
		// JSON round trip, and with them the fingerprint.
		if math.Abs(sum-1) > 1e-12 {
			for i := range d.Probs {
				d.Probs[i] /= sum
			}
		}
	}
	idx := len(c.s.params)
	c.s.params = append(c.s.params, pinfo{label: p.label, dist: d})
	c.s.index[p.label] = idx
	cn := &cnode{kind: cParam, param: idx}
	c.params[p] = cn
	if d.Kind == KindChoice {
		if err := c.down(path); err != nil {
			return nil, err
		}
		defer c.up()
		c.onStack[p] = true
		opts := make([]*cnode, len(p.options))
		for i, o := range p.options {
			var err error
			if opts[i], err = c.compile(o, fmt.Sprintf("%s.options[%d]", path, i)); err != nil {
				return nil, err
			}
		}
		delete(c.onStack, p)
		c.s.params[idx].options = opts
	}
	return cn, nil
}

func (c *compiler) enter(v reflect.Value, path string) (containerKey, error) {
	k := containerKey{p: uintptr(v.UnsafePointer()), len: v.Len(), t: v.Type()}
	if k.p != 0 && c.onStack[k] {
		return k, &Error{Path: path, Msg: "the space contains itself", Err: ErrStructure}
	}
	if err := c.down(path); err != nil {
		return k, err
	}
	c.onStack[k] = true
	return k, nil
}

// MaxDepth is how deep a space may nest: the number of dicts, lists,
// choices and levels of a constant's maps, slices and arrays on the way
// from the root to any node. New refuses a deeper space, MarshalJSON a
// constant changed since to nest deeper (or contain itself), and
// UnmarshalJSON a deeper document; everything New accepts is written and
// read back.
const MaxDepth = 1000

// down enters one level of nesting, up leaves it.
func (c *compiler) down(path string) error {
	if c.depth >= MaxDepth {
		return &Error{Path: path, Msg: fmt.Sprintf("the space nests deeper than %d", MaxDepth), Err: ErrStructure}
	}
	c.depth++
	return nil
}

func (c *compiler) up() { c.depth-- }

// checkConst walks a constant's value as MarshalJSON would: it must not
// contain itself, nest deeper than MaxDepth with the space around it, or
// expand to more than maxExpanded containers.
func (c *compiler) checkConst(v any, path string) error {
	w := constWalker{onPath: map[containerKey]bool{}, depth: c.depth}
	return w.walk(reflect.ValueOf(v), path)
}

type constWalker struct {
	onPath map[containerKey]bool
	depth  int
	visits int
}

func (w *constWalker) walk(v reflect.Value, path string) error {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return w.walk(v.Elem(), path)
	case reflect.Slice, reflect.Array, reflect.Map:
	default:
		return nil
	}
	switch v.Type().Elem().Kind() {
	case reflect.Interface, reflect.Slice, reflect.Array, reflect.Map:
	default:
		return nil // elements are leaves
	}
	if w.depth >= MaxDepth {
		return &Error{Path: path, Msg: fmt.Sprintf("the constant nests deeper than %d with the space around it", MaxDepth), Err: ErrStructure}
	}
	if w.visits++; w.visits > maxExpanded {
		return &Error{Path: path, Msg: fmt.Sprintf("the constant has more than %d maps and slices once shared ones are expanded", maxExpanded), Err: ErrStructure}
	}
	var k containerKey
	if v.Kind() != reflect.Array {
		if v.IsNil() {
			return nil
		}
		k = containerKey{p: uintptr(v.UnsafePointer()), len: v.Len(), t: v.Type()}
		if w.onPath[k] {
			return &Error{Path: path, Msg: "the constant contains itself", Err: ErrStructure}
		}
		w.onPath[k] = true
		defer delete(w.onPath, k)
	}
	w.depth++
	defer func() { w.depth-- }()
	if v.Kind() == reflect.Map {
		it := v.MapRange()
		for it.Next() {
			if err := w.walk(it.Value(), fmt.Sprintf("%s[%v]", path, it.Key())); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range v.Len() {
		if err := w.walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func (c *compiler) compileDict(m map[string]any, path string) (*cnode, error) {
	key, err := c.enter(reflect.ValueOf(m), path)
	if err != nil {
		return nil, err
	}
	defer delete(c.onStack, key)
	defer c.up()
	cn := &cnode{kind: cDict, keys: make([]string, 0, len(m))}
	for k := range m {
		cn.keys = append(cn.keys, k)
	}
	slices.Sort(cn.keys)
	cn.kids = make([]*cnode, len(cn.keys))
	for i, k := range cn.keys {
		if cn.kids[i], err = c.compile(m[k], path+"["+strconv.Quote(k)+"]"); err != nil {
			return nil, err
		}
	}
	return cn, nil
}

func (c *compiler) compileList(l []any, path string) (*cnode, error) {
	key, err := c.enter(reflect.ValueOf(l), path)
	if err != nil {
		return nil, err
	}
	defer delete(c.onStack, key)
	defer c.up()
	cn := &cnode{kind: cList, kids: make([]*cnode, len(l))}
	for i, x := range l {
		if cn.kids[i], err = c.compile(x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return cn, nil
}

// Len returns the number of hyperparameters, the length of every Values of s.
func (s *Space) Len() int {
	if s == nil {
		return 0
	}
	return len(s.params)
}

// Index returns the position of the hyperparameter with the given label.
func (s *Space) Index(label string) (int, bool) {
	if s == nil {
		return 0, false
	}
	i, ok := s.index[label]
	return i, ok
}

// Label returns the label of hyperparameter i. It panics if i is out of range.
func (s *Space) Label(i int) string { return s.params[i].label }

// Dist returns the prior of hyperparameter i. It panics if i is out of range.
func (s *Space) Dist(i int) Dist { return s.params[i].dist }

// NewValues returns a Values of length s.Len() with every hyperparameter
// inactive (NaN).
func (s *Space) NewValues() Values {
	v := make(Values, s.Len())
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

// Sample draws one point from the prior by ancestral sampling: each choice
// is drawn, then only the hyperparameters of the selected branches. A shared
// hyperparameter is drawn once. The draws come from r alone, in an order
// fixed by the space, so the same r state gives the same point.
func (s *Space) Sample(r *rand.Rand) Values {
	v := s.NewValues()
	if !s.zero() {
		s.sample(s.root, r, v)
	}
	return v
}

// zero reports whether s was not made by New or UnmarshalJSON: its methods
// then return ErrZeroSpace, or nothing, instead of panicking.
func (s *Space) zero() bool { return s == nil || s.root == nil }

func (s *Space) sample(n *cnode, r *rand.Rand, v Values) {
	switch n.kind {
	case cParam:
		p := &s.params[n.param]
		if math.IsNaN(v[n.param]) {
			v[n.param] = p.dist.Sample(r)
		}
		if p.options != nil {
			s.sample(p.options[int(v[n.param])], r, v)
		}
	case cDict, cList:
		for _, k := range n.kids {
			s.sample(k, r, v)
		}
	}
}

// Validate reports whether v is a point of s: the right length, every active
// hyperparameter set to a value its prior can produce (in bounds, on the
// grid of a quantized kind, a valid option index), and every inactive one
// NaN. The error is an [*Error] naming the hyperparameter.
func (s *Space) Validate(v Values) error {
	_, err := s.eval(v, false)
	return err
}

// Eval returns the config of point v: the space with each hyperparameter
// replaced by its value. A choice gives its selected option's value; integer
// kinds give Go ints, the others float64; a Dict gives a map[string]any and a
// List a []any, new on each call; constants are returned as given. It
// validates v as [Space.Validate] does.
func (s *Space) Eval(v Values) (any, error) {
	return s.eval(v, true)
}

func (s *Space) eval(v Values, build bool) (any, error) {
	if s.zero() {
		return nil, ErrZeroSpace
	}
	if len(v) != len(s.params) {
		return nil, &Error{Msg: fmt.Sprintf("values have length %d, the space has %d hyperparameters", len(v), len(s.params)), Err: ErrInvalidValues}
	}
	var buf [64]bool
	var active []bool
	if len(v) <= len(buf) {
		active = buf[:len(v)]
	} else {
		active = make([]bool, len(v))
	}
	e := evaluator{s: s, v: v, active: active, build: build}
	out, err := e.eval(s.root)
	if err != nil {
		return nil, err
	}
	for i, a := range active {
		if !a && !math.IsNaN(v[i]) {
			return nil, &Error{Label: s.params[i].label, Msg: fmt.Sprintf("set to %v but inactive at this point (its branch is not selected); inactive values must be NaN", v[i]), Err: ErrInactive}
		}
	}
	return out, nil
}

type evaluator struct {
	s      *Space
	v      Values
	active []bool
	build  bool
}

func (e *evaluator) eval(n *cnode) (any, error) {
	switch n.kind {
	case cConst:
		return n.value, nil
	case cParam:
		p := &e.s.params[n.param]
		x := e.v[n.param]
		if !e.active[n.param] {
			if math.IsNaN(x) {
				return nil, &Error{Label: p.label, Msg: fmt.Sprintf("active %v hyperparameter has no value (NaN)", p.dist.Kind), Err: ErrMissing}
			}
			if !p.dist.Contains(x) {
				return nil, &Error{Label: p.label, Msg: fmt.Sprintf("value %v is outside the support of %v", x, p.dist), Err: ErrOutOfSupport}
			}
			e.active[n.param] = true
		}
		if p.options != nil {
			return e.eval(p.options[int(x)])
		}
		if !e.build {
			return nil, nil
		}
		if p.dist.Int {
			return int(x), nil
		}
		return x, nil
	case cDict:
		var m map[string]any
		if e.build {
			m = make(map[string]any, len(n.keys))
		}
		for i, k := range n.kids {
			x, err := e.eval(k)
			if err != nil {
				return nil, err
			}
			if e.build {
				m[n.keys[i]] = x
			}
		}
		if !e.build {
			return nil, nil
		}
		return m, nil
	case cList:
		var l []any
		if e.build {
			l = make([]any, len(n.kids))
		}
		for i, k := range n.kids {
			x, err := e.eval(k)
			if err != nil {
				return nil, err
			}
			if e.build {
				l[i] = x
			}
		}
		if !e.build {
			return nil, nil
		}
		return l, nil
	}
	return nil, nil
}

// Labeled returns the active values of v by label (a choice as its option
// index), the form stores and exports use.
func (s *Space) Labeled(v Values) map[string]float64 {
	m := make(map[string]float64, len(v))
	for i, x := range v {
		if i < len(s.params) && !math.IsNaN(x) {
			m[s.params[i].label] = x
		}
	}
	return m
}

// FromLabeled is the inverse of [Space.Labeled]: it builds the Values with
// the given labelled values (a missing label is inactive) and validates
// them. An unknown label is an error.
func (s *Space) FromLabeled(m map[string]float64) (Values, error) {
	v := s.NewValues()
	for label, x := range m {
		i, ok := s.index[label]
		if !ok {
			return nil, &Error{Label: label, Msg: "no hyperparameter has this label", Err: ErrInvalidValues}
		}
		v[i] = x
	}
	if err := s.Validate(v); err != nil {
		return nil, err
	}
	return v, nil
}

// EvalOption returns the value of the option that choice hyperparameter i
// selects at point v: the option's constant, or the config of its
// sub-space. It is an error if i is not an active choice of v.
func (s *Space) EvalOption(v Values, i int) (any, error) {
	if len(v) != len(s.params) || i < 0 || i >= len(s.params) {
		return nil, &Error{Msg: fmt.Sprintf("no hyperparameter %d in values of length %d", i, len(v)), Err: ErrInvalidValues}
	}
	p := &s.params[i]
	x := v[i]
	if p.options == nil || !p.dist.Contains(x) {
		return nil, &Error{Label: p.label, Msg: fmt.Sprintf("not an active choice at this point (value %v)", x), Err: ErrInvalidValues}
	}
	e := evaluator{s: s, v: v, active: make([]bool, len(v)), build: true}
	return e.eval(p.options[int(x)])
}

// SampleWith builds a point by the same ancestral walk as Sample, taking
// each active hyperparameter's value from draw instead of the prior: draw
// gets the hyperparameter's position and the point built so far (the
// choices above it are set), and returns the value (for a choice, the option
// index, which must be valid). Algorithms use it to propose points one
// hyperparameter at a time. It panics if draw returns an invalid option
// index.
func (s *Space) SampleWith(draw func(param int, v Values) float64) Values {
	v := s.NewValues()
	if !s.zero() {
		s.sampleWith(s.root, draw, v)
	}
	return v
}

func (s *Space) sampleWith(n *cnode, draw func(int, Values) float64, v Values) {
	switch n.kind {
	case cParam:
		p := &s.params[n.param]
		if math.IsNaN(v[n.param]) {
			v[n.param] = draw(n.param, v)
		}
		if p.options != nil {
			s.sampleWith(p.options[int(v[n.param])], draw, v)
		}
	case cDict, cList:
		for _, k := range n.kids {
			s.sampleWith(k, draw, v)
		}
	}
}
