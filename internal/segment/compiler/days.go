package compiler

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// A segment's trend asks for its size at many past moments. Compiled
// once per moment (Historical), a 90-day trend is 90 queries, each
// reading everything. Days compiles the tree once for all of them: every
// set becomes rows (u, m), one per user, bit i of the mask m set when the
// user is in the set at moment i. Groups and-or-not the masks of their
// conditions' rows (grouped by user), so one pass over the data answers
// every moment.
//
// A condition gets its mask in one scan when its rows say from when to
// when they count: an attribute value holds from the history entry that
// set it to the next one, an event counts from when it happened until it
// leaves the condition's "last N days". The others (counts other than
// "at least once", distinct days, averages, answers, changes) are
// compiled as Historical once per moment, inside the same query, their
// sets or'ed into one mask: slower, but the same answers.

// Moments are Count evenly spaced moments in the past, First, First +
// Step, …, each as Historical reads Now.
type Moments struct {
	First time.Time
	Step  time.Duration
	Count int
}

// at returns moment i.
func (m Moments) at(i int) time.Time { return m.First.Add(time.Duration(i) * m.Step) }

// dayEnds reports whether every moment is the last microsecond of a UTC
// day.
func (m Moments) dayEnds() bool {
	const day = 24 * time.Hour
	return m.First.Add(time.Microsecond).UTC().Truncate(day).Equal(m.First.Add(time.Microsecond)) && m.Step%day == 0
}

// last returns the last moment.
func (m Moments) last() time.Time { return m.at(m.Count - 1) }

func (m Moments) check(d Dialect) error {
	if m.Count < 1 || m.Count > d.MaxMoments() || m.Step <= 0 || m.Step%time.Microsecond != 0 {
		return fmt.Errorf("BUG: %d moments every %s", m.Count, m.Step)
	}
	return nil
}

// Days compiles n to a query of its members at each of the moments: rows
// (u, m), one per user, bit i of m set when the user is a member at
// moment i, as Historical compiles n for Now = moment i. A user who is a
// member at none of them may have a row with m = 0.
func (c *Compiler) Days(n segment.Node, at Moments) (Query, error) {
	if err := at.check(c.Dialect); err != nil {
		return Query{}, err
	}
	b := &builder{c: c, visiting: map[string]bool{}, days: &at}
	if err := b.node(n); err != nil {
		return Query{}, err
	}
	return Query{SQL: b.sql.String(), Args: b.args}, nil
}

// DaySizes compiles n to a query of one row: the number of its members at
// each of the moments, in order.
func (c *Compiler) DaySizes(n segment.Node, at Moments) (Query, error) {
	q, err := c.Days(n, at)
	if err != nil {
		return Query{}, err
	}
	d := c.Dialect
	open, end := d.CountWhere()
	sql := "SELECT "
	for i := range at.Count {
		if i > 0 {
			sql += ", "
		}
		sql += open + d.Bit("d.m", i) + " = 1" + end
	}
	q.SQL = sql + " FROM (" + q.SQL + ") AS d"
	return q, nil
}

// span collects, while a condition's rows are written for Days, what
// says when each row counts; unsupported is set when the condition
// depends on the moment otherwise (a "within" compared with now).
type span struct {
	last        time.Duration // the condition's "last N", 0 for none
	perDay      bool          // counting distinct days
	unsupported bool
}

// daysNode writes n's (u, m) rows.
func (b *builder) daysNode(n segment.Node) error {
	switch n := n.(type) {
	case *segment.Group:
		return b.daysGroup(n)
	case *segment.Not:
		return b.daysMinus(b.daysUniverse, func() error { return b.daysNode(n.Condition) })
	case *segment.InSegment:
		return b.inSegment(n)
	case *segment.Identified:
		// Identified now, among the users first seen by then.
		b.w("SELECT u, m FROM (")
		if err := b.daysUniverse(); err != nil {
			return err
		}
		b.w(") AS a WHERE u IN (SELECT DISTINCT entity_key AS u ")
		if err := b.from(Identities, func() error { b.w(" AND kind = 1"); return nil }); err != nil {
			return err
		}
		b.w(")")
		return nil
	}
	s := &builder{c: b.c, visiting: b.visiting, days: b.days, span: &span{}}
	ok, err := s.daysLeaf(n)
	if err != nil {
		return err
	}
	if !ok || s.span.unsupported {
		return b.daysByMoment(n)
	}
	b.w(s.sql.String())
	b.args = append(b.args, s.args...)
	return nil
}

