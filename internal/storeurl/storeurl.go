// Package storeurl opens a trials store named by one string, for the
// project's commands and examples: a PostgreSQL DSN
// ("postgres://user@host/db", "postgresql://...", or key=value form
// starting with "host="), "memory:" for a new in-memory store, or the path
// of an SQLite file (optionally as "sqlite:path").
package storeurl

import (
	"context"
	"fmt"
	"strings"

	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/postgres"
	"github.com/hyperopt-go/hyperopt/trials/sqlite"
)

// Open opens the store that name names (see the package documentation).
func Open(ctx context.Context, name string) (trials.Store, error) {
	switch {
	case name == "":
		return nil, fmt.Errorf("storeurl: empty store name: give an SQLite file path or a postgres:// DSN")
	case name == "memory:":
		return trials.NewMemory(nil), nil
	case strings.HasPrefix(name, "postgres://"), strings.HasPrefix(name, "postgresql://"), strings.HasPrefix(name, "host="):
		return postgres.Open(ctx, name, nil)
	default:
		return sqlite.Open(ctx, strings.TrimPrefix(name, "sqlite:"), nil)
	}
}
