package compiler

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// Event kinds as stored in events.kind (store.Kind).
const (
	kindTrack  = "2"
	kindPage   = "3"
	kindScreen = "4"
)

// normCount returns c with the zero Count read as "at least once".
func normCount(c segment.Count) segment.Count {
	if c.Op == "" {
		return segment.Count{Op: segment.OpGe, N: 1}
	}
	return c
}

// admitsZero reports whether a count of zero satisfies c.
func admitsZero(c segment.Count) bool {
	switch c.Op {
	case segment.OpEq, segment.OpLe, segment.OpGe:
		return c.N == 0 || (c.Op == segment.OpLe && c.N >= 0)
	case segment.OpLt:
		return c.N > 0
	case segment.OpGt:
		return c.N < 0
	case segment.OpNe:
		return c.N != 0
	}
	return false
}

// anyRow reports whether every count from one up satisfies c, so that
// having a row is enough ("did it at least once").
func anyRow(c segment.Count) bool {
	switch c.Op {
	case segment.OpGe:
		return c.N <= 1
	case segment.OpGt, segment.OpNe:
		return c.N < 1
	}
	return false
}

// noRow reports whether no count from one up satisfies c ("never").
func noRow(c segment.Count) bool {
	switch c.Op {
	case segment.OpEq, segment.OpLe:
		return c.N < 1
	case segment.OpLt:
		return c.N <= 1
	}
	return false
}

// counted writes the set of users whose aggregate agg over the rows of t
// that where selects (" AND …" conditions), grouped by user, satisfies c.
// When zero satisfies c, users without any row belong too: the set is
// then everyone except those whose non-zero aggregate fails c. agg counts
// (it is at least one for a user with rows), so when every count from
// one up satisfies c, or none does, the aggregate is not computed: having
// a row is what decides.
func (b *builder) counted(agg string, c segment.Count, t Table, where func() error) error {
	if b.span != nil {
		return b.daysCounted(agg, c, t, where)
	}
	c = normCount(c)
	if anyRow(c) && admitsZero(c) {
		return b.universe()
	}
	having := func(not bool) func() error {
		return func() error {
			b.w("SELECT ", t.Key(), " AS u ")
			if err := b.from(t, where); err != nil {
				return err
			}
			b.w(" GROUP BY ", t.Key())
			if (not && noRow(c)) || (!not && anyRow(c)) {
				return nil
			}
			b.w(" HAVING ")
			if not {
				b.w("NOT (", agg, " ", string(c.Op), " ")
				b.arg(c.N)
				b.w(")")
			} else {
				b.w(agg, " ", string(c.Op), " ")
				b.arg(c.N)
			}
			return nil
		}
	}
	if admitsZero(c) {
		return b.minus(b.universe, func() error { return b.leaf(having(true)) })
	}
	return b.leaf(having(false))
}

// siteEvents writes the conditions on events of the given kinds: those
// sent by the query's moment.
func (b *builder) siteEvents(kinds string) {
	b.w(" AND kind IN (", kinds, ")")
	b.until("ts")
}

func (b *builder) event(e *segment.Event) error {
	where := func() error {
		b.siteEvents(kindTrack)
		b.w(" AND name = ")
		b.arg(e.Name)
		for _, p := range e.Where {
			b.w(" AND ")
			if err := b.property(p); err != nil {
				return err
			}
		}
		return nil
	}
	if e.First {
		// The user's first such event, ever, falls in the period.
		return b.leaf(func() error {
			b.w("SELECT user_key AS u ")
			if err := b.from(Events, where); err != nil {
				return err
			}
			b.w(" GROUP BY user_key HAVING 1 = 1")
			b.period("min(ts)", e.Period)
			return nil
		})
	}
	if c := normCount(e.Count); len(e.Where) == 0 && (anyRow(c) || noRow(c)) && b.daysExact(e.Period) {
		// Whether a user did it at all in the period: event_days
		// (kept in order by name) tells, reading that event's rows.
		return b.counted("count(*)", e.Count, EventDays, func() error {
			b.w(" AND name = ")
			b.arg(e.Name)
			b.until("first_ts")
			b.periodOf("first_ts", "last_ts", e.Period)
			return nil
		})
	}
	return b.counted("count(*)", e.Count, Events, func() error {
		if err := where(); err != nil {
			return err
		}
		b.period("ts", e.Period)
		return nil
	})
}

