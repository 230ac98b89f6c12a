package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
)

// regexpCatalog has one string attribute to match against.
var regexpCatalog = segment.StaticCatalog{segment.ScopeUser: {"plan": attr.String}}

// validates reports whether validation accepts pattern after matches.
func validates(pattern string) bool {
	n := &segment.Attribute{Key: "plan", Op: segment.OpMatches, Values: []segment.Value{{Kind: segment.ValString, Str: pattern}}}
	return segment.Validate(n, regexpCatalog) == nil
}

// duckRegexp returns a function reporting DuckDB's error for a pattern in
// regexp_matches, as the compiled segments use it.
func duckRegexp(t *testing.T) func(pattern string) error {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func(pattern string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		var b bool
		err := db.QueryRowContext(ctx, "SELECT regexp_matches('probe', ?)", pattern).Scan(&b)
		if took := time.Since(start); took > time.Second {
			t.Logf("%q: %s in DuckDB", pattern, took)
		}
		return err
	}
}

// TestRegexpsAgreeWithDuckDB generates regular expressions in the syntax
// Go and RE2 share and around it (Go-only and RE2-only spellings, large
// repeats of large classes, broken syntax) and checks the property that
// matters: whatever validation accepts, DuckDB compiles. The opposite
// need not hold; how often validation is stricter is logged.
func TestRegexpsAgreeWithDuckDB(t *testing.T) {
	duck := duckRegexp(t)
	r := rand.New(rand.NewPCG(3, 4))
	runs := 1500
	if testing.Short() {
		runs = 300
	}
	patterns := []string{`(?<n>a)`, `\pL{1000}`, `\pL{28}`, `(?i)\pL{28}`, `((\pL){4}){7}`, `[^a]{1000}`,
		`(.{10}){100}`, strings.Repeat("a", segment.MaxRegexpBytes)}
	for range runs {
		patterns = append(patterns, randomRegexp(r))
	}
	var both, neither, stricter int
	for _, p := range patterns {
		switch ok, err := validates(p), duck(p); {
		case ok && err != nil:
			t.Errorf("validation accepts %q, DuckDB refuses it: %v", p, err)
		case ok:
			both++
		case err != nil:
			neither++
		default:
			stricter++
		}
	}
	// Large ones near the bound: only those validation accepts go to
	// DuckDB, which takes seconds to refuse the others.
	large := 0
	for range 20 * runs {
		if large == runs/10 {
			break
		}
		if p := largeRegexp(r); validates(p) {
			if err := duck(p); err != nil {
				t.Errorf("validation accepts %q, DuckDB refuses it: %v", p, err)
			}
			large++
		}
	}
	t.Logf("%d patterns: %d accepted by both, %d refused by both, %d refused by validation only; %d large accepted by both",
		len(patterns), both, neither, stricter, large)
	if both == 0 || neither == 0 || large == 0 {
		t.Errorf("the generator does not reach both sides")
	}
}

// TestUnicodeClassesAgreeWithDuckDB checks every Unicode class name Go's
// tables have: what validation accepts, DuckDB knows. (Go's parser
// refuses the names with an underscore, which DuckDB knows: validation
// refuses them too.)
func TestUnicodeClassesAgreeWithDuckDB(t *testing.T) {
	duck := duckRegexp(t)
	refused := 0
	for _, name := range unicodeNames() {
		for _, p := range []string{`\p{` + name + `}`, `[\P{` + name + `}x]`, `\p{^` + name + `}`} {
			ok, err := validates(p), duck(p)
			if ok && err != nil {
				t.Errorf("validation accepts %s, DuckDB refuses it: %v", p, err)
			}
			if !ok && err == nil {
				refused++
			}
		}
	}
	t.Logf("%d of %d classes refused by validation only", refused, 3*len(unicodeNames()))
	// Go knows these; validation refuses them for DuckDB's sake.
	for _, p := range []string{`\p{Cn}`, `\p{LC}`} {
		if err := duck(p); err == nil || validates(p) {
			t.Errorf("%s: DuckDB: %v; validation accepts it: %v", p, err, validates(p))
		}
	}
}

func unicodeNames() []string {
	var names []string
	for n := range unicode.Scripts {
		names = append(names, n)
	}
	for n := range unicode.Categories {
		names = append(names, n)
	}
	sort.Strings(names)
	return append(names, "Any")
}

