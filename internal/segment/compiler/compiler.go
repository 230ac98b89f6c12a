// Package compiler turns a validated segment tree into one parameterised SQL
// query that yields the segment's member keys. Every condition compiles to a
// set of user keys (a SELECT of one column, u); groups intersect and unite
// those sets and negation subtracts from the site's users. Table and column
// names come from fixed strings in this package, never from the tree: user
// text only ever reaches the database as a bound argument.
package compiler

import (
	"errors"
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

// ErrCycle is returned when segments refer to each other in a loop.
var ErrCycle = errors.New("segments refer to each other in a cycle")

// Compiler compiles trees for one site at one moment.
type Compiler struct {
	Site    int64
	Now     time.Time
	Catalog segment.Catalog
	Resolve Resolver
	Dialect Dialect
	// Historical compiles the segment as it stood at Now, for a moment in
	// the past: only events and sessions up to Now count, attributes take
	// the value they had then, and the users are those seen by then.
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

// Count compiles n to a query returning the number of members.
func (c *Compiler) Count(n segment.Node) (Query, error) {
	q, err := c.Members(n)
	if err != nil {
		return Query{}, err
	}
	q.SQL = "SELECT count(*) FROM (" + q.SQL + ") AS members"
	return q, nil
}

// builder accumulates SQL text and arguments.
type builder struct {
	c        *Compiler
	sql      strings.Builder
	args     []any
	visiting map[string]bool
}

func (b *builder) w(parts ...string) {
	for _, p := range parts {
		b.sql.WriteString(p)
	}
}

// arg writes a placeholder for v.
func (b *builder) arg(v any) {
	b.args = append(b.args, v)
	b.sql.WriteString("?")
}

// universe writes the set of all the site's users (identified or not); in
// a historical query, those with a message up to Now.
func (b *builder) universe() {
	if b.c.Historical {
		b.w("SELECT DISTINCT user_key AS u FROM events WHERE site_id = ")
		b.arg(b.c.Site)
		b.until("ts")
		return
	}
	b.w("SELECT DISTINCT entity_key AS u FROM identities WHERE site_id = ")
	b.arg(b.c.Site)
	b.w(" AND kind IN (1, 2)")
}

// until writes "AND col <= Now" in a historical query, where rows after
// the moment asked about must not count.
func (b *builder) until(col string) {
	if b.c.Historical {
		b.w(" AND ", col, " <= ")
		b.arg(b.c.Now)
	}
}

func (b *builder) node(n segment.Node) error {
	switch n := n.(type) {
	case *segment.Group:
		return b.group(n)
	case *segment.Not:
		b.w("(")
		b.universe()
		b.w(") EXCEPT (")
		if err := b.node(n.Condition); err != nil {
			return err
		}
		b.w(")")
		return nil
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
	case *segment.InSegment:
		return b.inSegment(n)
	}
	return fmt.Errorf("BUG: compiler has no case for %T", n)
}

func (b *builder) group(g *segment.Group) error {
	if len(g.Conditions) == 0 {
		if g.Op == segment.All {
			b.universe() // all of nothing: everyone
		} else {
			b.w("SELECT NULL::BIGINT AS u WHERE false") // any of nothing: no one
		}
		return nil
	}
	join := " INTERSECT "
	if g.Op == segment.Any {
		join = " UNION "
	}
	for i, child := range g.Conditions {
		if i > 0 {
			b.w(join)
		}
		b.w("(")
		if err := b.node(child); err != nil {
			return err
		}
		b.w(")")
	}
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
func (b *builder) period(col string, p segment.Period) {
	if p.Last > 0 {
		b.w(" AND ", col, " >= ")
		b.arg(b.c.Now.Add(-p.Last))
	}
	if !p.From.IsZero() {
		b.w(" AND ", col, " >= ")
		b.arg(p.From)
	}
	if !p.To.IsZero() {
		b.w(" AND ", col, " < ")
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
