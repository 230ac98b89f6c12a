package duckstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// recordingUsers is the recordings with the user each belongs to now: its
// user ID's entity, else its anonymous ID's, looked up in identities when
// the query runs. Identifies and merges repoint identities, so a recording
// made before the visitor identified is the user's as soon as they do.
// Only the identities of recordings are joined: hashing every identity of
// a million users for the join took seconds.
const recordingUsers = `SELECT r.*, coalesce(iu.entity_key, ia.entity_key) AS user_key
	FROM recordings r
	LEFT JOIN (SELECT * FROM identities WHERE kind = 1 AND id_hash IN (SELECT user_hash FROM recordings)) iu
		ON iu.id_hash = r.user_hash AND iu.site_id = r.site_id AND iu.external_id = r.user_id
	LEFT JOIN (SELECT * FROM identities WHERE kind = 2 AND id_hash IN (SELECT anon_hash FROM recordings)) ia
		ON ia.id_hash = r.anon_hash AND ia.site_id = r.site_id AND ia.external_id = r.anonymous_id`

// signalEvents are the tracker's events counted as a recording's signals,
// and the columns that count them.
const signalColumns = `count(*) FILTER (WHERE e.name = '$click') AS clicks,
		count(*) FILTER (WHERE e.name = '$rage_click') AS rage_clicks,
		count(*) FILTER (WHERE e.name = '$dead_click') AS dead_clicks,
		count(*) FILTER (WHERE e.name = '$error') AS errors,
		count(*) FILTER (WHERE e.name = '$u_turn') AS u_turns`

// recordingSlack widens a recording's time range when matching the
// tracker's events and sessions to it: the two clocks are the same
// browser's, corrected separately for skew. sessionSlack widens it for
// the server session that gives device and country.
const (
	recordingSlack = "INTERVAL 2 SECOND"
	slack          = 2 * time.Second
	sessionSlack   = 5 * time.Minute
)

// sortKeys are the list orders, each an integer expression over the row.
var sortKeys = map[store.RecordingSort]string{
	store.SortDate:        "epoch_ms(started_at)",
	store.SortDuration:    "date_diff('millisecond', started_at, ended_at)",
	store.SortFrustration: "(rage_clicks + dead_clicks + errors + u_turns)",
}

// signalFilters are the signal filters, each naming a column.
var signalFilters = map[string]string{
	"rage_clicks": "rage_clicks", "dead_clicks": "dead_clicks", "errors": "errors", "u_turns": "u_turns",
}

// ListRecordings lists a site's recordings that have at least one chunk,
// filtered and sorted as q says.
func (db *DB) ListRecordings(ctx context.Context, site int64, q store.RecordingQuery) ([]store.RecordingRow, error) {
	return db.listRecordings(ctx, site, q, "")
}

// Recording returns one recording of a site as lists show it, with the
// named attributes of its user.
func (db *DB) Recording(ctx context.Context, site int64, id string, attrs []string) (store.RecordingRow, error) {
	rows, err := db.listRecordings(ctx, site, store.RecordingQuery{Limit: 1, Attributes: attrs}, id)
	if err != nil {
		return store.RecordingRow{}, err
	}
	if len(rows) == 0 {
		return store.RecordingRow{}, fmt.Errorf("recording %q: %w", id, store.ErrNotFound)
	}
	return rows[0], nil
}

// queryBuilder accumulates SQL text with ? placeholders and its arguments.
type queryBuilder struct {
	sql  strings.Builder
	args []any
}

func (b *queryBuilder) add(sql string, args ...any) {
	b.sql.WriteString(sql)
	b.args = append(b.args, args...)
}

