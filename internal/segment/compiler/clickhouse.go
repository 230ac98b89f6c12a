package compiler

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// ClickHouse is the dialect of the scaled store (internal/store/chstore),
// written for ClickHouse 18.16 and later: no window functions, CTEs,
// INTERSECT, EXCEPT or EXISTS, one JOIN per SELECT, no boolean type, and
// timestamps kept as Int64 microseconds since the epoch (UTC). Event
// properties are parallel arrays prop_keys and prop_vals of their
// top-level members' texts.
//
// Merges do not rewrite rows: identity_overrides maps each absorbed key to
// the key it was merged into (docs/scale-out-design.md, c), and every
// read of a user's rows goes through it, so a merged user's rows are the
// union of both users'.
type ClickHouse struct{}

var _ Dialect = ClickHouse{}

// Arg implements Dialect: times as microseconds since the epoch, as the
// tables keep them.
func (ClickHouse) Arg(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UnixMicro()
	}
	return v
}

// StringMatch implements Dialect. ClickHouse's match is RE2, as
// DuckDB's regexp_matches.
func (ClickHouse) StringMatch(op segment.Op, expr string) (string, error) {
	switch op {
	case segment.OpContains:
		return "(position(" + expr + ", ?) > 0)", nil
	case segment.OpStarts:
		return "startsWith(" + expr + ", ?)", nil
	case segment.OpEnds:
		return "endsWith(" + expr + ", ?)", nil
	case segment.OpMatches:
		return "match(" + expr + ", ?)", nil
	}
	return "", fmt.Errorf("BUG: %q is not a string match", op)
}

// Property implements Dialect: the key is bound twice, as has() tells an
// absent key from an empty text.
func (ClickHouse) Property(key string) (string, []any) {
	return "if(has(prop_keys, ?), prop_vals[indexOf(prop_keys, ?)], NULL)", []any{key, key}
}

// ToNumber implements Dialect.
func (ClickHouse) ToNumber(expr string) string { return "toFloat64OrNull(" + expr + ")" }

// Day implements Dialect.
func (ClickHouse) Day(expr string) string {
	return "toDate(toDateTime(intDiv(" + expr + ", 1000000), 'UTC'))"
}

// Seconds implements Dialect.
func (ClickHouse) Seconds(from, to string) string { return "((" + to + " - " + from + ") / 1e6)" }

// Differ implements Dialect.
func (ClickHouse) Differ(a, b string) string {
	return "if(isNull(" + a + ") OR isNull(" + b + "), isNull(" + a + ") != isNull(" + b + "), " + a + " != " + b + ")"
}

// CountWhere implements Dialect: a NULL condition (a missing property)
// counts as false, as in a FILTER clause. The ifNull is needed:
// ClickHouse 18.16 makes "0 AND NULL" NULL rather than false, and a
// countIf whose conditions are all NULL is NULL, not 0, which a NOT
// around it keeps NULL (the oracle found "not (role = …)" dropping the
// users whose only rows were of another key).
func (ClickHouse) CountWhere() (string, string) { return "countIf(ifNull(", ", 0))" }

// AnyWhere implements Dialect.
func (ClickHouse) AnyWhere() (string, string) { return "(countIf(ifNull(", ", 0)) > 0)" }

// Exists implements Dialect: a count of at most one row.
func (ClickHouse) Exists(w Writer, rows func() error) error {
	w.Write("((SELECT count() FROM (")
	if err := rows(); err != nil {
		return err
	}
	w.Write(" LIMIT 1)) > 0)")
	return nil
}

