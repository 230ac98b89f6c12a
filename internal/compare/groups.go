package compare

import (
	"context"

	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// sel is the groups one query reads: one group, or both when they do not
// overlap; or, when rest is set, A and everyone else (the universe less
// A), which is not listed. A query labels each user with g (label): 0
// for the first group, 1 for the second, 2 for users in neither, whose
// rows are dropped; its rows are those of groups base+g. Labels rather
// than a filter: a filter on the user would be pushed down into the
// scans below the per-user aggregations, and cost a lookup per row
// there rather than per user.
type sel struct {
	lists [][]int64
	base  int
	rest  Rest
	site  int64
	d     compiler.Dialect
}

// label writes the expression of g for the user key col.
func (s sel) label(w *sqlw, col string) {
	w.Write("CASE WHEN ")
	w.keyIn(col, s.lists[0])
	w.Write(" THEN 0")
	switch {
	case s.rest == RestAll:
		w.Write(" ELSE 1")
	case s.rest == RestIdentified:
		w.Write(" WHEN ", col, " IN (SELECT entity_key ")
		s.d.From(w, compiler.Identities, s.site, nil)
		w.Write(" AND kind = 1")
		s.d.EndFrom(w)
		w.Write(") THEN 1 ELSE 2")
	case len(s.lists) == 2:
		w.Write(" WHEN ")
		w.keyIn(col, s.lists[1])
		w.Write(" THEN 1 ELSE 2")
	default:
		w.Write(" ELSE 2")
	}
	w.Write(" END")
}

// group returns the group of a row labelled g; ok is false for users in
// neither group.
func (s sel) group(g float64) (int, bool) {
	if g < 0 || g > 1 || (g == 1 && len(s.lists) == 1 && s.rest == "") {
		return 0, false
	}
	return s.base + int(g), true
}

// overlap counts the keys in both sorted lists.
func overlap(a, b []int64) int64 {
	var n int64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}

// withoutShared returns the sorted lists a and b less the keys in both.
func withoutShared(a, b []int64) (onlyA, onlyB []int64) {
	onlyA, onlyB = make([]int64, 0, len(a)), make([]int64, 0, len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

// restSize counts everyone rest can be (the identified users, or all
// users) who is not one of the sorted keys a.
func (q *querier) restSize(ctx context.Context, rest Rest, a []int64) (int64, error) {
	w := newSQL(q.c.dialect)
	kinds := "1, 2"
	if rest == RestIdentified {
		kinds = "1"
	}
	w.Write("SELECT count(DISTINCT entity_key) ")
	q.c.dialect.From(w, compiler.Identities, q.site, nil)
	w.Write(" AND kind IN (", kinds, ") AND NOT (")
	w.keyIn("entity_key", a)
	w.Write(")")
	q.c.dialect.EndFrom(w)
	var n num
	err := q.query(ctx, w, func() error { return nil }, &n)
	return int64(n.v), err
}

// keys reads a member set's keys.
func (q *querier) keys(ctx context.Context, m store.KeySet) ([]int64, error) {
	var out []int64
	rows, err := q.c.store.SQL().QueryContext(ctx, m.SQL, m.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
