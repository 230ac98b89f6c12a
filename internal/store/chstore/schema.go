package chstore

import "strings"

// The analytics tables, as the segment compiler's ClickHouse dialect reads
// them (compiler.ClickHouse). They follow ClickHouse 18.16, the oldest
// release supported:
//
//   - Times are Int64 microseconds since the epoch, UTC: 18.16 has no
//     DateTime64, and DateTime keeps seconds.
//   - Booleans are UInt8: there is no boolean type before 21.12.
//   - An event's properties are kept as JSON text for display and, for
//     queries, as the parallel arrays prop_keys and prop_vals of its
//     top-level members and their texts (what DuckDB's
//     json_extract_string gives: a string's value, other values' JSON
//     text; null members left out). 18.16 has no JSONExtract, and its
//     visitParamExtract functions find a key at any depth.
//   - Merges rewrite no row: identity_overrides maps an absorbed key to
//     the key it was merged into, and every read goes through it
//     (docs/scale-out-design.md, c).
//   - Rows that change are new versions of a ReplacingMergeTree, read with
//     FINAL or argMax: sessions (by ended_at), current attributes (by
//     changed_at), the attribute catalog, survey responses (by
//     updated_at) and overrides (by version).
//
// Each table is listed with the expression that reads each column from
// duckstore's tables, so that the bulk copy (Copy) and the schema cannot
// drift apart.

// table is one ClickHouse table and where its rows come from in duckstore.
type table struct {
	name    string
	engine  string // ENGINE … ORDER BY …
	from    string // the duckstore table or view rows are copied from; "" for none
	columns []column
	// defaults are the ClickHouse DEFAULT of columns by name: the value
	// of a row inserted without the column (a table made before it, a
	// writer that leaves it out).
	defaults map[string]string
}

// column is one column: its ClickHouse type, and the DuckDB expression
// that reads it from duckstore's table (the name itself when empty).
type column struct {
	name, typ, duck string
}

// micros reads a DuckDB TIMESTAMP as microseconds since the epoch.
func micros(col string) string { return "epoch_us(" + col + ")" }

// propTexts reads the texts of a JSON object's members, in the order of
// json_keys, NULL for null members (left out when copied).
const propTexts = `list_transform(json_keys(properties), lambda k: json_extract_string(properties,` +
	` '$."' || replace(replace(k, '\', '\\'), '"', '\"') || '"'))`

