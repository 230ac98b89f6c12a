package store

import "time"

// ZoneOffset is a time zone's offset from UTC in force from a moment on.
// The overviews of both backends cut days in a site's zone by adding the
// offset in force to each moment (ZoneOffsets) and numbering the days
// that gives (DayNumber).
type ZoneOffset struct {
	From   time.Time // zero for the first
	Micros int64     // east of UTC
}

// ZoneOffsets returns the offsets of loc in force from from to until.
func ZoneOffsets(loc *time.Location, from, until time.Time) []ZoneOffset {
	t := from.In(loc)
	_, off := t.Zone()
	out := []ZoneOffset{{Micros: int64(off) * 1e6}}
	for {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(until) {
			return out
		}
		t = end.In(loc)
		if _, off := t.Zone(); int64(off)*1e6 != out[len(out)-1].Micros {
			out = append(out, ZoneOffset{From: end, Micros: int64(off) * 1e6})
		}
	}
}

// MicrosPerDay is a day of 24 hours in microseconds.
const MicrosPerDay = int64(24 * time.Hour / time.Microsecond)

// DayNumber is a moment's wall-clock day in the zone it is expressed in,
// counted from 1970-01-01: what a backend computes from the moment's
// microseconds plus the zone's offset then, divided by a day.
func DayNumber(t time.Time) int64 {
	_, off := t.Zone()
	w := t.UnixMicro() + int64(off)*1e6
	d := w / MicrosPerDay
	if w%MicrosPerDay < 0 {
		d--
	}
	return d
}
