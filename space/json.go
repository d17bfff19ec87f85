package space

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// The JSON form of a space is a document
//
//	{"hyperopt_space": 1, "root": NODE}
//
// where NODE is one of
//
//	{"param": "lr", "dist": "loguniform", "low": 1e-05, "high": 0.1}
//	{"param": "model", "dist": "choice", "options": [NODE, ...]}
//	{"param": "k", "dist": "pchoice", "p": [0.1, 0.9], "options": [NODE, ...]}
//	{"ref": "lr"}                 the hyperparameter defined earlier in the document
//	{"dict": {"key": NODE, ...}}
//	{"list": [NODE, ...]}
//	{"const": VALUE}
//
// Distribution names are those of HyperOpt (uniform, quniform, loguniform,
// qloguniform, normal, qnormal, lognormal, qlognormal, randint, choice,
// pchoice), with "_int" appended for the integer variants (quniform_int;
// UniformInt is quniform_int with q 1). Arguments are low and high (natural
// values), mu, sigma and q. Dict keys are written in sorted order, and a
// shared hyperparameter is written in full where the walk in that order first
// meets it, and as a ref afterwards. Constants are JSON values: a number with
// a fraction or an exponent is a float64, any other an int, so that ints and
// floats survive the round trip. A constant that JSON cannot hold (a
// function, a struct, NaN) makes MarshalJSON fail with an error naming where
// it is.
const jsonVersion = 1

// MarshalJSON returns the JSON form of s. The output is canonical: equal
// spaces give equal bytes.
func (s *Space) MarshalJSON() ([]byte, error) {
	if s.zero() {
		return nil, ErrZeroSpace
	}
	var b bytes.Buffer
	b.WriteString(`{"hyperopt_space":1,"root":`)
	w := jsonWriter{s: s, b: &b, written: make([]bool, len(s.params)), onPath: map[containerKey]bool{}}
	if err := w.node(s.root, "$.root"); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Fingerprint returns a stable digest of s (hex SHA-256 of its JSON form):
// equal spaces, in this process or another, have equal fingerprints. It
// fails where MarshalJSON fails.
func (s *Space) Fingerprint() (string, error) {
	b, err := s.MarshalJSON()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

type jsonWriter struct {
	s       *Space
	b       *bytes.Buffer
	written []bool
	// onPath holds the maps and slices of a constant being written, and
	// depth their number: a constant changed after New to contain itself
	// or nest deeper than MaxDepth is an error, not a crash.
	onPath map[containerKey]bool
	depth  int
}

func fmtFloat(x float64) string {
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") { // "n": NaN and Inf never reach here
		s += ".0"
	}
	return s
}

func (w *jsonWriter) str(s string) {
	q, _ := json.Marshal(s)
	w.b.Write(q)
}

func (w *jsonWriter) node(n *cnode, path string) error {
	switch n.kind {
	case cConst:
		w.b.WriteString(`{"const":`)
		if err := w.value(reflect.ValueOf(n.value), path+".const"); err != nil {
			return err
		}
		w.b.WriteByte('}')
		return nil
	case cDict:
		w.b.WriteString(`{"dict":{`)
		for i, k := range n.keys {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.str(k)
			w.b.WriteByte(':')
			if err := w.node(n.kids[i], path+".dict["+strconv.Quote(k)+"]"); err != nil {
				return err
			}
		}
		w.b.WriteString("}}")
		return nil
	case cList:
		w.b.WriteString(`{"list":[`)
		for i, k := range n.kids {
			if i > 0 {
				w.b.WriteByte(',')
			}
			if err := w.node(k, fmt.Sprintf("%s.list[%d]", path, i)); err != nil {
				return err
			}
		}
		w.b.WriteString("]}")
		return nil
	}
	p := &w.s.params[n.param]
	if w.written[n.param] {
		w.b.WriteString(`{"ref":`)
		w.str(p.label)
		w.b.WriteByte('}')
		return nil
	}
	w.written[n.param] = true
	d := p.dist
	w.b.WriteString(`{"param":`)
	w.str(p.label)
	name := d.Kind.String()
	if d.Kind == KindChoice && d.Probs != nil {
		name = "pchoice"
	}
	if d.Int && d.Kind != KindRandInt && d.Kind != KindChoice {
		name += "_int"
	}
	w.b.WriteString(`,"dist":"` + name + `"`)
	for _, a := range d.args() {
		w.b.WriteString(`,"` + a.name + `":` + fmtFloat(a.v))
	}
	if d.Kind == KindChoice {
		if d.Probs != nil {
			w.b.WriteString(`,"p":[`)
			for i, x := range d.Probs {
				if i > 0 {
					w.b.WriteByte(',')
				}
				w.b.WriteString(fmtFloat(x))
			}
			w.b.WriteByte(']')
		}
		w.b.WriteString(`,"options":[`)
		for i, o := range p.options {
			if i > 0 {
				w.b.WriteByte(',')
			}
			if err := w.node(o, fmt.Sprintf("%s.options[%d]", path, i)); err != nil {
				return err
			}
		}
		w.b.WriteByte(']')
	}
	w.b.WriteByte('}')
	return nil
}

// enter marks a map, slice or array of a constant as being written.
func (w *jsonWriter) enter(v reflect.Value, path string) (func(), error) {
	if w.depth >= MaxDepth {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("the constant nests deeper than %d", MaxDepth), Err: ErrStructure}
	}
	var k containerKey
	if v.Kind() != reflect.Array {
		k = containerKey{p: uintptr(v.UnsafePointer()), len: v.Len(), t: v.Type()}
		if k.p != 0 && w.onPath[k] {
			return nil, &Error{Path: path, Msg: "the constant contains itself", Err: ErrStructure}
		}
		w.onPath[k] = true
	}
	w.depth++
	return func() {
		w.depth--
		delete(w.onPath, k)
	}, nil
}