// tables returns the analytics tables.
func tables() []table {
	sessions := []column{
		{"site_id", "Int64", ""}, {"session_id", "Int64", ""}, {"user_key", "Int64", ""},
		{"started_at", "Int64", micros("started_at")}, {"ended_at", "Int64", micros("ended_at")},
		{"page_count", "Int32", ""}, {"event_count", "Int32", ""},
	}
	// Sessions stored before the signals' columns existed have NULL there.
	for _, n := range []string{"clicks", "rage_clicks", "dead_clicks", "u_turns", "errors", "max_scroll"} {
		sessions = append(sessions, column{n, "Int32", "coalesce(" + n + ", 0)"})
	}
	for _, n := range []string{"entry_page", "exit_page", "device_type", "browser", "os", "country", "locale", "timezone",
		"channel", "referrer", "utm_source", "utm_medium", "utm_campaign"} {
		sessions = append(sessions, column{n, "String", ""})
	}
	// A session's version is its end: it only grows.
	sessions = append(sessions, column{"version", "UInt64", micros("ended_at")})
	all := append([]table{
		{name: "identities", from: "identities", engine: "ReplacingMergeTree ORDER BY (site_id, kind, external_id)",
			columns: []column{
				{"site_id", "Int64", ""}, {"kind", "UInt8", ""}, {"external_id", "String", ""},
				{"entity_key", "Int64", ""}, {"id_hash", "Int64", ""}, {"created_at", "Int64", micros("created_at")},
			}},
		// Each user's active days (duckstore's schema/101_user_days.sql),
		// filled from events by userDaysView, not copied: a day may
		// have several rows, which readers group.
		{name: "user_days", engine: "MergeTree ORDER BY (site_id, user_key, day)",
			columns: []column{
				{"site_id", "Int64", ""}, {"user_key", "Int64", ""}, {"day", "Date", ""},
				{"first_ts", "Int64", ""}, {"last_ts", "Int64", ""}, {"events", "UInt64", ""},
			}},
		{name: "event_days", engine: "MergeTree ORDER BY (site_id, name, user_key, day)",
			columns: []column{
				{"site_id", "Int64", ""}, {"name", "String", ""}, {"user_key", "Int64", ""}, {"day", "Date", ""},
				{"first_ts", "Int64", ""}, {"last_ts", "Int64", ""}, {"events", "UInt64", ""},
			}},
		{name: "identity_overrides", engine: "ReplacingMergeTree(version) ORDER BY (site_id, from_key)",
			columns: []column{
				{"site_id", "Int64", ""}, {"from_key", "Int64", ""}, {"into_key", "Int64", ""},
				{"merged_seq", "UInt64", ""}, {"version", "UInt64", ""},
			}},
		{name: "attr_keys", from: "attr_keys", engine: "ReplacingMergeTree(version) ORDER BY (site_id, entity, key)",
			columns: []column{
				{"site_id", "Int64", ""}, {"entity", "UInt8", ""}, {"key", "String", ""}, {"type", "UInt8", ""},
				{"first_seen", "Int64", micros("first_seen")}, {"version", "UInt64", "0"},
			}},
		{name: "attr_current", from: "attr_current", engine: "ReplacingMergeTree(changed_at) ORDER BY (site_id, entity, key, entity_key)",
			columns: []column{
				{"site_id", "Int64", ""}, {"entity", "UInt8", ""}, {"entity_key", "Int64", ""}, {"key", "String", ""},
				{"type", "UInt8", ""}, {"is_null", "UInt8", "0"}, {"s", "Nullable(String)", ""},
				{"n", "Nullable(Float64)", ""}, {"b", "Nullable(UInt8)", "CAST(b AS UTINYINT)"},
				{"t", "Nullable(Int64)", micros("t")}, {"changed_at", "Int64", micros("changed_at")},
			}},
		{name: "attr_history", from: "attr_history", engine: "MergeTree ORDER BY (site_id, entity, key, entity_key, set_at)",
			columns: []column{
				{"site_id", "Int64", ""}, {"entity", "UInt8", ""}, {"entity_key", "Int64", ""}, {"key", "String", ""},
				{"type", "UInt8", ""}, {"is_null", "UInt8", "CAST(is_null AS UTINYINT)"}, {"s", "Nullable(String)", ""},
				{"n", "Nullable(Float64)", ""}, {"b", "Nullable(UInt8)", "CAST(b AS UTINYINT)"},
				{"t", "Nullable(Int64)", micros("t")}, {"set_at", "Int64", micros("set_at")},
			}},
		{name: "events", from: "events",
			engine: "MergeTree PARTITION BY toYYYYMM(toDateTime(intDiv(ts, 1000000), 'UTC')) ORDER BY (site_id, user_key, ts)",
			columns: []column{
				{"site_id", "Int64", ""}, {"user_key", "Int64", ""}, {"session_id", "Int64", ""}, {"kind", "UInt8", ""},
				{"name", "String", ""}, {"ts", "Int64", micros("ts")}, {"received_at", "Int64", micros("received_at")},
				{"message_id", "String", ""}, {"url", "String", ""}, {"path", "String", ""}, {"title", "String", ""},
				{"referrer", "String", ""}, {"source", "UInt8", ""}, {"properties", "String", ""},
				{"prop_keys", "Array(String)", "json_keys(properties)"}, {"prop_vals", "Array(String)", propTexts},
			}},
		// The heatmaps' signals with their properties as columns
		// (duckstore's schema/080_clicks.sql).
		{name: "clicks", from: "clicks",
			engine: "MergeTree PARTITION BY toYYYYMM(toDateTime(intDiv(ts, 1000000), 'UTC')) ORDER BY (site_id, path, ts)",
			columns: append(append([]column{
				{"site_id", "Int64", ""}, {"user_key", "Int64", ""}, {"session_id", "Int64", ""}, {"name", "String", ""},
				{"ts", "Int64", micros("ts")}, {"url", "String", ""}, {"path", "String", ""},
				{"selector", "Nullable(String)", ""}, {"pageview_id", "Nullable(String)", ""},
			}, clickNumbers()...), clickDerived...),
			defaults: clickDefaults()},
		// Each selector's text by its key (duckstore's
		// schema/132_click_selectors.sql), filled by clickSelectorsRows
		// from every insert into clicks, not copied: a key may have several
		// rows, which readers group.
		{name: "click_selectors", engine: "ReplacingMergeTree ORDER BY (site_id, sel_key)",
			columns: []column{{"site_id", "Int64", ""}, {"sel_key", "Int64", ""}, {"selector", "String", ""}}},
		{name: "sessions", from: "all_sessions", engine: "ReplacingMergeTree(version) ORDER BY (site_id, user_key, session_id)",
			columns: sessions},
		{name: "user_groups", from: "user_groups", engine: "MergeTree ORDER BY (site_id, user_key, group_key)",
			columns: []column{
				{"site_id", "Int64", ""}, {"user_key", "Int64", ""}, {"group_key", "Int64", ""},
				{"linked_at", "Int64", micros("linked_at")},
			}},
		{name: "survey_responses", from: "survey_responses",
			engine: "ReplacingMergeTree(version) ORDER BY (site_id, survey_id, response_id)",
			columns: []column{
				{"site_id", "Int64", ""}, {"survey_id", "String", ""}, {"response_id", "String", ""},
				{"anonymous_id", "String", ""}, {"user_id", "String", ""}, {"session_id", "String", ""},
				{"url", "String", ""}, {"answers", "String", ""}, {"nps", "Nullable(Int16)", ""},
				{"completed", "UInt8", "CAST(completed AS UTINYINT)"}, {"created_at", "Int64", micros("created_at")},
				{"updated_at", "Int64", micros("updated_at")}, {"completed_at", "Nullable(Int64)", micros("completed_at")},
				{"version", "UInt64", micros("updated_at")},
			}},
		{name: "survey_answers", from: "survey_answers",
			engine: "MergeTree ORDER BY (site_id, survey_id, question_id, response_id)",
			columns: []column{
				{"site_id", "Int64", ""}, {"survey_id", "String", ""}, {"response_id", "String", ""},
				{"question_id", "String", ""}, {"num", "Nullable(Float64)", ""}, {"text", "Nullable(String)", ""},
				{"answered_at", "Int64", micros("answered_at")},
			}},
		// The event catalog's partial sums (duckstore's
		// schema/012_event_catalog.sql): each writer appends its batch's,
		// readers add them up.
		{name: "event_catalog", from: "event_catalog", engine: "MergeTree ORDER BY (site_id, kind, name)",
			columns: []column{
				{"site_id", "Int64", ""}, {"kind", "UInt8", ""}, {"name", "String", ""}, {"events", "Int64", ""},
				{"first_seen", "Int64", micros("first_seen")}, {"last_seen", "Int64", micros("last_seen")},
				{"sources", "UInt8", ""},
			}},
		{name: "event_properties", from: "event_properties", engine: "MergeTree ORDER BY (site_id, kind, name, key)",
			columns: []column{
				{"site_id", "Int64", ""}, {"kind", "UInt8", ""}, {"name", "String", ""}, {"key", "String", ""},
				{"types", "UInt8", ""}, {"events", "Int64", ""}, {"samples", "Array(String)", ""},
			}},
		{name: "feedback", from: "feedback", engine: "MergeTree ORDER BY (site_id, created_at, id)",
			columns: []column{
				{"id", "String", ""}, {"site_id", "Int64", ""}, {"anonymous_id", "String", ""}, {"user_id", "String", ""},
				{"session_id", "String", ""}, {"url", "String", ""}, {"rating", "Int8", ""}, {"comment", "String", ""},
				{"selector", "String", ""}, {"created_at", "Int64", micros("created_at")},
			}},
	}, recordingTables()...)
	for i := range all {
		if Tagged[all[i].name] {
			all[i].columns = append(all[i].columns, column{"wal_node", "UInt64", "0"}, column{"wal_lsn", "UInt64", "0"})
		}
	}
	return all
}

