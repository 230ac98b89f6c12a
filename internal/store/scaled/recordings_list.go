package scaled

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// The listing reads ClickHouse: the recordings' rows (their last version,
// not deleted) with the user each belongs to now, the server session that
// overlaps each most (device, country, scroll) and the tracker's signals
// during each, with the rules of duckstore's listing. 18.16 allows one
// JOIN a SELECT, so each step is a subquery of its own.

// Slack around a recording (see duckstore): its events are matched two
// seconds either side, its session five minutes.
const (
	recordingSlack = int64(2 * time.Second / time.Microsecond)
	sessionSlack   = int64(5 * time.Minute / time.Microsecond)
)

// chQuery accumulates ClickHouse SQL text with ? placeholders and its
// arguments.
type chQuery struct {
	sql  strings.Builder
	args []any
}

func (q *chQuery) add(sql string, args ...any) {
	q.sql.WriteString(sql)
	q.args = append(q.args, args...)
}

// recUsers writes the site's recordings with a chunk, not deleted, with
// the user each belongs to now (u): its user ID's key, else its anonymous
// ID's, mapped through the overrides; 0 when neither is known.
func recUsers(q *chQuery, site int64, where func()) {
	q.add(`(SELECT id, site_id, browser_session, anonymous_id, user_id, created_at, started_at, ended_at, chunk_count,
			bytes_stored, bytes_raw, first_url, pages, if(o.into_key = 0, k, o.into_key) AS u
		FROM (SELECT *, if(uk != 0, uk, ak) AS k
			FROM (SELECT *, ak FROM (SELECT * FROM recordings FINAL WHERE site_id = ? AND deleted = 0 AND chunk_count > 0) AS r
				ANY LEFT JOIN (SELECT external_id AS anonymous_id, entity_key AS ak FROM identities WHERE site_id = ? AND kind = 2)
				USING (anonymous_id)) AS ra
			ANY LEFT JOIN (SELECT external_id AS user_id, entity_key AS uk FROM identities WHERE site_id = ? AND kind = 1 AND user_id != '')
			USING (user_id)) AS rk
		ANY LEFT JOIN (SELECT from_key, into_key FROM identity_overrides FINAL WHERE site_id = ?) AS o ON rk.k = o.from_key
		WHERE 1 = 1`, site, site, site, site)
	if where != nil {
		where()
	}
	q.add(")")
}

// sortKeys are the list orders, each an integer expression over the row.
var sortKeys = map[store.RecordingSort]string{
	store.SortDate:        "intDiv(started_at, 1000)",
	store.SortDuration:    "(intDiv(ended_at, 1000) - intDiv(started_at, 1000))",
	store.SortFrustration: "(rage_clicks + dead_clicks + errors + u_turns)",
}

