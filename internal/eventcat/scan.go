package eventcat

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/sightline/sightline/internal/attr"
)

// errNotObject means a properties document is not a well-formed JSON
// object.
var errNotObject = errors.New("eventcat: properties are not a JSON object")

// Scan calls fn for each top-level member of the JSON object doc, in
// order, with its key, its type and its value as a sample: a string's
// text, a number's or boolean's JSON text, an object's or array's JSON
// text, "" for null. A string is a Datetime when attr.ParseTime reads it,
// as a new attribute key would be typed. The key and sample may point into
// doc or into a scratch buffer: fn copies what it keeps.
//
// Scan is a scanner, not a parser: it reads the keys and skips the
// values, which is several times cheaper than decoding documents that
// ingestion has already checked. On a document that is not a JSON object
// it stops and returns an error, having called fn for the members before
// the fault.
func Scan(doc string, fn func(key string, t Types, sample string)) error {
	s := scanner{doc: doc}
	s.space()
	if !s.eat('{') {
		return errNotObject
	}
	s.space()
	if s.eat('}') {
		return s.end()
	}
	for {
		s.space()
		key, ok := s.str()
		if !ok {
			return errNotObject
		}
		s.space()
		if !s.eat(':') {
			return errNotObject
		}
		s.space()
		t, sample, ok := s.value()
		if !ok {
			return errNotObject
		}
		fn(key, t, sample)
		s.space()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return s.end()
		}
		return errNotObject
	}
}

type scanner struct {
	doc string
	i   int
}

func (s *scanner) end() error {
	s.space()
	if s.i != len(s.doc) {
		return errNotObject
	}
	return nil
}

func (s *scanner) space() {
	for s.i < len(s.doc) {
		switch s.doc[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.doc) && s.doc[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a JSON string and returns its text.
func (s *scanner) str() (string, bool) {
	start := s.i
	end, escaped, ok := s.skipString()
	if !ok {
		return "", false
	}
	if !escaped {
		return s.doc[start+1 : end-1], true
	}
	var out string
	if json.Unmarshal([]byte(s.doc[start:end]), &out) != nil {
		return "", false
	}
	return out, true
}

// skipString moves past the string at the cursor and returns where it
// ends and whether it holds escapes.
func (s *scanner) skipString() (end int, escaped, ok bool) {
	if !s.eat('"') {
		return 0, false, false
	}
	for s.i < len(s.doc) {
		switch c := s.doc[s.i]; {
		case c == '"':
			s.i++
			return s.i, escaped, true
		case c == '\\':
			escaped = true
			s.i += 2
		case c < 0x20:
			return 0, false, false
		default:
			s.i++
		}
	}
	return 0, false, false
}

// value reads one value and returns its type and sample.
func (s *scanner) value() (Types, string, bool) {
	if s.i >= len(s.doc) {
		return 0, "", false
	}
	start := s.i
	switch c := s.doc[s.i]; {
	case c == '"':
		v, ok := s.str()
		if !ok {
			return 0, "", false
		}
		if _, isTime := attr.ParseTime(v); isTime {
			return Datetime, v, true
		}
		return String, v, true
	case c == '{' || c == '[':
		if !s.skipNested() {
			return 0, "", false
		}
		if c == '{' {
			return Object, s.doc[start:s.i], true
		}
		return Array, s.doc[start:s.i], true
	case strings.HasPrefix(s.doc[s.i:], "true"):
		s.i += 4
		return Boolean, "true", true
	case strings.HasPrefix(s.doc[s.i:], "false"):
		s.i += 5
		return Boolean, "false", true
	case strings.HasPrefix(s.doc[s.i:], "null"):
		s.i += 4
		return Null, "", true
	case c == '-' || (c >= '0' && c <= '9'):
		for s.i < len(s.doc) && strings.IndexByte("+-.0123456789eE", s.doc[s.i]) >= 0 {
			s.i++
		}
		return Number, s.doc[start:s.i], true
	}
	return 0, "", false
}

// skipNested moves past the object or array at the cursor.
func (s *scanner) skipNested() bool {
	depth := 0
	for s.i < len(s.doc) {
		switch s.doc[s.i] {
		case '"':
			if _, _, ok := s.skipString(); !ok {
				return false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return true
			}
		}
		s.i++
	}
	return false
}
