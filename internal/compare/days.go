package compare

import (
	"context"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment/compiler"
)

// Activity is read from the day tables (user_days, event_days), which
// hold a row per user (and event) and UTC day with the day's first and
// last event and their number, rather than from every event of the
// period: a period's whole days are read there, and only its first and
// last partial days from the events. Counts are then exact; so is
// whether a user was active in a week of the period, since a day's first
// and last events bound the weeks its events fall in.

// span is a period cut at UTC midnights: whole, its whole days (none
// when whole[0] is not before whole[1]), and edges, the parts of days
// before and after them, read from the events.
type span struct {
	whole [2]time.Time
	edges []edge
}

// edge is a part of a day: from–to, the period's first day's or (last)
// its last day's.
type edge struct {
	from, to time.Time
	last     bool
}

// cut cuts [from, to) at the UTC midnights inside it.
func cut(from, to time.Time) span {
	const day = 24 * time.Hour
	from, to = from.UTC(), to.UTC()
	d1 := from.Truncate(day)
	if d1.Before(from) {
		d1 = d1.Add(day)
	}
	d2 := to.Truncate(day)
	if d1.After(d2) { // within one day
		return span{edges: []edge{{from: from, to: to}}}
	}
	s := span{whole: [2]time.Time{d1, d2}}
	if from.Before(d1) {
		s.edges = append(s.edges, edge{from: from, to: d1})
	}
	if d2.Before(to) {
		s.edges = append(s.edges, edge{from: d2, to: to, last: true})
	}
	return s
}

// hasWhole reports whether s has whole days.
func (s span) hasWhole() bool { return s.whole[0].Before(s.whole[1]) }

// weekBits writes the bits of the weeks of the period (counted from its
// start) of the timestamp expressions first and last, a day's first and
// last events: the same week or two weeks next to each other. Weeks
// from n on are bit n, which is not read.
func (q *querier) weekBits(first, last string, n int) string {
	d := q.c.dialect
	week := func(ts string) string {
		return "least(" + d.IntDiv(d.Micros(ts)+" - "+d.Int(q.from.UnixMicro()), d.Int((7*24*time.Hour).Microseconds())) +
			", " + d.Int(int64(n)) + ")"
	}
	if first == last {
		return d.PowerOfTwo(week(first))
	}
	return d.PowerOfTwo(week(first)) + " + CASE WHEN " + week(last) + " > " + week(first) + " THEN " + d.PowerOfTwo(week(last)) +
		" ELSE 0 END"
}

// activity reads, per group: its users' active days (UTC days with a
// track, page or screen event in the period), events (of those kinds)
// and sessions started, each summed and summed squared over the users;
// and how many of its users were active in each whole week of the
// period. One grouping by user of a union of the period's whole days of
// user_days, its edges' events and its sessions.
func (q *querier) activity(ctx context.Context, s sel, d *data) error {
	dl := q.c.dialect
	n := q.weeks()
	sp := cut(q.from, q.to)
	w := newSQL(dl)
	w.Write("SELECT ")
	s.label(w, "y.u")
	w.Write(" AS g, sum(y.days), sum(y.days * y.days), sum(y.ev), sum(y.ev * y.ev), sum(y.se), sum(y.se * y.se)")
	for k := range n {
		w.Write(", sum(", dl.Bit("y.wk", k), ")")
	}
	w.Write(" FROM (SELECT x.u AS u, sum(x.days) + max(x.e0) + max(x.e1) AS days, sum(x.ev) AS ev, sum(x.se) AS se, ",
		dl.BitOr("x.wk"), " AS wk FROM (")
	union := false
	next := func() {
		if union {
			w.Write(" UNION ALL ")
		}
		union = true
	}
	zero, one, none := dl.Int(0), dl.Int(1), dl.PowerOfTwo(itoa(n))
	if sp.hasWhole() {
		next()
		// A day may have several rows. Its first and last events are
		// in the same week or in two weeks next to each other.
		w.Write("SELECT ud.u AS u, ", one, " AS days, ", dl.BigInt("ud.ev"), " AS ev, ", zero, " AS e0, ", zero, " AS e1, ",
			zero, " AS se, ", q.weekBits("ud.f", "ud.l", n), " AS wk FROM (SELECT user_key AS u, day, sum(events) AS ev,",
			" min(first_ts) AS f, max(last_ts) AS l ")
		dl.From(w, compiler.UserDayCounts, q.site, nil)
		w.Write(" AND first_ts >= ")
		w.Arg(sp.whole[0])
		w.Write(" AND first_ts < ")
		w.Arg(sp.whole[1])
		dl.EndFrom(w)
		w.Write(" GROUP BY user_key, day) AS ud")
	}
	for _, e := range sp.edges {
		next()
		e0, e1 := one, zero
		if e.last {
			e0, e1 = zero, one
		}
		w.Write("SELECT user_key AS u, ", zero, " AS days, ", one, " AS ev, ", e0, " AS e0, ", e1, " AS e1, ", zero, " AS se, ",
			q.weekBits("ts", "ts", n), " AS wk ")
		dl.From(w, compiler.Events, q.site, nil)
		w.Write(" AND kind IN (2, 3, 4) AND ts >= ")
		w.Arg(e.from)
		w.Write(" AND ts < ")
		w.Arg(e.to)
		dl.EndFrom(w)
	}
	next()
	w.Write("SELECT user_key AS u, ", zero, " AS days, ", zero, " AS ev, ", zero, " AS e0, ", zero, " AS e1, ", one, " AS se, ",
		none, " AS wk ")
	dl.From(w, compiler.Sessions, q.site, nil)
	w.Write(" AND started_at >= ")
	w.Arg(q.from)
	w.Write(" AND started_at < ")
	w.Arg(q.to)
	dl.EndFrom(w)
	w.Write(") AS x GROUP BY x.u) AS y GROUP BY g")
	v := make([]num, 7+n)
	dest := make([]any, len(v))
	for k := range v {
		dest[k] = &v[k]
	}
	return q.query(ctx, w, func() error {
		i, ok := s.group(v[0].v)
		if !ok {
			return nil
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.days[i] = sums{Sum: v[1].v, Sq: v[2].v}
		d.events[i] = sums{Sum: v[3].v, Sq: v[4].v}
		d.sessions[i] = sums{Sum: v[5].v, Sq: v[6].v}
		for k := range n {
			d.active[i][k] += int64(v[7+k].v)
		}
		return nil
	}, dest...)
}

// itoa is strconv.Itoa.
func itoa(i int) string { return strconv.Itoa(i) }
