// Package compiler turns a validated segment tree into one parameterised SQL
// query that yields the segment's member keys. Every condition compiles to a
// set of user keys (a SELECT of one column, u); groups intersect and unite
// those sets and negation subtracts from the site's users. Table and column
// names come from fixed strings in this package, never from the tree: user
// text only ever reaches the database as a bound argument.
//
// Member compiles the same tree for one user instead: every set is then
// restricted to that user's rows and asked whether it is empty, so the
// database reads only the row groups that can hold the user.
//
// The SQL is written for a Dialect: DuckDB (the embedded store) or
// ClickHouse (the scaled one, from 18.16 on). Forms both run are written
// here; the dialects write the rest (dialect.go).
package compiler

import (
	"fmt"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
)

// Query is SQL with its arguments.
type Query struct {
	SQL  string
	Args []any
}

// Resolver returns the tree of a saved segment, for in_segment conditions.
type Resolver func(id string) (segment.Node, error)

// ErrCycle is returned when segments refer to each other in a loop; it is
// segment.ErrCycle, which saving a segment reports.
var ErrCycle = segment.ErrCycle

// Compiler compiles trees for one site at one moment.
type Compiler struct {
	Site    int64
	Now     time.Time
	Catalog segment.Catalog
	Resolve Resolver
	// ResolveFunnel returns saved funnels, for funnel_step conditions.
	ResolveFunnel FunnelResolver
	Dialect       Dialect
	// Historical compiles the segment as it stood at Now, for a moment in
	// the past: only events and sessions up to Now count, attributes take
	// the value they had then, and the users are those first seen by then
	// (see universe).
	// Identities merged since count as one user throughout.
	Historical bool
}

// Members compiles n to a query returning the distinct member keys in a
// column named u.
func (c *Compiler) Members(n segment.Node) (Query, error) {
	b := &builder{c: c, visiting: map[string]bool{}}
	if err := b.node(n); err != nil {
		return Query{}, err
	}
	return Query{SQL: b.sql.String(), Args: b.args}, nil
}

// Member compiles n to a query returning one boolean: whether the user with
// key user is a member. It answers as Members would (the same sets, the
// same complements) but restricts every condition to the user's rows:
// "u in A and in B" becomes "A has u AND B has u", a complement "the user
// exists AND NOT ...", and each set a test that the user's rows alone
// (Dialect.Exists) are not empty.
func (c *Compiler) Member(n segment.Node, user int64) (Query, error) {
	b := &builder{c: c, visiting: map[string]bool{}, one: true, user: user}
	b.w("SELECT ")
	if err := b.node(n); err != nil {
		return Query{}, err
	}
	return Query{SQL: b.sql.String(), Args: b.args}, nil
}

// Count compiles n to a query returning the number of members.
func (c *Compiler) Count(n segment.Node) (Query, error) {
	q, err := c.Members(n)
	if err != nil {
		return Query{}, err
	}
	q.SQL = "SELECT count(*) FROM (" + q.SQL + ") AS members"
	return q, nil
}

// Page compiles n to the query of a page of its members: at most limit
// of the keys above after, ascending, each as (key, size, ID), where ID is
// the user's user ID, else its anonymous ID, and size the number of
// members when sized is set, else 0.
func (c *Compiler) Page(n segment.Node, after int64, limit int, sized bool) (Query, error) {
	b := &builder{c: c, visiting: map[string]bool{}}
	err := c.Dialect.Page(b, c.Site, func() error { return b.node(n) }, after, limit, sized)
	if err != nil {
		return Query{}, err
	}
	return Query{SQL: b.sql.String(), Args: b.args}, nil
}

// Among compiles n to a query of which of the given users are members:
// their keys, once each.
func (c *Compiler) Among(n segment.Node, keys []int64) (Query, error) {
	q, err := c.Members(n)
	if err != nil {
		return Query{}, err
	}
	q.SQL = "SELECT DISTINCT m.u FROM (" + q.SQL + ") m WHERE " + c.Dialect.KeyIn("m.u")
	q.Args = append(q.Args, c.Dialect.Arg(keys))
	return q, nil
}

// builder accumulates SQL text and arguments.
type builder struct {
	c        *Compiler
	sql      strings.Builder
	args     []any
	visiting map[string]bool
	// one compiles for a single user (Member): every set becomes a
	// boolean, "the set holds user".
	one  bool
	user int64
	// days compiles for many moments at once (Days): every set becomes
	// rows (u, m); span, while a condition's rows are written, learns
	// when each counts.
	days *Moments
	span *span
}

func (b *builder) w(parts ...string) {
	for _, p := range parts {
		b.sql.WriteString(p)
	}
}

// arg writes a placeholder for v, as the dialect binds it.
func (b *builder) arg(v any) {
	b.args = append(b.args, b.c.Dialect.Arg(v))
	b.sql.WriteString("?")
}

