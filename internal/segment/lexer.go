package segment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sightline/sightline/internal/attr"
)

// SyntaxError is an error in the text form, at a line and column.
type SyntaxError struct {
	Pos Pos
	Msg string
}

// Error returns the error as "line:col: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokDate
	tokDuration
	tokOp // = != < <= > >=
	tokLParen
	tokRParen
	tokComma
	tokDot
	tokDotDot
)

// token is one lexeme. text is the source as written; str, num, dur and
// time hold the decoded literal for the kinds that have one.
type token struct {
	kind tokKind
	pos  Pos
	text string
	str  string
	num  float64
	dur  time.Duration
	time time.Time
}

// is reports whether t is the keyword kw, compared case-insensitively.
func (t token) is(kw string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

// describe names the token for "found …" in messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		if len(t.text) > 40 {
			return t.text[:37] + `..."`
		}
		return t.text
	}
	return strconv.Quote(t.text)
}

// lexer turns source text into tokens, tracking 1-based lines and columns
// counted in characters (runes).
type lexer struct {
	src       string
	off       int
	line, col int
	toks      []token
}

// lex returns all the tokens of src, ending with a tokEOF.
func lex(src string) ([]token, error) {
	lx := &lexer{src: src, line: 1, col: 1}
	for {
		lx.skipSpace()
		if lx.off >= len(lx.src) {
			lx.toks = append(lx.toks, token{kind: tokEOF, pos: lx.pos()})
			return lx.toks, nil
		}
		if err := lx.next(); err != nil {
			return nil, err
		}
	}
}

func (lx *lexer) pos() Pos { return Pos{Line: lx.line, Col: lx.col} }