// property writes a filter on one event property. Properties are untyped
// JSON: a number literal compares numerically, anything else as text. A
// negative operator matches events without the property too.
func (b *builder) property(p segment.Property) error {
	d := b.c.Dialect
	text, path := d.Property(p.Key)
	op, negate := positive(p.Op)
	if op == segment.OpSet {
		b.w(text)
		b.args = append(b.args, path...)
		if negate {
			b.w(" IS NULL")
		} else {
			b.w(" IS NOT NULL")
		}
		return nil
	}
	if negate {
		b.w("NOT coalesce(")
	}
	var err error
	if op == segment.OpEq || op == segment.OpIn {
		err = b.propertyIn(text, path, p.Values)
	} else {
		// An ordering or text match: numerically when the literal is a
		// number, else as text.
		expr := text
		numeric := p.Values[0].Kind == segment.ValNumber
		if numeric {
			expr = d.ToNumber(text)
		}
		err = b.predicateArgs(expr, path, op, textValues(p.Values, numeric))
	}
	if err != nil {
		return err
	}
	if negate {
		b.w(", 1 = 0)")
	}
	return nil
}

// propertyIn writes "the property equals one of vals": number literals
// compare with the property read as a number, the others with its text,
// so a list may mix both.
func (b *builder) propertyIn(text string, path []any, vals []segment.Value) error {
	var nums, texts []segment.Value
	for _, v := range vals {
		if v.Kind == segment.ValNumber {
			nums = append(nums, v)
		} else {
			texts = append(texts, segment.Value{Kind: segment.ValString, Str: valueText(v)})
		}
	}
	b.w("(")
	if len(nums) > 0 {
		if err := b.predicateArgs(b.c.Dialect.ToNumber(text), path, segment.OpIn, nums); err != nil {
			return err
		}
	}
	if len(nums) > 0 && len(texts) > 0 {
		b.w(" OR ")
	}
	if len(texts) > 0 {
		if err := b.predicateArgs(text, path, segment.OpIn, texts); err != nil {
			return err
		}
	}
	b.w(")")
	return nil
}

// textValues turns non-numeric literals into text, as JSON properties are
// compared as text.
func textValues(vals []segment.Value, numeric bool) []segment.Value {
	if numeric {
		return vals
	}
	out := make([]segment.Value, len(vals))
	for i, v := range vals {
		out[i] = segment.Value{Kind: segment.ValString, Str: valueText(v)}
	}
	return out
}

func valueText(v segment.Value) string {
	switch v.Kind {
	case segment.ValBool:
		if v.Bool {
			return "true"
		}
		return "false"
	case segment.ValNumber:
		return strconv.FormatFloat(v.Num, 'f', -1, 64)
	case segment.ValDate:
		return v.Time.Format("2006-01-02T15:04:05Z07:00")
	}
	return v.Str
}

func (b *builder) activeDays(a *segment.ActiveDays) error {
	if b.daysExact(a.Period) {
		// A day's rows in user_days say when its first and last
		// events were: enough to know whether it had one in the period.
		return b.counted("count(DISTINCT day)", a.Count, UserDays, func() error {
			b.until("first_ts")
			b.periodOf("first_ts", "last_ts", a.Period)
			return nil
		})
	}
	return b.counted("count(DISTINCT "+b.c.Dialect.Day("ts")+")", a.Count, Events, func() error {
		b.siteEvents(kindTrack + ", " + kindPage + ", " + kindScreen)
		b.period("ts", a.Period)
		return nil
	})
}

func (b *builder) visited(v *segment.Visited) error {
	return b.counted("count(*)", v.Count, Events, func() error {
		b.siteEvents(kindPage + ", " + kindScreen)
		b.w(" AND ")
		if err := b.predicate("path", v.Match, []segment.Value{{Kind: segment.ValString, Str: v.Pattern}}); err != nil {
			return err
		}
		b.period("ts", v.Period)
		return nil
	})
}

