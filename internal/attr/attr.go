// Package attr defines Sightline's typed attribute values: the four types a
// user or company attribute can have, how a JSON value is typed when a key is
// first seen, and how later values are checked against a key's fixed type.
package attr

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Type is the type of an attribute key. A key's type is fixed by its first
// value on a site.
type Type uint8

// The attribute types. Their numeric values are stored in the database and
// must not change.
const (
	Invalid Type = iota
	String
	Number
	Boolean
	Datetime
)

var typeNames = [...]string{"invalid", "string", "number", "boolean", "datetime"}

// String returns the type's name as used in the API.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ParseType parses a type name as used in the API.
func ParseType(s string) (Type, error) {
	for i, n := range typeNames {
		if i > 0 && n == s {
			return Type(i), nil
		}
	}
	return Invalid, fmt.Errorf("unknown attribute type %q (want string, number, boolean or datetime)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Value is one typed attribute value. The zero Value with Null set means
// "unset this attribute".
type Value struct {
	Type Type
	Null bool
	Str  string
	Num  float64
	Bool bool
	Time time.Time
}

// Equal reports whether two values are the same value of the same type.
func (v Value) Equal(o Value) bool {
	if v.Null || o.Null {
		return v.Null == o.Null
	}
	if v.Type != o.Type {
		return false
	}
	switch v.Type {
	case String:
		return v.Str == o.Str
	case Number:
		return v.Num == o.Num
	case Boolean:
		return v.Bool == o.Bool
	case Datetime:
		return v.Time.Equal(o.Time)
	}
	return false
}

// JSON returns the value as it appears in API answers: a string, a number,
// a boolean, an RFC 3339 time, or nil.
func (v Value) JSON() any {
	if v.Null {
		return nil
	}
	switch v.Type {
	case String:
		return v.Str
	case Number:
		return v.Num
	case Boolean:
		return v.Bool
	case Datetime:
		return v.Time.UTC().Format(time.RFC3339Nano)
	}
	return nil
}

// Text returns the value in a form suitable for CSV cells and samples.
func (v Value) Text() string {
	if v.Null {
		return ""
	}
	switch v.Type {
	case String:
		return v.Str
	case Number:
		return strconv.FormatFloat(v.Num, 'f', -1, 64)
	case Boolean:
		return strconv.FormatBool(v.Bool)
	case Datetime:
		return v.Time.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// ErrNotScalar is returned for a JSON object where a scalar value is needed.
var ErrNotScalar = errors.New("value is not a scalar")

// Infer types a decoded JSON scalar as it would be typed when its key is new:
// strings that are ISO-8601 dates or date-times are datetimes. A nil value
// yields a Null value. Numbers must be finite.
func Infer(raw any) (Value, error) {
	switch x := raw.(type) {
	case nil:
		return Value{Null: true}, nil
	case string:
		if t, ok := ParseTime(x); ok {
			return Value{Type: Datetime, Time: t}, nil
		}
		return Value{Type: String, Str: x}, nil
	case bool:
		return Value{Type: Boolean, Bool: x}, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Value{}, fmt.Errorf("number %v is not finite", x)
		}
		return Value{Type: Number, Num: x}, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return Value{}, fmt.Errorf("number %s is out of range", x)
		}
		return Value{Type: Number, Num: f}, nil
	case int:
		return Value{Type: Number, Num: float64(x)}, nil
	case int64:
		return Value{Type: Number, Num: float64(x)}, nil
	}
	return Value{}, ErrNotScalar
}

// Received names the type of a raw JSON value as a person would, for
// rejection messages: the inferred type, or "null".
func Received(raw any) string {
	v, err := Infer(raw)
	if err != nil {
		return "object"
	}
	if v.Null {
		return "null"
	}
	return v.Type.String()
}

// Conform checks a raw JSON value against a key's fixed type and returns the
// typed value. Nothing is coerced, with one exception that loses nothing: a
// string key accepts a string that happens to look like a date, kept as the
// string it was.
func Conform(raw any, want Type) (Value, bool) {
	v, err := Infer(raw)
	if err != nil {
		return Value{}, false
	}
	if v.Null || v.Type == want {
		return v, true
	}
	if want == String && v.Type == Datetime {
		return Value{Type: String, Str: raw.(string)}, true
	}
	return Value{}, false
}

// Convert converts a value to another type, for an administrator's explicit
// change of a key's type. It fails when the value has no faithful form in the
// new type.
func Convert(v Value, to Type) (Value, error) {
	if v.Null || v.Type == to {
		return v, nil
	}
	text := v.Text()
	switch to {
	case String:
		return Value{Type: String, Str: text}, nil
	case Number:
		if v.Type == String {
			f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
			if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return Value{Type: Number, Num: f}, nil
			}
		}
		if v.Type == Boolean {
			if v.Bool {
				return Value{Type: Number, Num: 1}, nil
			}
			return Value{Type: Number, Num: 0}, nil
		}
	case Boolean:
		if v.Type == String {
			if b, err := strconv.ParseBool(strings.TrimSpace(text)); err == nil {
				return Value{Type: Boolean, Bool: b}, nil
			}
		}
		if v.Type == Number && (v.Num == 0 || v.Num == 1) {
			return Value{Type: Boolean, Bool: v.Num == 1}, nil
		}
	case Datetime:
		if v.Type == String {
			if t, ok := ParseTime(strings.TrimSpace(text)); ok {
				return Value{Type: Datetime, Time: t}, nil
			}
		}
		if v.Type == Number {
			// Unix seconds, the usual numeric form of a time in CRM exports.
			sec, frac := math.Modf(v.Num)
			return Value{Type: Datetime, Time: time.Unix(int64(sec), int64(frac*1e9)).UTC()}, nil
		}
	}
	return Value{}, fmt.Errorf("%s value %q cannot be read as %s", v.Type, text, to)
}

// dateLayouts are the ISO-8601 forms that make a string a datetime.
const dateOnly = "2006-01-02"

var dateLayouts = [...]string{
	dateOnly,
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// ParseTime parses an ISO-8601 date (2024-05-01) or date-time
// (2024-05-01T10:00:00Z, with optional fraction and offset; without an offset
// UTC is assumed). It is strict: the string must start with a four-digit year
// and a dash, so that ordinary text is never taken for a time.
func ParseTime(s string) (time.Time, bool) {
	if len(s) < 10 || len(s) > 40 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, false
		}
	}
	for _, layout := range dateLayouts {
		if (len(s) == len(dateOnly)) != (layout == dateOnly) {
			continue // cannot match; a failed time.Parse allocates its error
		}
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
