package compiler_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func testCatalog() segment.Catalog {
	return segment.StaticCatalog{
		segment.ScopeUser: {"plan": attr.String, "ltv": attr.Number, "beta": attr.Boolean,
			"signed_up_at": attr.Datetime, "persona": attr.String},
		segment.ScopeCompany: {"industry": attr.String, "employees": attr.Number},
	}
}

func compile(t *testing.T, text string, saved map[string]string) (compiler.Query, error) {
	t.Helper()
	return compileAt(t, text, saved, false)
}

// compileAt compiles text, as it stands now or, with historical, as it
// stood at now in the past.
func compileAt(t *testing.T, text string, saved map[string]string, historical bool) (compiler.Query, error) {
	t.Helper()
	n, err := segment.Parse(text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	if err := segment.Validate(n, testCatalog()); err != nil {
		t.Fatalf("validate %q: %v", text, err)
	}
	c := &compiler.Compiler{Site: 7, Now: now, Catalog: testCatalog(), Dialect: compiler.DuckDB{}, Historical: historical,
		Resolve: func(id string) (segment.Node, error) {
			src, ok := saved[id]
			if !ok {
				return nil, errors.New("no such segment")
			}
			return segment.Parse(src)
		}}
	return c.Members(n)
}

// TestGolden compiles each testdata/*.seg file (one definition per file)
// and compares the SQL and arguments with the .sql file beside it. Files
// named historical_* are compiled as of a moment in the past.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.seg")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			historical := strings.HasPrefix(filepath.Base(f), "historical_")
			q, err := compileAt(t, string(src), map[string]string{"seg_pro": `plan = "pro"`}, historical)
			if err != nil {
				t.Fatal(err)
			}
			got := render(q)
			golden := strings.TrimSuffix(f, ".seg") + ".sql"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("SQL changed for %s:\n got: %s\nwant: %s", f, got, want)
			}
		})
	}
}

// render prints a query with its arguments, one per line.
func render(q compiler.Query) string {
	var b strings.Builder
	b.WriteString(q.SQL)
	b.WriteString("\n-- args:\n")
	for i, a := range q.Args {
		if t, ok := a.(time.Time); ok {
			a = t.Format(time.RFC3339Nano)
		}
		fmt.Fprintf(&b, "-- $%d = %#v\n", i+1, a)
	}
	return b.String()
}

func TestUserTextOnlyInArguments(t *testing.T) {
	evil := `x'; DROP TABLE events; --`
	q, err := compile(t, fmt.Sprintf(`plan = %q or did(%q, 7d, %s = %q) or visited(contains %q) or session.country = %q or rage_clicks(page = %q)`,
		evil, evil, "format", evil, evil, evil, evil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(q.SQL, "DROP") || strings.Contains(q.SQL, "'x") {
		t.Fatalf("user text reached the SQL: %s", q.SQL)
	}
	if n := strings.Count(q.SQL, "?"); n != len(q.Args) {
		t.Fatalf("%d placeholders for %d arguments", n, len(q.Args))
	}
}

func TestCycleIsRefused(t *testing.T) {
	_, err := compile(t, `in_segment("a")`, map[string]string{"a": `in_segment("b")`, "b": `plan = "x" or in_segment("a")`})
	if !errors.Is(err, compiler.ErrCycle) {
		t.Fatalf("err = %v, want ErrCycle", err)
	}
}