// Tagged are the tables whose rows the scaled store's appliers write
// with the log position they come from: wal_node (a hash of the node's
// name) and wal_lsn (the last record of the applied group), 0 for rows
// written otherwise (a copy, an API call). A node that restarts, or
// retries after a failure, deletes its rows of records PostgreSQL does
// not count as applied before it applies them again, so that no row is
// stored twice.
var Tagged = map[string]bool{
	"identities": true, "user_days": true, "event_days": true, "identity_overrides": true, "attr_keys": true,
	"attr_current": true, "attr_history": true, "events": true, "clicks": true, "sessions": true, "user_groups": true,
	"event_catalog": true, "event_properties": true,
}

// clickNumbers are the clicks table's numeric properties.
func clickNumbers() []column {
	var out []column
	for _, n := range []string{"offset_x", "offset_y", "page_x", "page_y", "viewport_width", "clicks", "depth",
		"viewport_height", "page_height"} {
		out = append(out, column{n, "Nullable(Float64)", ""})
	}
	return out
}

// clickDerived are the clicks table's derived columns (duckstore's
// schema/130_click_keys.sql), copied as duckstore has them.
var clickDerived = []column{{"sig", "UInt8", ""}, {"pv_key", "Int64", ""}, {"sel_key", "Int64", ""}, {"spot", "UInt8", ""},
	{"cell", "Nullable(Int32)", ""}}