// daysLeaf writes the rows of a condition that has a one-scan form, and
// reports whether it has.
func (b *builder) daysLeaf(n segment.Node) (bool, error) {
	switch n := n.(type) {
	case *segment.Attribute:
		return b.daysAttribute(n)
	case *segment.Event:
		if n.First {
			return false, nil
		}
		b.span.last = n.Period.Last
		return true, b.event(n)
	case *segment.Visited:
		b.span.last = n.Period.Last
		return true, b.visited(n)
	case *segment.Signal:
		b.span.last = n.Period.Last
		return true, b.signal(n)
	case *segment.Sessions:
		b.span.last = n.Period.Last
		return true, b.sessions(n)
	case *segment.ActiveDays:
		b.span.last, b.span.perDay = n.Period.Last, true
		return true, b.activeDays(n)
	case *segment.SessionDuration:
		if n.Agg == segment.AggAvg {
			return false, nil
		}
		// A session of the period that lasted so long.
		b.span.last = n.Period.Last
		return true, b.daysCounted("count(*)", segment.Count{}, Sessions, func() error {
			b.siteSessions(n.Period)
			b.w(" AND ", b.c.Dialect.Seconds("started_at", "ended_at"), " ", string(n.Op), " ")
			b.arg(n.Value.Seconds())
			return nil
		})
	case *segment.SessionField:
		col, ok := sessionColumn(n.Field)
		if !ok {
			return false, fmt.Errorf("unknown session field %q", n.Field)
		}
		// A session of the period with the value; for a negative
		// operator, none.
		op, negate := positive(n.Op)
		b.span.last = n.Period.Last
		count := segment.Count{}
		if negate {
			count = segment.Count{Op: segment.OpEq, N: 0}
		}
		return true, b.daysCounted("count(*)", count, Sessions, func() error {
			b.siteSessions(n.Period)
			b.w(" AND ")
			if op == segment.OpSet {
				b.w(col, " <> ''")
				return nil
			}
			return b.predicate(col, op, n.Values)
		})
	}
	return false, nil
}

// daysByMoment writes n's rows by compiling it as Historical for each
// moment: the sets, each tagged with its moment's bit, or'ed by user.
func (b *builder) daysByMoment(n segment.Node) error {
	c, days := b.c, b.days
	defer func() { b.c, b.days = c, days }()
	b.w("SELECT u, ", c.Dialect.BitOr("m"), " AS m FROM (")
	for i := range days.Count {
		if i > 0 {
			b.w(" UNION ALL ")
		}
		at := *c
		at.Now, at.Historical = days.at(i).UTC(), true
		b.c, b.days = &at, nil
		b.w("SELECT u, ", c.Dialect.Mask(strconv.Itoa(i), strconv.Itoa(i+1)), " AS m FROM (")
		if err := b.node(n); err != nil {
			return err
		}
		b.w(") AS s", strconv.Itoa(i))
		b.c, b.days = c, days
	}
	b.w(") AS s GROUP BY u")
	return nil
}

// daysGroup ands or ors its conditions' masks, user by user. A user
// absent from one of the conditions of an "all" is a member of none of
// them at no moment.
func (b *builder) daysGroup(g *segment.Group) error {
	d := b.c.Dialect
	if len(g.Conditions) == 0 {
		if g.Op == segment.All {
			return b.daysUniverse()
		}
		b.w("SELECT CAST(0 AS BIGINT) AS u, ", d.Mask("0", "0"), " AS m WHERE 1 = 0")
		return nil
	}
	agg := d.BitOr("m")
	if g.Op == segment.All {
		agg = d.BitAnd("m")
	}
	b.w("SELECT u, ", agg, " AS m FROM (")
	for i, c := range g.Conditions {
		if i > 0 {
			b.w(" UNION ALL ")
		}
		b.w("SELECT u, m FROM (")
		if err := b.daysNode(c); err != nil {
			return err
		}
		b.w(") AS c", strconv.Itoa(i))
	}
	b.w(") AS g GROUP BY u")
	if g.Op == segment.All {
		b.w(" HAVING count(*) = ", strconv.Itoa(len(g.Conditions)))
	}
	return nil
}

