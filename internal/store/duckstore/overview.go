package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Overview = (*DB)(nil)

// Activity implements store.Overview from the sessions, the activity
// already summed up, which are several times fewer than the events. A
// session spans its first to its last track, page or screen message, with
// no gap longer than the idle timeout; so a user had such a message in a
// period when one of their sessions overlaps it (periods and days being
// longer than the timeout). Sessions and their events count in the period
// and the day they started in. Days are loc's: a session's moments are
// numbered by local day (localDay) in the query.
func (db *DB) Activity(ctx context.Context, site int64, cur, prev store.Period, loc *time.Location) (store.Activity, error) {
	if err := db.Sync(ctx); err != nil {
		return store.Activity{}, err
	}
	if loc == nil {
		loc = time.UTC
	}
	from, to := span(cur, prev)
	out := store.Activity{}
	days := map[int64]*store.DayActivity{}
	f := cur.From.In(loc)
	for d := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc); d.Before(cur.To); d = d.AddDate(0, 0, 1) {
		out.Days = append(out.Days, store.DayActivity{Day: d})
	}
	for i := range out.Days {
		days[store.DayNumber(out.Days[i].Day)] = &out.Days[i]
	}
	cf, ct, pf, pt := cur.From.UTC(), cur.To.UTC(), prev.From.UTC(), prev.To.UTC()
	err := db.pool().QueryRowContext(ctx, `SELECT
			count(DISTINCT user_key) FILTER (WHERE ended_at >= ? AND started_at < ?),
			count(DISTINCT user_key) FILTER (WHERE ended_at >= ? AND started_at < ?)
		FROM all_sessions WHERE site_id = ? AND ended_at >= ? AND started_at < ?`,
		cf, ct, pf, pt, site, from, to).Scan(&out.Current.Users, &out.Previous.Users)
	if err != nil {
		return store.Activity{}, fmt.Errorf("count active users: %w", err)
	}
	shifts := store.ZoneOffsets(loc, from.Add(-24*time.Hour), to.Add(24*time.Hour))
	startDay, startArgs := localDay("started_at", nil, shifts)
	err = db.queryRows(ctx, "count sessions", func(r *sql.Rows) error {
		var isCur bool
		var day, n, events int64
		if err := r.Scan(&isCur, &day, &n, &events); err != nil {
			return err
		}
		c := &out.Previous
		if isCur {
			c = &out.Current
			if d := days[day]; d != nil {
				d.Sessions, d.Events = n, events
			}
		}
		c.Sessions += n
		c.Events += events
		return nil
	}, `SELECT started_at >= ?, `+startDay+`, count(*), sum(event_count)::BIGINT
		FROM all_sessions WHERE site_id = ? AND ((started_at >= ? AND started_at < ?) OR (started_at >= ? AND started_at < ?))
		GROUP BY ALL`, slices.Concat([]any{cf}, startArgs, []any{site, cf, ct, pf, pt})...)
	if err != nil {
		return store.Activity{}, err
	}
	// A session touches every day from its start's to its end's.
	first, firstArgs := localDay("greatest(started_at, ?)", []any{cf}, shifts)
	last, lastArgs := localDay("least(ended_at, ?)", []any{ct}, shifts)
	err = db.queryRows(ctx, "count active users by day", func(r *sql.Rows) error {
		var day, n int64
		if err := r.Scan(&day, &n); err != nil {
			return err
		}
		if d := days[day]; d != nil {
			d.Users = n
		}
		return nil
	}, `SELECT day, count(DISTINCT user_key) FROM (
			SELECT user_key, unnest(generate_series(`+first+`, `+last+`)) AS day
			FROM all_sessions WHERE site_id = ? AND ended_at >= ? AND started_at < ?)
		GROUP BY day`, slices.Concat(firstArgs, lastArgs, []any{site, cf, ct})...)
	if err != nil {
		return store.Activity{}, err
	}
	return out, nil
}

// localDay returns the SQL of the local day number (store.DayNumber) of a
// TIMESTAMP expression (UTC) in a zone whose offsets are shifts, with the
// arguments of its placeholders: exprArgs, those of expr, wherever expr
// is written.
func localDay(expr string, exprArgs []any, shifts []store.ZoneOffset) (string, []any) {
	var args []any
	us := func() string {
		args = append(args, exprArgs...)
		return "epoch_us(" + expr + ")"
	}
	var b strings.Builder
	b.WriteString("((")
	b.WriteString(us())
	b.WriteString(" + ")
	if len(shifts) == 1 {
		b.WriteString(strconv.FormatInt(shifts[0].Micros, 10))
	} else {
		b.WriteString("CASE")
		for i, s := range shifts[1:] {
			b.WriteString(" WHEN " + us() + " < " + strconv.FormatInt(s.From.UnixMicro(), 10) + " THEN " +
				strconv.FormatInt(shifts[i].Micros, 10))
		}
		b.WriteString(" ELSE " + strconv.FormatInt(shifts[len(shifts)-1].Micros, 10) + " END")
	}
	b.WriteString(") // " + strconv.FormatInt(store.MicrosPerDay, 10) + ")") // moments after 1970: no negative quotient
	return b.String(), args
}