// signalColumns are the signals a recording counts, by event name.
var signalColumns = []struct{ column, event string }{
	{"clicks", "$click"}, {"rage_clicks", "$rage_click"}, {"dead_clicks", "$dead_click"}, {"errors", "$error"},
	{"u_turns", "$u_turn"},
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

func (db *DB) listRecordings(ctx context.Context, site int64, rq store.RecordingQuery, id string) ([]store.RecordingRow, error) {
	sortKey, ok := sortKeys[rq.Sort]
	if rq.Sort == "" {
		sortKey = sortKeys[store.SortDate]
	} else if !ok {
		return nil, fmt.Errorf("BUG: unknown recording sort %q", rq.Sort)
	}
	if rq.Signal != "" && !store.ValidSignal(rq.Signal) {
		return nil, fmt.Errorf("BUG: unknown recording signal %q", rq.Signal)
	}
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	// rec: the recordings the filters on their own rows keep.
	rec := func(q *chQuery) {
		recUsers(q, site, func() {
			if rq.Members != nil {
				q.add(" AND u IN (SELECT u FROM ("+rq.Members.SQL+"))", rq.Members.Args...)
			}
			if id != "" {
				q.add(" AND id = ?", id)
			}
			if !rq.From.IsZero() {
				q.add(" AND started_at >= ?", micros(rq.From))
			}
			if !rq.To.IsZero() {
				q.add(" AND started_at < ?", micros(rq.To))
			}
		})
	}
	// The events and sessions a start bound leaves out.
	var evFrom, sessFrom int64 = 0, 0
	if !rq.From.IsZero() {
		evFrom, sessFrom = micros(rq.From)-recordingSlack, micros(rq.From)-sessionSlack
	}
	const recColumns = `id, site_id, browser_session, anonymous_id, user_id, created_at, started_at, ended_at, chunk_count,
		bytes_stored, bytes_raw, first_url, pages, u`
	const sessColumns = "session_id, device_type, browser, os, country, max_scroll"
	var q chQuery
	q.add(`SELECT id, site_id, browser_session, anonymous_id, user_id, created_at, started_at, ended_at, chunk_count,
			bytes_stored, bytes_raw, first_url, length(pages), u, ` + sessColumns + `,
			clicks, rage_clicks, dead_clicks, errors, u_turns, toInt64(` + sortKey + `) AS sort_key
		FROM (SELECT ` + recColumns + ", " + sessColumns + ` FROM `)
	rec(&q)
	// sess: the session of the recording's user that overlaps it most
	// (by milliseconds, then the newest session).
	q.add(` AS x ANY LEFT JOIN (SELECT id, tupleElement(best, 1) AS session_id, tupleElement(best, 2) AS device_type,
			tupleElement(best, 3) AS browser, tupleElement(best, 4) AS os, tupleElement(best, 5) AS country,
			tupleElement(best, 6) AS max_scroll
		FROM (SELECT id, argMax((session_id, device_type, browser, os, country, max_scroll), (overlap, session_id)) AS best
			FROM (SELECT id, session_id, device_type, browser, os, country, max_scroll,
					least(intDiv(s_end, 1000), intDiv(r_end, 1000)) - greatest(intDiv(s_start, 1000), intDiv(r_start, 1000)) AS overlap
				FROM (SELECT id, u, started_at AS r_start, ended_at AS r_end FROM `)
	rec(&q)
	sessions, sargs := mapped("sessions", true, "user_key", []string{"session_id", "started_at", "ended_at", "device_type",
		"browser", "os", "country", "max_scroll"}, "x.ended_at >= ?", site, sessFrom)
	q.add(`) AS r ALL INNER JOIN (SELECT u, session_id, started_at AS s_start, ended_at AS s_end, device_type, browser, os,
					country, max_scroll FROM `+sessions+`) AS s USING (u)
				WHERE s_start <= r_end + ? AND s_end >= r_start - ?)
			GROUP BY id)) USING (id)) AS xs`, append(sargs, sessionSlack, sessionSlack)...)
	// sig: the tracker's signals during the recording.
	q.add(` ANY LEFT JOIN (SELECT id`)
	for _, c := range signalColumns {
		q.add(", countIf(name = ?) AS "+c.column, c.event)
	}
	q.add(` FROM (SELECT id, u, started_at AS r_start, ended_at AS r_end FROM `)
	rec(&q)
	events, eargs := mapped("events", false, "user_key", []string{"name", "ts"},
		"x.kind = 2 AND x.name IN ('$click', '$rage_click', '$dead_click', '$error', '$u_turn') AND x.ts >= ?", site, evFrom)
	q.add(`) AS r ALL INNER JOIN (SELECT u, name, ts FROM `+events+`) AS e USING (u)
			WHERE ts >= r_start - ? AND ts <= r_end + ?
			GROUP BY id) USING (id)
		WHERE 1 = 1`, append(eargs, recordingSlack, recordingSlack)...)
	if rq.MinDuration > 0 {
		q.add(" AND intDiv(ended_at, 1000) - intDiv(started_at, 1000) >= ?", rq.MinDuration.Milliseconds())
	}
	if rq.MaxDuration > 0 {
		q.add(" AND intDiv(ended_at, 1000) - intDiv(started_at, 1000) <= ?", rq.MaxDuration.Milliseconds())
	}
	if rq.Device != "" {
		q.add(" AND lowerUTF8(device_type) = lowerUTF8(?)", rq.Device)
	}
	if rq.Country != "" {
		q.add(" AND upperUTF8(country) = upperUTF8(?)", rq.Country)
	}
	if rq.Page != "" {
		q.add(" AND arrayExists(p -> position(p, ?) > 0, pages)", rq.Page)
	}
	if rq.Event != "" {
		q.add(" AND id IN (SELECT id FROM (SELECT id, u, started_at AS r_start, ended_at AS r_end FROM ")
		rec(&q)
		did, dargs := mapped("events", false, "user_key", []string{"ts"}, "x.kind = 2 AND x.name = ? AND x.ts >= ?", site,
			rq.Event, evFrom)
		q.add(") AS r ALL INNER JOIN (SELECT u, ts FROM "+did+") AS e USING (u) WHERE ts >= r_start - ? AND ts <= r_end + ?)",
			append(dargs, recordingSlack, recordingSlack)...)
	}
	if rq.Signal != "" {
		q.add(" AND " + rq.Signal + " > 0")
	}
	if rq.After != nil {
		q.add(" AND (sort_key < ? OR (sort_key = ? AND id < ?))", rq.After.Key, rq.After.Key, rq.After.ID)
	}
	q.add(" ORDER BY sort_key DESC, id DESC LIMIT ?", rq.Limit)

	rows, err := db.ch.Query(ctx, q.sql.String(), q.args...)
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	defer rows.Close()
	var out []store.RecordingRow
	for rows.Next() {
		var r store.RecordingRow
		var rage, dead, errs, uturns, clicks, pages uint64
		var createdAt, startedAt, endedAt int64
		var chunks, scroll int32
		s := &r.Signals
		if err := rows.Scan(&r.ID, &r.SiteID, &r.BrowserSession, &r.AnonymousID, &r.UserID, &createdAt, &startedAt, &endedAt,
			&chunks, &r.BytesStored, &r.BytesRaw, &r.FirstURL, &pages, &r.UserKey, &r.SessionID, &r.Device, &r.Browser, &r.OS,
			&r.Country, &scroll, &clicks, &rage, &dead, &errs, &uturns, &r.SortKey); err != nil {
			return nil, fmt.Errorf("list recordings: %w", err)
		}
		r.CreatedAt, r.StartedAt, r.EndedAt = fromMicros(createdAt), fromMicros(startedAt), fromMicros(endedAt)
		r.Chunks, r.Pages = int(chunks), int(pages)
		s.Clicks, s.RageClicks, s.DeadClicks, s.Errors, s.UTurns, s.MaxScroll = int(clicks), int(rage), int(dead), int(errs),
			int(uturns), int(scroll)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	rows.Close()
	if err := db.recordingUserIDs(ctx, site, out); err != nil {
		return nil, err
	}
	return out, db.recordingAttributes(ctx, site, out, rq.Attributes)
}

// recordingUserIDs fills each row's user ID: the smallest of its user's
// (after merges).
func (db *DB) recordingUserIDs(ctx context.Context, site int64, rows []store.RecordingRow) error {
	var keys []int64
	for _, r := range rows {
		if r.UserKey != 0 {
			keys = append(keys, r.UserKey)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ids, err := db.UserIDs(ctx, site, keys)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].UserExtID = ids[rows[i].UserKey]
	}
	return nil
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

// UserIDs returns the user ID of each of keys (users after merges) that
// has one: the smallest of the IDs joined to it.
func (db *DB) UserIDs(ctx context.Context, site int64, keys []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.pg.Query(ctx, `SELECT coalesce(e.merged_into, e.key) AS u, min(i.external_id) FROM identities i
		JOIN entities e ON e.key = i.entity_key
		WHERE i.site_id = $1 AND i.kind = 1 AND coalesce(e.merged_into, e.key) = ANY($2) GROUP BY u`, site, keys)
	if err != nil {
		return nil, fmt.Errorf("read user IDs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		var id string
		if err := rows.Scan(&k, &id); err != nil {
			return nil, fmt.Errorf("read user IDs: %w", err)
		}
		out[k] = id
	}
	return out, rows.Err()
}

// RecordingTimeline returns what the tracker saw of the recording's user
// while it ran, oldest first: page views, identifies and track events,
// without scroll depth reports. A recording whose user is unknown has
// none.
func (db *DB) RecordingTimeline(ctx context.Context, site int64, r store.RecordingRow, limit int) ([]store.Event, error) {
	if r.UserKey == 0 {
		return nil, nil
	}
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	keys, err := db.keysOf(ctx, r.UserKey)
	if err != nil {
		return nil, err
	}
	slack := micros(r.StartedAt) - recordingSlack
	return db.events(ctx, `SELECT kind, name, ts, message_id, session_id, url, path, title, referrer, properties
		FROM events WHERE site_id = ? AND has(CAST(? AS Array(Int64)), user_key) AND ts >= ? AND ts <= ? AND kind IN (1, 2, 3, 4)
			AND NOT (kind = 2 AND name = '$scroll')
		ORDER BY ts, message_id LIMIT ?`, site, keys, slack, micros(r.EndedAt)+recordingSlack, limit)
}

// keysOf returns a live user's key and the keys merged into it.
func (db *DB) keysOf(ctx context.Context, live int64) ([]int64, error) {
	rows, err := db.pg.Query(ctx, "SELECT key FROM entities WHERE key = $1 OR merged_into = $1", live)
	if err != nil {
		return nil, fmt.Errorf("look up merged keys: %w", err)
	}
	defer rows.Close()
	keys := []int64{live}
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		if k != live {
			keys = append(keys, k)
		}
	}
	return keys, rows.Err()
}

// events reads events (kind, name, ts, message_id, session_id, url, path,
// title, referrer, properties).
func (db *DB) events(ctx context.Context, query string, args ...any) ([]store.Event, error) {
	rows, err := db.ch.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var e store.Event
		var kind uint8
		var ts int64
		if err := rows.Scan(&kind, &e.Name, &ts, &e.MessageID, &e.SessionID, &e.Page.URL, &e.Page.Path, &e.Page.Title,
			&e.Page.Referrer, &e.Properties); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		e.Kind, e.Timestamp = store.Kind(kind), fromMicros(ts)
		out = append(out, e)
	}
	return out, rows.Err()
}

// SignalRecordings implements store.Overview with the listing's rules:
// for each path, the recordings started since from that show it (a URL
// containing it) and had at least one rage click, or one dead click.
func (db *DB) SignalRecordings(ctx context.Context, site int64, from time.Time, paths []string) (map[string]store.SignalRecordings, error) {
	out := make(map[string]store.SignalRecordings, len(paths))
	if len(paths) == 0 {
		return out, nil
	}
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	var q chQuery
	q.add(`SELECT path, countIf(rage > 0), countIf(dead > 0)
		FROM (SELECT id, pages, rage, dead FROM (SELECT id, pages FROM `)
	recUsers(&q, site, func() { q.add(" AND started_at >= ?", micros(from)) })
	events, eargs := mapped("events", false, "user_key", []string{"name", "ts"},
		"x.kind = 2 AND x.name IN (?, ?) AND x.ts >= ?", site, store.EventRageClick, store.EventDeadClick, micros(from)-recordingSlack)
	q.add(`) ALL INNER JOIN (SELECT id, countIf(name = ?) AS rage, countIf(name = ?) AS dead
			FROM (SELECT id, u, started_at AS r_start, ended_at AS r_end FROM `, store.EventRageClick, store.EventDeadClick)
	recUsers(&q, site, func() { q.add(" AND started_at >= ?", micros(from)) })
	q.add(`) AS r ALL INNER JOIN (SELECT u, name, ts FROM `+events+`) AS e USING (u)
			WHERE ts >= r_start - ? AND ts <= r_end + ? GROUP BY id) USING (id))
		ARRAY JOIN CAST(? AS Array(String)) AS path
		WHERE arrayExists(p -> position(p, path) > 0, pages)
		GROUP BY path`, append(eargs, recordingSlack, recordingSlack, paths)...)
	rows, err := db.ch.Query(ctx, q.sql.String(), q.args...)
	if err != nil {
		return nil, fmt.Errorf("count recordings with frustration: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var path string
		var rage, dead uint64
		if err := rows.Scan(&path, &rage, &dead); err != nil {
			return nil, fmt.Errorf("count recordings with frustration: %w", err)
		}
		out[path] = store.SignalRecordings{RageClicks: int64(rage), DeadClicks: int64(dead)}
	}
	return out, rows.Err()
}
