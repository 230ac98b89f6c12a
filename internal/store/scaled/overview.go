package scaled

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Overview = (*DB)(nil)

// usersExactBelow is the number of a site's events below which distinct
// users are counted exactly (uniqExact); above it they are estimated
// (uniq, about 2% off), as duckstore does.
const usersExactBelow = 1_000_000

// Activity implements store.Overview from the sessions, as duckstore does:
// a user was active in a period when one of their sessions overlaps it;
// sessions and their events count in the period and the day they started.
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
	shifts := store.ZoneOffsets(loc, from.Add(-24*time.Hour), to.Add(24*time.Hour))
	cf, ct, pf, pt := micros(cur.From), micros(cur.To), micros(prev.From), micros(prev.To)
	sessions, args := mapped("sessions", true, "user_key", []string{"started_at", "ended_at"},
		"x.ended_at >= ? AND x.started_at < ?", site, micros(from), micros(to))
	var curUsers, prevUsers uint64
	err := db.ch.QueryRow(ctx, `SELECT uniqExactIf(u, ended_at >= ? AND started_at < ?), uniqExactIf(u, ended_at >= ? AND started_at < ?)
		FROM `+sessions, append([]any{cf, ct, pf, pt}, args...)...).Scan(&curUsers, &prevUsers)
	if err != nil {
		return store.Activity{}, fmt.Errorf("count active users: %w", err)
	}
	out.Current.Users, out.Previous.Users = int64(curUsers), int64(prevUsers)
	rows, err := db.ch.Query(ctx, `SELECT started_at >= ? AS cur, `+localDay("started_at", shifts)+` AS d, count(), sum(event_count)
		FROM sessions FINAL WHERE site_id = ? AND ((started_at >= ? AND started_at < ?) OR (started_at >= ? AND started_at < ?))
		GROUP BY cur, d`, cf, site, cf, ct, pf, pt)
	if err != nil {
		return store.Activity{}, fmt.Errorf("count sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var isCur uint8
		var d int64
		var n uint64
		var events int64
		if err := rows.Scan(&isCur, &d, &n, &events); err != nil {
			return store.Activity{}, fmt.Errorf("count sessions: %w", err)
		}
		c := &out.Previous
		if isCur == 1 {
			c = &out.Current
			if a := days[d]; a != nil {
				a.Sessions, a.Events = int64(n), events
			}
		}
		c.Sessions += int64(n)
		c.Events += events
	}
	if err := rows.Err(); err != nil {
		return store.Activity{}, fmt.Errorf("count sessions: %w", err)
	}
	rows.Close()
	// A session touches every day from its start's to its end's.
	current, args := mapped("sessions", true, "user_key", []string{"started_at", "ended_at"},
		"x.ended_at >= ? AND x.started_at < ?", site, cf, ct)
	byDay, err := db.ch.Query(ctx, `SELECT d, uniqExact(u) FROM (
			SELECT u, arrayJoin(arrayMap(i -> toInt64(first + i), range(toUInt64(last - first + 1)))) AS d
			FROM (SELECT u, `+localDay("greatest(started_at, ?)", shifts)+` AS first, `+localDay("least(ended_at, ?)", shifts)+` AS last
				FROM `+current+`))
		GROUP BY d`, append(slices.Concat(repeat(cf, len(shifts)), repeat(ct, len(shifts))), args...)...)
	if err != nil {
		return store.Activity{}, fmt.Errorf("count active users by day: %w", err)
	}
	defer byDay.Close()
	for byDay.Next() {
		var d int64
		var n uint64
		if err := byDay.Scan(&d, &n); err != nil {
			return store.Activity{}, fmt.Errorf("count active users by day: %w", err)
		}
		if a := days[d]; a != nil {
			a.Users = int64(n)
		}
	}
	if err := byDay.Err(); err != nil {
		return store.Activity{}, fmt.Errorf("count active users by day: %w", err)
	}
	return out, nil
}

// localDay returns the SQL of the local day number (store.DayNumber) of
// us, an expression of microseconds since 1970 (UTC), in a zone whose
// offsets are shifts. us is written once per shift: its placeholders'
// arguments must be repeated as many times (repeat).
func localDay(us string, shifts []store.ZoneOffset) string {
	var b strings.Builder
	b.WriteString("toInt64(intDiv(" + us + " + ")
	if len(shifts) == 1 {
		b.WriteString(strconv.FormatInt(shifts[0].Micros, 10))
	} else {
		b.WriteString("multiIf(")
		for i, s := range shifts[1:] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(us + " < " + strconv.FormatInt(s.From.UnixMicro(), 10) + ", " + strconv.FormatInt(shifts[i].Micros, 10))
		}
		b.WriteString(", " + strconv.FormatInt(shifts[len(shifts)-1].Micros, 10) + ")")
	}
	b.WriteString(", " + strconv.FormatInt(store.MicrosPerDay, 10) + "))") // moments after 1970: no negative quotient
	return b.String()
}