// largeRegexp writes a pattern around the largest RE2 compiles: classes
// of many UTF-8 sequences repeated, in repeats, hundreds of times.
func largeRegexp(r *rand.Rand) string {
	class := pickOne(r, `\pL`, `\PL`, `(?i)\pL`, `[^a]`, `.`, `\p{Han}`, `\w`, `[\p{Greek}\p{Cyrillic}]`, `\pN`, `(?s:.)`, "ab")
	most := pickOne(r, 40, 200, 1000)
	inner := 1 + r.IntN(min(most, 50))
	outer := 1 + r.IntN(max(1, most/inner))
	if r.IntN(2) == 0 {
		return fmt.Sprintf("(%s{%d}){%d}", class, inner, outer)
	}
	return fmt.Sprintf("%s{%d}x%s{%d,%d}", class, r.IntN(most), class, inner, inner+r.IntN(most))
}

// randomRegexp writes a random pattern: mostly well formed, sometimes
// mutated.
func randomRegexp(r *rand.Rand) string {
	var b strings.Builder
	writeAlt(r, &b, 0)
	p := b.String()
	if r.IntN(8) == 0 && p != "" { // break it somewhere
		i := r.IntN(len(p) + 1)
		p = p[:i] + pickOne(r, "(", ")", "[", "]", "{", "}", "*", "+", "?", "\\", "|", "^", "{2}", "(?", "(?<") + p[i:]
	}
	return p
}

func pickOne[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func writeAlt(r *rand.Rand, b *strings.Builder, depth int) {
	for i := range 1 + r.IntN(3) {
		if i > 0 {
			b.WriteString("|")
		}
		for range 1 + r.IntN(4) {
			writePiece(r, b, depth)
		}
	}
}

func writePiece(r *rand.Rand, b *strings.Builder, depth int) {
	writeAtom(r, b, depth)
	switch r.IntN(8) {
	case 0:
		b.WriteString(pickOne(r, "*", "+", "?", "*?", "+?", "??"))
	case 1:
		n := pickOne(r, 0, 1, 2, 3, 10, 50, 100, 142, 300, 449, 999, 1000, 1001)
		switch r.IntN(3) {
		case 0:
			fmt.Fprintf(b, "{%d}", n)
		case 1:
			fmt.Fprintf(b, "{%d,}", n)
		default:
			fmt.Fprintf(b, "{%d,%d}", n, n+pickOne(r, 0, 1, 10, 500))
		}
	case 2:
		if r.IntN(4) == 0 {
			b.WriteString(pickOne(r, "**", "{2}{3}", "*+")) // refused by both
		}
	}
}

func writeAtom(r *rand.Rand, b *strings.Builder, depth int) {
	if depth < 3 && r.IntN(4) == 0 {
		b.WriteString(pickOne(r, "(", "(?:", "(?P<n>", "(?<n>", "(?i)(", "(?s:", "(?U:", "(?i-s:"))
		writeAlt(r, b, depth+1)
		b.WriteString(")")
		return
	}
	switch r.IntN(14) {
	case 0:
		b.WriteString(pickOne(r, "a", "é", "日", "😀", `\.`, `\*`, `\\`, `\(`, "K", "ß", " "))
	case 1:
		b.WriteString(pickOne(r, "[a-z]", "[^a]", "[a-zé]", "[0-9a-fA-F]", "[[:alpha:]]", "[[:^word:]x]", "[]a]", "[^]a]",
			`[\d\s]`, `[(?<]`, "[ä-ü]", "[😀-🙏]"))
	case 2:
		b.WriteString(pickOne(r, `\d`, `\w`, `\s`, `\D`, `\W`, `\S`, ".", `\pL`, `\PL`, `\pN`))
	case 3:
		name := pickOne(r, unicodeNames()...)
		if r.IntN(3) > 0 {
			name = pickOne(r, "Greek", "L", "Lu", "N", "Han", "Latin", "Cyrillic", "Arabic", "Cn", "LC")
		}
		b.WriteString(pickOne(r, `\p{`, `\P{`, `\p{^`) + name + "}")
	case 4:
		b.WriteString(pickOne(r, "^", "$", `\b`, `\B`, `\A`, `\z`))
	case 5:
		if r.IntN(3) == 0 {
			b.WriteString(pickOne(r, `\x{110000}`, `\C`, `\Z`, `\1`, `\8`, `\e`))
		} else {
			b.WriteString(pickOne(r, `\Q.*(\E`, `\x{41}`, `\x41`, `\x{10FFFF}`, `\0`, `\v`, `\t`, `\f`))
		}
	default:
		b.WriteString(pickOne(r, "ab", "x", "/pricing", "-", "_"))
	}
}