// clickDefaults compute the derived columns in ClickHouse as store's
// functions do (TestClickDefaultsAsGo), for rows inserted without them.
func clickDefaults() map[string]string {
	// textKey is store.TextKey: the first 60 bits of the MD5 digest, read
	// big-endian (reinterpretAsUInt64 reads little-endian bytes).
	textKey := func(col string) string {
		return "if(ifNull(" + col + ", '') = '', toInt64(0), toInt64(bitShiftRight(reinterpretAsUInt64(reverse(substring(MD5(ifNull(" +
			col + ", '')), 1, 8))), 4)))"
	}
	// finite is a Nullable(Float64) column's value, NaN when NULL
	// (isFinite is false for both).
	finite := func(col string) string { return "ifNull(" + col + ", nan)" }
	spot := func(col string) string {
		return "least(greatest(floor(if(isFinite(" + finite(col) + "), " + finite(col) + ", 0.5) * 5), 0), 4)"
	}
	return map[string]string{
		"sig": "toUInt8(multiIf(name = '$pageview', 0, name = '$click', 1, name = '$rage_click', 2, " +
			"name = '$dead_click', 3, 4))",
		"pv_key":  textKey("pageview_id"),
		"sel_key": textKey("selector"),
		"spot":    "toUInt8(" + spot("offset_x") + " + 5 * " + spot("offset_y") + ")",
		"cell": "if(isFinite(" + finite("page_x") + ") AND isFinite(" + finite("page_y") + ") AND isFinite(" +
			finite("viewport_width") + ") AND " + finite("viewport_width") + " > 0, toNullable(toInt32(" +
			"least(greatest(floor(" + finite("page_x") + " / " + finite("viewport_width") + " * 50), 0), 49) + " +
			"50 * least(greatest(floor(" + finite("page_y") + " / 20), 0), 999))), NULL)",
	}
}

// create returns the CREATE TABLE statement of t.
func (t table) create() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + t.name + " (")
	for i, c := range t.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.spec(c))
	}
	b.WriteString(") ENGINE = " + t.engine)
	return b.String()
}

// spec is a column's definition in CREATE TABLE and ADD COLUMN.
func (t table) spec(c column) string {
	if def, ok := t.defaults[c.name]; ok {
		return c.name + " " + c.typ + " DEFAULT " + def
	}
	return c.name + " " + c.typ
}

// names returns t's column names, comma-separated.
func (t table) names() string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// source returns the DuckDB query reading t's rows from duckstore.
func (t table) source() string {
	exprs := make([]string, len(t.columns))
	for i, c := range t.columns {
		exprs[i] = c.name
		if c.duck != "" {
			exprs[i] = c.duck + " AS " + c.name
		}
	}
	return "SELECT " + strings.Join(exprs, ", ") + " FROM " + t.from
}

// userDaysRows reads user_days' rows from events: a row per user and day
// of track, page and screen events.
const userDaysRows = `SELECT site_id, user_key, toDate(toDateTime(intDiv(ts, 1000000), 'UTC')) AS day,
	min(ts) AS first_ts, max(ts) AS last_ts, count() AS events, wal_node, wal_lsn
	FROM events WHERE kind IN (2, 3, 4) GROUP BY site_id, user_key, day, wal_node, wal_lsn`

// eventDaysRows reads event_days' rows from events: a row per user, day
// and track event name.
const eventDaysRows = `SELECT site_id, name, user_key, toDate(toDateTime(intDiv(ts, 1000000), 'UTC')) AS day,
	min(ts) AS first_ts, max(ts) AS last_ts, count() AS events, wal_node, wal_lsn
	FROM events WHERE kind = 2 GROUP BY site_id, name, user_key, day, wal_node, wal_lsn`

// clickSelectorsRows reads click_selectors' rows from clicks: a row per
// selector key of each inserted block.
// (A key is 0 for a NULL selector; WHERE names no selector: ClickHouse
// 18.16 would read the aggregate's alias there.)
const clickSelectorsRows = `SELECT site_id, sel_key, any(assumeNotNull(selector)) AS selector
	FROM clicks WHERE sel_key != 0 GROUP BY site_id, sel_key`

// fillViews fill tables from every block inserted into another (the day
// tables from events, the selectors from clicks): each table, its view,
// and the rows it reads.
var fillViews = []struct{ table, view, rows string }{
	{"user_days", "user_days_view", userDaysRows},
	{"event_days", "event_days_view", eventDaysRows},
	{"click_selectors", "click_selectors_view", clickSelectorsRows},
}
