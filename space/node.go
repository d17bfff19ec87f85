package space

// A Node is an element of a search space: a hyperparameter (*Param), a
// [Dict], a [List] or a constant made by [Const]. The set is closed.
//
// Wherever a Node is expected inside a Dict, a List or the options of a
// choice, any other Go value may be given instead: a map[string]any is read
// as a Dict, a []any as a List, and anything else is a constant that
// [Space.Eval] returns unchanged.
type Node interface{ node() }

// A Param is one hyperparameter: a label and its prior, and for a choice its
// options. Params are made by the constructors of this package (Uniform,
// Choice, ...) and checked by [New]. Using the same *Param in several places
// of a space makes them one hyperparameter, with one value per point; two
// distinct Params with the same label are an error.
type Param struct {
	label   string
	dist    Dist
	options []any
}

func (*Param) node() {}

// Label returns the hyperparameter's label.
func (p *Param) Label() string { return p.label }

// Dist returns the hyperparameter's prior.
func (p *Param) Dist() Dist {
	d := p.dist
	if d.Probs != nil {
		d.Probs = append([]float64(nil), d.Probs...)
	}
	return d
}

// Dict is a node whose value is a map[string]any, with one entry per key:
// its values are nodes or constants.
type Dict map[string]any

func (Dict) node() {}

// List is a node whose value is a []any, with one element per entry: its
// entries are nodes or constants.
type List []any

func (List) node() {}

type constant struct{ v any }

func (constant) node() {}

// Const returns a node whose value is v, as it is: a map or slice given to
// Const is a constant, never searched for nodes.
func Const(v any) Node { return constant{v} }

func param(label string, d Dist) *Param { return &Param{label: label, dist: d} }

// Uniform is hp.uniform: a float drawn uniformly from [low, high).
func Uniform(label string, low, high float64) *Param {
	return param(label, Dist{Kind: KindUniform, Low: low, High: high})
}

// QUniform is hp.quniform: q·round(U(low, high)/q), a float, rounding half to
// even. The end points of the grid carry less mass (see [Dist.LogProb]).
func QUniform(label string, low, high, q float64) *Param {
	return param(label, Dist{Kind: KindQUniform, Low: low, High: high, Q: q})
}

// QUniformInt is [QUniform] with an integer value; q must be a whole number.
func QUniformInt(label string, low, high, q float64) *Param {
	return param(label, Dist{Kind: KindQUniform, Low: low, High: high, Q: q, Int: true})
}

// UniformInt is hp.uniformint: round(U(low, high)), an int. As in HyperOpt
// (a quniform with q = 1), the end points low and high get half the mass of
// the integers between them. [RandIntRange] weighs all integers equally.
func UniformInt(label string, low, high int) *Param {
	return param(label, Dist{Kind: KindQUniform, Low: float64(low), High: float64(high), Q: 1, Int: true})
}

// LogUniform is hp.loguniform: exp(U(log low, log high)), a float in
// [low, high]. The bounds are natural values: LogUniform("lr", 1e-5, 1e-1) is
// HyperOpt's hp.loguniform("lr", log(1e-5), log(1e-1)).
func LogUniform(label string, low, high float64) *Param {
	return param(label, Dist{Kind: KindLogUniform, Low: low, High: high})
}

// QLogUniform is hp.qloguniform: q·round(exp(U(log low, log high))/q), a
// float, with natural bounds as [LogUniform].
func QLogUniform(label string, low, high, q float64) *Param {
	return param(label, Dist{Kind: KindQLogUniform, Low: low, High: high, Q: q})
}

// QLogUniformInt is [QLogUniform] with an integer value; q must be a whole
// number.
func QLogUniformInt(label string, low, high, q float64) *Param {
	return param(label, Dist{Kind: KindQLogUniform, Low: low, High: high, Q: q, Int: true})
}

// Normal is hp.normal: a float drawn from N(mu, sigma), unbounded.
func Normal(label string, mu, sigma float64) *Param {
	return param(label, Dist{Kind: KindNormal, Mu: mu, Sigma: sigma})
}

// QNormal is hp.qnormal: q·round(N(mu, sigma)/q), a float.
func QNormal(label string, mu, sigma, q float64) *Param {
	return param(label, Dist{Kind: KindQNormal, Mu: mu, Sigma: sigma, Q: q})
}

// QNormalInt is [QNormal] with an integer value; q must be a whole number.
func QNormalInt(label string, mu, sigma, q float64) *Param {
	return param(label, Dist{Kind: KindQNormal, Mu: mu, Sigma: sigma, Q: q, Int: true})
}

// LogNormal is hp.lognormal: exp(N(mu, sigma)), a positive float. As in
// HyperOpt, mu and sigma are those of the logarithm of the value.
func LogNormal(label string, mu, sigma float64) *Param {
	return param(label, Dist{Kind: KindLogNormal, Mu: mu, Sigma: sigma})
}

// QLogNormal is hp.qlognormal: q·round(exp(N(mu, sigma))/q), a float >= 0,
// with mu and sigma those of the logarithm as in [LogNormal].
func QLogNormal(label string, mu, sigma, q float64) *Param {
	return param(label, Dist{Kind: KindQLogNormal, Mu: mu, Sigma: sigma, Q: q})
}

// QLogNormalInt is [QLogNormal] with an integer value; q must be a whole
// number.
func QLogNormalInt(label string, mu, sigma, q float64) *Param {
	return param(label, Dist{Kind: KindQLogNormal, Mu: mu, Sigma: sigma, Q: q, Int: true})
}

// RandInt is hp.randint(label, upper): an int drawn uniformly from [0, upper).
func RandInt(label string, upper int) *Param {
	return RandIntRange(label, 0, upper)
}

// RandIntRange is hp.randint(label, low, upper): an int drawn uniformly from
// [low, upper).
func RandIntRange(label string, low, upper int) *Param {
	return param(label, Dist{Kind: KindRandInt, Low: float64(low), High: float64(upper), Int: true})
}

// Choice is hp.choice: one of the options, each with the same probability.
// An option is a node (a sub-space, whose hyperparameters are active only
// when the option is chosen) or a constant. The point stores the option's
// index; [Space.Eval] returns the option's value and [Space.Encode] takes it.
func Choice(label string, options ...any) *Param {
	return &Param{label: label, dist: Dist{Kind: KindChoice, High: float64(len(options))}, options: options}
}

// An Option is one option of a [PChoice] with its probability.
type Option struct {
	P     float64 // probability, >= 0; the probabilities of a PChoice sum to 1
	Value any     // a node or a constant, as an option of Choice
}

// PChoice is hp.pchoice: one of the options, drawn with the given
// probabilities, which must be >= 0 and sum to 1 within 1e-6 (they are then
// rescaled to sum to exactly 1).
func PChoice(label string, options ...Option) *Param {
	p := &Param{label: label, dist: Dist{Kind: KindChoice, High: float64(len(options)), Probs: make([]float64, len(options))}}
	p.options = make([]any, len(options))
	for i, o := range options {
		p.dist.Probs[i] = o.P
		p.options[i] = o.Value
	}
	return p
}
