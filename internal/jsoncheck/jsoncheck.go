// Package jsoncheck checks JSON that a client sent before anything of it is
// acknowledged or stored: every string (keys too) is valid UTF-8 with no
// unpaired surrogate escape, every number fits a float64, and objects and
// arrays nest no deeper than a limit. The database refuses such text, or
// stores it in a form that later reads refuse, so it is refused at the door
// with the field at fault named.
//
// Check is a single pass over the bytes, with a few small allocations for
// the path of nested values: ingestion calls it for every message (about
// 1.5 µs for a typical tracker message of 450 bytes, BenchmarkCheck).
package jsoncheck

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Codes of the problems Check reports. They are the API's error codes.
const (
	CodeMalformed = "malformed_json"
	CodeUTF8      = "invalid_utf8"
	CodeNumber    = "invalid_number"
	CodeDepth     = "too_deep"
)

// Problem is what is wrong with a JSON text and where.
type Problem struct {
	Code string
	// Field is the path of the value at fault, such as properties.items[2].name.
	Field   string
	Message string
}

func (p *Problem) Error() string {
	if p.Field == "" {
		return p.Code + ": " + p.Message
	}
	return p.Code + " (" + p.Field + "): " + p.Message
}

// Check checks the JSON text data, which must hold exactly one value, and
// returns the first problem found or nil. maxDepth bounds the nesting of
// objects and arrays (1 for a flat object).
func Check(data []byte, maxDepth int) *Problem {
	s := scanner{data: data, maxDepth: maxDepth}
	s.skipSpace()
	s.value(0)
	if s.problem == nil {
		s.skipSpace()
		if s.pos != len(s.data) {
			s.fail(CodeMalformed, "unexpected text after the JSON value")
		}
	}
	return s.problem
}

// String checks one decoded string: it must be valid UTF-8. field names it
// in the problem.
func String(field, s string) *Problem {
	if utf8.ValidString(s) {
		return nil
	}
	return &Problem{Code: CodeUTF8, Field: field, Message: field + " is not valid UTF-8"}
}

type scanner struct {
	data     []byte
	pos      int
	maxDepth int
	// path holds, for each open container, the key (an object's, as raw
	// JSON string text) or index (an array's, as -1 - index) of the value
	// being read.
	path    []pathElem
	problem *Problem
}

type pathElem struct {
	key   []byte // raw key between the quotes; nil in an array
	index int
}

// fail records the first problem. A syntax error names no field: where
// the text stops making sense says little about which field was meant.
func (s *scanner) fail(code, format string, args ...any) {
	if s.problem != nil {
		return
	}
	s.problem = &Problem{Code: code, Message: fmt.Sprintf(format, args...)}
	if code != CodeMalformed {
		s.problem.Field = s.field()
	}
}

// field renders the current path, as the API names fields.
func (s *scanner) field() string {
	var b strings.Builder
	for _, e := range s.path {
		if e.key == nil {
			b.WriteString("[")
			b.WriteString(strconv.Itoa(e.index))
			b.WriteString("]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		// The key as sent, made printable: it may itself be the problem.
		b.WriteString(strings.ToValidUTF8(string(e.key), "\uFFFD"))
	}
	return b.String()
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) {
	if s.pos >= len(s.data) {
		s.fail(CodeMalformed, "unexpected end of JSON")
		return
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		s.object(depth + 1)
	case c == '[':
		s.array(depth + 1)
	case c == '"':
		s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		s.number()
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	default:
		s.fail(CodeMalformed, "unexpected character %q", c)
	}
}

func (s *scanner) literal(word string) {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		s.fail(CodeMalformed, "invalid literal")
		return
	}
	s.pos += len(word)
}

func (s *scanner) enter(depth int) bool {
	if depth > s.maxDepth {
		s.fail(CodeDepth, "objects and arrays nest %d levels deep here; the limit is %d", depth, s.maxDepth)
		return false
	}
	return true
}

func (s *scanner) object(depth int) {
	if !s.enter(depth) {
		return
	}
	s.pos++ // {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return
	}
	s.path = append(s.path, pathElem{key: []byte{}})
	top := len(s.path) - 1
	for s.problem == nil {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			s.fail(CodeMalformed, "expected an object key")
			return
		}
		start := s.pos + 1
		s.str()
		if s.problem != nil {
			if s.problem.Code != CodeMalformed {
				// The key itself is at fault: name it as far as it was read.
				s.path[top].key = s.data[start:min(s.pos+1, len(s.data))]
				s.problem.Field = s.field()
			}
			return
		}
		s.path[top].key = s.data[start : s.pos-1]
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			s.fail(CodeMalformed, "expected ':' after an object key")
			return
		}
		s.pos++
		s.skipSpace()
		s.value(depth)
		s.skipSpace()
		if s.pos >= len(s.data) {
			s.fail(CodeMalformed, "unexpected end of JSON in an object")
			return
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case '}':
			s.pos++
			if s.problem == nil {
				s.path = s.path[:top]
			}
			return
		default:
			s.fail(CodeMalformed, "expected ',' or '}' in an object")
			return
		}
	}
}

