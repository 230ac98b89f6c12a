package insight

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// The definitions of the three insights, as the API receives them and as
// saved insights keep them. Events (a series, a funnel step, a
// retention's start or return) are written as segment conditions,
// did(…) or visited(…) in the text form or their JSON, so that property
// filters and page matches mean exactly what they mean in segments.

// Range is the days an insight covers, in its time zone: From to To
// (inclusive, YYYY-MM-DD), or the LastDays days up to today.
type Range struct {
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	LastDays int    `json:"last_days,omitempty"`
	// TZ is an IANA time zone name for the buckets' boundaries; UTC when
	// empty.
	TZ string `json:"tz,omitempty"`
}

// SegmentRef names a segment to break down by: a saved one (ID) or one
// written out (Text or JSON), with an optional label.
type SegmentRef struct {
	ID   string          `json:"id,omitempty"`
	Text string          `json:"text,omitempty"`
	JSON json.RawMessage `json:"json,omitempty"`
	Name string          `json:"name,omitempty"`
}

// Breakdown splits an insight: by up to MaxSegments segments, or by the
// Limit most common values of a user attribute or an event property
// (trends only).
type Breakdown struct {
	Segments  []SegmentRef `json:"segments,omitempty"`
	Attribute string       `json:"attribute,omitempty"`
	Property  string       `json:"property,omitempty"`
	Limit     int          `json:"limit,omitempty"`
}

// Limits of definitions.
const (
	MaxSegments = 5
	MaxSeries   = 5
	MaxSteps    = 10
	MinSteps    = 2
	MaxValues   = 10 // top values of an attribute or property
	MaxDays     = 366
	MaxPeriods  = 30 // retention
)

// Event is a did(…) or visited(…) condition, as text or JSON.
type Event json.RawMessage

// MarshalJSON implements json.Marshaler.
func (e Event) MarshalJSON() ([]byte, error) {
	if len(e) == 0 {
		return []byte("null"), nil
	}
	return e, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *Event) UnmarshalJSON(b []byte) error {
	*e = append((*e)[:0], b...)
	return nil
}

// Series is one line of a trend.
type Series struct {
	// Of is what is counted: a did(…) or visited(…) condition, or the
	// text "sessions".
	Of Event `json:"of"`
	// Measure is count (events, page views or sessions), users (distinct
	// users), per_user (count / users), sum or avg (of Property, a
	// numeric event property).
	Measure  string `json:"measure,omitempty"`
	Property string `json:"property,omitempty"`
	Name     string `json:"name,omitempty"`
}

// Trend is a trend's definition.
type Trend struct {
	Series    []Series  `json:"series"`
	Interval  Interval  `json:"interval,omitempty"`
	Compare   bool      `json:"compare,omitempty"`
	Breakdown Breakdown `json:"breakdown,omitzero"`
	Range
}

// Funnel is a funnel's definition.
type Funnel struct {
	Steps []Event `json:"steps"`
	// Window is the conversion window: every step within it of the
	// first, as 30m, 12h, 7d (default 7d, at most 90d).
	Window    string    `json:"window,omitempty"`
	Breakdown Breakdown `json:"breakdown,omitzero"`
	Range
}

// Retention is a retention table's definition.
type Retention struct {
	// Start is the event whose first occurrence puts a user in a cohort,
	// or "first_seen" (the first page, screen or event).
	Start Event `json:"start"`
	// Return is the event that counts as coming back, or "any" (any page,
	// screen or event).
	Return    Event     `json:"return"`
	Interval  Interval  `json:"interval,omitempty"` // day or week
	Periods   int       `json:"periods,omitempty"`  // default 8
	Breakdown Breakdown `json:"breakdown,omitzero"`
	Range
}

// invalid returns a definition error about a field.
func invalid(code, field, format string, args ...any) error {
	return &store.FieldError{Code: code, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// span is a Range resolved against a clock.
type span struct {
	loc         *time.Location
	first, last time.Time // local days, inclusive
}

// resolve reads r as of now.
func (r Range) resolve(now time.Time) (span, error) {
	loc := time.UTC
	if r.TZ != "" {
		l, err := time.LoadLocation(r.TZ)
		if err != nil || strings.EqualFold(r.TZ, "local") {
			return span{}, invalid("invalid_tz", "tz", "%q is not an IANA time zone name such as Europe/Oslo", r.TZ)
		}
		loc = l
	}
	today := now.In(loc)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	switch {
	case r.LastDays != 0 && (r.From != "" || r.To != ""):
		return span{}, invalid("invalid_range", "last_days", "give last_days or from and to, not both")
	case r.LastDays < 0 || r.LastDays > MaxDays:
		return span{}, invalid("invalid_range", "last_days", "last_days is 1 to %d", MaxDays)
	case r.LastDays > 0:
		return span{loc: loc, first: today.AddDate(0, 0, 1-r.LastDays), last: today}, nil
	case r.From == "" && r.To == "":
		return span{loc: loc, first: today.AddDate(0, 0, -29), last: today}, nil // the last 30 days
	}
	day := func(field, s string) (time.Time, error) {
		if s == "" {
			return today, nil
		}
		t, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return time.Time{}, invalid("invalid_range", field, "%s is a date as YYYY-MM-DD, not %q", field, s)
		}
		return t, nil
	}
	from, err := day("from", r.From)
	if err != nil {
		return span{}, err
	}
	if r.From == "" {
		return span{}, invalid("invalid_range", "from", "from is missing")
	}
	to, err := day("to", r.To)
	if err != nil {
		return span{}, err
	}
	if to.Before(from) {
		return span{}, invalid("invalid_range", "to", "to (%s) is before from (%s)", r.To, r.From)
	}
	if to.Sub(from) > MaxDays*24*time.Hour {
		return span{}, invalid("invalid_range", "to", "a range is at most %d days", MaxDays)
	}
	return span{loc: loc, first: from, last: to}, nil
}

// days returns the number of days of s.
func (s span) days() int {
	return int(time.Date(s.last.Year(), s.last.Month(), s.last.Day(), 12, 0, 0, 0, time.UTC).
		Sub(time.Date(s.first.Year(), s.first.Month(), s.first.Day(), 12, 0, 0, 0, time.UTC))/(24*time.Hour)) + 1
}

// previous returns the span of as many days just before s.
func (s span) previous() span {
	n := s.days()
	return span{loc: s.loc, first: s.first.AddDate(0, 0, -n), last: s.first.AddDate(0, 0, -1)}
}

// parseWindow reads a funnel's conversion window.
func parseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 7 * 24 * time.Hour, nil
	}
	bad := invalid("invalid_window", "window", "window is a duration such as 30m, 12h or 7d, at most 90d; not %q", s)
	if len(s) < 2 {
		return 0, bad
	}
	var n int
	if _, err := fmt.Sscanf(s[:len(s)-1], "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != s[:len(s)-1] {
		return 0, bad
	}
	var d time.Duration
	switch s[len(s)-1] {
	case 's':
		d = time.Duration(n) * time.Second
	case 'm':
		d = time.Duration(n) * time.Minute
	case 'h':
		d = time.Duration(n) * time.Hour
	case 'd':
		d = time.Duration(n) * 24 * time.Hour
	default:
		return 0, bad
	}
	if d > 90*24*time.Hour {
		return 0, bad
	}
	return d, nil
}

// text returns an Event given as a JSON string, and whether it is one.
func (e Event) text() (string, bool) {
	var s string
	if len(e) == 0 || e[0] != '"' || json.Unmarshal(e, &s) != nil {
		return "", false
	}
	return s, true
}