func (db *DB) listRecordings(ctx context.Context, site int64, q store.RecordingQuery, id string) ([]store.RecordingRow, error) {
	sortKey, ok := sortKeys[q.Sort]
	if q.Sort == "" {
		sortKey = sortKeys[store.SortDate]
	} else if !ok {
		return nil, fmt.Errorf("BUG: unknown recording sort %q", q.Sort)
	}
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	var b queryBuilder
	b.add("WITH ")
	if q.Members != nil {
		// Once, before everything: rec is read four times below, and a
		// segment's query inlined in each would cost four times as much.
		b.add("members AS MATERIALIZED ("+q.Members.SQL+"),\n", q.Members.Args...)
	}
	b.add(`rec AS (
		SELECT id, site_id, browser_session, anonymous_id, user_id, created_at, started_at, ended_at,
			chunk_count, bytes_stored, bytes_raw, first_url, pages, user_key
		FROM (`+recordingUsers+`) r WHERE r.site_id = ? AND r.chunk_count > 0`, site)
	if id == "" && !q.Backgrounds {
		b.add(" AND NOT starts_with(r.browser_session, 'bg-')")
	}
	if q.Members != nil {
		b.add(" AND r.user_key IN (SELECT m.u FROM members m)")
	}
	if id != "" {
		b.add(" AND r.id = ?", id)
	}
	if !q.From.IsZero() {
		b.add(" AND r.started_at >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		b.add(" AND r.started_at < ?", q.To.UTC())
	}
	// The server session that overlaps the recording most gives device
	// and country; the tracker's events during it give the signals. With
	// a start bound, both are bounded by it too, so that the time filters
	// skip the older row groups (a bound computed in the query skips
	// none).
	var sessFrom, sigFrom string
	var sessArgs, sigArgs []any
	if !q.From.IsZero() {
		sessFrom, sessArgs = " AND s.ended_at >= ?", []any{q.From.UTC().Add(-sessionSlack)}
		sigFrom, sigArgs = " AND e.ts >= ?", []any{q.From.UTC().Add(-slack)}
	}
	b.add(`),
	sess AS (
		SELECT rec.id, s.session_id, s.device_type, s.browser, s.os, s.country, s.max_scroll
		FROM rec JOIN all_sessions s ON s.user_key = rec.user_key AND s.site_id = rec.site_id
			AND s.started_at <= rec.ended_at + INTERVAL 5 MINUTE AND s.ended_at >= rec.started_at - INTERVAL 5 MINUTE`+sessFrom+`
		QUALIFY row_number() OVER (PARTITION BY rec.id ORDER BY
			date_diff('millisecond', greatest(s.started_at, rec.started_at), least(s.ended_at, rec.ended_at)) DESC,
			s.session_id DESC) = 1),`, sessArgs...)
	b.add(`
	sig AS (
		SELECT rec.id, `+signalColumns+`
		FROM rec JOIN events e ON e.user_key = rec.user_key AND e.site_id = rec.site_id
			AND e.ts BETWEEN rec.started_at - `+recordingSlack+` AND rec.ended_at + `+recordingSlack+`
		WHERE e.kind = 2 AND e.name IN ('$click', '$rage_click', '$dead_click', '$error', '$u_turn')
			AND e.ts >= (SELECT min(started_at) FROM rec) - `+recordingSlack+sigFrom+`
		GROUP BY rec.id),`, sigArgs...)
	b.add(`
	x AS (
		SELECT rec.*, coalesce(sess.session_id, 0) AS session_id, coalesce(sess.device_type, '') AS device_type,
			coalesce(sess.browser, '') AS browser, coalesce(sess.os, '') AS os, coalesce(sess.country, '') AS country,
			coalesce(sig.clicks, 0) AS clicks, coalesce(sig.rage_clicks, 0) AS rage_clicks,
			coalesce(sig.dead_clicks, 0) AS dead_clicks, coalesce(sig.errors, 0) AS errors,
			coalesce(sig.u_turns, 0) AS u_turns, coalesce(sess.max_scroll, 0) AS max_scroll,
			coalesce(ext.user_ext, '') AS user_ext
		FROM rec LEFT JOIN sess USING (id) LEFT JOIN sig USING (id)
			LEFT JOIN (SELECT entity_key, site_id, min(external_id) AS user_ext FROM identities
				WHERE kind = 1 AND entity_key IN (SELECT user_key FROM rec) GROUP BY ALL) ext
				ON ext.entity_key = rec.user_key AND ext.site_id = rec.site_id)
	SELECT ` + recordingColumns + `, coalesce(user_key, 0), user_ext, session_id, device_type, browser, os, country,
		clicks, rage_clicks, dead_clicks, errors, u_turns, max_scroll, ` + sortKey + ` AS sort_key
	FROM x WHERE true`)
	if q.MinDuration > 0 {
		b.add(" AND date_diff('millisecond', started_at, ended_at) >= ?", q.MinDuration.Milliseconds())
	}
	if q.MaxDuration > 0 {
		b.add(" AND date_diff('millisecond', started_at, ended_at) <= ?", q.MaxDuration.Milliseconds())
	}
	if q.Device != "" {
		b.add(" AND lower(device_type) = lower(?)", q.Device)
	}
	if q.Country != "" {
		b.add(" AND upper(country) = upper(?)", q.Country)
	}
	if q.Page != "" {
		// URLs hold no newline, so a match cannot span two of them.
		b.add(" AND contains(array_to_string(pages, chr(10)), ?)", q.Page)
	}
	if q.Event != "" {
		b.add(` AND EXISTS (SELECT 1 FROM events e WHERE e.site_id = x.site_id AND e.user_key = x.user_key
			AND e.kind = 2 AND e.name = ?
			AND e.ts BETWEEN x.started_at - `+recordingSlack+` AND x.ended_at + `+recordingSlack+`)`, q.Event)
	}
	if q.Signal != "" {
		col, ok := signalFilters[q.Signal]
		if !ok {
			return nil, fmt.Errorf("BUG: unknown recording signal %q", q.Signal)
		}
		b.add(" AND " + col + " > 0")
	}
	if q.After != nil {
		b.add(" AND ("+sortKey+" < ? OR ("+sortKey+" = ? AND id < ?))", q.After.Key, q.After.Key, q.After.ID)
	}
	b.add(" ORDER BY sort_key DESC, id DESC LIMIT ?", q.Limit)

	rows, err := db.pool().QueryContext(ctx, b.sql.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	defer rows.Close()
	var out []store.RecordingRow
	for rows.Next() {
		var r store.RecordingRow
		s := &r.Signals
		if err := scanRecording(rows, &r.Recording, &r.UserKey, &r.UserExtID, &r.SessionID, &r.Device, &r.Browser,
			&r.OS, &r.Country, &s.Clicks, &s.RageClicks, &s.DeadClicks, &s.Errors, &s.UTurns, &s.MaxScroll, &r.SortKey); err != nil {
			return nil, fmt.Errorf("list recordings: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	rows.Close()
	return out, db.recordingAttributes(ctx, site, out, q.Attributes)
}

// recordingAttributes fills the named current attributes of the rows'
// users.
func (db *DB) recordingAttributes(ctx context.Context, site int64, rows []store.RecordingRow, names []string) error {
	if len(names) == 0 || len(rows) == 0 {
		return nil
	}
	var keys []int64
	for _, r := range rows {
		if r.UserKey != 0 {
			keys = append(keys, r.UserKey)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	byKey, err := db.CurrentAttributes(ctx, site, keys, names)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].Attributes = byKey[rows[i].UserKey]
	}
	return nil
}

// RecordingTimeline returns what the tracker saw of the recording's user
// while it ran, oldest first: page views, identifies and track events
// (clicks, frustration signals, errors, custom events), without scroll
// depth reports. A recording whose user is unknown has none.
func (db *DB) RecordingTimeline(ctx context.Context, site int64, r store.RecordingRow, limit int) ([]store.Event, error) {
	if r.UserKey == 0 {
		return nil, nil
	}
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	slack := 2 * time.Second
	return queryAll(ctx, db.pool(), "read recording timeline", scanEvent, `SELECT `+eventColumns+` FROM events
		WHERE site_id = ? AND user_key = ? AND ts BETWEEN ? AND ? AND kind IN (1, 2, 3, 4)
			AND NOT (kind = 2 AND name = '$scroll')
		ORDER BY ts, message_id LIMIT ?`, site, r.UserKey, r.StartedAt.Add(-slack), r.EndedAt.Add(slack), limit)
}