// value writes a constant as JSON, refusing what JSON cannot hold.
func (w *jsonWriter) value(v reflect.Value, path string) error {
	if !v.IsValid() {
		w.b.WriteString("null")
		return nil
	}
	bad := func(why string) error {
		return &Error{Path: path, Msg: fmt.Sprintf("constant of type %v cannot be written as JSON%s", v.Type(), why), Err: ErrStructure}
	}
	switch v.Kind() {
	case reflect.Bool:
		w.b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.String:
		w.str(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		x := v.Float()
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return bad(fmt.Sprintf(" (value %v)", x))
		}
		w.b.WriteString(fmtFloat(x))
	case reflect.Interface:
		if v.IsNil() {
			w.b.WriteString("null")
			return nil
		}
		return w.value(v.Elem(), path)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			w.b.WriteString("null")
			return nil
		}
		leave, err := w.enter(v, path)
		if err != nil {
			return err
		}
		defer leave()
		w.b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				w.b.WriteByte(',')
			}
			if err := w.value(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		w.b.WriteByte(']')
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return bad(" (map keys must be strings)")
		}
		if v.IsNil() {
			w.b.WriteString("null")
			return nil
		}
		leave, err := w.enter(v, path)
		if err != nil {
			return err
		}
		defer leave()
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		w.b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.str(k)
			w.b.WriteByte(':')
			kv := reflect.ValueOf(k).Convert(v.Type().Key())
			if err := w.value(v.MapIndex(kv), path+"["+strconv.Quote(k)+"]"); err != nil {
				return err
			}
		}
		w.b.WriteByte('}')
	default:
		return bad("")
	}
	return nil
}

// UnmarshalJSON replaces *s with the space that data describes (see
// [Space.MarshalJSON] for the form). A malformed document is an [*Error]
// whose Path locates the problem in the document ("$.root.dict[\"lr\"]"); a
// space that the document describes correctly but New refuses is New's
// error.
func (s *Space) UnmarshalJSON(data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return &Error{Path: "$", Msg: "not a JSON object: " + err.Error(), Err: ErrStructure}
	}
	if err := onlyKeys(top, "$", "hyperopt_space", "root"); err != nil {
		return err
	}
	var version int
	if err := json.Unmarshal(top["hyperopt_space"], &version); err != nil || version != jsonVersion {
		return &Error{Path: "$.hyperopt_space", Msg: fmt.Sprintf("unsupported version %s (this package reads %d)", top["hyperopt_space"], jsonVersion), Err: ErrStructure}
	}
	raw, ok := top["root"]
	if !ok {
		return &Error{Path: "$", Msg: `missing "root"`, Err: ErrStructure}
	}
	// The root is decoded once, in one pass: decoding each node's raw
	// bytes again at every level was quadratic in the nesting depth.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return &Error{Path: "$.root", Msg: err.Error(), Err: ErrStructure}
	}
	r := jsonReader{params: map[string]*Param{}}
	root, err := r.node(tree, "$.root", 0)
	if err != nil {
		return err
	}
	ns, err := New(root)
	if err != nil {
		return err
	}
	*s = *ns
	return nil
}