// repeat returns n copies of v, the arguments of an expression written n
// times.
func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// span returns the time from the earlier start to the later end of two
// periods.
func span(a, b store.Period) (from, to time.Time) {
	return minTime(a.From, b.From).UTC(), maxTime(a.To, b.To).UTC()
}

// siteEvents returns how many events the site's catalog counts.
func (db *DB) siteEvents(ctx context.Context, site int64) (int64, error) {
	var total int64
	if err := db.ch.QueryRow(ctx, "SELECT sum(events) FROM event_catalog WHERE site_id = ?", site).Scan(&total); err != nil {
		return 0, fmt.Errorf("count the site's events: %w", err)
	}
	return total, nil
}

// TopPages implements store.Overview: page views by path, with users
// counted exactly below usersExactBelow events and estimated above.
func (db *DB) TopPages(ctx context.Context, site int64, cur, prev store.Period, limit int) (store.TopPages, error) {
	if err := db.Sync(ctx); err != nil {
		return store.TopPages{}, err
	}
	total, err := db.siteEvents(ctx, site)
	if err != nil {
		return store.TopPages{}, err
	}
	out := store.TopPages{Pages: []store.PageViews{}, UsersApproximate: total >= usersExactBelow}
	users := "uniqExact(u)"
	if out.UsersApproximate {
		users = "uniq(u)"
	}
	views, args := mapped("events", false, "user_key", []string{"path"}, "x.kind = ? AND x.ts >= ? AND x.ts < ?",
		site, uint8(store.KindPage), micros(cur.From), micros(cur.To))
	rows, err := db.ch.Query(ctx, "SELECT path, count() AS views, "+users+" FROM "+views+
		" GROUP BY path ORDER BY views DESC, path LIMIT ?", append(args, limit)...)
	if err != nil {
		return out, fmt.Errorf("count page views: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p store.PageViews
		var n, u uint64
		if err := rows.Scan(&p.Path, &n, &u); err != nil {
			return out, fmt.Errorf("count page views: %w", err)
		}
		p.Views, p.Users = int64(n), int64(u)
		out.Pages = append(out.Pages, p)
	}
	if err := rows.Err(); err != nil || len(out.Pages) == 0 {
		return out, err
	}
	paths := make([]string, len(out.Pages))
	byPath := map[string]*store.PageViews{}
	for i := range out.Pages {
		paths[i] = out.Pages[i].Path
		byPath[paths[i]] = &out.Pages[i]
	}
	prevRows, err := db.ch.Query(ctx, `SELECT path, count() FROM events
		WHERE site_id = ? AND kind = ? AND ts >= ? AND ts < ? AND has(CAST(? AS Array(String)), path) GROUP BY path`,
		site, uint8(store.KindPage), micros(prev.From), micros(prev.To), paths)
	if err != nil {
		return out, fmt.Errorf("count earlier page views: %w", err)
	}
	defer prevRows.Close()
	for prevRows.Next() {
		var path string
		var n uint64
		if err := prevRows.Scan(&path, &n); err != nil {
			return out, fmt.Errorf("count earlier page views: %w", err)
		}
		byPath[path].PreviousViews = int64(n)
	}
	return out, prevRows.Err()
}

// FrustrationSpots implements store.Overview: the tracker's $rage_click
// and $dead_click events by the path of their page.
func (db *DB) FrustrationSpots(ctx context.Context, site int64, p store.Period, limit int) ([]store.FrustrationSpot, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	clicks, args := mapped("events", false, "user_key", []string{"path", "name"},
		"x.kind = ? AND x.name IN (?, ?) AND x.ts >= ? AND x.ts < ?", site, uint8(store.KindTrack),
		store.EventRageClick, store.EventDeadClick, micros(p.From), micros(p.To))
	rows, err := db.ch.Query(ctx, `SELECT path, countIf(name = ?) AS rage, countIf(name = ?) AS dead, uniqExact(u)
		FROM `+clicks+` GROUP BY path ORDER BY rage + dead DESC, rage DESC, path LIMIT ?`,
		append(append([]any{store.EventRageClick, store.EventDeadClick}, args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("find frustration hot spots: %w", err)
	}
	defer rows.Close()
	out := []store.FrustrationSpot{}
	for rows.Next() {
		var s store.FrustrationSpot
		var rage, dead, users uint64
		if err := rows.Scan(&s.Path, &rage, &dead, &users); err != nil {
			return nil, fmt.Errorf("find frustration hot spots: %w", err)
		}
		s.RageClicks, s.DeadClicks, s.Users = int64(rage), int64(dead), int64(users)
		out = append(out, s)
	}
	return out, rows.Err()
}

// NPSCounts implements store.Overview with the responses' nps column, the
// answer to the survey's first NPS question.
func (db *DB) NPSCounts(ctx context.Context, site int64, surveyID string, p store.Period) ([11]int64, error) {
	var out [11]int64
	rows, err := db.pg.Query(ctx, `SELECT nps, count(*) FROM survey_responses
		WHERE site_id = $1 AND survey_id = $2 AND nps BETWEEN 0 AND 10 AND created_at >= $3 AND created_at < $4
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
