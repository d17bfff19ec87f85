package space

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Decode evaluates v (see [Space.Eval]) and stores the config in the value
// dst points to, as [DecodeConfig] does.
func (s *Space) Decode(v Values, dst any) error {
	cfg, err := s.Eval(v)
	if err != nil {
		return err
	}
	return DecodeConfig(cfg, dst)
}

// DecodeConfig stores config cfg (as [Space.Eval] returns it) in the value
// dst points to, much as encoding/json would:
//
//   - a map fills a struct: each key goes to the field tagged
//     `hyperopt:"key"`, or else to the field whose name equals the key,
//     ignoring case; a field tagged `hyperopt:"-"` is never filled. A key
//     with no field is an error (a typo must not leave a zero value
//     silently); a field with no key (a hyperparameter of an unselected
//     branch) is left as it is;
//   - a map also fills a map with string keys, a list a slice or an array of
//     the same length, and anything goes into an interface that it
//     implements;
//   - a number fills any integer field if it is a whole number in range, and
//     any float field;
//   - a pointer field is allocated and filled;
//   - any value assignable to the field (a constant option such as a
//     function) is assigned as it is.
//
// A value that does not fit its field is an [*Error] wrapping [ErrDecode]
// whose Path names the field. dst must be a non-nil pointer.
func DecodeConfig(cfg any, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &Error{Msg: fmt.Sprintf("decode needs a non-nil pointer, got %T", dst), Err: ErrDecode}
	}
	return decodeValue(cfg, rv.Elem(), "config")
}

func decodeErr(path string, v any, t reflect.Type, why string) error {
	msg := fmt.Sprintf("cannot store %s in a %v", describe(v), t)
	if why != "" {
		msg += ": " + why
	}
	return &Error{Path: path, Msg: msg, Err: ErrDecode}
}

func decodeValue(v any, dst reflect.Value, path string) error {
	t := dst.Type()
	if v == nil {
		switch t.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
			dst.SetZero()
			return nil
		}
		return decodeErr(path, v, t, "")
	}
	if t.Kind() == reflect.Interface {
		sv := reflect.ValueOf(v)
		if !sv.Type().Implements(t) {
			return decodeErr(path, v, t, "")
		}
		dst.Set(sv)
		return nil
	}
	if sv := reflect.ValueOf(v); sv.Type().AssignableTo(t) && sv.Kind() != reflect.Map && sv.Kind() != reflect.Slice {
		dst.Set(sv)
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if dst.IsNil() {
			dst.Set(reflect.New(t.Elem()))
		}
		return decodeValue(v, dst.Elem(), path)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return decodeErr(path, v, t, "")
		}
		dst.SetBool(b)
	case reflect.String:
		sv := reflect.ValueOf(v)
		if sv.Kind() != reflect.String {
			return decodeErr(path, v, t, "")
		}
		dst.SetString(sv.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, ok := number(v)
		if !ok {
			return decodeErr(path, v, t, "")
		}
		if x != math.Trunc(x) {
			return decodeErr(path, v, t, "not a whole number")
		}
		if x < -(1<<63) || x >= 1<<63 || dst.OverflowInt(int64(x)) {
			return decodeErr(path, v, t, "out of range")
		}
		dst.SetInt(int64(x))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x, ok := number(v)
		if !ok {
			return decodeErr(path, v, t, "")
		}
		if x != math.Trunc(x) {
			return decodeErr(path, v, t, "not a whole number")
		}
		if x < 0 || x >= 1<<64 || dst.OverflowUint(uint64(x)) {
			return decodeErr(path, v, t, "out of range")
		}
		dst.SetUint(uint64(x))
	case reflect.Float32, reflect.Float64:
		x, ok := number(v)
		if !ok {
			return decodeErr(path, v, t, "")
		}
		if t.Kind() == reflect.Float32 && !math.IsInf(x, 0) && math.Abs(x) > math.MaxFloat32 {
			return decodeErr(path, v, t, "out of range")
		}
		dst.SetFloat(x)
	case reflect.Slice, reflect.Array:
		sv := reflect.ValueOf(v)
		if sv.Kind() != reflect.Slice && sv.Kind() != reflect.Array {
			return decodeErr(path, v, t, "")
		}
		n := sv.Len()
		if t.Kind() == reflect.Array {
			if n != t.Len() {
				return decodeErr(path, v, t, fmt.Sprintf("%d elements for an array of %d", n, t.Len()))
			}
		} else {
			dst.Set(reflect.MakeSlice(t, n, n))
		}
		for i := range n {
			if err := decodeValue(sv.Index(i).Interface(), dst.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		get, keys, ok := mapOf(v)
		if !ok || t.Key().Kind() != reflect.String {
			return decodeErr(path, v, t, "")
		}
		m := reflect.MakeMapWithSize(t, len(keys))
		for _, k := range keys {
			x, _ := get(k)
			ev := reflect.New(t.Elem()).Elem()
			if err := decodeValue(x, ev, path+"["+strconv.Quote(k)+"]"); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		dst.Set(m)
	case reflect.Struct:
		get, keys, ok := mapOf(v)
		if !ok {
			return decodeErr(path, v, t, "")
		}
		for _, k := range keys {
			f, ok := fieldFor(t, k)
			if !ok {
				return &Error{Path: path, Msg: fmt.Sprintf("config key %q has no field in %v (tag a field `hyperopt:%q`)", k, t, k), Err: ErrDecode}
			}
			x, _ := get(k)
			if err := decodeValue(x, dst.FieldByIndex(f.Index), path+"."+f.Name); err != nil {
				return err
			}
		}
	default:
		return decodeErr(path, v, t, "")
	}
	return nil
}

// fieldFor finds the exported field of struct type t that key goes to.
func fieldFor(t reflect.Type, key string) (reflect.StructField, bool) {
	var byName reflect.StructField
	found := false
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("hyperopt"), ",")
		if tag == "-" {
			continue
		}
		if tag != "" {
			if tag == key {
				return f, true
			}
			continue
		}
		if !found && strings.EqualFold(f.Name, key) {
			byName, found = f, true
		}
	}
	return byName, found
}