// queryRows runs a query and calls fn for each row; what names the query
// in its error.
func (db *DB) queryRows(ctx context.Context, what string, fn func(*sql.Rows) error, query string, args ...any) error {
	rows, err := db.pool().QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
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

// TopPages implements store.Overview: page views by path. Distinct users
// are counted exactly on sites with fewer than usersExactBelow events, and
// estimated above (HyperLogLog, about 2% off, several times cheaper), as
// EventUsers counts them. The previous period is read for the top pages
// alone.
func (db *DB) TopPages(ctx context.Context, site int64, cur, prev store.Period, limit int) (store.TopPages, error) {
	if err := db.Sync(ctx); err != nil {
		return store.TopPages{}, err
	}
	var total int64
	if err := db.pool().QueryRowContext(ctx, "SELECT coalesce(sum(events), 0) FROM event_catalog WHERE site_id = ?",
		site).Scan(&total); err != nil {
		return store.TopPages{}, fmt.Errorf("count page views: %w", err)
	}
	out := store.TopPages{Pages: []store.PageViews{}, UsersApproximate: total >= usersExactBelow}
	users := "count(DISTINCT user_key)"
	if out.UsersApproximate {
		users = "approx_count_distinct(user_key)"
	}
	byPath := map[string]*store.PageViews{}
	err := db.queryRows(ctx, "count page views", func(r *sql.Rows) error {
		var p store.PageViews
		if err := r.Scan(&p.Path, &p.Views, &p.Users); err != nil {
			return err
		}
		out.Pages = append(out.Pages, p)
		return nil
	}, `SELECT path, count(*) AS views, `+users+` FROM events
		WHERE site_id = ? AND kind = ? AND ts >= ? AND ts < ?
		GROUP BY path ORDER BY views DESC, path LIMIT ?`,
		site, int(store.KindPage), cur.From.UTC(), cur.To.UTC(), limit)
	if err != nil || len(out.Pages) == 0 {
		return out, err
	}
	paths := make([]string, len(out.Pages))
	for i := range out.Pages {
		paths[i] = out.Pages[i].Path
		byPath[paths[i]] = &out.Pages[i]
	}
	err = db.queryRows(ctx, "count earlier page views", func(r *sql.Rows) error {
		var path string
		var n int64
		if err := r.Scan(&path, &n); err != nil {
			return err
		}
		byPath[path].PreviousViews = n
		return nil
	}, `SELECT path, count(*) FROM events
		WHERE site_id = ? AND kind = ? AND ts >= ? AND ts < ? AND path IN (SELECT unnest(?::VARCHAR[]))
		GROUP BY path`, site, int(store.KindPage), prev.From.UTC(), prev.To.UTC(), paths)
	return out, err
}

// FrustrationSpots implements store.Overview: the tracker's $rage_click
// and $dead_click events by the path of their page.
func (db *DB) FrustrationSpots(ctx context.Context, site int64, p store.Period, limit int) ([]store.FrustrationSpot, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT path,
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
	rows, err := db.pool().QueryContext(ctx, `WITH rec AS MATERIALIZED (
			SELECT id, site_id, started_at, ended_at, user_key, array_to_string(pages, chr(10)) AS urls
			FROM (`+recordingUsers+`) r WHERE r.site_id = ? AND r.chunk_count > 0 AND r.started_at >= ?),
		sig AS (
			SELECT rec.id, count(*) FILTER (WHERE e.name = ?) AS rage, count(*) FILTER (WHERE e.name = ?) AS dead
			FROM rec JOIN events e ON e.user_key = rec.user_key AND e.site_id = rec.site_id
				AND e.ts BETWEEN rec.started_at - `+recordingSlack+` AND rec.ended_at + `+recordingSlack+`
			WHERE e.kind = ? AND e.name IN (?, ?)
				AND e.ts >= ?
			GROUP BY rec.id)
		SELECT p.path, count(*) FILTER (WHERE sig.rage > 0), count(*) FILTER (WHERE sig.dead > 0)
		FROM (SELECT unnest(?::VARCHAR[]) AS path) p
			JOIN rec ON contains(rec.urls, p.path)
			JOIN sig ON sig.id = rec.id
		GROUP BY p.path`,
		site, from.UTC(), store.EventRageClick, store.EventDeadClick, int(store.KindTrack), store.EventRageClick,
		store.EventDeadClick, from.UTC().Add(-slack), paths)
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
	err := db.pool().QueryRowContext(ctx, `SELECT started_at FROM recordings WHERE site_id = ? AND chunk_count > 0
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
	rows, err := db.pool().QueryContext(ctx, `SELECT nps, count(*) FROM survey_responses
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
