package compiler

import (
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// Dialect holds what differs between SQL engines: DuckDB (the embedded
// store) and ClickHouse (the scaled one, from 18.16 on). Where one form
// runs on both, the compiler writes it itself; a dialect writes the rest.
//
// Expression methods return SQL text with ? placeholders for arguments the
// compiler then binds, in order. Statement methods write into a Writer,
// text and arguments together, and call back into the compiler for the
// conditions it owns.
type Dialect interface {
	// Arg converts a value bound to a placeholder to what the database
	// compares it with: a time.Time, for instance, to the representation
	// of the timestamp columns.
	Arg(v any) any

	// StringMatch returns a boolean expression testing expr against one
	// string argument with contains, starts_with, ends_with or matches.
	StringMatch(op segment.Op, expr string) (string, error)
	// Property returns an expression reading the top-level property key
	// of an event as text, NULL when the event has no such property or
	// its value is null, with the arguments of its placeholders.
	Property(key string) (string, []any)
	// ToNumber returns expr cast to a double, NULL when it is not a number.
	ToNumber(expr string) string
	// Day returns the calendar day (UTC) of a timestamp expression.
	Day(expr string) string
	// Seconds returns the seconds between two timestamp expressions.
	Seconds(from, to string) string
	// Differ returns a boolean expression: a and b differ, NULL counting
	// as a value (SQL's IS DISTINCT FROM).
	Differ(a, b string) string

	// CountWhere returns what goes before and after a condition to make
	// an aggregate: the number of the group's rows for which it holds.
	CountWhere() (open, end string)
	// AnyWhere is CountWhere for a boolean aggregate: whether one of the
	// group's rows satisfies the condition (false when none does).
	AnyWhere() (open, end string)

	// Exists writes a boolean expression: whether the rows that rows
	// writes (a SELECT) are not empty.
	Exists(w Writer, rows func() error) error
	// From writes the rows of one of the tables named by the Table
	// constants for a site, as "FROM table WHERE site_id = ?" with, when
	// user is not nil, the table's user key restricted to *user. Users
	// merged into another count as that one: the key the caller reads
	// (Table.Key) is the surviving user's. The caller continues with
	// " AND …" conditions on the table's columns, then calls EndFrom
	// before anything else (GROUP BY, HAVING, the end of its SELECT),
	// where it may read the columns too.
	From(w Writer, t Table, site int64, user *int64)
	// EndFrom ends what From began.
	EndFrom(w Writer)
	// CurrentWhere writes the set (a SELECT of one column u) of the users
	// (entity 0, restricted to *user when user is not nil) or companies
	// (entity 1) whose current value of an attribute satisfies pred,
	// written by pred given the expression of the value (of column col).
	CurrentWhere(w Writer, entity int, col, key string, site int64, user *int64, pred func(value string) error) error
	// CurrentFrom writes the current values of user attributes (those of
	// keys) as "FROM … WHERE …" whose rows are one per user and key set,
	// with columns entity_key (the user: restricted to *user when user is
	// not nil), key, s, n, b and t. The caller continues with " AND …"
	// conditions on them, then calls EndFrom.
	CurrentFrom(w Writer, keys []string, site int64, user *int64)
	// ValuesAsOf writes a derived table (u, col) of the values an
	// attribute had at the moment at, leaving out those unset then.
	ValuesAsOf(w Writer, entity int, col, key string, at time.Time, site int64, user *int64)
	// Changes writes a derived table (u, set_at, v, prev) of a user
	// attribute's history: each entry's value and the value of the entry
	// before it (NULL for the first, and for an unset).
	Changes(w Writer, col, key string, site int64, user *int64)
	// Responses writes the FROM clause of survey rows with their
	// respondents: table (survey_responses or feedback) as r, and the
	// identity of its user ID, else its anonymous ID, as i, whose
	// entity_key is the user (the surviving one after merges), as
	// "FROM … WHERE r.site_id = ?" with, when user is not nil,
	// i.entity_key restricted to *user. The caller continues with
	// " AND …" conditions on r's columns (qualified by r.) and may read
	// them and i.entity_key in GROUP BY and aggregates.
	Responses(w Writer, table string, site int64, user *int64)
	// LatestAnswers writes the users whose latest answer to a question
	// (the rows of their most recent response that answered it) has a
	// row for which match holds, or with negate none; match is written
	// by pred, given the expressions of the row's number and text.
	LatestAnswers(w Writer, survey, question string, site int64, user *int64, rows func() error, negate bool,
		pred func(num, text string) error) error

	// Page writes a page of a set of members: at most limit of the keys
	// above after, ascending, each as (key, size, ID) where ID is the
	// user's smallest user ID, else anonymous ID, and size the number of
	// members when sized is set, else 0. members writes the set (a
	// SELECT of one column u), once or more.
	Page(w Writer, site int64, members func() error, after int64, limit int, sized bool) error
	// KeyIn returns a boolean expression: col is one of the keys of a
	// []int64 argument.
	KeyIn(col string) string
	// Catalog is the query of a site's attribute keys: entity, key and
	// type of each, the site its one argument.
	Catalog() string

	// The masks of Days: unsigned integers, a moment a bit.

	// MaxMoments is the number of moments a mask holds: at most two
	// less than its bits, so that (1 << hi) - (1 << lo) can't overflow.
	MaxMoments() int

	// Int returns a typed BIGINT literal of a number the compiler
	// computed (never a value of the tree).
	Int(v int64) string
	// Micros returns a timestamp expression as microseconds since the
	// epoch, a BIGINT.
	Micros(expr string) string
	// IntDiv returns the integer quotient of two BIGINT expressions.
	IntDiv(a, b string) string
	// Mask returns the mask of the bits lo to hi-1 (integer expressions
	// from 0 to MaxMoments()); no bit when hi <= lo.
	Mask(lo, hi string) string
	// Bit returns bit i of the mask m, 0 or 1.
	Bit(m string, i int) string
	// BitOr and BitAnd return the aggregates or'ing and and'ing expr
	// over a group's rows.
	BitOr(expr string) string
	BitAnd(expr string) string
	// BitOrWhere returns the aggregate or'ing expr over the group's rows
	// for which cond holds: no bit when none does.
	BitOrWhere(expr, cond string) string
	// AndNot returns the mask a with the bits of b cleared.
	AndNot(a, b string) string
	// Steps writes, in parentheses, a SELECT of (u, pos, next, c) from
	// spans, a SELECT of (u, a, z) of rows that each count at the moments
	// a to z-1: for each user, from each moment pos at which its count
	// changes (the first being its first row's) to the next such moment
	// (or count), the count c of its rows at those moments.
	Steps(w Writer, spans func() error, count int) error
	// Reach writes, in parentheses, a SELECT of (u, pos, next) from
	// spans (as for Steps) whose rows, for each user, cover exactly the
	// moments at which at least n >= 2 of its spans count: with the spans
	// in time order, each span k with n-1 before it covers from its own a
	// to the z of the span n-1 before it (none when that z is not after
	// a). Spans in time order have both a and z in order, so the spans
	// counting at a moment are consecutive, and n of them count exactly
	// when some such pair does. One window or array pass: no running
	// count.
	Reach(w Writer, spans func() error, n int) error
	// Spans writes a SELECT of (u, m) for the site's users with a
	// history of the user attribute key: m is mask applied to each span
	// of a value that pred holds for, from the microsecond it was set
	// (from) to the next entry's (to, far in the future for the last
	// one), entries after until left out. pred compares the value in
	// the column named by its argument.
	Spans(w Writer, col, key string, site int64, until time.Time, mask func(from, to string) string, pred func(string) error) error
}

// Writer receives what a dialect writes: SQL text, and arguments each
// written as a placeholder.
type Writer interface {
	Write(parts ...string)
	Arg(v any)
}

// Table names a table the compiler reads through Dialect.From.
type Table uint8

// The tables of From.
const (
	Events     Table = iota
	Sessions         // all_sessions: closed and open ones
	Identities       // the key is entity_key
	UserGroups
	// PageEvents is events with the columns of where each happened
	// besides those the compiler reads (url and session_id), for
	// queries over pages such as heatmaps.
	PageEvents
	// SessionCounts is Sessions with the sessions' counts of events and
	// frustration signals, for analyses that aggregate them (compare).
	SessionCounts
	// Clicks is the heatmaps' table of page views (named $pageview) and
	// $click, $rage_click, $dead_click and $scroll events with their properties as columns: session_id,
	// name, ts, url, path, selector, pageview_id and the numbers
	// offset_x, offset_y, page_x, page_y, viewport_width, clicks, depth,
	// viewport_height and page_height (NULL when missing); and the values
	// derived from them (store.HeatmapSignal, store.TextKey,
	// store.SpotCell, store.GridCell): sig, pv_key, sel_key, spot and
	// cell (NULL without a position).
	Clicks
	// UserDays is each user's active days (track, page and screen
	// events): day, and the day's first_ts and last_ts. A day may have
	// several rows; group by user and day.
	UserDays
	// EventDays is each user's days with each track event: name, day,
	// and the day's first_ts and last_ts of that event. A day may have
	// several rows.
	EventDays
	// EventDayCounts is EventDays with each row's number of events,
	// events, for insights and comparisons that sum them. (ClickHouse,
	// whose day tables may repeat a row, reads each event as a row of
	// one.)
	EventDayCounts
	// UserDayCounts is UserDays with each row's number of events, events
	// (compare sums them per user and day).
	UserDayCounts
	// EventsByName is the track, page and screen events with only kind,
	// name_or_path (a track event's name, a page's or screen's path),
	// user_key and ts, for reads of one event's or page's rows
	// (Compiler.NameRows): DuckDB keeps them apart in that order, where
	// the events are in time order; ClickHouse reads its events.
	EventsByName
)

// Key is the column of t holding the user's key.
func (t Table) Key() string {
	if t == Identities {
		return "entity_key"
	}
	return "user_key"
}
