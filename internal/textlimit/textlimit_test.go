package textlimit_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sightline/sightline/internal/textlimit"
)

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{strings.Repeat("a", 34) + "é", 35, strings.Repeat("a", 34)},
		{"é", 2, "é"},
		{"😀x", 3, ""},
		{"😀x", 4, "😀"},
		{"a😀", 4, "a"},
		{"abc", 0, ""},
	} {
		if got := textlimit.Cut(tc.in, tc.n); got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// FuzzCut checks the promise: a valid input gives a valid prefix within
// the limit, and as long as possible.
func FuzzCut(f *testing.F) {
	f.Add("aaaé", 4)
	f.Add("日本語", 5)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n % 300
		got := textlimit.Cut(s, n)
		if len(got) > max(n, 0) || !strings.HasPrefix(s, got) {
			t.Fatalf("Cut(%q, %d) = %q", s, n, got)
		}
		if utf8.ValidString(s) {
			if !utf8.ValidString(got) {
				t.Fatalf("Cut(%q, %d) = %q: not UTF-8", s, n, got)
			}
			if rest := s[len(got):]; rest != "" {
				_, size := utf8.DecodeRuneInString(rest)
				if len(got)+size <= n {
					t.Fatalf("Cut(%q, %d) = %q: could keep one more character", s, n, got)
				}
			}
		}
	})
}