// chTable returns a table's name in ClickHouse, the columns a read of it
// exposes besides the key (those the compiler's conditions and
// aggregates name: ClickHouse reads only those a query uses), and
// whether reads need FINAL (a ReplacingMergeTree whose rows are replaced
// by newer versions).
func chTable(t Table) (string, []string, bool) {
	switch t {
	case Sessions:
		return "sessions", []string{"started_at", "ended_at", "device_type", "browser", "os", "country", "locale",
			"timezone", "channel", "referrer", "utm_source", "utm_medium", "utm_campaign", "entry_page", "exit_page"}, true
	case SessionCounts:
		return "sessions", []string{"started_at", "ended_at", "device_type", "browser", "os", "country", "channel",
			"utm_source", "utm_medium", "utm_campaign", "event_count", "rage_clicks", "dead_clicks", "errors"}, true
	case Identities:
		// Rows are never replaced, only repeated.
		return "identities", []string{"kind", "external_id", "created_at"}, false
	case UserGroups:
		return "user_groups", []string{"group_key", "linked_at"}, false
	case PageEvents:
		return "events", []string{"kind", "name", "ts", "path", "url", "session_id", "prop_keys", "prop_vals"}, false
	case UserDays:
		return "user_days", []string{"day", "first_ts", "last_ts"}, false
	case EventDays:
		return "event_days", []string{"name", "day", "first_ts", "last_ts"}, false
	case UserDayCounts:
		return "user_days", []string{"day", "first_ts", "last_ts", "events"}, false
	case EventDayCounts:
		return "event_days", []string{"name", "day", "first_ts", "last_ts", "events"}, false
	case Clicks:
		return "clicks", []string{"session_id", "name", "ts", "url", "path", "selector", "pageview_id", "offset_x",
			"offset_y", "page_x", "page_y", "viewport_width", "clicks", "depth", "viewport_height", "page_height",
			"sig", "pv_key", "sel_key", "spot", "cell"}, false
	}
	return "events", []string{"kind", "name", "ts", "path", "prop_keys", "prop_vals"}, false
}

// mapped writes the start of a read of a table through the overrides: a
// SELECT of the surviving user's key as key, and of cols, from table as x
// joined with the overrides as o, up to "WHERE x.site_id = ?" and, when
// user is not nil, the user's restriction. The caller continues with
// conditions on x's columns, and closes the parenthesis.
func mapped(w Writer, table string, final bool, key string, cols []string, site int64, user *int64, extra ...string) {
	w.Write("(SELECT if(o.into_key = 0, x.", key, ", o.into_key) AS ", key)
	for _, c := range cols {
		w.Write(", x.", c, " AS ", c)
	}
	for _, e := range extra {
		w.Write(", ", e)
	}
	w.Write(" FROM ", table, " AS x")
	if final {
		w.Write(" FINAL")
	}
	// The newest override of each merged key of the site.
	w.Write(" ANY LEFT JOIN (SELECT from_key, into_key, merged_seq FROM identity_overrides FINAL WHERE site_id = ")
	w.Arg(site)
	w.Write(") AS o ON x.", key, " = o.from_key WHERE x.site_id = ")
	w.Arg(site)
	if user != nil {
		// The rows of the user's own key and of the keys merged into it
		// (which the sort key can find), then those that map to it.
		w.Write(" AND (x.", key, " = ")
		w.Arg(*user)
		w.Write(" OR x.", key, " IN (SELECT from_key FROM identity_overrides FINAL WHERE site_id = ")
		w.Arg(site)
		w.Write(" AND into_key = ")
		w.Arg(*user)
		w.Write(")) AND if(o.into_key = 0, x.", key, ", o.into_key) = ")
		w.Arg(*user)
	}
}

// From implements Dialect. EventDayCounts are the track events
// themselves, each a row of one event: the day tables here are filled by
// materialized views, and may repeat rows (see chstore), which a sum of
// their counts would count twice. EventsByName are the events too, with
// their name or path as name_or_path.
func (ClickHouse) From(w Writer, t Table, site int64, user *int64) {
	w.Write("FROM ")
	switch t {
	case EventDayCounts:
		mapped(w, "events", false, t.Key(), []string{"name"}, site, user,
			"x.ts AS first_ts", "x.ts AS last_ts", "toUInt64(1) AS events")
		w.Write(" AND x.kind = ", kindTrack)
		return
	case EventsByName:
		mapped(w, "events", false, t.Key(), []string{"kind", "ts"}, site, user,
			"if(x.kind = "+kindTrack+", x.name, x.path) AS name_or_path")
		return
	}
	name, cols, final := chTable(t)
	mapped(w, name, final, t.Key(), cols, site, user)
}

// EndFrom implements Dialect.
func (ClickHouse) EndFrom(w Writer) { w.Write(")") }

// CurrentWhere implements Dialect.
func (d ClickHouse) CurrentWhere(w Writer, entity int, col, key string, site int64, user *int64, pred func(string) error) error {
	w.Write("SELECT u FROM ")
	currentValues(w, entity, col, key, site, user)
	w.Write(" v WHERE ")
	return pred("v." + col)
}

