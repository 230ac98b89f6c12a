package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Overview = (*DB)(nil)

// Activity implements store.Overview. Events are stored in arrival order,
// which follows their timestamps closely, so the ts filter skips the row
// groups before prev; each of the two queries reads the two periods'
// events (or sessions) once.
func (db *DB) Activity(ctx context.Context, site int64, cur, prev store.Period) (store.Activity, error) {
	if err := db.Sync(ctx); err != nil {
		return store.Activity{}, err
	}
	from, to := span(cur, prev)
	out := store.Activity{}
	days := map[time.Time]*store.DayActivity{}
	for d := cur.From.UTC().Truncate(24 * time.Hour); d.Before(cur.To); d = d.AddDate(0, 0, 1) {
		out.Days = append(out.Days, store.DayActivity{Day: d})
	}
	for i := range out.Days {
		days[out.Days[i].Day] = &out.Days[i]
	}
	// Grouping sets: each period's distinct users, and each day's of the
	// current period, in one pass.
	rows, err := db.sql.QueryContext(ctx, `SELECT grouping(day) = 0 AS by_day, cur, day, count(*), count(DISTINCT user_key)
		FROM (SELECT user_key, ts >= ? AND ts < ? AS cur, date_trunc('day', ts) AS day
			FROM events WHERE site_id = ? AND ts >= ? AND ts < ?
				AND ((ts >= ? AND ts < ?) OR (ts >= ? AND ts < ?)))
		GROUP BY GROUPING SETS ((cur), (cur, day))`,
		cur.From.UTC(), cur.To.UTC(), site, from, to, cur.From.UTC(), cur.To.UTC(), prev.From.UTC(), prev.To.UTC())
	if err != nil {
		return store.Activity{}, fmt.Errorf("count activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var byDay, isCur bool
		var day sql.NullTime
		var events, users int64
		if err := rows.Scan(&byDay, &isCur, &day, &events, &users); err != nil {
			return store.Activity{}, fmt.Errorf("count activity: %w", err)
		}
		switch {
		case !byDay && isCur:
			out.Current.Events, out.Current.Users = events, users
		case !byDay:
			out.Previous.Events, out.Previous.Users = events, users
		case isCur && day.Valid:
			if d := days[day.Time.UTC()]; d != nil {
				d.Events, d.Users = events, users
			}
		}
	}
	if err := rows.Err(); err != nil {
		return store.Activity{}, fmt.Errorf("count activity: %w", err)
	}
	rows.Close()
	rows, err = db.sql.QueryContext(ctx, `SELECT cur, day, count(*)
		FROM (SELECT started_at >= ? AND started_at < ? AS cur, date_trunc('day', started_at) AS day
			FROM all_sessions WHERE site_id = ? AND started_at >= ? AND started_at < ?
				AND ((started_at >= ? AND started_at < ?) OR (started_at >= ? AND started_at < ?)))
		GROUP BY ALL`,
		cur.From.UTC(), cur.To.UTC(), site, from, to, cur.From.UTC(), cur.To.UTC(), prev.From.UTC(), prev.To.UTC())
	if err != nil {
		return store.Activity{}, fmt.Errorf("count sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var isCur bool
		var day time.Time
		var n int64
		if err := rows.Scan(&isCur, &day, &n); err != nil {
			return store.Activity{}, fmt.Errorf("count sessions: %w", err)
		}
		if !isCur {
			out.Previous.Sessions += n
			continue
		}
		out.Current.Sessions += n
		if d := days[day.UTC()]; d != nil {
			d.Sessions = n
		}
	}
	if err := rows.Err(); err != nil {
		return store.Activity{}, fmt.Errorf("count sessions: %w", err)
	}
	return out, nil
}

// span returns the time from the earlier start to the later end of two
// periods, in UTC.
func span(a, b store.Period) (from, to time.Time) {
	from, to = a.From, a.To
	if b.From.Before(from) {
		from = b.From
	}
	if b.To.After(to) {
		to = b.To
	}
	return from.UTC(), to.UTC()
}

// TopPages implements store.Overview: page views by path.
func (db *DB) TopPages(ctx context.Context, site int64, cur, prev store.Period, limit int) ([]store.PageViews, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	from, to := span(cur, prev)
	rows, err := db.sql.QueryContext(ctx, `SELECT path,
			count(*) FILTER (WHERE ts >= ? AND ts < ?) AS views,
			count(DISTINCT user_key) FILTER (WHERE ts >= ? AND ts < ?) AS users,
			count(*) FILTER (WHERE ts >= ? AND ts < ?) AS previous
		FROM events WHERE site_id = ? AND kind = ? AND ts >= ? AND ts < ?
		GROUP BY path HAVING views > 0
		ORDER BY views DESC, path LIMIT ?`,
		cur.From.UTC(), cur.To.UTC(), cur.From.UTC(), cur.To.UTC(), prev.From.UTC(), prev.To.UTC(),
		site, int(store.KindPage), from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("count page views: %w", err)
	}
	defer rows.Close()
	out := []store.PageViews{}
	for rows.Next() {
		var p store.PageViews
		if err := rows.Scan(&p.Path, &p.Views, &p.Users, &p.PreviousViews); err != nil {
			return nil, fmt.Errorf("count page views: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count page views: %w", err)
	}
	return out, nil
}

// FrustrationSpots implements store.Overview: the tracker's $rage_click
// and $dead_click events by the path of their page.
func (db *DB) FrustrationSpots(ctx context.Context, site int64, p store.Period, limit int) ([]store.FrustrationSpot, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT path,
			count(*) FILTER (WHERE name = ?) AS rage, count(*) FILTER (WHERE name = ?) AS dead,
			count(DISTINCT user_key)
		FROM events WHERE site_id = ? AND kind = ? AND name IN (?, ?) AND ts >= ? AND ts < ?
		GROUP BY path
		ORDER BY rage + dead DESC, rage DESC, path LIMIT ?`,
		store.EventRageClick, store.EventDeadClick, site, int(store.KindTrack), store.EventRageClick, store.EventDeadClick,
		p.From.UTC(), p.To.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("find frustration hot spots: %w", err)
	}
	defer rows.Close()
	out := []store.FrustrationSpot{}
	for rows.Next() {
		var s store.FrustrationSpot
		if err := rows.Scan(&s.Path, &s.RageClicks, &s.DeadClicks, &s.Users); err != nil {
			return nil, fmt.Errorf("find frustration hot spots: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find frustration hot spots: %w", err)
	}
	return out, nil
}

// SignalRecordings implements store.Overview. It matches recordings to
// pages and signals as ListRecordings does for page= and signal=: a page
// is a substring of one of the recording's URLs, and a signal counts when
// its user's tracker sent one during the recording.
func (db *DB) SignalRecordings(ctx context.Context, site int64, from time.Time, paths []string) (map[string]store.SignalRecordings, error) {
	out := make(map[string]store.SignalRecordings, len(paths))
	if len(paths) == 0 {
		return out, nil
	}
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.sql.QueryContext(ctx, `WITH rec AS MATERIALIZED (
			SELECT id, site_id, started_at, ended_at, user_key, array_to_string(pages, chr(10)) AS urls
			FROM (`+recordingUsers+`) r WHERE r.site_id = ? AND r.chunk_count > 0 AND r.started_at >= ?),
		sig AS (
			SELECT rec.id, count(*) FILTER (WHERE e.name = ?) AS rage, count(*) FILTER (WHERE e.name = ?) AS dead
			FROM rec JOIN events e ON e.user_key = rec.user_key AND e.site_id = rec.site_id
				AND e.ts BETWEEN rec.started_at - `+recordingSlack+` AND rec.ended_at + `+recordingSlack+`
			WHERE e.kind = ? AND e.name IN (?, ?)
				AND e.ts >= (SELECT min(started_at) FROM rec) - `+recordingSlack+`
			GROUP BY rec.id)
		SELECT p.path, count(*) FILTER (WHERE sig.rage > 0), count(*) FILTER (WHERE sig.dead > 0)
		FROM (SELECT unnest(?::VARCHAR[]) AS path) p
			JOIN rec ON contains(rec.urls, p.path)
			JOIN sig ON sig.id = rec.id
		GROUP BY p.path`,
		site, from.UTC(), store.EventRageClick, store.EventDeadClick, int(store.KindTrack), store.EventRageClick,
		store.EventDeadClick, paths)
	if err != nil {
		return nil, fmt.Errorf("count recordings with frustration: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var path string
		var s store.SignalRecordings
		if err := rows.Scan(&path, &s.RageClicks, &s.DeadClicks); err != nil {
			return nil, fmt.Errorf("count recordings with frustration: %w", err)
		}
		out[path] = s
	}
	return out, rows.Err()
}

// NewestRecordingStart implements store.Overview.
func (db *DB) NewestRecordingStart(ctx context.Context, site int64, n int) (time.Time, error) {
	if err := db.Sync(ctx); err != nil {
		return time.Time{}, err
	}
	var t time.Time
	err := db.sql.QueryRowContext(ctx, `SELECT started_at FROM recordings WHERE site_id = ? AND chunk_count > 0
		ORDER BY started_at DESC LIMIT 1 OFFSET ?`, site, n-1).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("find the newest recordings: %w", err)
	}
	return t.UTC(), nil
}

// NPSCounts implements store.Overview with the responses' nps column, the
// answer to the survey's first NPS question.
func (db *DB) NPSCounts(ctx context.Context, site int64, surveyID string, p store.Period) ([11]int64, error) {
	var out [11]int64
	rows, err := db.sql.QueryContext(ctx, `SELECT nps, count(*) FROM survey_responses
		WHERE site_id = ? AND survey_id = ? AND nps BETWEEN 0 AND 10 AND created_at >= ? AND created_at < ?
		GROUP BY nps`, site, surveyID, p.From.UTC(), p.To.UTC())
	if err != nil {
		return out, fmt.Errorf("count NPS answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var score, n int64
		if err := rows.Scan(&score, &n); err != nil {
			return out, fmt.Errorf("count NPS answers: %w", err)
		}
		out[score] = n
	}
	return out, rows.Err()
}
