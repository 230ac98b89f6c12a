package compiler

import (
	"fmt"

	"github.com/sightline/sightline/internal/segment"
)

// InsightDialect is what insights (package insight: trends, funnels,
// retention) need of a database beyond Dialect: integer arithmetic on
// timestamps, so that time buckets are computed the same way on every
// engine, and the few aggregates whose spelling differs.
type InsightDialect interface {
	Dialect
	// Micros returns a timestamp column as BIGINT microseconds since the
	// epoch (UTC).
	Micros(expr string) string
	// IntDiv returns the integer quotient of two non-negative integer
	// expressions.
	IntDiv(a, b string) string
	// MinWhere returns the smallest of an integer expression over the
	// group's rows for which cond holds, 0 when none does.
	MinWhere(expr, cond string) string
	// MedianWhere returns the median of a number expression over the
	// group's rows for which cond holds: the element at index n/2 of
	// their sorted values (the upper median when n is even).
	MedianWhere(expr, cond string) string
	// AggWhere returns an aggregate over the group's rows for which cond
	// holds (all rows when cond is empty): "count" (of rows when expr is
	// *, else of rows where expr is not NULL), "distinct" (distinct
	// values of expr) or "sum" (of expr; NULL when no row has a value).
	AggWhere(agg, expr, cond string) string
	// ListWhere returns the aggregate list of an expression over the
	// group's rows for which cond holds, in no order: empty or NULL
	// when none does (ListMin reads both as empty).
	ListWhere(expr, cond string) string
	// ListMin returns the smallest element of a list of integers that
	// is above lo and at most hi (integer expressions of the row's
	// columns), 0 when none is.
	ListMin(list, lo, hi string) string
	// PowerOfTwo returns 2 to the power of an integer expression from 0
	// to 62, a 64-bit integer (unsigned where BitOr wants it): a bit of
	// a mask that Dialect.BitOr aggregates, cheaper than a Mask where 63
	// bits are enough.
	PowerOfTwo(k string) string
	// FunnelByLists says which plan funnels take: one grouping of the
	// steps' events by user with ListWhere and ListMin, or a join per
	// step. DuckDB's joins filter their probe side's scan by the keys
	// of the build side, which makes a join per step the cheaper one
	// there (measured at 1M users: 1.2–2.0 s of CPU against 2.1–2.4 s
	// for the lists); ClickHouse 18.16's joins hold the right side in
	// memory and filter nothing, so it takes the lists.
	FunnelByLists() bool
	// LeftJoin and InnerJoin are the keywords of the joins, before the
	// right side: "ALL LEFT JOIN" where the engine wants a strictness.
	LeftJoin() string
	InnerJoin() string
}

var (
	_ InsightDialect = DuckDB{}
	_ InsightDialect = ClickHouse{}
)

// MinWhere implements InsightDialect.
func (DuckDB) MinWhere(expr, cond string) string {
	return "coalesce(min(" + expr + ") FILTER (WHERE " + cond + "), 0)"
}

// MedianWhere implements InsightDialect: the sorted list's element at
// index n/2 (lists count from 1), as ClickHouse's quantileExact picks it.
func (DuckDB) MedianWhere(expr, cond string) string {
	return "list_sort(list(" + expr + ") FILTER (WHERE " + cond + "))[(count(*) FILTER (WHERE " + cond + ")) // 2 + 1]"
}

// MinWhere implements InsightDialect: minIf gives the type's default,
// 0, when no row qualifies.
func (ClickHouse) MinWhere(expr, cond string) string { return "minIf(" + expr + ", " + cond + ")" }

// MedianWhere implements InsightDialect.
func (ClickHouse) MedianWhere(expr, cond string) string {
	return "quantileExactIf(0.5)(" + expr + ", " + cond + ")"
}

// PowerOfTwo implements InsightDialect.
func (DuckDB) PowerOfTwo(k string) string { return "(CAST(1 AS BIGINT) << " + k + ")" }

// PowerOfTwo implements InsightDialect: groupBitOr takes unsigned
// integers only.
func (ClickHouse) PowerOfTwo(k string) string {
	return "toUInt64(bitShiftLeft(toUInt64(1), " + k + "))"
}

// FunnelByLists implements InsightDialect.
func (DuckDB) FunnelByLists() bool { return false }

// FunnelByLists implements InsightDialect.
func (ClickHouse) FunnelByLists() bool { return true }

// ListWhere implements InsightDialect: NULL when no row qualifies.
func (DuckDB) ListWhere(expr, cond string) string {
	return "list(" + expr + ") FILTER (WHERE " + cond + ")"
}

// ListMin implements InsightDialect.
func (DuckDB) ListMin(list, lo, hi string) string {
	return "coalesce(list_min(list_filter(" + list + ", lambda x: x > " + lo + " AND x <= " + hi + ")), 0)"
}

// ListWhere implements InsightDialect.
func (ClickHouse) ListWhere(expr, cond string) string {
	return "groupArrayIf(" + expr + ", " + cond + ")"
}