// currentValues writes a derived table (u, col) of the current values of
// an attribute. attr_current keeps a row per version
// (a ReplacingMergeTree by changed_at) and per key merged into a user:
// the user's value is the latest of its own key when it has one (rank
// the largest UInt64), else the one of the key merged in last. An unset
// is a row with is_null set; argMax keeps it (it skips NULLs, not tuples
// holding one).
func currentValues(w Writer, entity int, col, key string, site int64, user *int64) {
	w.Write("(SELECT u, tupleElement(last, 2) AS ", col, " FROM (SELECT entity_key AS u,",
		" argMax((is_null, ", col, "), (rank, changed_at)) AS last FROM ")
	mapped(w, "attr_current", false, "entity_key", []string{"is_null", col, "changed_at"}, site, user,
		"if(o.into_key = 0, 18446744073709551615, o.merged_seq) AS rank")
	w.Write(" AND x.entity = ", strconv.Itoa(entity), " AND x.key = ")
	w.Arg(key)
	w.Write(") GROUP BY entity_key) WHERE tupleElement(last, 1) = 0)")
}

// CurrentFrom implements Dialect: as currentValues, for several keys at
// once.
func (ClickHouse) CurrentFrom(w Writer, keys []string, site int64, user *int64) {
	w.Write("FROM (SELECT entity_key, key, tupleElement(last, 2) AS s, tupleElement(last, 3) AS n,",
		" tupleElement(last, 4) AS b, tupleElement(last, 5) AS t FROM (SELECT entity_key, key,",
		" argMax((is_null, s, n, b, t), (rank, changed_at)) AS last FROM ")
	mapped(w, "attr_current", false, "entity_key", []string{"key", "is_null", "s", "n", "b", "t", "changed_at"}, site, user,
		"if(o.into_key = 0, 18446744073709551615, o.merged_seq) AS rank")
	w.Write(" AND x.entity = 0 AND x.key IN (")
	for i, k := range keys {
		if i > 0 {
			w.Write(", ")
		}
		w.Arg(k)
	}
	w.Write(")) GROUP BY entity_key, key) WHERE tupleElement(last, 1) = 0")
}

// ValuesAsOf implements Dialect: the latest entry by then, kept unless it
// is an unset.
func (ClickHouse) ValuesAsOf(w Writer, entity int, col, key string, at time.Time, site int64, user *int64) {
	w.Write("(SELECT u, tupleElement(last, 2) AS ", col, " FROM (SELECT entity_key AS u,",
		" argMax((is_null, ", col, "), set_at) AS last FROM ")
	mapped(w, "attr_history", false, "entity_key", []string{"is_null", col, "set_at"}, site, user)
	w.Write(" AND x.entity = ", strconv.Itoa(entity), " AND x.key = ")
	w.Arg(key)
	w.Write(" AND x.set_at <= ")
	w.Arg(at)
	w.Write(") GROUP BY entity_key) WHERE tupleElement(last, 1) = 0)")
}

// Changes implements Dialect: each user's entries sorted by time in an
// array, each paired with the one before it.
func (ClickHouse) Changes(w Writer, col, key string, site int64, user *int64) {
	w.Write("(SELECT u, tupleElement(h, 1) AS set_at, tupleElement(h, 2) AS v, tupleElement(h, 3) AS prev",
		" FROM (SELECT entity_key AS u, arraySort(e -> tupleElement(e, 1), groupArray((set_at, ", col, "))) AS hs FROM ")
	mapped(w, "attr_history", false, "entity_key", []string{col, "set_at"}, site, user)
	w.Write(" AND x.entity = 0 AND x.key = ")
	w.Arg(key)
	w.Write(") GROUP BY entity_key) ARRAY JOIN arrayMap(i -> (tupleElement(hs[i], 1), tupleElement(hs[i], 2),",
		" if(i = 1, NULL, tupleElement(hs[i - 1], 2))), arrayEnumerate(hs)) AS h)")
}

// respondents writes the site's user and anonymous IDs with their users
// (after merges), i in a join: entity_key, kind, external_id.
func respondents(w Writer, site int64) {
	w.Write("(SELECT DISTINCT * FROM ")
	mapped(w, "identities", false, "entity_key", []string{"kind", "external_id"}, site, nil)
	w.Write(" AND x.kind IN (1, 2))) AS i")
}

// chRespondent is the condition joining survey rows (alias r) with their
// respondents.
const chRespondent = " ON i.kind = if(r.user_id != '', 1, 2) AND i.external_id = if(r.user_id != '', r.user_id, r.anonymous_id)"

