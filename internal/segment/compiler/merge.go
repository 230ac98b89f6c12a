package compiler

import (
	"slices"
	"strconv"

	"github.com/sightline/sightline/internal/segment"
)

// A group's conditions that read the same table the same way are merged
// into one scan of it: did(…) conditions into one pass over the events
// (each a count with FILTER), current user attributes into one pass over
// attr_current (each a bool_or with FILTER), and the group's operator
// combines them in HAVING; an "or" of conditions that one matching row
// satisfies keeps no count at all, only the users with such a row.
// Compiled one by one, each condition was a scan and a set operation of
// its own, and the database's memory grows with the number of operations
// whatever the size of the data: 136 conditions ran out of 256 MB on a
// site of 20 users.
//
// A scan sees only users with rows; the others have a count of 0 and no
// attribute. When the combination holds for them too (a "not did" or a
// "!=" in it), the set is everyone except the users of the scan for whom
// it fails, as counted does for one count.

// maxMergedTerms bounds the conditions of one scan: the aggregate keeps
// a state per user and condition.
const maxMergedTerms = 32

// term is a condition of a merged scan, negated by a "not" around it.
type term struct {
	node    segment.Node // *segment.Event or *segment.Attribute
	negated bool
}

// scanKind says which table a condition can share a scan of.
type scanKind uint8

const (
	scanNone   scanKind = iota
	scanEvents          // did(…): track events by name
	scanAttrs           // a current user attribute
)

// scanOf returns the scan a group's child can share, and the term it is.
func (b *builder) scanOf(n segment.Node) (scanKind, term) {
	t := term{node: n}
	if not, ok := n.(*segment.Not); ok {
		t = term{node: not.Condition, negated: true}
	}
	switch c := t.node.(type) {
	case *segment.Event:
		if !c.First {
			return scanEvents, t
		}
	case *segment.Attribute:
		// As of, company attributes and historical queries read other
		// tables, or attr_current otherwise than by key.
		if c.Scope == segment.ScopeUser && c.AsOf.IsZero() && !b.c.Historical {
			if _, err := b.attrType(c.Scope, c.Key); err == nil {
				return scanAttrs, t
			}
		}
	}
	return scanNone, t
}

// parts returns the sets a group combines: its conditions, with those
// that share a scan (two or more) merged, each merged scan where its first
// condition was.
func (b *builder) parts(g *segment.Group) []func() error {
	var out []func() error
	terms := map[scanKind][]term{}
	for _, c := range g.Conditions {
		if k, t := b.scanOf(c); k != scanNone {
			terms[k] = append(terms[k], t)
		}
	}
	placed := map[scanKind]int{} // terms of the kind handed out so far
	for _, c := range g.Conditions {
		k, _ := b.scanOf(c)
		if k == scanNone || len(terms[k]) < 2 {
			out = append(out, func() error { return b.node(c) })
			continue
		}
		// The first term of each chunk places the chunk.
		i := placed[k]
		placed[k]++
		if i%maxMergedTerms != 0 {
			continue
		}
		chunk := terms[k][i:min(i+maxMergedTerms, len(terms[k]))]
		if len(chunk) == 1 {
			out = append(out, func() error { return b.node(c) })
			continue
		}
		out = append(out, func() error { return b.merged(k, g.Op, chunk) })
	}
	return out
}

// merged writes the set of users for whom the terms, combined by op,
// hold.
func (b *builder) merged(k scanKind, op segment.GroupOp, terms []term) error {
	// A complement (!=, not in, is not set) is the negation of its
	// positive operator.
	terms = append([]term(nil), terms...)
	for i, t := range terms {
		if a, ok := t.node.(*segment.Attribute); ok {
			if _, negate := positive(a.Op); negate {
				terms[i].negated = !t.negated
			}
		}
	}
	// What the combination is for a user without rows in the scan: no
	// events (a count of 0), no attribute (the positive operator fails).
	zero := op == segment.All
	for _, t := range terms {
		v := t.negated
		if e, ok := t.node.(*segment.Event); ok {
			v = admitsZero(normCount(e.Count)) != t.negated
		}
		if op == segment.All {
			zero = zero && v
		} else {
			zero = zero || v
		}
	}
	scan := func() error {
		switch {
		case op == segment.Any && !zero && allExist(terms):
			return b.anyScan(k, terms)
		case k == scanEvents:
			return b.eventScan(op, terms, zero)
		}
		return b.attrScan(op, terms, zero)
	}
	if zero {
		return b.minus(b.universe, func() error { return b.leaf(scan) })
	}
	return b.leaf(scan)
}

// allExist reports whether each term holds for a user with one row it
// matches: "did it at least once", an attribute compared positively.
func allExist(terms []term) bool {
	for _, t := range terms {
		if t.negated {
			return false
		}
		if e, ok := t.node.(*segment.Event); ok && !anyRow(normCount(e.Count)) {
			return false
		}
	}
	return true
}

// anyScan writes the users with a row that matches any of the terms, each
// of which holds for a user with one such row (allExist): no counts to
// keep per user, only the set of users.
func (b *builder) anyScan(k scanKind, terms []term) error {
	rows := func() error {
		b.w(" AND (")
		for i, t := range terms {
			if i > 0 {
				b.w(" OR ")
			}
			b.w("(")
			var err error
			if k == scanEvents {
				err = b.eventRows(t.node.(*segment.Event))
			} else {
				err = b.attrRows(t.node.(*segment.Attribute))
			}
			if err != nil {
				return err
			}
			b.w(")")
		}
		b.w(")")
		return nil
	}
	if k == scanEvents {
		b.w("SELECT DISTINCT user_key AS u ")
		return b.from(Events, func() error {
			b.siteEvents(kindTrack)
			b.names(terms)
			return rows()
		})
	}
	b.w("SELECT DISTINCT entity_key AS u ")
	return b.current(terms, rows)
}

