package insight

import (
	"fmt"
	"time"
)

// Interval is the width of a time bucket.
type Interval string

// The intervals of trends; retention cohorts take day and week.
const (
	Hour  Interval = "hour"
	Day   Interval = "day"
	Week  Interval = "week" // Monday to Sunday
	Month Interval = "month"
)

const (
	microsPerHour = int64(time.Hour / time.Microsecond)
	microsPerDay  = 24 * microsPerHour
)

// grid is the time buckets of a range in a time zone. Buckets follow the
// zone's calendar: a day is midnight to midnight local time, 23 or 25
// hours across a change of daylight saving time.
//
// The database computes a bucket's ID with integer arithmetic on the
// event's timestamp shifted to local wall-clock time (bucketID), the same
// SQL on every engine and no dependency on its time zone tables: the
// shift is a CASE over the zone's offset changes in the range, computed
// here from Go's zone database.
type grid struct {
	loc      *time.Location
	interval Interval
	starts   []time.Time // each bucket's first instant, ascending; then the range's end
	ids      []int64     // each bucket's ID as bucketID computes it
	index    map[int64]int
	// shifts are the offset changes between from and to, for the CASE.
	shifts []shift
	// monthDays are the local day numbers (days since 1970-01-01 in wall
	// time) on which months start, for the month buckets' CASE.
	monthDays []int64
}

// shift is a zone offset in force from a moment on.
type shift struct {
	from   time.Time // zero for the first
	offset int64     // microseconds east of UTC
}

// newGrid returns the buckets of [first, last] local days, and the zone
// shifts up to the moment until (at or after the range's end): funnels
// and retention read events past the range.
func newGrid(loc *time.Location, interval Interval, first, last time.Time, until time.Time) (*grid, error) {
	g := &grid{loc: loc, interval: interval, index: map[int64]int{}}
	start := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
	end := time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, loc)
	switch interval {
	case Week:
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
	case Month:
		start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, loc)
	}
	for t := start; t.Before(end); t = g.next(t) {
		g.starts = append(g.starts, t)
	}
	if len(g.starts) > maxBuckets {
		return nil, fmt.Errorf("%d %s buckets: at most %d", len(g.starts), interval, maxBuckets)
	}
	g.starts = append(g.starts, g.next(g.starts[len(g.starts)-1]))
	if until.Before(g.end()) {
		until = g.end()
	}
	g.shifts = zoneShifts(loc, start.Add(-24*time.Hour), until.Add(24*time.Hour))
	if interval == Month {
		for t := start; !t.After(until.AddDate(0, 1, 0)); t = t.AddDate(0, 1, 0) {
			g.monthDays = append(g.monthDays, wallMicros(t)/microsPerDay)
		}
	}
	// A wall-clock hour repeated when clocks go back is one bucket.
	starts := g.starts[:0]
	for i, t := range g.starts {
		id := g.idOf(t)
		if len(g.ids) > 0 && id == g.ids[len(g.ids)-1] {
			continue
		}
		starts = append(starts, t)
		if i < len(g.starts)-1 {
			g.ids = append(g.ids, id)
			g.index[id] = len(g.ids) - 1
		}
	}
	g.starts = starts
	return g, nil
}

// maxBuckets bounds a grid: a year of days, or 3 months of hours.
const maxBuckets = 2300

// next returns the start of the bucket after the one starting at t.
func (g *grid) next(t time.Time) time.Time {
	y, m, d := t.Date()
	switch g.interval {
	case Hour:
		// The wall-clock hour an hour later: ambiguous wall times (the
		// hour repeated when clocks go back) are never rebuilt from
		// their fields, so this always moves forward.
		n := t.Add(time.Hour)
		return n.Add(-time.Duration(n.Minute())*time.Minute - time.Duration(n.Second())*time.Second)
	case Week:
		return time.Date(y, m, d+7, 0, 0, 0, 0, g.loc)
	case Month:
		return time.Date(y, m+1, 1, 0, 0, 0, 0, g.loc)
	}
	return time.Date(y, m, d+1, 0, 0, 0, 0, g.loc)
}

// utcDays reports whether every bucket is made of whole UTC days: days,
// weeks or months of a zone at UTC's offset over the whole range, whose
// every day is a row of the day tables (compiler.EventDays).
func (g *grid) utcDays() bool {
	if g.interval == Hour {
		return false
	}
	for _, s := range g.shifts {
		if s.offset != 0 {
			return false
		}
	}
	return true
}

