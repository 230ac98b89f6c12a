package segment

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Regular expressions (matches) run in the database, whose engine is RE2:
// the C++ library Go's regexp follows, but not to the letter. These
// limits and checks keep validation from accepting what the database then
// refuses (TestRegexpsAgreeWithDuckDB holds them to that).
const (
	// MaxRegexpBytes is the longest regular expression.
	MaxRegexpBytes = 1 << 10
	// maxRegexpInsts bounds the size of the program RE2 would compile a
	// regular expression to, as estimated by regexpInsts. The database's
	// RE2 refuses programs of about 700,000 instructions ("pattern too
	// large"): a literal of 696 characters repeated {1000} times compiles,
	// one of 697 does not. The estimate is above RE2's count (it does not
	// share the tails of UTF-8 sequences as RE2 does: \pL costs 3,501
	// here and about 1,560 there), and the bound is far below RE2's
	// besides: programs near RE2's limit take DuckDB seconds to compile,
	// in every query. \pL{28} passes, [^/]{1,1000} and .{1000} too.
	maxRegexpInsts = 100_000
)

// unknownClasses are the Unicode class names Go knows and the database's
// RE2 does not (its tables are older).
var unknownClasses = []string{"Cn", "LC"}

// regexpProblem says why the database would refuse pattern, or "".
func regexpProblem(pattern string) string {
	if len(pattern) > MaxRegexpBytes {
		return fmt.Sprintf("a regular expression is limited to %d bytes; this one has %d", MaxRegexpBytes, len(pattern))
	}
	if msg := regexpSpelling(pattern); msg != "" {
		return msg
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "invalid regular expression: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")
	}
	if regexpInsts(re) > maxRegexpInsts {
		return fmt.Sprintf("the regular expression is too large for the database (more than %d steps once compiled): "+
			"use smaller counts in {n} repeats, or fewer of them", maxRegexpInsts)
	}
	return ""
}

// regexpSpelling finds what Go's syntax reads and RE2 does not: named
// groups written (?<name>…) (Go 1.22 added them; RE2 reads only
// (?P<name>…)) and Unicode classes RE2 does not know. It follows the
// parser's lexical rules: escapes, \Q…\E and character classes, inside
// which "(?<" is literal text.
func regexpSpelling(p string) string {
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			switch p[i+1] {
			case 'Q':
				if inClass {
					i++
					continue
				}
				end := strings.Index(p[i+2:], `\E`)
				if end < 0 {
					return ""
				}
				i += 2 + end + 1
				continue
			case 'p', 'P':
				name := p[i+2:]
				if strings.HasPrefix(name, "{") {
					if end := strings.IndexByte(name, '}'); end > 0 {
						name = name[1:end]
					}
				} else if name != "" {
					_, size := utf8.DecodeRuneInString(name)
					name = name[:size]
				}
				name = strings.TrimPrefix(name, "^")
				for _, u := range unknownClasses {
					if name == u {
						return fmt.Sprintf(`the database does not know the Unicode class \p{%s}`, name)
					}
				}
			}
			i++
		case inClass:
			if c == '[' && strings.HasPrefix(p[i:], "[:") {
				if end := strings.Index(p[i+2:], ":]"); end >= 0 {
					i += 2 + end + 1
				}
			} else if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			// A "]" first in the class, after an optional "^", is literal.
			if strings.HasPrefix(p[i+1:], "^") {
				i++
			}
			if strings.HasPrefix(p[i+1:], "]") {
				i++
			}
		case strings.HasPrefix(p[i:], "(?<") && !strings.HasPrefix(p[i:], "(?<=") && !strings.HasPrefix(p[i:], "(?<!"):
			return "write a named group as (?P<name>…); the database does not read (?<name>…)"
		}
	}
	return ""
}

// regexpInsts estimates, from above, how many instructions RE2 compiles re
// to. RE2 matches UTF-8 bytes: a character class becomes an alternation of
// byte sequences, and a repeat x{n,m} m copies of x. The count saturates
// at maxRegexpInsts+1.
func regexpInsts(re *syntax.Regexp) int {
	const ceiling = maxRegexpInsts + 1
	add := func(a, b int) int { return min(a+b, ceiling) }
	mul := func(a, n int) int {
		if n > 0 && a > ceiling/n {
			return ceiling
		}
		return min(a*n, ceiling)
	}
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				n = add(n, classInsts(foldClass(r)))
			} else {
				n = add(n, utf8.RuneLen(max(r, 0)))
			}
		}
		return n
	case syntax.OpCharClass:
		return classInsts(re.Rune)
	case syntax.OpAnyCharNotNL:
		return classInsts([]rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune})
	case syntax.OpAnyChar:
		return classInsts([]rune{0, unicode.MaxRune})
	case syntax.OpCapture:
		return add(2, regexpInsts(re.Sub[0]))
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		return add(1, regexpInsts(re.Sub[0]))
	case syntax.OpRepeat:
		sub := regexpInsts(re.Sub[0])
		if re.Max < 0 { // x{n,}: n copies and a star
			return add(mul(sub, re.Min+1), 1)
		}
		return add(mul(sub, re.Max), re.Max-re.Min)
	case syntax.OpConcat, syntax.OpAlternate:
		n := len(re.Sub)
		for _, s := range re.Sub {
			n = add(n, regexpInsts(s))
		}
		return n
	}
	return 1 // empty matches, anchors, word boundaries
}

// foldClass returns the ranges of the characters r matches ignoring case.
func foldClass(r rune) []rune {
	out := []rune{r, r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		out = append(out, f, f)
	}
	return out
}

// classInsts is the instructions of a class given as ranges (lo, hi
// pairs): one per byte of each UTF-8 sequence the ranges split into, and
// one per alternative.
func classInsts(ranges []rune) int {
	n := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		n += utf8Seqs(ranges[i], ranges[i+1])
	}
	return n
}

// utf8Seqs counts the instructions of the UTF-8 byte sequences that match
// the characters lo..hi: each sequence is a run of byte ranges, one
// instruction a byte, plus one to choose it among the others.
func utf8Seqs(lo, hi rune) int {
	if lo > hi {
		return 0
	}
	// Split where the encoded length changes.
	for _, b := range []rune{0x7f, 0x7ff, 0xffff} {
		if lo <= b && b < hi {
			return utf8Seqs(lo, b) + utf8Seqs(b+1, hi)
		}
	}
	n := utf8.RuneLen(lo)
	if n < 0 { // surrogates and beyond: at most four bytes
		n = 4
	}
	// Split until every continuation byte spans a whole range or a single
	// prefix.
	for i := 1; i < n; i++ {
		m := rune(1)<<(6*i) - 1
		if lo&^m != hi&^m {
			if lo&m != 0 {
				return utf8Seqs(lo, lo|m) + utf8Seqs((lo|m)+1, hi)
			}
			if hi&m != m {
				return utf8Seqs(lo, (hi&^m)-1) + utf8Seqs(hi&^m, hi)
			}
		}
	}
	return n + 1
}
