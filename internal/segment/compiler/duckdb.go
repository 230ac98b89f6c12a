package compiler

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// DuckDB is the dialect of the embedded store (internal/store/duckstore).
type DuckDB struct{}

var _ Dialect = DuckDB{}

// Arg implements Dialect: DuckDB binds Go values as they are.
func (DuckDB) Arg(v any) any { return v }

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

// Property implements Dialect: properties is a JSON object, read by a
// path naming one member.
func (DuckDB) Property(key string) (string, []any) {
	return "json_extract_string(properties, ?)", []any{jsonPath(key)}
}

// jsonPath returns a JSON path of one quoted member name, so that keys
// with dots or spaces name one member.
func jsonPath(key string) string {
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

// ToNumber implements Dialect.
func (DuckDB) ToNumber(expr string) string { return "TRY_CAST(" + expr + " AS DOUBLE)" }

// Day implements Dialect.
func (DuckDB) Day(expr string) string { return "CAST(" + expr + " AS DATE)" }

// Seconds implements Dialect: exact, with the microseconds the database
// keeps (date_diff('second', …) would count boundaries crossed instead).
func (DuckDB) Seconds(from, to string) string {
	return "(date_diff('microsecond', " + from + ", " + to + ") / 1e6)"
}

// Differ implements Dialect.
func (DuckDB) Differ(a, b string) string { return a + " IS DISTINCT FROM " + b }

// CountWhere implements Dialect.
func (DuckDB) CountWhere() (string, string) { return "count(*) FILTER (WHERE ", ")" }

// AnyWhere implements Dialect.
func (DuckDB) AnyWhere() (string, string) {
	return "coalesce(bool_or(true) FILTER (WHERE ", "), false)"
}

// Exists implements Dialect.
func (DuckDB) Exists(w Writer, rows func() error) error {
	w.Write("EXISTS (")
	if err := rows(); err != nil {
		return err
	}
	w.Write(")")
	return nil
}

// From implements Dialect: merges rewrite the keys in place, so the
// table is read as it is.
func (DuckDB) From(w Writer, t Table, site int64, user *int64) {
	name := "events"
	switch t {
	case Sessions, SessionCounts:
		name = "all_sessions"
	case Identities:
		name = "identities"
	case UserGroups:
		name = "user_groups"
	case Clicks:
		name = "clicks"
	case UserDays, UserDayCounts:
		name = "user_days"
	case EventDays, EventDayCounts:
		name = "event_days"
	case EventsByName:
		name = "events_by_name"
	}
	w.Write("FROM ", name, " WHERE site_id = ")
	w.Arg(site)
	duckUser(w, t.Key(), user)
}

// EndFrom implements Dialect.
func (DuckDB) EndFrom(Writer) {}

// duckUser writes " AND col = user" when user is not nil.
func duckUser(w Writer, col string, user *int64) {
	if user != nil {
		w.Write(" AND ", col, " = ")
		w.Arg(*user)
	}
}

// CurrentWhere implements Dialect: attr_current holds one row per entity
// and key set.
func (DuckDB) CurrentWhere(w Writer, entity int, col, key string, site int64, user *int64, pred func(string) error) error {
	w.Write("SELECT entity_key AS u FROM attr_current WHERE site_id = ")
	w.Arg(site)
	duckUser(w, "entity_key", user)
	w.Write(" AND entity = ", strconv.Itoa(entity), " AND key = ")
	w.Arg(key)
	w.Write(" AND ")
	return pred(col)
}

// CurrentFrom implements Dialect: attr_current holds one row per
// entity and key set.
func (DuckDB) CurrentFrom(w Writer, keys []string, site int64, user *int64) {
	w.Write("FROM attr_current WHERE site_id = ")
	w.Arg(site)
	duckUser(w, "entity_key", user)
	w.Write(" AND entity = 0 AND key IN (")
	for i, k := range keys {
		if i > 0 {
			w.Write(", ")
		}
		w.Arg(k)
	}
	w.Write(")")
}

// ValuesAsOf implements Dialect: the latest entry by then, if it is not
// an unset.
func (DuckDB) ValuesAsOf(w Writer, entity int, col, key string, at time.Time, site int64, user *int64) {
	w.Write("(SELECT u, ", col, " FROM (SELECT entity_key AS u, is_null, ", col,
		", row_number() OVER (PARTITION BY entity_key ORDER BY set_at DESC) AS rn",
		" FROM attr_history WHERE site_id = ")
	w.Arg(site)
	duckUser(w, "entity_key", user)
	w.Write(" AND entity = ", strconv.Itoa(entity), " AND key = ")
	w.Arg(key)
	w.Write(" AND set_at <= ")
	w.Arg(at)
	w.Write(") h WHERE rn = 1 AND NOT is_null)")
}

// Changes implements Dialect.
func (DuckDB) Changes(w Writer, col, key string, site int64, user *int64) {
	w.Write("(SELECT entity_key AS u, set_at, ", col, " AS v,",
		" lag(", col, ") OVER (PARTITION BY entity_key ORDER BY set_at) AS prev",
		" FROM attr_history WHERE site_id = ")
	w.Arg(site)
	duckUser(w, "entity_key", user)
	w.Write(" AND entity = 0 AND key = ")
	w.Arg(key)
	w.Write(")")
}

// respondent is the join from a survey response (alias r) to its user:
// by its user ID when it has one, else its anonymous ID. Identities
// follow merges, so responses need no update when users merge.
const respondent = " JOIN identities i ON i.site_id = r.site_id" +
	" AND i.kind = CASE WHEN r.user_id <> '' THEN 1 ELSE 2 END" +
	" AND i.external_id = CASE WHEN r.user_id <> '' THEN r.user_id ELSE r.anonymous_id END"

// Responses implements Dialect.
func (DuckDB) Responses(w Writer, table string, site int64, user *int64) {
	w.Write("FROM ", table, " r", respondent, " WHERE r.site_id = ")
	w.Arg(site)
	duckUser(w, "i.entity_key", user)
}

// LatestAnswers implements Dialect: a window finds each user's latest
// answer, bool_or whether one of its rows matches.
func (d DuckDB) LatestAnswers(w Writer, survey, question string, site int64, user *int64, rows func() error,
	negate bool, pred func(num, text string) error) error {
	w.Write("SELECT x.u FROM (SELECT i.entity_key AS u, a.num, a.text, a.answered_at,",
		" max(a.answered_at) OVER (PARTITION BY i.entity_key) AS latest",
		" FROM survey_answers a JOIN survey_responses r ON r.site_id = a.site_id AND r.survey_id = a.survey_id",
		" AND r.response_id = a.response_id", respondent, " WHERE a.site_id = ")
	w.Arg(site)
	w.Write(" AND a.survey_id = ")
	w.Arg(survey)
	w.Write(" AND a.question_id = ")
	w.Arg(question)
	duckUser(w, "i.entity_key", user)
	if err := rows(); err != nil {
		return err
	}
	w.Write(") x WHERE x.answered_at = x.latest GROUP BY x.u HAVING ")
	if negate {
		w.Write("NOT ")
	}
	w.Write("coalesce(bool_or(")
	if err := pred("x.num", "x.text"); err != nil {
		return err
	}
	w.Write("), false)")
	return nil
}

// Page implements Dialect: the count is a window over the members, the
// IDs are looked up for the page's rows only.
func (DuckDB) Page(w Writer, _ int64, members func() error, after int64, limit int, sized bool) error {
	size := "0"
	if sized {
		size = "count(*) OVER ()"
	}
	w.Write("SELECT p.u, p.size, coalesce(",
		"(SELECT min(external_id) FROM identities i WHERE i.entity_key = p.u AND i.kind = 1),",
		" (SELECT min(external_id) FROM identities i WHERE i.entity_key = p.u AND i.kind = 2), '')",
		" FROM (SELECT m.u, ", size, " AS size FROM (")
	if err := members(); err != nil {
		return err
	}
	w.Write(") m WHERE m.u > ")
	w.Arg(after)
	w.Write(" ORDER BY m.u LIMIT ")
	w.Arg(limit)
	w.Write(") p ORDER BY p.u")
	return nil
}

// KeyIn implements Dialect.
func (DuckDB) KeyIn(col string) string { return col + " IN (SELECT unnest(?::BIGINT[]))" }

// Catalog implements Dialect.
func (DuckDB) Catalog() string { return "SELECT entity, key, type FROM attr_keys WHERE site_id = ?" }

// Int implements Dialect.
func (DuckDB) Int(v int64) string { return "CAST(" + strconv.FormatInt(v, 10) + " AS BIGINT)" }

// Micros implements Dialect.
func (DuckDB) Micros(expr string) string { return "epoch_us(" + expr + ")" }

// IntDiv implements Dialect.
func (DuckDB) IntDiv(a, b string) string { return "((" + a + ") // (" + b + "))" }

// MaxMoments implements Dialect: masks are 128-bit.
func (DuckDB) MaxMoments() int { return 126 }

// Mask implements Dialect.
func (DuckDB) Mask(lo, hi string) string {
	return "((CAST(1 AS UHUGEINT) << CAST(greatest(" + hi + ", " + lo + ") AS UHUGEINT)) - (CAST(1 AS UHUGEINT) << CAST(" + lo + " AS UHUGEINT)))"
}

// Bit implements Dialect.
func (DuckDB) Bit(m string, i int) string { return "((" + m + " >> " + strconv.Itoa(i) + ") & 1)" }

// BitOr implements Dialect.
func (DuckDB) BitOr(expr string) string { return "bit_or(" + expr + ")" }

// BitAnd implements Dialect.
func (DuckDB) BitAnd(expr string) string { return "bit_and(" + expr + ")" }

// BitOrWhere implements Dialect.
func (DuckDB) BitOrWhere(expr, cond string) string {
	return "coalesce(bit_or(" + expr + ") FILTER (WHERE " + cond + "), CAST(0 AS UHUGEINT))"
}

// AndNot implements Dialect.
func (DuckDB) AndNot(a, b string) string { return "(" + a + " & ~(" + b + "))" }

// Spans implements Dialect: a window pairs each entry with the next.
func (DuckDB) Spans(w Writer, col, key string, site int64, until time.Time, mask func(from, to string) string, pred func(string) error) error {
	w.Write("SELECT u, ", mask("f", "t"), " AS m FROM (SELECT entity_key AS u, is_null, ", col, " AS v, epoch_us(set_at) AS f,",
		" coalesce(epoch_us(lead(set_at) OVER (PARTITION BY entity_key ORDER BY set_at)), 9223372036854775807) AS t",
		" FROM attr_history WHERE site_id = ")
	w.Arg(site)
	w.Write(" AND entity = 0 AND key = ")
	w.Arg(key)
	w.Write(" AND set_at <= ")
	w.Arg(until)
	w.Write(") h WHERE NOT is_null AND ")
	if err := pred("v"); err != nil {
		return err
	}
	w.Write(" GROUP BY u")
	return nil
}

// Steps implements Dialect: a running sum over each user's changes.
func (d DuckDB) Steps(w Writer, spans func() error, count int) error {
	n := d.Int(int64(count))
	w.Write("(SELECT u, pos, lead(pos, 1, ", n, ") OVER (PARTITION BY u ORDER BY pos) AS next,",
		" sum(d) OVER (PARTITION BY u ORDER BY pos) AS c FROM (SELECT u, pos, sum(d) AS d FROM",
		" (SELECT u, unnest([a, z]) AS pos, unnest([1, -1]) AS d FROM (")
	if err := spans(); err != nil {
		return err
	}
	w.Write(") AS sp) AS ch GROUP BY u, pos) AS ch)")
	return nil
}

func (d DuckDB) Reach(w Writer, spans func() error, n int) error {
	w.Write("(SELECT u, a AS pos, lag(z, ", strconv.Itoa(n-1), ") OVER (PARTITION BY u ORDER BY a, z) AS next FROM (")
	if err := spans(); err != nil {
		return err
	}
	w.Write(") AS sp)")
	return nil
}