// start and end are the range's first and last instants (end excluded).
func (g *grid) start() time.Time { return g.starts[0] }
func (g *grid) end() time.Time   { return g.starts[len(g.starts)-1] }

// len is the number of buckets.
func (g *grid) len() int { return len(g.starts) - 1 }

// label returns bucket i's start as local wall time, without a zone:
// 2026-03-01 for days, weeks and months, 2026-03-01T14:00 for hours.
func (g *grid) label(i int) string {
	if g.interval == Hour {
		return g.starts[i].Format("2006-01-02T15:04")
	}
	return g.starts[i].Format(time.DateOnly)
}

// wallMicros is t's local wall-clock time read as if it were UTC, in
// microseconds since the epoch.
func wallMicros(t time.Time) int64 {
	_, off := t.Zone()
	return t.UnixMicro() + int64(off)*1e6
}

// idOf is bucketID computed in Go, for the instant t.
func (g *grid) idOf(t time.Time) int64 {
	w := wallMicros(t)
	switch g.interval {
	case Hour:
		return floorDiv(w, microsPerHour)
	case Week:
		// 1970-01-01 was a Thursday: day 3 of week 0 (Monday first).
		return floorDiv(floorDiv(w, microsPerDay)+3, 7)
	case Month:
		d := floorDiv(w, microsPerDay)
		for i, m := range g.monthDays {
			if d < m {
				return int64(i)
			}
		}
		return int64(len(g.monthDays))
	}
	return floorDiv(w, microsPerDay)
}

// bucket returns the index of the bucket with ID id, false when it is
// outside the range.
func (g *grid) bucket(id int64) (int, bool) {
	i, ok := g.index[id]
	return i, ok
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// zoneShifts returns the offsets in force in loc from from to until.
func zoneShifts(loc *time.Location, from, until time.Time) []shift {
	t := from.In(loc)
	_, off := t.Zone()
	out := []shift{{offset: int64(off) * 1e6}}
	for {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(until) {
			return out
		}
		t = end.In(loc)
		_, off := t.Zone()
		if int64(off)*1e6 != out[len(out)-1].offset {
			out = append(out, shift{from: end, offset: int64(off) * 1e6})
		}
	}
}

// bucketID writes the SQL of a bucket's ID for the timestamp column col,
// as idOf computes it. Timestamps are microseconds since the epoch
// (InsightDialect.Micros); the wall-clock shift is the CASE of the
// zone's offsets, and months a CASE of their first days.
func (g *grid) bucketID(q *query, col string) { g.bucketOf(q, q.d.Micros(col)) }

// bucketOf is bucketID for an expression of microseconds since the epoch.
func (g *grid) bucketOf(q *query, us string) {
	d := q.d
	wall := func() {
		if len(g.shifts) == 1 && g.shifts[0].offset == 0 {
			q.Write(us)
			return
		}
		q.Write("(", us, " + ")
		if len(g.shifts) == 1 {
			q.Int(g.shifts[0].offset)
		} else {
			q.Write("CASE")
			for i, s := range g.shifts[1:] {
				q.Write(" WHEN ", us, " < ")
				q.Int(s.from.UnixMicro())
				q.Write(" THEN ")
				q.Int(g.shifts[i].offset)
			}
			q.Write(" ELSE ")
			q.Int(g.shifts[len(g.shifts)-1].offset)
			q.Write(" END")
		}
		q.Write(")")
	}
	day := func() {
		q.Write(d.IntDiv(q.capture(wall), q.intText(microsPerDay)))
	}
	switch g.interval {
	case Hour:
		q.Write(d.IntDiv(q.capture(wall), q.intText(microsPerHour)))
	case Week:
		q.Write(d.IntDiv("("+q.capture(day)+" + 3)", "7"))
	case Month:
		q.Write("CASE")
		for i, m := range g.monthDays {
			q.Write(" WHEN ")
			day()
			q.Write(" < ")
			q.Int(m)
			q.Write(" THEN ")
			q.Int(int64(i))
		}
		q.Write(" ELSE ")
		q.Int(int64(len(g.monthDays)))
		q.Write(" END")
	default:
		day()
	}
}