func (s *scanner) array(depth int) {
	if !s.enter(depth) {
		return
	}
	s.pos++ // [
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return
	}
	s.path = append(s.path, pathElem{})
	top := len(s.path) - 1
	for i := 0; s.problem == nil; i++ {
		s.path[top].index = i
		s.value(depth)
		s.skipSpace()
		if s.pos >= len(s.data) {
			s.fail(CodeMalformed, "unexpected end of JSON in an array")
			return
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case ']':
			s.pos++
			if s.problem == nil {
				s.path = s.path[:top]
			}
			return
		default:
			s.fail(CodeMalformed, "expected ',' or ']' in an array")
			return
		}
	}
}

// str reads a string from its opening quote, checking its UTF-8 and its
// escapes: a \u escape of a surrogate must be the first half of a pair
// followed by the second.
func (s *scanner) str() {
	s.pos++ // "
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return
		case c == '\\':
			s.escape()
			if s.problem != nil {
				return
			}
		case c < 0x20:
			s.fail(CodeMalformed, "a control character must be escaped in a JSON string")
			return
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size <= 1 {
				s.fail(CodeUTF8, "the text is not valid UTF-8 (byte 0x%02x)", c)
				return
			}
			s.pos += size
		}
	}
	s.fail(CodeMalformed, "unterminated string")
}

func (s *scanner) escape() {
	if s.pos+1 >= len(s.data) {
		s.fail(CodeMalformed, "unterminated escape")
		return
	}
	switch s.data[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return
	case 'u':
	default:
		s.fail(CodeMalformed, "invalid escape \\%c", s.data[s.pos+1])
		return
	}
	r, ok := s.hex4(s.pos + 2)
	if !ok {
		s.fail(CodeMalformed, "invalid \\u escape")
		return
	}
	s.pos += 6
	if !utf16.IsSurrogate(r) {
		return
	}
	if r < 0xDC00 && s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
		if r2, ok := s.hex4(s.pos + 2); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
			s.pos += 6
			return
		}
	}
	s.fail(CodeUTF8, "the text holds an unpaired UTF-16 surrogate (\\u%04x), which is not Unicode text", r)
}

func (s *scanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number reads a number and checks that it fits a float64: 1e400 is valid
// JSON but no database column or JavaScript reader holds it.
func (s *scanner) number() {
	start := s.pos
	if s.data[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	intStart := s.pos
	if n := digits(); n == 0 || (n > 1 && s.data[intStart] == '0') {
		s.fail(CodeMalformed, "invalid number")
		return
	}
	exotic := false
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			s.fail(CodeMalformed, "invalid number")
			return
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		exotic = true
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			s.fail(CodeMalformed, "invalid number")
			return
		}
	}
	// Without an exponent, fewer than 309 digits always fit.
	if !exotic && s.pos-start < 300 {
		return
	}
	if _, err := strconv.ParseFloat(string(s.data[start:s.pos]), 64); err != nil {
		s.fail(CodeNumber, "the number %.40s is outside the range of a 64-bit float", s.data[start:s.pos])
	}
}
