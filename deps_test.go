package hyperopt_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hyperopt-go/hyperopt"

// allowed lists, for each package, the packages of this module it may import
// (DESIGN.md, "Packages and the way data flows": arrows point one way).
var allowed = map[string][]string{
	"space":             {},
	"trials":            {"space"},
	"trials/trialstest": {"trials", "space"},
	"random":            {"space", "trials"},
	"tpe":               {"space", "trials", "internal/parzen"},
	"internal/parzen":   {},
	"fmin":              {"space", "trials", "random", "tpe"},
	"internal/domains":  {"space"},
	"trials/sqlite":     {"trials", "space"},
	"trials/postgres":   {"trials", "space"},
	"internal/pgtest":   {},
	"internal/storeurl": {"trials", "trials/sqlite", "trials/postgres"},
}

// core packages must not depend, even indirectly, on a database driver,
// the plotting library or a CLI library: users who only search pay for none
// of them, and durable stores are opened by the user and passed in.
var core = []string{"space", "trials", "random", "tpe", "fmin"}

// forbidden are import path prefixes core packages must not reach.
var forbidden = []string{
	"database/sql",
	"modernc.org/sqlite",
	"github.com/jackc/pgx",
	"gonum.org/v1/plot",
	"github.com/spf13/cobra",
	"github.com/spf13/pflag",
	module + "/trials/sqlite",
	module + "/trials/postgres",
	module + "/plot",
	module + "/cmd",
}

// TestDependencyDirection checks the import rules with go list: the
// packages in allowed import only what they may of this module, and no
// package or test imports math/rand (v1): every draw comes from a seed the
// caller controls, through math/rand/v2.
func TestDependencyDirection(t *testing.T) {
	// go test puts its own GOROOT/bin first on the test's PATH, so the go
	// command is always found there: not finding it is a failure.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .TestImports \" \"}} {{join .XTestImports \" \"}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list failed: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			t.Fatalf("unexpected go list line %q", line)
		}
		pkg, imports, testImports := parts[0], strings.Fields(parts[1]), strings.Fields(parts[2])
		for _, imp := range append(imports, testImports...) {
			if imp == "math/rand" {
				t.Errorf("%s imports math/rand (v1); use math/rand/v2 with a caller's seed", pkg)
			}
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		may, ruled := allowed[rel]
		if !ruled {
			continue
		}
		checked++
		for _, imp := range imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			ok := false
			for _, m := range may {
				ok = ok || dep == m
			}
			if !ok {
				t.Errorf("%s imports %s, which DESIGN.md does not allow", rel, dep)
			}
		}
	}
	if checked != len(allowed) {
		t.Errorf("checked %d ruled packages, want %d: is a package missing?", checked, len(allowed))
	}

	// Only commands, examples and the quality benchmark's harness (which
	// drives searches for cmd/quality and the root benchmarks) import fmin;
	// algorithms and stores never do.
	importsFmin, err := exec.Command(goBin, "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, importsFmin)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(importsFmin)), "\n") {
		f := strings.Fields(line)
		rel := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		if !slices.Contains(f[1:], module+"/fmin") {
			continue
		}
		if !strings.HasPrefix(rel, "cmd/") && !strings.HasPrefix(rel, "examples/") && rel != "internal/quality" {
			t.Errorf("%s imports fmin; only commands, examples and internal/quality may", rel)
		}
	}

	for _, pkg := range core {
		out, err := exec.Command(goBin, "list", "-deps", "./"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