type jsonReader struct {
	params map[string]*Param
}

func onlyKeys[V any](m map[string]V, path string, allowed ...string) error {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return &Error{Path: path, Msg: fmt.Sprintf("unknown key %q (allowed: %s)", k, strings.Join(allowed, ", ")), Err: ErrStructure}
		}
	}
	return nil
}

var distNames = map[string]Dist{
	"uniform":         {Kind: KindUniform},
	"quniform":        {Kind: KindQUniform},
	"quniform_int":    {Kind: KindQUniform, Int: true},
	"loguniform":      {Kind: KindLogUniform},
	"qloguniform":     {Kind: KindQLogUniform},
	"qloguniform_int": {Kind: KindQLogUniform, Int: true},
	"normal":          {Kind: KindNormal},
	"qnormal":         {Kind: KindQNormal},
	"qnormal_int":     {Kind: KindQNormal, Int: true},
	"lognormal":       {Kind: KindLogNormal},
	"qlognormal":      {Kind: KindQLogNormal},
	"qlognormal_int":  {Kind: KindQLogNormal, Int: true},
	"randint":         {Kind: KindRandInt, Int: true},
	"choice":          {Kind: KindChoice},
	"pchoice":         {Kind: KindChoice},
}

// node reads a node at depth levels below the root (see MaxDepth).
func (r *jsonReader) node(v any, path string, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("the space nests deeper than %d", MaxDepth), Err: ErrStructure}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Path: path, Msg: "a node must be a JSON object", Err: ErrStructure}
	}
	form := ""
	for _, k := range []string{"param", "ref", "dict", "list", "const"} {
		if _, ok := m[k]; ok {
			if form != "" {
				form = "several"
				break
			}
			form = k
		}
	}
	if form == "" || form == "several" {
		return nil, &Error{Path: path, Msg: `a node must have exactly one of "param", "ref", "dict", "list", "const"`, Err: ErrStructure}
	}
	switch form {
	case "ref":
		if err := onlyKeys(m, path, "ref"); err != nil {
			return nil, err
		}
		label, ok := m["ref"].(string)
		if !ok {
			return nil, &Error{Path: path + ".ref", Msg: "must be a string", Err: ErrStructure}
		}
		p, ok := r.params[label]
		if !ok {
			return nil, &Error{Path: path + ".ref", Label: label, Msg: "refers to no hyperparameter defined before it", Err: ErrStructure}
		}
		return p, nil
	case "dict":
		if err := onlyKeys(m, path, "dict"); err != nil {
			return nil, err
		}
		d, ok := m["dict"].(map[string]any)
		if !ok {
			return nil, &Error{Path: path + ".dict", Msg: "must be an object", Err: ErrStructure}
		}
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the order the writer used, so refs follow definitions
		out := make(Dict, len(d))
		for _, k := range keys {
			v, err := r.node(d[k], path+".dict["+strconv.Quote(k)+"]", depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case "list":
		if err := onlyKeys(m, path, "list"); err != nil {
			return nil, err
		}
		return r.nodes(m["list"], path+".list", depth+1)
	case "const":
		if err := onlyKeys(m, path, "const"); err != nil {
			return nil, err
		}
		c, err := constFromJSON(m["const"], path+".const")
		if err != nil {
			return nil, err
		}
		return Const(c), nil
	}
	return r.param(m, path, depth)
}

func (r *jsonReader) nodes(v any, path string, depth int) (List, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, &Error{Path: path, Msg: "must be an array", Err: ErrStructure}
	}
	out := make(List, len(l))
	for i, x := range l {
		v, err := r.node(x, fmt.Sprintf("%s[%d]", path, i), depth)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (r *jsonReader) param(m map[string]any, path string, depth int) (any, error) {
	label, ok := m["param"].(string)
	if !ok {
		return nil, &Error{Path: path + ".param", Msg: "must be a string", Err: ErrStructure}
	}
	name, ok := m["dist"].(string)
	if !ok {
		return nil, &Error{Path: path + ".dist", Label: label, Msg: "must be a distribution name", Err: ErrStructure}
	}
	d, ok := distNames[name]
	if !ok {
		return nil, &Error{Path: path + ".dist", Label: label, Msg: fmt.Sprintf("unknown distribution %q", name), Err: ErrStructure}
	}
	if _, dup := r.params[label]; dup {
		return nil, &Error{Path: path, Label: label, Msg: `hyperparameter defined twice (use {"ref": label} to share it)`, Err: ErrDuplicateLabel}
	}
	allowed := []string{"param", "dist"}
	for _, a := range d.args() {
		allowed = append(allowed, a.name)
	}
	if d.Kind == KindChoice {
		allowed = append(allowed, "options")
		if name == "pchoice" {
			allowed = append(allowed, "p")
		}
	}
	if err := onlyKeys(m, path, allowed...); err != nil {
		return nil, err
	}
	num := func(key string) (float64, error) {
		raw, ok := m[key]
		if !ok {
			return 0, &Error{Path: path, Label: label, Msg: fmt.Sprintf("%s needs %q", name, key), Err: ErrStructure}
		}
		x, err := jsonNumber(raw)
		if err != nil {
			return 0, &Error{Path: path + "." + key, Label: label, Msg: "must be a number", Err: ErrStructure}
		}
		return x, nil
	}
	var err error
	for _, key := range allowed[2:] {
		switch key {
		case "low":
			d.Low, err = num(key)
		case "high":
			d.High, err = num(key)
		case "mu":
			d.Mu, err = num(key)
		case "sigma":
			d.Sigma, err = num(key)
		case "q":
			d.Q, err = num(key)
		}
		if err != nil {
			return nil, err
		}
	}
	p := &Param{label: label}
	if d.Kind == KindChoice {
		raw, ok := m["options"]
		if !ok {
			return nil, &Error{Path: path, Label: label, Msg: `choice needs "options"`, Err: ErrStructure}
		}
		if name == "pchoice" {
			ps, ok := m["p"].([]any)
			bad := &Error{Path: path + ".p", Label: label, Msg: "must be an array of numbers", Err: ErrStructure}
			if !ok {
				return nil, bad
			}
			d.Probs = make([]float64, len(ps))
			for i, x := range ps {
				if d.Probs[i], err = jsonNumber(x); err != nil {
					return nil, bad
				}
			}
		}
		// Register before reading the options, so that a ref inside them
		// resolves to this choice and New reports the cycle.
		r.params[label] = p
		opts, err := r.nodes(raw, path+".options", depth+1)
		if err != nil {
			return nil, err
		}
		p.options = opts
		d.High = float64(len(opts))
	}
	if msg, err := d.check(); err != nil {
		return nil, &Error{Path: path, Label: label, Msg: msg, Err: err}
	}
	p.dist = d
	r.params[label] = p
	return p, nil
}

// jsonNumber returns the float64 of a number decoded with UseNumber.
func jsonNumber(v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%v is not a number", v)
	}
	return n.Float64()
}

// constFromJSON converts a constant decoded with UseNumber: numbers with a
// fraction or exponent become float64, the others int.
func constFromJSON(v any, path string) (any, error) {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil && i == int64(int(i)) {
				return int(i), nil
			}
			if u, err := strconv.ParseUint(s, 10, 64); err == nil {
				return u, nil // a uint64 constant beyond int's range
			}
			return nil, &Error{Path: path, Msg: fmt.Sprintf("integer %s does not fit an int or a uint64", s), Err: ErrStructure}
		}
		f, err := x.Float64()
		if err != nil {
			return nil, &Error{Path: path, Msg: fmt.Sprintf("number %s does not fit a float64", s), Err: ErrStructure}
		}
		return f, nil
	case []any:
		for i := range x {
			c, err := constFromJSON(x[i], fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	case map[string]any:
		for k := range x {
			c, err := constFromJSON(x[k], path+"["+strconv.Quote(k)+"]")
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	}
	return v, nil
}
