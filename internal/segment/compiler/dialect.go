package compiler

import (
	"fmt"

	"github.com/sightline/sightline/internal/segment"
)

// Dialect holds what differs between SQL engines. Each method returns SQL
// text with ? placeholders for the arguments the compiler then binds.
type Dialect interface {
	// StringMatch returns a boolean expression testing expr against one
	// string argument with contains, starts_with, ends_with or matches.
	StringMatch(op segment.Op, expr string) (string, error)
	// JSONText returns an expression reading one property (the path is an
	// argument) of a JSON column as text.
	JSONText(column string) string
	// ToNumber returns expr cast to a double, NULL when it is not a number.
	ToNumber(expr string) string
	// Day returns the calendar day (UTC) of a timestamp expression.
	Day(expr string) string
	// Seconds returns the seconds between two timestamp expressions.
	Seconds(from, to string) string
	// JSONPath returns the argument that JSONText expects for a key.
	JSONPath(key string) string
}

// DuckDB is the dialect of the embedded store.
type DuckDB struct{}

var _ Dialect = DuckDB{}

// StringMatch implements Dialect.
func (DuckDB) StringMatch(op segment.Op, expr string) (string, error) {
	switch op {
	case segment.OpContains:
		return "contains(" + expr + ", ?)", nil
	case segment.OpStarts:
		return "starts_with(" + expr + ", ?)", nil
	case segment.OpEnds:
		return "ends_with(" + expr + ", ?)", nil
	case segment.OpMatches:
		return "regexp_matches(" + expr + ", ?)", nil
	}
	return "", fmt.Errorf("BUG: %q is not a string match", op)
}

// JSONText implements Dialect.
func (DuckDB) JSONText(column string) string { return "json_extract_string(" + column + ", ?)" }

// ToNumber implements Dialect.
func (DuckDB) ToNumber(expr string) string { return "TRY_CAST(" + expr + " AS DOUBLE)" }

// Day implements Dialect.
func (DuckDB) Day(expr string) string { return "CAST(" + expr + " AS DATE)" }

// Seconds implements Dialect: exact, with the microseconds the database
// keeps (date_diff('second', …) would count boundaries crossed instead).
func (DuckDB) Seconds(from, to string) string {
	return "(date_diff('microsecond', " + from + ", " + to + ") / 1e6)"
}

// JSONPath implements Dialect: a quoted member name, so keys with dots or
// spaces name one member.
func (DuckDB) JSONPath(key string) string {
	q := make([]rune, 0, len(key)+4)
	q = append(q, '$', '.', '"')
	for _, r := range key {
		if r == '"' || r == '\\' {
			q = append(q, '\\')
		}
		q = append(q, r)
	}
	return string(append(q, '"'))
}