// Write implements Writer.
func (b *builder) Write(parts ...string) { b.w(parts...) }

// Arg implements Writer.
func (b *builder) Arg(v any) { b.arg(v) }

// forUser returns the user a query for one user is restricted to, else
// nil.
func (b *builder) forUser() *int64 {
	if !b.one {
		return nil
	}
	return &b.user
}

// from writes the rows of t for the site (and the user, for one user),
// as "FROM t WHERE site_id = ?"; where writes the conditions that follow
// (" AND …"), on t's own columns.
func (b *builder) from(t Table, where func() error) error {
	b.c.Dialect.From(b, t, b.c.Site, b.forUser())
	if err := where(); err != nil {
		return err
	}
	b.c.Dialect.EndFrom(b)
	return nil
}

// universe writes the set of all the site's users (identified or not).
// In a historical query it is those first seen by Now: with an identity
// created by then, or a message sent by then (messages can be stamped
// before they arrive: backfills, offline queues; users loaded in bulk
// are created when they were first seen). All of a site's users were
// created by now, so a trend's universe at now is the live one, and
// "not X" counts the same users in both.
func (b *builder) universe() error {
	return b.leaf(func() error {
		identities := func() error {
			b.w(" AND kind IN (1, 2)")
			b.until("created_at")
			return nil
		}
		if !b.c.Historical {
			b.w("SELECT DISTINCT entity_key AS u ")
			return b.from(Identities, identities)
		}
		// A union, not "created_at <= Now OR entity_key IN (…)",
		// which DuckDB runs several times slower. Every message's user
		// has an identity, so both halves are the same users.
		b.w("SELECT DISTINCT u FROM (SELECT entity_key AS u ")
		if err := b.from(Identities, identities); err != nil {
			return err
		}
		b.w(" UNION ALL SELECT user_key AS u ")
		if err := b.from(Events, func() error { b.until("ts"); return nil }); err != nil {
			return err
		}
		b.w(")")
		return nil
	})
}

// leaf writes the set that rows writes (a SELECT of one column u); for one
// user, whether that set, restricted to the user, has a row.
func (b *builder) leaf(rows func() error) error {
	if !b.one {
		return rows()
	}
	return b.c.Dialect.Exists(b, rows)
}

// minus writes the set a less the set c; for one user, "in a and not in c".
func (b *builder) minus(a, c func() error) error {
	if b.one {
		b.w("(")
		if err := a(); err != nil {
			return err
		}
		b.w(" AND NOT (")
		if err := c(); err != nil {
			return err
		}
		b.w("))")
		return nil
	}
	b.w("SELECT u FROM (")
	if err := a(); err != nil {
		return err
	}
	b.w(") AS a WHERE u NOT IN (")
	if err := c(); err != nil {
		return err
	}
	b.w(")")
	return nil
}

// until writes "AND col <= Now" in a historical query, where rows after
// the moment asked about must not count.
func (b *builder) until(col string) {
	if b.span != nil {
		// No row after the last moment counts at any.
		b.w(" AND ", col, " <= ")
		b.arg(b.days.last())
		return
	}
	if b.c.Historical {
		b.w(" AND ", col, " <= ")
		b.arg(b.c.Now)
	}
}

func (b *builder) node(n segment.Node) error {
	if b.days != nil && b.span == nil {
		return b.daysNode(n)
	}
	switch n := n.(type) {
	case *segment.Group:
		return b.group(n)
	case *segment.Not:
		return b.minus(b.universe, func() error { return b.node(n.Condition) })
	case *segment.Attribute:
		return b.attribute(n)
	case *segment.Changed:
		return b.changed(n)
	case *segment.Event:
		return b.event(n)
	case *segment.ActiveDays:
		return b.activeDays(n)
	case *segment.Visited:
		return b.visited(n)
	case *segment.Sessions:
		return b.sessions(n)
	case *segment.SessionDuration:
		return b.sessionDuration(n)
	case *segment.SessionField:
		return b.sessionField(n)
	case *segment.Signal:
		return b.signal(n)
	case *segment.NPS:
		return b.nps(n)
	case *segment.Answer:
		return b.answer(n)
	case *segment.FeedbackRating:
		return b.feedbackRating(n)
	case *segment.Identified:
		return b.identified()
	case *segment.InSegment:
		return b.inSegment(n)
	case *segment.FunnelStep:
		return b.funnelStep(n)
	}
	return fmt.Errorf("BUG: compiler has no case for %T", n)
}