func (lx *lexer) errorf(p Pos, format string, args ...any) error {
	return &SyntaxError{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// advance moves past n bytes, which must not contain a newline.
func (lx *lexer) advance(n int) {
	lx.col += utf8.RuneCountInString(lx.src[lx.off : lx.off+n])
	lx.off += n
}

func (lx *lexer) skipSpace() {
	for lx.off < len(lx.src) {
		switch lx.src[lx.off] {
		case '\n':
			lx.off++
			lx.line++
			lx.col = 1
		case ' ', '\t', '\r':
			lx.off++
			lx.col++
		default:
			return
		}
	}
}

func (lx *lexer) emit(kind tokKind, start Pos, n int) *token {
	lx.toks = append(lx.toks, token{kind: kind, pos: start, text: lx.src[lx.off : lx.off+n]})
	lx.advance(n)
	return &lx.toks[len(lx.toks)-1]
}

func (lx *lexer) next() error {
	start := lx.pos()
	rest := lx.src[lx.off:]
	c := rest[0]
	switch {
	case c == '(':
		lx.emit(tokLParen, start, 1)
	case c == ')':
		lx.emit(tokRParen, start, 1)
	case c == ',':
		lx.emit(tokComma, start, 1)
	case c == '.':
		if strings.HasPrefix(rest, "..") {
			lx.emit(tokDotDot, start, 2)
		} else {
			lx.emit(tokDot, start, 1)
		}
	case c == '=':
		if strings.HasPrefix(rest, "==") {
			return lx.errorf(start, `unexpected "==": compare with a single "="`)
		}
		lx.emit(tokOp, start, 1)
	case c == '!':
		if !strings.HasPrefix(rest, "!=") {
			return lx.errorf(start, `unexpected "!": write "!=" to compare or "not" to negate`)
		}
		lx.emit(tokOp, start, 2)
	case c == '<' || c == '>':
		n := 1
		if len(rest) > 1 && rest[1] == '=' {
			n = 2
		}
		lx.emit(tokOp, start, n)
	case c == '"':
		return lx.lexString(start)
	case isDigit(c) || (c == '-' && len(rest) > 1 && isDigit(rest[1])):
		return lx.lexNumber(start)
	case isIdentStart(c):
		n := 1
		for n < len(rest) && isIdentPart(rest[n]) {
			n++
		}
		lx.emit(tokIdent, start, n)
	default:
		r, size := utf8.DecodeRuneInString(rest)
		switch {
		case r == utf8.RuneError && size == 1:
			return lx.errorf(start, "invalid UTF-8 encoding")
		case r == '\'':
			return lx.errorf(start, `unexpected "'": strings are written in double quotes`)
		case r == '“' || r == '”' || r == '„':
			return lx.errorf(start, `unexpected %q: strings are written in straight double quotes (")`, r)
		}
		return lx.errorf(start, "unexpected character %q", r)
	}
	return nil
}

// lexString reads a double-quoted string with JSON's escapes.
func (lx *lexer) lexString(start Pos) error {
	var b strings.Builder
	i := 1 // past the opening quote
	for {
		if lx.off+i >= len(lx.src) || lx.src[lx.off+i] == '\n' {
			return lx.errorf(start, "unterminated string")
		}
		c := lx.src[lx.off+i]
		switch {
		case c == '"':
			t := lx.emit(tokString, start, i+1)
			t.str = b.String()
			return nil
		case c == '\\':
			r, n, err := lx.escape(i)
			if err != nil {
				return err
			}
			b.WriteRune(r)
			i += n
		default:
			r, n := utf8.DecodeRuneInString(lx.src[lx.off+i:])
			if r == utf8.RuneError && n == 1 {
				lx.advance(i)
				return lx.errorf(lx.pos(), "invalid UTF-8 encoding in string")
			}
			b.WriteString(lx.src[lx.off+i : lx.off+i+n])
			i += n
		}
	}
}

// escape decodes the escape sequence at byte i of the current token and
// returns its rune and length.
func (lx *lexer) escape(i int) (rune, int, error) {
	s := lx.src[lx.off+i:]
	bad := func(msg string) (rune, int, error) {
		lx.advance(i)
		return 0, 0, lx.errorf(lx.pos(), "%s", msg)
	}
	if len(s) < 2 {
		return bad("unterminated string")
	}
	switch s[1] {
	case '"':
		return '"', 2, nil
	case '\\':
		return '\\', 2, nil
	case '/':
		return '/', 2, nil
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
		r, ok := hex4(s[2:])
		if !ok {
			return bad(`invalid escape: "\u" needs four hexadecimal digits`)
		}
		if r < 0xD800 || r > 0xDFFF {
			return r, 6, nil
		}
		// A surrogate pair, as JSON writes characters outside the BMP.
		if r <= 0xDBFF && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
			if lo, ok := hex4(s[8:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, 12, nil
			}
		}
		return bad("invalid escape: unpaired surrogate " + s[:6])
	}
	r, _ := utf8.DecodeRuneInString(s[1:])
	return bad(fmt.Sprintf(`invalid escape "\%c" in string`, r))
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(s[:4], 16, 32)
	return rune(v), err == nil
}

// lexNumber reads a date, a duration or a number.
func (lx *lexer) lexNumber(start Pos) error {
	rest := lx.src[lx.off:]
	if n := matchDate(rest); n > 0 {
		if n < len(rest) && isIdentPart(rest[n]) {
			return lx.errorf(start, "invalid date %q", word(rest))
		}
		t, ok := parseTime(rest[:n])
		if !ok {
			return lx.errorf(start, "invalid date %q", rest[:n])
		}
		lx.emit(tokDate, start, n).time = t
		return nil
	}
	n, integer := scanNumber(rest)
	if n < len(rest) && isIdentPart(rest[n]) {
		m := n
		for m < len(rest) && isIdentPart(rest[m]) {
			m++
		}
		w := rest[:m]
		if _, unit := unitOf(rest[n]); unit && integer && rest[0] != '-' && m == n+1 {
			d, err := parseDuration(w)
			if err != nil {
				return lx.errorf(start, "%v", err)
			}
			lx.emit(tokDuration, start, m).dur = d
			return nil
		}
		if _, unit := unitOf(rest[n]); unit {
			return lx.errorf(start, "invalid duration %q: write a whole number and one unit (s, m, h, d or w), like 90m", w)
		}
		return lx.errorf(start, "invalid number %q", w)
	}
	f, err := strconv.ParseFloat(rest[:n], 64)
	if err != nil || math.IsInf(f, 0) {
		return lx.errorf(start, "number %s is out of range", rest[:n])
	}
	if f == 0 {
		f = 0 // no negative zero
	}
	lx.emit(tokNumber, start, n).num = f
	return nil
}

// scanNumber returns the length of the number at the start of s (an
// optional minus, digits, an optional fraction and exponent) and whether it
// is a plain integer.
func scanNumber(s string) (n int, integer bool) {
	if s[0] == '-' {
		n++
	}
	n += digits(s[n:])
	integer = true
	if n+1 < len(s) && s[n] == '.' && isDigit(s[n+1]) {
		n += 1 + digits(s[n+1:])
		integer = false
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if d := digits(s[m:]); d > 0 {
			n = m + d
			integer = false
		}
	}
	return n, integer
}

// matchDate returns the length of the ISO-8601 date or date-time at the
// start of s, or 0: 2024-05-01, 2024-05-01T10:00, 2024-05-01T10:00:00,
// with an optional fraction of a second and a Z or ±hh:mm offset.
func matchDate(s string) int {
	if !pattern(s, "dddd-dd-dd") {
		return 0
	}
	n := 10
	if !pattern(s[n:], "Tdd:dd") {
		return n
	}
	n += 6
	if pattern(s[n:], ":dd") {
		n += 3
		if pattern(s[n:], ".d") {
			n += 1 + digits(s[n+1:])
		}
	}
	switch {
	case pattern(s[n:], "Z"):
		n++
	case pattern(s[n:], "+dd:dd") || pattern(s[n:], "-dd:dd"):
		n += 6
	}
	return n
}

// pattern reports whether s starts with p, where 'd' in p stands for any
// digit.
func pattern(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] == 'd' {
			if !isDigit(s[i]) {
				return false
			}
		} else if s[i] != p[i] {
			return false
		}
	}
	return true
}

