package testsvc_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/sightline/sightline/internal/testsvc"
)

// The SQL that docs/scale-out-design.md plans the ClickHouse dialect on,
// run on the server ClickHouse(t) gives: Debian's 18.16 here, or a current
// release through SIGHTLINE_TEST_CLICKHOUSE. These move to the dialect's
// own tests once it exists.

// chSchema is a cut-down analytics schema: timestamps as Int64
// microseconds (18.16 has no DateTime64), event properties as parallel
// key/value arrays, and merges as identity overrides. chRows fills it.
var chSchema = []string{
	`CREATE TABLE events (site_id Int64, user_key Int64, kind UInt8, name String, ts Int64, path String,
		prop_keys Array(String), prop_vals Array(String)) ENGINE = MergeTree ORDER BY (site_id, user_key, ts)`,
	`CREATE TABLE identity_overrides (site_id Int64, from_key Int64, into_key Int64, version UInt64)
		ENGINE = ReplacingMergeTree(version) ORDER BY (site_id, from_key)`,
	`CREATE TABLE attr_history (site_id Int64, entity UInt8, entity_key Int64, key String, s Nullable(String),
		is_null UInt8, set_at Int64) ENGINE = MergeTree ORDER BY (site_id, entity, key, entity_key, set_at)`,
	`CREATE TABLE identities (site_id Int64, kind UInt8, external_id String, entity_key Int64)
		ENGINE = ReplacingMergeTree ORDER BY (site_id, kind, external_id)`,
	`CREATE TABLE survey_responses (site_id Int64, survey_id String, response_id String, anonymous_id String,
		user_id String, nps Nullable(Int16), updated_at Int64, version UInt64)
		ENGINE = ReplacingMergeTree(version) ORDER BY (site_id, survey_id, response_id)`,
}

func str(s string) *string { return &s }
func i16(n int16) *int16   { return &n }

// chRows are inserted through batches: an INSERT … VALUES sent as a
// query makes 18.16 wait for a data block that never comes.
var chRows = []struct {
	insert string
	rows   [][]any
}{
	{"INSERT INTO events (site_id, user_key, kind, name, ts, path, prop_keys, prop_vals)", [][]any{
		{int64(1), int64(10), uint8(2), "buy", int64(1714557600000001), "/a", []string{"plan"}, []string{"pro"}},
		{int64(1), int64(10), uint8(2), "buy", int64(1714557600000002), "/a", []string{"plan", "n"}, []string{"pro", "12.5"}},
		{int64(1), int64(11), uint8(2), "buy", int64(1714557600000003), "/b", []string{"plan"}, []string{"free"}},
		{int64(1), int64(12), uint8(3), "", int64(1714644000000000), "/pricing", []string{}, []string{}},
	}},
	// 11 merged into 10, then into 12 (a later version): the newest row
	// of each from_key wins. Two inserts make two parts, so FINAL has
	// something to do.
	{"INSERT INTO identity_overrides (site_id, from_key, into_key, version)", [][]any{{int64(1), int64(11), int64(10), uint64(1)}}},
	{"INSERT INTO identity_overrides (site_id, from_key, into_key, version)", [][]any{{int64(1), int64(11), int64(12), uint64(2)}}},
	{"INSERT INTO attr_history (site_id, entity, entity_key, key, s, is_null, set_at)", [][]any{
		{int64(1), uint8(0), int64(10), "plan", str("free"), uint8(0), int64(1)},
		{int64(1), uint8(0), int64(10), "plan", str("pro"), uint8(0), int64(2)},
		{int64(1), uint8(0), int64(10), "plan", str("pro"), uint8(0), int64(3)},
		{int64(1), uint8(0), int64(11), "plan", str("trial"), uint8(0), int64(1)},
		{int64(1), uint8(0), int64(11), "plan", (*string)(nil), uint8(1), int64(5)},
		{int64(1), uint8(0), int64(12), "plan", str("pro"), uint8(0), int64(4)},
	}},
	{"INSERT INTO identities (site_id, kind, external_id, entity_key)", [][]any{
		{int64(1), uint8(1), "alice", int64(10)}, {int64(1), uint8(2), "anon-1", int64(10)}, {int64(1), uint8(2), "anon-2", int64(11)},
	}},
	{"INSERT INTO survey_responses (site_id, survey_id, response_id, anonymous_id, user_id, nps, updated_at, version)", [][]any{
		{int64(1), "s1", "r1", "anon-1", "alice", i16(9), int64(100), uint64(1)},
		{int64(1), "s1", "r2", "anon-2", "", i16(3), int64(50), uint64(1)},
	}},
	{"INSERT INTO survey_responses (site_id, survey_id, response_id, anonymous_id, user_id, nps, updated_at, version)", [][]any{
		{int64(1), "s1", "r2", "anon-2", "", i16(7), int64(60), uint64(2)},
	}},
}