// identified writes the users with a user ID. In a historical query they
// are those identified now among the users first seen by then: identities
// join, so a user's past is the identified user's (see Identified).
func (b *builder) identified() error {
	rows := func() error {
		b.w("SELECT DISTINCT entity_key AS u ")
		return b.from(Identities, func() error { b.w(" AND kind = 1"); return nil })
	}
	if !b.c.Historical {
		return b.leaf(rows)
	}
	if b.one {
		b.w("(")
		if err := b.leaf(rows); err != nil {
			return err
		}
		b.w(" AND ")
		if err := b.universe(); err != nil {
			return err
		}
		b.w(")")
		return nil
	}
	b.w("SELECT u FROM (")
	if err := rows(); err != nil {
		return err
	}
	b.w(") AS i WHERE u IN (")
	if err := b.universe(); err != nil {
		return err
	}
	b.w(")")
	return nil
}

// group writes the intersection (all) or union (any) of the conditions'
// sets: "u IN" each set after the first, or every set's rows under one
// DISTINCT, forms that DuckDB and ClickHouse (which has no INTERSECT or
// UNION DISTINCT) both run. For one user, the booleans are and'ed or
// or'ed.
func (b *builder) group(g *segment.Group) error {
	if len(g.Conditions) == 0 {
		switch {
		case g.Op == segment.All:
			return b.universe() // all of nothing: everyone
		case b.one:
			b.w("1 = 0")
		default:
			b.w("SELECT CAST(0 AS BIGINT) AS u WHERE 1 = 0") // any of nothing: no one
		}
		return nil
	}
	var open, join, end string
	switch {
	case b.one && g.Op == segment.Any:
		open, join, end = "(", ") OR (", ")"
	case b.one:
		open, join, end = "(", ") AND (", ")"
	case g.Op == segment.Any:
		open, join, end = "SELECT DISTINCT u FROM (", " UNION ALL ", ")"
	default:
		open, join, end = "SELECT u FROM (", ") AS a WHERE u IN (", ")"
	}
	b.w(open)
	for i, part := range b.parts(g) {
		if i == 1 {
			b.w(join)
		} else if i > 1 {
			if !b.one && g.Op == segment.All {
				b.w(") AND u IN (")
			} else {
				b.w(join)
			}
		}
		if err := part(); err != nil {
			return err
		}
	}
	b.w(end)
	return nil
}

func (b *builder) inSegment(s *segment.InSegment) error {
	if b.visiting[s.ID] {
		return fmt.Errorf("segment %q: %w", s.ID, ErrCycle)
	}
	if b.c.Resolve == nil {
		return fmt.Errorf("segment %q: no saved segments to refer to", s.ID)
	}
	n, err := b.c.Resolve(s.ID)
	if err != nil {
		return fmt.Errorf("segment %q: %w", s.ID, err)
	}
	b.visiting[s.ID] = true
	defer delete(b.visiting, s.ID)
	return b.node(n)
}

// attrType returns the catalog type of an attribute, which picks the typed
// column to compare.
func (b *builder) attrType(scope segment.Scope, key string) (attr.Type, error) {
	t, ok := b.c.Catalog.AttributeType(scope, key)
	if !ok {
		return 0, fmt.Errorf("unknown attribute %q", key)
	}
	return t, nil
}

// column is the attr_current/attr_history column holding values of type t.
func column(t attr.Type) string {
	switch t {
	case attr.Number:
		return "n"
	case attr.Boolean:
		return "b"
	case attr.Datetime:
		return "t"
	}
	return "s"
}

// period writes "AND col >= from [AND col < to]" for a period.
func (b *builder) period(col string, p segment.Period) { b.periodOf(col, col, p) }

// periodOf writes the conditions on rows that each span the times lo
// to hi (user_days: a day's first and last event) of having a time
// in the period p: hi not before its start, lo not after its end. That
// is exact when the period is not inside one day (see daysExact).
func (b *builder) periodOf(lo, hi string, p segment.Period) {
	col := hi
	if b.span != nil {
		// The moments at which a row counts are worked out from col
		// and the span's last, the condition's.
		if p.Last != b.span.last {
			b.span.unsupported = true
		}
		if p.Last > 0 {
			// Rows that leave the period before the first moment
			// count at none.
			b.w(" AND ", col, " >= ")
			b.arg(b.days.First.Add(-p.Last))
		}
		p.Last = 0
	}
	if p.Last > 0 {
		b.w(" AND ", col, " >= ")
		b.arg(b.c.Now.Add(-p.Last))
	}
	if !p.From.IsZero() {
		b.w(" AND ", col, " >= ")
		b.arg(p.From)
	}
	if !p.To.IsZero() {
		b.w(" AND ", lo, " < ")
		b.arg(p.To)
	}
}

// literal converts a validated literal to a database argument.
func literal(v segment.Value) any {
	switch v.Kind {
	case segment.ValNumber:
		return v.Num
	case segment.ValBool:
		return v.Bool
	case segment.ValDate:
		return v.Time
	case segment.ValDuration:
		return v.Dur.Seconds()
	}
	return v.Str
}
