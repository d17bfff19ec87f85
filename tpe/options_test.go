package tpe_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/hyperopt-go/hyperopt/random"
	"github.com/hyperopt-go/hyperopt/tpe"
)

// TestOptionRanges checks, for every numeric field of tpe.Search found by
// reflection, that its doc comment states its range ("Range: ...") and
// that Validate refuses values outside it (naming the field and the value)
// and accepts values at its edges. A numeric field added without a range
// fails here. random.Search has no options; one added fails here too.
func TestOptionRanges(t *testing.T) {
	outside := map[string][]any{
		"GammaRule":        {2, 255},
		"Gamma":            {-0.1, 1.5, math.NaN(), math.Inf(1), math.Inf(-1)},
		"MinBandwidth":     {-1, 1e-7, 0.51, math.NaN(), math.Inf(1)},
		"PriorWeight":      {-1, math.NaN(), math.Inf(1)},
		"StartupTrials":    {1_000_001, math.MaxInt},
		"Candidates":       {-1, 10_001, 100_000_000},
		"LinearForgetting": {-1, math.MinInt},
		"Liar":             {4, 255},
	}
	inside := map[string][]any{
		"GammaRule":        {0, 1},
		"Gamma":            {0, 1e-9, 1},
		"MinBandwidth":     {0, 1e-6, 0.5},
		"PriorWeight":      {0, 1e-9, 1e9},
		"StartupTrials":    {math.MinInt, -1, 0, 1_000_000},
		"Candidates":       {0, 1, 10_000},
		"LinearForgetting": {0, 1, math.MaxInt},
		"Liar":             {0, 3},
	}
	docs := fieldDocs(t, "tpe.go", "Search")
	typ := reflect.TypeFor[tpe.Search]()
	seen := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Type.Kind() {
		case reflect.Bool:
			continue
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64:
		default:
			t.Errorf("%s: a %v field; give it a range and extend this test", f.Name, f.Type)
			continue
		}
		seen[f.Name] = true
		if !strings.Contains(docs[f.Name], "Range: ") {
			t.Errorf("%s: its doc comment does not state its range (\"Range: ...\")", f.Name)
		}
		if len(outside[f.Name]) == 0 {
			t.Errorf("%s: no out-of-range values in this test: give it a range that Validate enforces", f.Name)
		}
		set := func(v any) tpe.Search {
			var s tpe.Search
			s.GammaRule = tpe.GammaLinear
			reflect.ValueOf(&s).Elem().Field(i).Set(reflect.ValueOf(v).Convert(f.Type))
			return s
		}
		for _, v := range outside[f.Name] {
			s := set(v)
			err := s.Validate()
			want := fmt.Sprintf("%s = %v", f.Name, reflect.ValueOf(s).Field(i).Interface())
			if !errors.Is(err, tpe.ErrInvalidOption) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s = %v: Validate = %v, want ErrInvalidOption naming %q", f.Name, v, err, want)
			}
		}
		for _, v := range inside[f.Name] {
			if err := set(v).Validate(); err != nil {
				t.Errorf("%s = %v: Validate = %v, want nil", f.Name, v, err)
			}
		}
	}
	for name := range outside {
		if !seen[name] {
			t.Errorf("%s: in this test but not a numeric field of tpe.Search", name)
		}
	}
	// Under GammaSqrt, Gamma is any finite non-negative factor.
	if err := (tpe.Search{GammaRule: tpe.GammaSqrt, Gamma: 4}).Validate(); err != nil {
		t.Errorf("GammaSqrt, Gamma = 4: %v", err)
	}
	if n := reflect.TypeFor[random.Search]().NumField(); n != 0 {
		t.Errorf("random.Search has %d options: document their ranges, enforce them in a Validate and test them as tpe.Search's", n)
	}
}

// fieldDocs returns the doc comments of the fields of struct typeName in
// file, by field name.
func fieldDocs(t *testing.T, file, typeName string) map[string]string {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != typeName {
			return true
		}
		for _, fld := range ts.Type.(*ast.StructType).Fields.List {
			for _, name := range fld.Names {
				docs[name.Name] = fld.Doc.Text()
			}
		}
		return false
	})
	if len(docs) == 0 {
		t.Fatalf("no struct %s in %s", typeName, file)
	}
	return docs
}