// current writes the current values of the terms' attributes (user
// attributes), as "FROM … WHERE …" with where's conditions.
func (b *builder) current(terms []term, where func() error) error {
	var keys []string
	for _, t := range terms {
		if key := t.node.(*segment.Attribute).Key; !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	b.c.Dialect.CurrentFrom(b, keys, b.c.Site, b.forUser())
	if err := where(); err != nil {
		return err
	}
	b.c.Dialect.EndFrom(b)
	return nil
}

// names writes " AND name IN (…)" for the events the terms count.
func (b *builder) names(terms []term) {
	b.w(" AND name IN (")
	seen := map[string]bool{}
	for _, t := range terms {
		name := t.node.(*segment.Event).Name
		if !seen[name] {
			if len(seen) > 0 {
				b.w(", ")
			}
			seen[name] = true
			b.arg(name)
		}
	}
	b.w(")")
}

// eventRows writes the condition on an event row that e counts.
func (b *builder) eventRows(e *segment.Event) error {
	b.w("name = ")
	b.arg(e.Name)
	for _, p := range e.Where {
		b.w(" AND ")
		if err := b.property(p); err != nil {
			return err
		}
	}
	b.period("ts", e.Period)
	return nil
}

// attrRows writes the condition on a current value that a's positive
// operator holds for.
func (b *builder) attrRows(a *segment.Attribute) error {
	typ, err := b.attrType(a.Scope, a.Key)
	if err != nil {
		return err
	}
	p, _ := positive(a.Op)
	b.w("key = ")
	b.arg(a.Key)
	b.w(" AND ")
	return b.predicate(column(typ), p, a.Values)
}

// having writes the terms combined by op, each written by one, negated
// as a whole when not is set.
func (b *builder) having(op segment.GroupOp, terms []term, not bool, one func(term) error) error {
	join := " AND "
	if op == segment.Any {
		join = " OR "
	}
	b.w(" HAVING ")
	if not {
		b.w("NOT (")
	}
	for i, t := range terms {
		if i > 0 {
			b.w(join)
		}
		if t.negated {
			b.w("NOT ")
		}
		b.w("(")
		if err := one(t); err != nil {
			return err
		}
		b.w(")")
	}
	if not {
		b.w(")")
	}
	return nil
}

// eventScan writes one pass over the events of the terms' names, keeping
// the users for whom the terms' counts combine to !not.
func (b *builder) eventScan(op segment.GroupOp, terms []term, not bool) error {
	b.w("SELECT user_key AS u ")
	err := b.from(Events, func() error {
		b.siteEvents(kindTrack)
		b.names(terms)
		return nil
	})
	if err != nil {
		return err
	}
	b.w(" GROUP BY user_key")
	open, end := b.c.Dialect.CountWhere()
	return b.having(op, terms, not, func(t term) error {
		e := t.node.(*segment.Event)
		c := normCount(e.Count)
		b.w(open)
		if err := b.eventRows(e); err != nil {
			return err
		}
		b.w(end, " ", string(c.Op), " ")
		b.arg(c.N)
		return nil
	})
}

// attrScan writes one pass over the current values of the terms' keys,
// keeping the users for whom the terms (positive operators) combine to
// !not.
func (b *builder) attrScan(op segment.GroupOp, terms []term, not bool) error {
	if op == segment.All && !not && !slices.ContainsFunc(terms, func(t term) bool { return t.negated }) {
		return b.attrRowsScan(terms)
	}
	b.w("SELECT entity_key AS u ")
	if err := b.current(terms, func() error { return nil }); err != nil {
		return err
	}
	b.w(" GROUP BY entity_key")
	open, end := b.c.Dialect.AnyWhere()
	return b.having(op, terms, not, func(t term) error {
		b.w(open)
		if err := b.attrRows(t.node.(*segment.Attribute)); err != nil {
			return err
		}
		b.w(end)
		return nil
	})
}

// attrRowsScan writes the users for whom every term (a positive operator)
// holds. A user has one current value per key, so the terms of one key
// hold together on that row: the scan keeps the rows that pass their
// key's terms, and the users with such a row for every key, without an
// aggregate over the rows that fail.
func (b *builder) attrRowsScan(terms []term) error {
	var keys []string
	byKey := map[string][]*segment.Attribute{}
	for _, t := range terms {
		a := t.node.(*segment.Attribute)
		if byKey[a.Key] == nil {
			keys = append(keys, a.Key)
		}
		byKey[a.Key] = append(byKey[a.Key], a)
	}
	b.w("SELECT entity_key AS u ")
	err := b.current(terms, func() error {
		b.w(" AND (")
		for i, key := range keys {
			if i > 0 {
				b.w(" OR ")
			}
			b.w("(")
			for j, a := range byKey[key] {
				if j > 0 {
					b.w(" AND ")
				}
				if err := b.attrRows(a); err != nil {
					return err
				}
			}
			b.w(")")
		}
		b.w(")")
		return nil
	})
	if err != nil || len(keys) == 1 {
		return err
	}
	b.w(" GROUP BY entity_key HAVING count(*) = ")
	b.w(strconv.Itoa(len(keys)))
	return nil
}