// ListMin implements InsightDialect: 18.16 has no arrayMin, and min over
// an empty array is the type's default, 0. It prunes from a derived
// table the columns that the query above reads only inside a lambda, so
// lo and hi are also read outside it.
func (ClickHouse) ListMin(list, lo, hi string) string {
	return "if(" + lo + " < " + hi + ", arrayReduce('min', arrayFilter(x -> x > " + lo + " AND x <= " + hi + ", " + list + ")), 0)"
}

// EventRows compiles a did(…) or visited(…) condition into the conditions
// on one event row that make it count (" AND …", to follow Dialect.From
// on Events): its kind, name or page, and property filters. Counts,
// periods and first-time are the condition's own and are refused: an
// insight's range and steps decide those.
func (c *Compiler) EventRows(n segment.Node) (Query, error) {
	b := &builder{c: c, visiting: map[string]bool{}}
	switch n := n.(type) {
	case *segment.Event:
		if n.First || n.Period != (segment.Period{}) || n.Count != (segment.Count{}) {
			return Query{}, fmt.Errorf("did(%q) here takes neither a period, a count nor first: the insight's range decides", n.Name)
		}
		b.w(" AND kind = ", kindTrack, " AND name = ")
		b.arg(n.Name)
		for _, p := range n.Where {
			b.w(" AND ")
			if err := b.property(p); err != nil {
				return Query{}, err
			}
		}
	case *segment.Visited:
		if n.Period != (segment.Period{}) || n.Count != (segment.Count{}) {
			return Query{}, fmt.Errorf("visited(%q) here takes neither a period nor a count: the insight's range decides", n.Pattern)
		}
		b.w(" AND kind IN (", kindPage, ", ", kindScreen, ") AND ")
		if err := b.predicate("path", n.Match, []segment.Value{{Kind: segment.ValString, Str: n.Pattern}}); err != nil {
			return Query{}, err
		}
	default:
		return Query{}, fmt.Errorf("an event here is did(…) or visited(…), not %s", segment.Format(n))
	}
	return Query{SQL: b.sql.String(), Args: b.args}, nil
}

// NameRows is EventRows for a read of EventsByName instead of Events:
// the conditions on its rows (" AND …") that make a did(…) or visited(…)
// condition count, and false when it has property filters, which only
// the events have.
func (c *Compiler) NameRows(n segment.Node) (Query, bool, error) {
	if _, err := c.EventRows(n); err != nil {
		return Query{}, false, err
	}
	b := &builder{c: c, visiting: map[string]bool{}}
	switch n := n.(type) {
	case *segment.Event:
		if len(n.Where) > 0 {
			return Query{}, false, nil
		}
		b.w(" AND kind = ", kindTrack, " AND name_or_path = ")
		b.arg(n.Name)
	case *segment.Visited:
		b.w(" AND kind IN (", kindPage, ", ", kindScreen, ") AND ")
		if err := b.predicate("name_or_path", n.Match, []segment.Value{{Kind: segment.ValString, Str: n.Pattern}}); err != nil {
			return Query{}, false, err
		}
	}
	return Query{SQL: b.sql.String(), Args: b.args}, true, nil
}

// Property returns the expression of an event property's text and its
// arguments, for insights that group by a property or sum it.
func (c *Compiler) Property(key string) Query {
	sql, args := c.Dialect.Property(key)
	return Query{SQL: sql, Args: args}
}

// LeftJoin implements InsightDialect.
func (DuckDB) LeftJoin() string { return "LEFT JOIN" }

// InnerJoin implements InsightDialect.
func (DuckDB) InnerJoin() string { return "JOIN" }

// LeftJoin implements InsightDialect: 18.16 wants the strictness.
func (ClickHouse) LeftJoin() string { return "ALL LEFT JOIN" }

// InnerJoin implements InsightDialect.
func (ClickHouse) InnerJoin() string { return "ALL INNER JOIN" }

// AggWhere implements InsightDialect.
func (DuckDB) AggWhere(agg, expr, cond string) string {
	var a string
	switch agg {
	case "distinct":
		a = "count(DISTINCT " + expr + ")"
	case "sum":
		a = "sum(" + expr + ")"
	default:
		a = "count(" + expr + ")"
	}
	if cond == "" {
		return a
	}
	return a + " FILTER (WHERE " + cond + ")"
}

// AggWhere implements InsightDialect: the -If combinators.
func (ClickHouse) AggWhere(agg, expr, cond string) string {
	if cond == "" {
		cond = "1 = 1"
	}
	switch agg {
	case "distinct":
		return "uniqExactIf(" + expr + ", " + cond + ")"
	case "sum":
		return "sumIf(" + expr + ", " + cond + ")"
	}
	if expr == "*" {
		return "countIf(" + cond + ")"
	}
	return "countIf(isNotNull(" + expr + ") AND " + cond + ")"
}
