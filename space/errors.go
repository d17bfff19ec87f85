package space

import (
	"errors"
	"strconv"
)

// The categories of error this package returns. Every error from [New],
// [Space.Validate], [Space.Eval], [Space.Encode], [Space.Fix], [Space.Decode],
// [DecodeConfig] and the JSON unmarshaler matches exactly one of them with
// [errors.Is], and usually one of the more specific reasons below as well.
var (
	// ErrInvalidSpace: New (or the JSON unmarshaler) refused a space.
	ErrInvalidSpace = errors.New("invalid space")
	// ErrInvalidValues: a Values does not describe a point of the space.
	ErrInvalidValues = errors.New("invalid values")
	// ErrInvalidConfig: a config given to Encode or Fix is not a point of the space.
	ErrInvalidConfig = errors.New("invalid config")
	// ErrDecode: a config does not fit the Go value it is decoded into.
	ErrDecode = errors.New("cannot decode config")
)

// Specific reasons. Each one also matches its category with [errors.Is]
// (for example errors.Is(err, ErrBounds) implies errors.Is(err, ErrInvalidSpace)).
var (
	ErrEmptyLabel     = reason("empty label", ErrInvalidSpace)
	ErrDuplicateLabel = reason("duplicate label", ErrInvalidSpace)
	ErrBounds         = reason("bad bounds", ErrInvalidSpace)        // low >= high, or an empty integer range
	ErrNotFinite      = reason("not finite", ErrInvalidSpace)        // a NaN or infinite argument
	ErrNotPositive    = reason("not positive", ErrInvalidSpace)      // q, sigma or a log bound <= 0
	ErrEmptyChoice    = reason("empty choice", ErrInvalidSpace)      // a choice without options
	ErrProbabilities  = reason("bad probabilities", ErrInvalidSpace) // negative, or not summing to 1
	ErrStructure      = reason("bad structure", ErrInvalidSpace)     // a cycle, a nil node, a malformed JSON document
	// ErrZeroSpace: a method was called on a Space that New or
	// UnmarshalJSON did not make (the zero value, or a nil *Space).
	ErrZeroSpace = reason("the zero Space: make one with New or UnmarshalJSON", ErrInvalidSpace)

	ErrOutOfSupport = reason("value out of support", ErrInvalidValues) // an active value the prior cannot produce
	ErrMissing      = reason("missing value", ErrInvalidValues)        // an active hyperparameter without a value
	ErrInactive     = reason("inactive value set", ErrInvalidValues)   // a value for a hyperparameter of an unselected branch

	ErrNoMatch   = reason("no match", ErrInvalidConfig)         // the config fits no option of a choice, or no part of the space
	ErrAmbiguous = reason("ambiguous config", ErrInvalidConfig) // the config fits several options of a choice
)

// reasonError is a sentinel that also matches a category.
type reasonError struct {
	msg string
	cat error
}

func reason(msg string, cat error) error { return &reasonError{msg, cat} }

func (r *reasonError) Error() string        { return r.msg }
func (r *reasonError) Is(target error) bool { return target == r.cat }

// An Error reports a problem with one hyperparameter or one place of a space.
// Err is one of the package's sentinel errors (test it with [errors.Is]);
// Msg is the human-readable detail, naming the bad value.
type Error struct {
	Label string // the hyperparameter concerned, or "" if none is
	Path  string // where in the space or the JSON document, or "" if not known
	Msg   string // what is wrong, with the offending value
	Err   error  // the reason: one of the Err* variables of this package
}

// Error returns "space: ", the path and label if known, and the detail.
func (e *Error) Error() string {
	s := "space: "
	if e.Path != "" {
		s += e.Path + ": "
	}
	if e.Label != "" {
		s += strconv.Quote(e.Label) + ": "
	}
	return s + e.Msg
}

// Unwrap returns the reason.
func (e *Error) Unwrap() error { return e.Err }