// Responses implements Dialect.
func (ClickHouse) Responses(w Writer, table string, site int64, user *int64) {
	w.Write("FROM (SELECT * FROM ", table)
	if table == "survey_responses" {
		w.Write(" FINAL")
	}
	w.Write(" WHERE site_id = ")
	w.Arg(site)
	w.Write(") AS r ALL INNER JOIN ")
	respondents(w, site)
	w.Write(chRespondent, " WHERE r.site_id = ")
	w.Arg(site)
	if user != nil {
		w.Write(" AND i.entity_key = ")
		w.Arg(*user)
	}
}

// LatestAnswers implements Dialect: each user's answers in an array,
// searched for a row of the latest one that matches.
func (ClickHouse) LatestAnswers(w Writer, survey, question string, site int64, user *int64, rows func() error,
	negate bool, pred func(num, text string) error) error {
	w.Write("SELECT u FROM (SELECT i.entity_key AS u, r.num AS num, r.text AS text, r.answered_at AS answered_at",
		" FROM (SELECT a.num AS num, a.text AS text, a.answered_at AS answered_at, s.user_id AS user_id,",
		" s.anonymous_id AS anonymous_id FROM (SELECT * FROM survey_answers AS a WHERE a.site_id = ")
	w.Arg(site)
	w.Write(" AND a.survey_id = ")
	w.Arg(survey)
	w.Write(" AND a.question_id = ")
	w.Arg(question)
	if err := rows(); err != nil {
		return err
	}
	w.Write(") AS a ALL INNER JOIN (SELECT survey_id, response_id, user_id, anonymous_id FROM survey_responses FINAL",
		" WHERE site_id = ")
	w.Arg(site)
	w.Write(") AS s USING (survey_id, response_id)) AS r ALL INNER JOIN ")
	respondents(w, site)
	w.Write(chRespondent)
	if user != nil {
		w.Write(" WHERE i.entity_key = ")
		w.Arg(*user)
	}
	w.Write(") GROUP BY u HAVING ")
	if negate {
		w.Write("NOT ")
	}
	w.Write("arrayExists(e -> tupleElement(e, 1) = max(answered_at) AND ifNull(")
	if err := pred("tupleElement(e, 2)", "tupleElement(e, 3)"); err != nil {
		return err
	}
	w.Write(", 0), groupArray((answered_at, num, text)))")
	return nil
}

// Page implements Dialect: the count is a second reading of the members
// (no window functions), the IDs are the users' smallest of each kind.
func (ClickHouse) Page(w Writer, site int64, members func() error, after int64, limit int, sized bool) error {
	w.Write("SELECT u, size, if(uid != '', uid, aid) FROM (SELECT u, ")
	if sized {
		w.Write("(SELECT count() FROM (")
		if err := members(); err != nil {
			return err
		}
		w.Write("))")
	} else {
		w.Write("0")
	}
	w.Write(" AS size FROM (")
	if err := members(); err != nil {
		return err
	}
	w.Write(") AS m WHERE u > CAST(")
	w.Arg(after)
	w.Write(" AS BIGINT) ORDER BY u LIMIT ")
	w.Arg(limit)
	w.Write(") AS p ANY LEFT JOIN (SELECT entity_key AS u, minIf(external_id, kind = 1) AS uid,",
		" minIf(external_id, kind = 2) AS aid FROM ")
	mapped(w, "identities", false, "entity_key", []string{"kind", "external_id"}, site, nil)
	w.Write(" AND x.kind IN (1, 2)) GROUP BY entity_key) AS i USING u ORDER BY u")
	return nil
}

// KeyIn implements Dialect: the keys bind as an array literal.
func (ClickHouse) KeyIn(col string) string { return "has(CAST(? AS Array(Int64)), " + col + ")" }

// Catalog implements Dialect: a key's type is replaced when it changes.
func (ClickHouse) Catalog() string {
	return "SELECT entity, key, type FROM attr_keys FINAL WHERE site_id = ?"
}

// Int implements Dialect.
func (ClickHouse) Int(v int64) string { return "toInt64(" + strconv.FormatInt(v, 10) + ")" }

// Micros implements Dialect: times are microseconds already.
func (ClickHouse) Micros(expr string) string { return expr }

// IntDiv implements Dialect.
func (ClickHouse) IntDiv(a, b string) string { return "intDiv(" + a + ", " + b + ")" }

// MaxMoments implements Dialect: masks are UInt64 (18.16 has no wider
// integers).
func (ClickHouse) MaxMoments() int { return 62 }