// overridden maps events' user keys through the newest override: the
// shape every event, session and history read takes (one JOIN).
const overridden = `(SELECT if(o.into_key = 0, e.user_key, o.into_key) AS u, e.kind AS kind, e.name AS name,
	e.ts AS ts, e.path AS path, e.prop_keys AS prop_keys, e.prop_vals AS prop_vals
	FROM events AS e ANY LEFT JOIN (SELECT from_key, into_key FROM identity_overrides FINAL WHERE site_id = 1) AS o
	ON e.user_key = o.from_key WHERE e.site_id = 1)`

func TestClickHouseSQL(t *testing.T) {
	t.Parallel()
	dsn := testsvc.ClickHouse(t)
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := clickhouse.OpenDB(opts)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, q := range chSchema {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, ins := range chRows {
		batch, err := conn.PrepareBatch(ctx, ins.insert)
		if err != nil {
			t.Fatalf("%v\n%s", err, ins.insert)
		}
		for _, r := range ins.rows {
			if err := batch.Append(r...); err != nil {
				t.Fatalf("%v\n%s %v", err, ins.insert, r)
			}
		}
		if err := batch.Send(); err != nil {
			t.Fatalf("%v\n%s", err, ins.insert)
		}
	}
	var version string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		query string // one String column; rows are joined with " "
		args  []any
		want  string
	}{
		{"override FINAL keeps the newest row", `SELECT toString(into_key) FROM identity_overrides FINAL WHERE from_key = 11`, nil, "12"},
		{"events counted per user after merges", `SELECT concat(toString(u), ':', toString(count())) FROM ` + overridden +
			` WHERE kind = 2 GROUP BY u ORDER BY u`, nil, "10:2 12:1"},
		{"INTERSECT as IN, EXCEPT as NOT IN", `SELECT toString(u) FROM (SELECT DISTINCT user_key AS u FROM events)
			WHERE u IN (SELECT user_key FROM events WHERE kind = 2) AND u NOT IN (SELECT user_key FROM events WHERE path = '/b')`, nil, "10"},
		{"UNION as UNION ALL under DISTINCT", `SELECT toString(count()) FROM (SELECT DISTINCT u FROM
			(SELECT user_key AS u FROM events WHERE kind = 2 UNION ALL SELECT user_key AS u FROM events WHERE kind = 3))`, nil, "3"},
		{"EXISTS as a scalar count (one user)", `SELECT toString((SELECT count() FROM (SELECT 1 FROM events WHERE user_key = ? AND kind = 2 LIMIT 1)) > 0)`,
			[]any{int64(10)}, "1"},
		{"a bound key IN a subquery needs toInt64", `SELECT toString(toInt64(?) IN (SELECT user_key FROM events))`, []any{int64(10)}, "1"},
		{"property from key/value arrays", `SELECT prop_vals[indexOf(prop_keys, ?)] FROM events WHERE kind = 2 ORDER BY ts`,
			[]any{"plan"}, "pro pro free"},
		{"missing property is '' and has() says so", `SELECT toString(has(prop_keys, 'plan')) FROM events WHERE kind = 3`, nil, "0"},
		{"numeric property, NULL when missing", `SELECT ifNull(toString(toFloat64OrNull(prop_vals[indexOf(prop_keys, 'n')]) > 12), 'NULL')
			FROM events WHERE kind = 2 ORDER BY ts`, nil, "NULL 1 NULL"},
		{"string matches", `SELECT toString(tuple(position(path, '/a') > 0, startsWith(path, '/p'), endsWith(path, 'ing'), match(path, '^/pr.*g$'))) FROM events WHERE kind = 3`,
			nil, "(0,1,1,1)"},
		{"UTC day of microseconds", `SELECT toString(count(DISTINCT toDate(toDateTime(intDiv(ts, 1000000), 'UTC')))) FROM events`, nil, "2"},
		{"value as of a moment: argMax of a tuple keeps an unset", `SELECT concat(toString(u), '=', ifNull(tupleElement(last, 2), 'NULL')) FROM
			(SELECT entity_key AS u, argMax((is_null, s), set_at) AS last FROM attr_history WHERE key = 'plan' AND set_at <= 10 GROUP BY entity_key)
			WHERE tupleElement(last, 1) = 0 ORDER BY u`, nil, "10=pro 12=pro"},
		{"argMax of a Nullable skips NULLs (why the tuple)", `SELECT ifNull(argMax(s, set_at), 'NULL') FROM attr_history WHERE entity_key = 11`, nil, "trial"},
		{"changed: previous value without lag()", `SELECT DISTINCT toString(u) FROM (SELECT u, h.1 AS set_at, h.2 AS v, h.3 AS prev FROM
			(SELECT u, arrayJoin(arrayMap(i -> (tupleElement(hs[i], 1), tupleElement(hs[i], 2), if(i = 1, NULL, tupleElement(hs[i - 1], 2))), arrayEnumerate(hs))) AS h
			FROM (SELECT entity_key AS u, arraySort(groupArray((set_at, s))) AS hs FROM attr_history WHERE key = 'plan' GROUP BY entity_key)))
			WHERE if(isNull(prev) OR isNull(v), isNull(prev) != isNull(v), prev != v) AND prev = 'free' AND v = 'pro'`, nil, "10"},
		{"latest rows per user in HAVING (no window)", `SELECT toString(number % 2) FROM numbers(10) GROUP BY number % 2
			HAVING arrayExists(t -> tupleElement(t, 1) = max(number) AND tupleElement(t, 2) = 0, groupArray((number, number % 3)))`, nil, "1"},
		{"QUALIFY row_number() = 1 as LIMIT 1 BY", `SELECT concat(toString(entity_key), ':', ifNull(s, 'NULL')) FROM attr_history
			ORDER BY entity_key, set_at DESC LIMIT 1 BY entity_key`, nil, "10:pro 11:NULL 12:pro"},
		{"respondent: JOIN ON with expressions, FINAL", `SELECT concat(toString(i.entity_key), ':', toString(argMax(r.nps, r.updated_at)))
			FROM survey_responses AS r FINAL ALL INNER JOIN identities AS i ON i.site_id = r.site_id AND i.kind = if(r.user_id != '', 1, 2)
			AND i.external_id = if(r.user_id != '', r.user_id, r.anonymous_id) WHERE isNotNull(r.nps) GROUP BY i.entity_key ORDER BY i.entity_key`,
			nil, "10:9 11:7"},
		{"windowFunnel", `SELECT toString(windowFunnel(3600)(toDateTime(intDiv(ts, 1000000)), name = 'buy', kind = 3)) FROM ` + overridden +
			` GROUP BY u ORDER BY u`, nil, "1 1"},
		{"bucket starts without date_trunc", `SELECT toString(tuple(toStartOfHour(t), toStartOfDay(t), toMonday(t), toStartOfMonth(t)))
			FROM (SELECT toDateTime('2024-05-01 10:17:00', 'UTC') AS t)`, nil, "('2024-05-01 10:00:00','2024-05-01 00:00:00','2024-04-29','2024-05-01')"},
		{"empty typed set", `SELECT toString(u) FROM (SELECT toInt64(0) AS u WHERE 0)`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := column(ctx, db, tt.query, tt.args...)
			if err != nil {
				t.Fatalf("on ClickHouse %s: %v\n%s", version, err, tt.query)
			}
			if got != tt.want {
				t.Errorf("on ClickHouse %s: got %q, want %q\n%s", version, got, tt.want, tt.query)
			}
		})
	}

	// What 18.16 refuses, so that the dialect avoids it; current releases
	// accept some of these.
	if !strings.HasPrefix(version, "18.") {
		return
	}
	for _, q := range []string{
		"WITH x AS (SELECT 1 AS a) SELECT a FROM x",                  // CTE
		"SELECT row_number() OVER (ORDER BY number) FROM numbers(3)", // window function
		"SELECT 1 INTERSECT SELECT 1",                                // INTERSECT
		"SELECT 1 EXCEPT SELECT 1",                                   // EXCEPT
		"SELECT 1 UNION SELECT 2",                                    // UNION without ALL
		"SELECT EXISTS (SELECT 1)",                                   // EXISTS
		"SELECT 1 IN (SELECT user_key FROM events)",                  // UInt8 literal vs Int64 column
		"SELECT JSONExtractString('{\"a\":\"x\"}', 'a')",             // JSON functions (19.x)
		"SELECT toDateTime64('2024-05-01 10:00:00.123456', 6)",       // DateTime64 (20.1)
		"SELECT true",                                      // boolean literals
		"SELECT NULL::BIGINT",                              // :: casts
		"SELECT 1 IS DISTINCT FROM 2",                      // IS DISTINCT FROM
		"SELECT 'a' ILIKE 'A'",                             // ILIKE
		"SELECT date_trunc('day', now())",                  // date_trunc
		"SELECT number FROM numbers(3) QUALIFY number > 1", // QUALIFY
		"SELECT (SELECT count() FROM numbers(3) WHERE number < x) FROM (SELECT 2 AS x)",           // correlated subquery
		"SELECT 1 FROM (SELECT 1 AS a) JOIN (SELECT 1 AS a) USING a JOIN (SELECT 1 AS a) USING a", // two JOINs
		// A lambda that reads a subquery's column used nowhere else.
		"SELECT u FROM (SELECT 1 AS u, [1] AS rs, 1 AS latest) WHERE arrayExists(t -> t = latest, rs)",
	} {
		if _, err := column(ctx, db, q); err == nil {
			t.Errorf("ClickHouse %s accepted what 18.16 is documented to refuse:\n%s", version, q)
		}
	}
}

// column runs a query and joins the first column of its rows with spaces.
func column(ctx context.Context, db *sql.DB, query string, args ...any) (string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var out []string
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			return "", err
		}
		if s, ok := (*vals[0].(*any)).(string); ok {
			out = append(out, s)
		} else {
			out = append(out, "?")
		}
	}
	return strings.Join(out, " "), rows.Err()
}
