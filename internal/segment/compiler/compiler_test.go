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

// dialects are the dialects under test, by the folder of their golden
// files under testdata ("" for DuckDB's, testdata itself).
var dialects = []struct {
	dir     string
	dialect compiler.Dialect
}{{"", compiler.DuckDB{}}, {"clickhouse", compiler.ClickHouse{}}}

func compile(t *testing.T, d compiler.Dialect, text string, saved map[string]string) (compiler.Query, error) {
	t.Helper()
	c, n := testCompiler(t, d, text, saved)
	return c.Members(n)
}

// memberUser is the user key the member_* golden files are compiled for.
const memberUser = 42

// testCompiler parses and validates text and returns a compiler for it.
func testCompiler(t *testing.T, d compiler.Dialect, text string, saved map[string]string) (*compiler.Compiler, segment.Node) {
	t.Helper()
	n, err := segment.Parse(text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	if err := segment.Validate(n, testCatalog()); err != nil {
		t.Fatalf("validate %q: %v", text, err)
	}
	c := &compiler.Compiler{Site: 7, Now: now, Catalog: testCatalog(), Dialect: d,
		Resolve: func(id string) (segment.Node, error) {
			src, ok := saved[id]
			if !ok {
				return nil, errors.New("no such segment")
			}
			return segment.Parse(src)
		}}
	return c, n
}

// TestGolden compiles each testdata/*.seg file (one definition per file)
// in each dialect and compares the SQL and arguments with the .sql file
// of the same name in the dialect's folder. Files named historical_* are
// compiled as of a moment in the past, member_* for the one user
// memberUser (Member), page_* as a page of members (Page).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.seg")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, d := range dialects {
		for _, f := range files {
			name := filepath.Base(f)
			t.Run(filepath.Join(d.dir, name), func(t *testing.T) {
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				saved := map[string]string{"seg_pro": `plan = "pro"`}
				c, n := testCompiler(t, d.dialect, string(src), saved)
				var q compiler.Query
				switch {
				case strings.HasPrefix(name, "member_"):
					q, err = c.Member(n, memberUser)
				case strings.HasPrefix(name, "page_"):
					q, err = c.Page(n, 100, 50, true)
				default:
					c.Historical = strings.HasPrefix(name, "historical_")
					q, err = c.Members(n)
				}
				if err != nil {
					t.Fatal(err)
				}
				got := render(q)
				golden := filepath.Join("testdata", d.dir, strings.TrimSuffix(name, ".seg")+".sql")
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
					t.Errorf("SQL changed for %s:\n got: %s\nwant: %s", golden, got, want)
				}
			})
		}
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
	for _, d := range dialects {
		t.Run(fmt.Sprintf("%T", d.dialect), func(t *testing.T) { userTextOnlyInArguments(t, d.dialect) })
	}
}

func userTextOnlyInArguments(t *testing.T, d compiler.Dialect) {
	evil := `x'; DROP TABLE events; --`
	q, err := compile(t, d, fmt.Sprintf(`plan = %q or did(%q, 7d, %s = %q) or visited(contains %q) or session.country = %q or rage_clicks(page = %q)`,
		evil, evil, "format", evil, evil, evil, evil), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, n := testCompiler(t, d, fmt.Sprintf(`plan = %q or did(%q, 7d, %s = %q) or not visited(contains %q)`, evil, evil, "format", evil, evil), nil)
	member, err := c.Member(n, memberUser)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []compiler.Query{q, member} {
		if strings.Contains(q.SQL, "DROP") || strings.Contains(q.SQL, "'x") {
			t.Fatalf("user text reached the SQL: %s", q.SQL)
		}
		if n := strings.Count(q.SQL, "?"); n != len(q.Args) {
			t.Fatalf("%d placeholders for %d arguments", n, len(q.Args))
		}
	}
}

// TestMemberEmptyGroups: all of nothing is everyone (the user exists),
// any of nothing no one. Parsing refuses empty groups; the compiler still
// answers for trees built in code.
func TestMemberEmptyGroups(t *testing.T) {
	const user = "EXISTS (SELECT DISTINCT entity_key AS u FROM identities WHERE site_id = ? AND entity_key = ? AND kind IN (1, 2))"
	tests := []struct {
		name string
		n    segment.Node
		sql  string
	}{
		{"all of nothing", &segment.Group{Op: segment.All}, "SELECT " + user},
		{"any of nothing", &segment.Group{Op: segment.Any}, "SELECT 1 = 0"},
		{"not any of nothing", &segment.Not{Condition: &segment.Group{Op: segment.Any}}, "SELECT (" + user + " AND NOT (1 = 0))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &compiler.Compiler{Site: 7, Now: now, Catalog: testCatalog(), Dialect: compiler.DuckDB{}}
			q, err := c.Member(tt.n, memberUser)
			if err != nil {
				t.Fatal(err)
			}
			if q.SQL != tt.sql {
				t.Errorf("SQL:\n got %s\nwant %s", q.SQL, tt.sql)
			}
		})
	}
}

// TestMergedScans checks that a group's did(…) conditions and current
// attributes share scans, at most maxMergedTerms (32) to a scan, and that
// the other conditions keep theirs. What the merged SQL answers is the
// oracle's to check (engine.TestOracleWideGroups).
func TestMergedScans(t *testing.T) {
	join := func(n int, op, format string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(format, i)
		}
		return strings.Join(parts, " "+op+" ")
	}
	tests := []struct {
		name, text string
		scans      map[string]int // SQL text → how often
	}{
		{"70 did and'ed", join(70, "and", `did("e%d", 30d)`),
			map[string]int{"FROM events": 3, "GROUP BY user_key HAVING": 3}},
		{"70 did or'ed: no counts", join(70, "or", `did("e%d", 30d)`),
			map[string]int{"FROM events": 3, "SELECT DISTINCT user_key": 3, "GROUP BY": 0}},
		{"or with a not did: counts", join(3, "or", `did("e%d")`) + ` or not did("x", k = "v")`,
			map[string]int{"FROM events": 1, "NOT IN": 1, "GROUP BY user_key HAVING NOT": 1}},
		{"attributes and did", join(40, "and", `plan != "p%d"`) + " and " + join(2, "and", `did("e%d")`) + ` and visited("/x")`,
			map[string]int{"FROM attr_current": 2, "FROM events": 2, "GROUP BY entity_key": 2}},
		{"one of a kind is not merged", `plan = "a" or did("e")`,
			map[string]int{"FROM attr_current WHERE site_id = ? AND entity = 0 AND key = ?": 1, "FILTER": 0}},
		{"company attributes and as of are not merged", `company.industry = "a" and company.industry = "b" and plan = "a" as of 2025-01-01 and plan = "b" as of 2025-01-01`,
			map[string]int{"FILTER": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := compile(t, compiler.DuckDB{}, tt.text, nil)
			if err != nil {
				t.Fatal(err)
			}
			for s, want := range tt.scans {
				if got := strings.Count(q.SQL, s); got != want {
					t.Errorf("%q: %d times, want %d\n%s", s, got, want, q.SQL)
				}
			}
			if n := strings.Count(q.SQL, "?"); n != len(q.Args) {
				t.Errorf("%d placeholders for %d arguments", n, len(q.Args))
			}
		})
	}
}