// daysMinus writes a's masks with c's bits cleared.
func (b *builder) daysMinus(a, c func() error) error {
	d := b.c.Dialect
	b.w("SELECT u, ", d.AndNot(d.BitOrWhere("m", "s = 0"), d.BitOrWhere("m", "s = 1")),
		" AS m FROM (SELECT u, m, 0 AS s FROM (")
	if err := a(); err != nil {
		return err
	}
	b.w(") AS a UNION ALL SELECT u, m, 1 AS s FROM (")
	if err := c(); err != nil {
		return err
	}
	b.w(") AS c) AS x GROUP BY u")
	return nil
}

// daysUniverse writes the site's users, each with the moments from the
// first at which it had been seen (see universe).
func (b *builder) daysUniverse() error {
	d := b.c.Dialect
	b.w("SELECT u, ", d.Mask(b.momentsBefore("min(t)"), b.int(int64(b.days.Count))),
		" AS m FROM (SELECT entity_key AS u, ", d.Micros("created_at"), " AS t ")
	last := b.days.last()
	if err := b.from(Identities, func() error {
		b.w(" AND kind IN (1, 2) AND created_at <= ")
		b.arg(last)
		return nil
	}); err != nil {
		return err
	}
	b.w(" UNION ALL SELECT user_key AS u, ", d.Micros("ts"), " AS t ")
	if err := b.from(Events, func() error {
		b.w(" AND ts <= ")
		b.arg(last)
		return nil
	}); err != nil {
		return err
	}
	b.w(") AS f GROUP BY u")
	return nil
}

// int writes an integer the compiler computed (not a value of the tree)
// as a typed literal.
func (b *builder) int(v int64) string { return b.c.Dialect.Int(v) }

// momentsBefore returns an expression: the number of moments before the
// instant us (microseconds since the epoch), which is the first moment
// at which something that happened at us counts.
func (b *builder) momentsBefore(us string) string {
	d, m := b.c.Dialect, b.days
	first, step := m.First.UnixMicro(), m.Step.Microseconds()
	end := first + int64(m.Count)*step
	// ceil((us - first) / step), clamped to [0, Count]; us is clamped
	// first so that a far future (the end of an open span) can't
	// overflow.
	q := d.IntDiv("least("+us+", "+b.int(end)+") - "+b.int(first-step+1), b.int(step))
	return "greatest(" + b.int(0) + ", least(" + b.int(int64(m.Count)) + ", " + q + "))"
}

