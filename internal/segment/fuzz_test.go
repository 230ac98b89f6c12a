package segment_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/segment"
)

// seeds returns the golden inputs and a few hand-picked corners.
func seeds(t testing.TB) []string {
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	out := []string{
		`x within 2w as of 2024-05-01T10:00:00.5+02:00`,
		`attr("company.x") in (1, -2.5e-7, true, "a\u0000b", 2024-05-01)`,
		`not not (a = 1 or b = 2) and (c = 3 and d = 4)`,
		`did("e", 1d, "k k" not in ("x"), k is not set, k ends_with "z") != 0`,
		`avg_session_duration(2025-01-01..2025-02-01) <= 3600s or sessions() > 1`,
		`rage_clicks(30d, page starts_with "/checkout") >= 3 or not errors() or dead_clicks(page = "/") = 0`,
		`plan matches "(?<n>a)" or visited(matches "\\pL{1000}") or did("e", k matches "(?P<n>a)")`,
		strings.Repeat("not (", segment.MaxDepth) + "a = 1" + strings.Repeat(")", segment.MaxDepth),
		strings.Repeat("(", 100) + "a = 1" + strings.Repeat(")", 100),
		strings.Repeat(`did("e", k = "v") or `, segment.MaxConditions/2) + "a = 1",
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// FuzzParse checks that parsing never panics, that errors carry a
// position, that no tree beyond the limits gets through and no limit is
// reported where none is passed, and that every tree Parse accepts
// survives Format and the JSON form, before and after validation.
func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := segment.Parse(src)
		if err != nil {
			var se *segment.SyntaxError
			if !errors.As(err, &se) || se.Pos.Line < 1 || se.Pos.Col < 1 {
				t.Fatalf("Parse(%q) = %v, want a *SyntaxError with a position", src, err)
			}
			if l := limitOf(err); l == segment.LimitSize && len(src) <= segment.MaxTextBytes {
				t.Fatalf("Parse(%q) = %v for %d bytes", src, err, len(src))
			}
			return
		}
		if conds, depth := measure(n); conds > segment.MaxConditions || depth > segment.MaxDepth {
			t.Fatalf("Parse(%q) accepted %d conditions %d deep", src, conds, depth)
		}
		checkRoundTrips(t, n)
		if segment.Validate(n, prefixCatalog{}) != nil {
			return
		}
		// A validated tree (dates typed) prints to text that parses and
		// validates back to the same tree.
		text := segment.Format(n)
		back, err := segment.Parse(text)
		if err != nil {
			t.Fatalf("Parse(Format(validated)) = %v\ntext: %s", err, text)
		}
		if err := segment.Validate(back, prefixCatalog{}); err != nil || !sameTree(n, back) {
			t.Fatalf("validated tree did not come back: %v\ntext: %s\nwant: %s\ngot:  %s", err, text, dump(n), dump(back))
		}
	})
}

// FuzzParseJSON checks the JSON form the same way: no panics, path errors,
// a stable canonical encoding, and text that parses for every tree that
// validates.
func FuzzParseJSON(f *testing.F) {
	for _, s := range seeds(f) {
		if n, err := segment.Parse(s); err == nil {
			f.Add([]byte(mustMarshal(f, n)))
		}
	}
	f.Add([]byte(`{"type":"all","conditions":[{"type":"all","conditions":[{"type":"segment","id":"a"}]},{"type":"not","condition":{"type":"any","conditions":[{"type":"segment","id":"b"},{"type":"segment","id":"c"}]}}]}`))
	f.Add([]byte(strings.Repeat(`{"type":"not","condition":`, segment.MaxDepth+1) + `{"type":"segment","id":"s"}` +
		strings.Repeat("}", segment.MaxDepth+1)))
	f.Add([]byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := segment.ParseJSON(data)
		if err != nil {
			var pe *segment.PathError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseJSON = %v, want a *PathError", err)
			}
			if l := limitOf(err); l == segment.LimitSize && len(data) <= segment.MaxJSONBytes {
				t.Fatalf("ParseJSON = %v for %d bytes", err, len(data))
			}
			return
		}
		if conds, depth := measure(n); conds > segment.MaxConditions || depth > segment.MaxDepth {
			t.Fatalf("ParseJSON accepted %d conditions %d deep", conds, depth)
		}
		js := mustMarshal(t, n)
		again, err := segment.ParseJSON([]byte(js))
		if err != nil || !sameTree(n, again) || mustMarshal(t, again) != js {
			t.Fatalf("ParseJSON(MarshalNode(t)) = %v, want t\njson: %s", err, js)
		}
		if segment.Validate(n, prefixCatalog{}) != nil {
			return
		}
		text := segment.Format(n)
		back, err := segment.Parse(text)
		if len(text) > segment.MaxTextBytes && limitOf(err) == segment.LimitSize {
			return // JSON's limit is larger than the text's
		}
		if err != nil {
			t.Fatalf("Parse(Format(t)) = %v\ntext: %s", err, text)
		}
		if err := segment.Validate(back, prefixCatalog{}); err != nil {
			t.Fatalf("Validate(Parse(Format(t))) = %v\ntext: %s", err, text)
		}
		if got := segment.Format(back); got != text {
			t.Fatalf("Format is not stable through text:\n%s\n%s", text, got)
		}
	})
}