// signal counts the tracker's events for a frustration signal, on the
// pages that match when the condition names one.
func (b *builder) signal(s *segment.Signal) error {
	name := s.Kind.EventName()
	if name == "" {
		return fmt.Errorf("unknown signal %q", s.Kind)
	}
	return b.counted("count(*)", s.Count, Events, func() error {
		b.siteEvents(kindTrack)
		b.w(" AND name = ")
		b.arg(name)
		if s.Match != "" {
			b.w(" AND ")
			if err := b.predicate("path", s.Match, []segment.Value{{Kind: segment.ValString, Str: s.Page}}); err != nil {
				return err
			}
		}
		b.period("ts", s.Period)
		return nil
	})
}

// siteSessions writes the conditions on sessions started in a period (and
// by the query's moment).
func (b *builder) siteSessions(p segment.Period) {
	b.period("started_at", p)
	b.until("started_at")
}

func (b *builder) sessions(s *segment.Sessions) error {
	return b.counted("count(*)", s.Count, Sessions, func() error {
		b.siteSessions(s.Period)
		return nil
	})
}

func (b *builder) sessionDuration(s *segment.SessionDuration) error {
	secs := b.c.Dialect.Seconds("started_at", "ended_at")
	return b.leaf(func() error {
		if s.Agg == segment.AggAvg {
			b.w("SELECT user_key AS u ")
			if err := b.from(Sessions, func() error { b.siteSessions(s.Period); return nil }); err != nil {
				return err
			}
			b.w(" GROUP BY user_key HAVING avg(", secs, ") ", string(s.Op), " ")
			b.arg(s.Value.Seconds())
			return nil
		}
		b.w("SELECT DISTINCT user_key AS u ")
		return b.from(Sessions, func() error {
			b.siteSessions(s.Period)
			b.w(" AND ", secs, " ", string(s.Op), " ")
			b.arg(s.Value.Seconds())
			return nil
		})
	})
}

// sessionColumn maps a session field to its column in all_sessions: the
// allow-list that keeps user text out of the SQL.
func sessionColumn(field string) (string, bool) {
	switch field {
	case "device":
		return "device_type", true
	case "language":
		return "locale", true
	case "browser", "os", "country", "timezone", "channel", "referrer", "utm_source", "utm_medium",
		"utm_campaign", "entry_page", "exit_page":
		return field, true
	}
	return "", false
}

func (b *builder) sessionField(f *segment.SessionField) error {
	col, ok := sessionColumn(f.Field)
	if !ok {
		return fmt.Errorf("unknown session field %q", f.Field)
	}
	op, negate := positive(f.Op)
	return b.complement(negate, func() error {
		b.w("SELECT DISTINCT user_key AS u ")
		return b.from(Sessions, func() error {
			b.siteSessions(f.Period)
			b.w(" AND ")
			if op == segment.OpSet {
				b.w(col, " <> ''")
				return nil
			}
			return b.predicate(col, op, f.Values)
		})
	})
}

// daysExact reports whether user_days tells exactly which days had an
// event within p (and by the query's moment): when the times p admits
// are not all inside one day. A day with events before and after such a
// span but none within would otherwise look active.
func (b *builder) daysExact(p segment.Period) bool {
	if b.span != nil {
		// When the moments are ends of days, a day's events all start
		// counting at the same moment, so the day counts from then until
		// its last event leaves the period: exactly its events' moments.
		// Between other moments a short period could leave a gap.
		return b.days.dayEnds()
	}
	var lo, hi time.Time
	if p.Last > 0 {
		lo = b.c.Now.Add(-p.Last)
	}
	if !p.From.IsZero() && p.From.After(lo) {
		lo = p.From
	}
	if b.c.Historical {
		hi = b.c.Now
	}
	if !p.To.IsZero() && (hi.IsZero() || p.To.Before(hi)) {
		hi = p.To
	}
	return lo.IsZero() || hi.IsZero() || hi.Sub(lo) >= 24*time.Hour
}