// daysCounted writes, for counted, the users' masks. "At least once"
// is the moments at which one of the rows counts, "never" the universe
// less those. Other counts follow each user's count from moment to
// moment: a row adds one at the first moment it counts and takes it
// back at the first it no longer does (Dialect.Steps). Distinct days
// (active_days) are counted so too, a day's rows as one, when the
// moments are ends of UTC days: a day is then wholly before or after
// each of them.
func (b *builder) daysCounted(agg string, c segment.Count, t Table, where func() error) error {
	c = normCount(c)
	perDay := b.span.perDay
	if (agg != "count(*)" && !perDay) || (perDay && !b.days.dayEnds()) {
		b.span.unsupported = true
		return nil
	}
	d := b.c.Dialect
	// Each row counts from the moment after its time (a user_days row:
	// its first event's) until the period has passed over its time (its
	// last event's).
	times := d.Micros("ts") + " AS t"
	first, last := "t", "t"
	switch t {
	case Sessions:
		times = d.Micros("started_at") + " AS t"
	case UserDays, EventDays:
		times = d.Micros("first_ts") + " AS f, " + d.Micros("last_ts") + " AS l"
		first, last = "f", "l"
	}
	// until is the first moment at which a row of time x counts no more.
	until := func(x string) string {
		if last := b.span.last; last > 0 {
			// Counted while the moment is at most last after it.
			return b.momentsBefore(x + " + " + b.int(last.Microseconds()+1))
		}
		return b.int(int64(b.days.Count))
	}
	exists := (c.Op == segment.OpGe && c.N == 1) || (c.Op == segment.OpGt && c.N == 0)
	never := (c.Op == segment.OpEq && c.N == 0) || (c.Op == segment.OpLt && c.N == 1) || (c.Op == segment.OpLe && c.N == 0)
	if t == EventDays && !exists && !never {
		// Its rows are days, not events: they can't be counted.
		b.span.unsupported = true
		return nil
	}
	if exists || never {
		// One row is enough, whether of a distinct day or not.
		rows := func() error {
			b.w("SELECT u, ", d.BitOr(d.Mask(b.momentsBefore(first), until(last))), " AS m FROM (SELECT ", t.Key(), " AS u, ",
				times, " ")
			if err := b.from(t, where); err != nil {
				return err
			}
			b.w(") AS r GROUP BY u")
			return nil
		}
		if never {
			return b.daysMinus(b.daysUniverse, rows)
		}
		return rows()
	}
	// spans writes the rows as (u, a, z): each counts at the moments a
	// to z-1.
	spans := func() error {
		if perDay {
			day := "day"
			if t != UserDays {
				day = d.Day("ts") + " AS day"
			}
			b.w("SELECT u, ", b.momentsBefore("min("+first+")"), " AS a, ", until("max("+last+")"), " AS z FROM (SELECT ",
				t.Key(), " AS u, ", times, ", ", day, " ")
			if err := b.from(t, where); err != nil {
				return err
			}
			b.w(") AS r GROUP BY u, day")
			return nil
		}
		b.w("SELECT u, ", b.momentsBefore(first), " AS a, ", until(last), " AS z FROM (SELECT ", t.Key(), " AS u, ",
			times, " ")
		if err := b.from(t, where); err != nil {
			return err
		}
		b.w(") AS r")
		return nil
	}
	// steps writes the moments at which the count satisfies c, or with
	// fails those at which it does not, for the users with rows.
	steps := func(fails bool) func() error {
		return func() error {
			b.w("SELECT u, ", d.BitOr(d.Mask("pos", "next")), " AS m FROM ")
			if err := d.Steps(b, spans, b.days.Count); err != nil {
				return err
			}
			b.w(" AS st WHERE ")
			if fails {
				b.w("NOT ")
			}
			b.w("(c ", string(c.Op), " ")
			b.arg(c.N)
			b.w(") GROUP BY u")
			return nil
		}
	}
	if n, ok := atLeast(c); ok {
		// "At least n" needs no running count (Dialect.Reach).
		b.w("SELECT u, ", d.BitOr(d.Mask("pos", "next")), " AS m FROM ")
		if err := d.Reach(b, spans, n); err != nil {
			return err
		}
		b.w(" AS st WHERE next > pos GROUP BY u")
		return nil
	}
	if admitsZero(c) {
		// Users without rows count 0 at every moment, as do those whose
		// rows all count at none.
		return b.daysMinus(b.daysUniverse, steps(true))
	}
	return steps(false)()
}

// daysAttribute writes the masks of a current user attribute compared
// without reference to now: each history entry's value holds from the
// moment it was set until the next entry of the key.
func (b *builder) daysAttribute(a *segment.Attribute) (bool, error) {
	op, negate := positive(a.Op)
	if a.Scope != segment.ScopeUser || !a.AsOf.IsZero() || op == segment.OpWithin || op == segment.OpOlderThan {
		return false, nil
	}
	typ, err := b.attrType(a.Scope, a.Key)
	if err != nil {
		return false, err
	}
	col := column(typ)
	positiveRows := func() error {
		d := b.c.Dialect
		mask := func(from, to string) string {
			return d.BitOr(d.Mask(b.momentsBefore(from), b.momentsBefore(to)))
		}
		return d.Spans(b, col, a.Key, b.c.Site, b.days.last(), mask, func(value string) error {
			return b.predicate(value, op, a.Values)
		})
	}
	if negate {
		return true, b.daysMinus(b.daysUniverse, positiveRows)
	}
	return true, positiveRows()
}

// atLeast reports whether c is "at least n" for a whole n of 2 or more
// (counts are whole: > 2.5 is at least 3), and that n.
func atLeast(c segment.Count) (int, bool) {
	var n float64
	switch c.Op {
	case segment.OpGe:
		n = math.Ceil(c.N)
	case segment.OpGt:
		n = math.Floor(c.N) + 1
	default:
		return 0, false
	}
	if n < 2 || n > 1<<20 {
		return 0, false
	}
	return int(n), true
}
