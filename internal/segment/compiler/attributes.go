package compiler

import (
	"fmt"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// predicate writes a boolean expression comparing expr with values by op.
// The negative operators (!=, not in, is not set) are handled by the
// callers as complements, so that users without a value count as "not".
func (b *builder) predicate(expr string, op segment.Op, vals []segment.Value) error {
	return b.predicateArgs(expr, nil, op, vals)
}

// predicateArgs is predicate for an expression with placeholders of its
// own, whose arguments exprArgs are bound each time it is written.
func (b *builder) predicateArgs(expr string, exprArgs []any, op segment.Op, vals []segment.Value) error {
	x := func() {
		b.w(expr)
		b.args = append(b.args, exprArgs...)
	}
	// Any whole day among the values, not only the first: between an
	// instant and a day ends where the day ends.
	if slices.ContainsFunc(vals, segment.Value.WholeDay) {
		return b.dayPredicate(x, op, vals)
	}
	switch op {
	case segment.OpEq, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe:
		x()
		b.w(" ", string(op), " ")
		b.arg(literal(vals[0]))
	case segment.OpBetween:
		x()
		b.w(" BETWEEN ")
		b.arg(literal(vals[0]))
		b.w(" AND ")
		b.arg(literal(vals[1]))
	case segment.OpIn:
		x()
		b.w(" IN (")
		for i, v := range vals {
			if i > 0 {
				b.w(", ")
			}
			b.arg(literal(v))
		}
		b.w(")")
	case segment.OpContains, segment.OpStarts, segment.OpEnds, segment.OpMatches:
		tmpl, err := b.c.Dialect.StringMatch(op, expr)
		if err != nil {
			return err
		}
		b.w(tmpl)
		b.args = append(b.args, exprArgs...)
		b.args = append(b.args, vals[0].Str)
	case segment.OpWithin:
		x()
		b.w(" >= ")
		b.arg(b.c.Now.Add(-vals[0].Dur))
		b.w(" AND ")
		x()
		b.w(" <= ")
		b.arg(b.c.Now)
	case segment.OpOlderThan:
		x()
		b.w(" < ")
		b.arg(b.c.Now.Add(-vals[0].Dur))
	case segment.OpSet:
		b.w("1 = 1")
	default:
		return fmt.Errorf("BUG: operator %q reached predicate", op)
	}
	return nil
}

// dayPredicate compares a timestamp with dates that stand for whole UTC
// days: signed_up_at = 2024-05-01 matches any time that day, <= includes
// the day and > starts after it.
func (b *builder) dayPredicate(x func(), op segment.Op, vals []segment.Value) error {
	// day returns the half-open range a value covers: a whole day, or an
	// instant (the database keeps microseconds).
	day := func(v segment.Value) (time.Time, time.Time) {
		start := v.Time.UTC()
		if !v.WholeDay() {
			return start, start.Add(time.Microsecond)
		}
		return start, start.Add(24 * time.Hour)
	}
	start, end := day(vals[0])
	switch op {
	case segment.OpEq:
		x()
		b.w(" >= ")
		b.arg(start)
		b.w(" AND ")
		x()
		b.w(" < ")
		b.arg(end)
	case segment.OpLt, segment.OpGe:
		x()
		b.w(" ", string(op), " ")
		b.arg(start)
	case segment.OpLe:
		x()
		b.w(" < ")
		b.arg(end)
	case segment.OpGt:
		x()
		b.w(" >= ")
		b.arg(end)
	case segment.OpBetween:
		_, hi := day(vals[1])
		x()
		b.w(" >= ")
		b.arg(start)
		b.w(" AND ")
		x()
		b.w(" < ")
		b.arg(hi)
	case segment.OpIn:
		b.w("(")
		for i, v := range vals {
			if i > 0 {
				b.w(" OR ")
			}
			b.w("(")
			if err := b.dayPredicate(x, segment.OpEq, []segment.Value{v}); err != nil {
				return err
			}
			b.w(")")
		}
		b.w(")")
	default:
		return fmt.Errorf("BUG: operator %q on dates", op)
	}
	return nil
}

// positive returns the operator whose complement op is, and whether op is
// a complement at all.
func positive(op segment.Op) (segment.Op, bool) {
	switch op {
	case segment.OpNe:
		return segment.OpEq, true
	case segment.OpNotIn:
		return segment.OpIn, true
	case segment.OpNotSet:
		return segment.OpSet, true
	}
	return op, false
}

// complement writes the universe less the positive set when negate is set,
// else just the positive set.
func (b *builder) complement(negate bool, positive func() error) error {
	if !negate {
		return b.leaf(positive)
	}
	return b.minus(b.universe, func() error { return b.leaf(positive) })
}

func (b *builder) attribute(a *segment.Attribute) error {
	typ, err := b.attrType(a.Scope, a.Key)
	if err != nil {
		return err
	}
	col := column(typ)
	op, negate := positive(a.Op)
	// A historical query sees no value set after its moment, not even
	// through an explicit "as of" later than it.
	asOf := a.AsOf
	if b.c.Historical && (asOf.IsZero() || asOf.After(b.c.Now)) {
		asOf = b.c.Now
	}
	return b.complement(negate, func() error {
		d, user := b.c.Dialect, b.forUser()
		pred := func(value string) error { return b.predicate(value, op, a.Values) }
		switch {
		case a.Scope == segment.ScopeCompany:
			// The users linked to a company whose value matches; in a
			// historical query, linked by then, and the value as of then.
			b.w("SELECT DISTINCT user_key AS u ")
			return b.from(UserGroups, func() error {
				b.until("linked_at")
				b.w(" AND group_key IN (")
				if b.c.Historical {
					b.w("SELECT u FROM ")
					d.ValuesAsOf(b, 1, col, a.Key, b.c.Now, b.c.Site, nil)
					b.w(" c WHERE ")
					if err := pred("c." + col); err != nil {
						return err
					}
				} else if err := d.CurrentWhere(b, 1, col, a.Key, b.c.Site, nil, pred); err != nil {
					return err
				}
				b.w(")")
				return nil
			})
		case !asOf.IsZero():
			b.w("SELECT u FROM ")
			d.ValuesAsOf(b, 0, col, a.Key, asOf, b.c.Site, user)
			b.w(" v WHERE ")
			return pred("v." + col)
		default:
			return d.CurrentWhere(b, 0, col, a.Key, b.c.Site, user, pred)
		}
	})
}

// changed matches users with a history entry in the period whose value
// differs from the entry before it, optionally from a given value and to a
// given value. A first value counts as a change from nothing.
func (b *builder) changed(c *segment.Changed) error {
	typ, err := b.attrType(segment.ScopeUser, c.Key)
	if err != nil {
		return err
	}
	col := column(typ)
	return b.leaf(func() error {
		d := b.c.Dialect
		b.w("SELECT DISTINCT u FROM ")
		d.Changes(b, col, c.Key, b.c.Site, b.forUser())
		b.w(" h WHERE ", d.Differ("prev", "v"))
		b.period("set_at", c.Period)
		b.until("set_at")
		// From and To compare like "=": a date written as a day is that day.
		if c.From != nil {
			b.w(" AND ")
			if err := b.predicate("prev", segment.OpEq, []segment.Value{*c.From}); err != nil {
				return err
			}
		}
		if c.To != nil {
			b.w(" AND ")
			if err := b.predicate("v", segment.OpEq, []segment.Value{*c.To}); err != nil {
				return err
			}
		}
		return nil
	})
}