// Mask implements Dialect. The difference of two UInt64 is an Int64 in
// ClickHouse: cast back, so that every mask has one type (UNION ALL
// requires it).
func (ClickHouse) Mask(lo, hi string) string {
	return "toUInt64(bitShiftLeft(toUInt64(1), greatest(" + hi + ", " + lo + ")) - bitShiftLeft(toUInt64(1), " + lo + "))"
}

// Bit implements Dialect.
func (ClickHouse) Bit(m string, i int) string {
	return "bitAnd(bitShiftRight(" + m + ", " + strconv.Itoa(i) + "), 1)"
}

// BitOr implements Dialect.
func (ClickHouse) BitOr(expr string) string { return "groupBitOr(" + expr + ")" }

// BitAnd implements Dialect.
func (ClickHouse) BitAnd(expr string) string { return "groupBitAnd(" + expr + ")" }

// BitOrWhere implements Dialect.
func (ClickHouse) BitOrWhere(expr, cond string) string {
	return "groupBitOrIf(" + expr + ", " + cond + ")"
}

// AndNot implements Dialect.
func (ClickHouse) AndNot(a, b string) string { return "bitAnd(" + a + ", bitNot(" + b + "))" }

// Spans implements Dialect: each user's entries sorted by time in an
// array (no window functions), each paired with the next.
func (ClickHouse) Spans(w Writer, col, key string, site int64, until time.Time, mask func(from, to string) string, pred func(string) error) error {
	w.Write("SELECT u, ", mask("f", "t"), " AS m FROM (SELECT u, tupleElement(h, 1) AS f, tupleElement(h, 2) AS is_null,",
		" tupleElement(h, 3) AS v, tupleElement(h, 4) AS t",
		" FROM (SELECT entity_key AS u, arraySort(e -> tupleElement(e, 1), groupArray((set_at, is_null, ", col, "))) AS hs FROM ")
	mapped(w, "attr_history", false, "entity_key", []string{"is_null", col, "set_at"}, site, nil)
	w.Write(" AND x.entity = 0 AND x.key = ")
	w.Arg(key)
	w.Write(" AND x.set_at <= ")
	w.Arg(until)
	w.Write(") GROUP BY entity_key) ARRAY JOIN arrayMap(i -> (tupleElement(hs[i], 1), tupleElement(hs[i], 2), tupleElement(hs[i], 3),",
		" if(i = length(hs), toInt64(9223372036854775807), tupleElement(hs[i + 1], 1))), arrayEnumerate(hs)) AS h) AS h",
		" WHERE is_null = 0 AND ")
	if err := pred("v"); err != nil {
		return err
	}
	w.Write(" GROUP BY u")
	return nil
}

// Steps implements Dialect: each user's changes sorted in an array (no
// window functions), their running sum by arrayCumSum.
func (ClickHouse) Steps(w Writer, spans func() error, count int) error {
	w.Write("(SELECT u, tupleElement(ch[i], 1) AS pos, if(i = length(ch), toInt64(", strconv.Itoa(count), "), tupleElement(ch[i + 1], 1)) AS next,",
		" cs[i] AS c FROM (SELECT u, arraySort(x -> tupleElement(x, 1), groupArray((pos, d))) AS ch,",
		" arrayCumSum(arrayMap(x -> tupleElement(x, 2), ch)) AS cs FROM (SELECT u, pos, sum(d) AS d FROM",
		" (SELECT u, tupleElement(p, 1) AS pos, tupleElement(p, 2) AS d FROM (")
	if err := spans(); err != nil {
		return err
	}
	w.Write(") AS sp ARRAY JOIN [(toInt64(a), toInt64(1)), (toInt64(z), toInt64(-1))] AS p) GROUP BY u, pos) GROUP BY u)",
		" ARRAY JOIN arrayEnumerate(ch) AS i)")
	return nil
}

func (ClickHouse) Reach(w Writer, spans func() error, n int) error {
	back := strconv.Itoa(n - 1)
	w.Write("(SELECT u, tupleElement(ch[i], 1) AS pos, tupleElement(ch[i - ", back, "], 2) AS next",
		" FROM (SELECT u, arraySort(groupArray((toInt64(a), toInt64(z)))) AS ch FROM (")
	if err := spans(); err != nil {
		return err
	}
	w.Write(") AS sp GROUP BY u) ARRAY JOIN arrayEnumerate(ch) AS i WHERE i > ", back, ")")
	return nil
}