// isDateText reports whether s, written without quotes, lexes as exactly
// one date token.
func isDateText(s string) bool {
	if matchDate(s) != len(s) {
		return false
	}
	_, ok := parseTime(s)
	return ok
}

// parseTime reads an ISO-8601 date or date-time as attr.ParseTime does,
// refusing times outside the years 1 to 9999 in UTC, which the forms could
// not write back.
func parseTime(s string) (time.Time, bool) {
	t, ok := attr.ParseTime(s)
	if !ok || t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// unitOf returns the length of a duration unit letter.
func unitOf(c byte) (time.Duration, bool) {
	switch c {
	case 's':
		return time.Second, true
	case 'm':
		return time.Minute, true
	case 'h':
		return time.Hour, true
	case 'd':
		return 24 * time.Hour, true
	case 'w':
		return 7 * 24 * time.Hour, true
	}
	return 0, false
}

// parseDuration reads a positive whole number of one unit: 45s, 15m, 3h,
// 30d, 2w.
func parseDuration(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("invalid duration %q: write a whole number and one unit (s, m, h, d or w), like 30d", s)
	}
	unit, ok := unitOf(s[len(s)-1])
	num := s[:len(s)-1]
	if !ok || digits(num) != len(num) {
		return 0, fmt.Errorf("invalid duration %q: write a whole number and one unit (s, m, h, d or w), like 30d", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("duration %s is out of range", s)
	}
	if n == 0 {
		return 0, fmt.Errorf("duration %s must be positive", s)
	}
	return time.Duration(n) * unit, nil
}

func digits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// word returns the run of letters, digits, underscores and dots at the
// start of s, for messages.
func word(s string) string {
	n := 0
	for n < len(s) && (isIdentPart(s[n]) || s[n] == '-' || s[n] == '.' || s[n] == ':') {
		n++
	}
	return s[:n]
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }
