package compare

import (
	"context"
	"slices"

	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// sel is the groups one query reads: one group, or both when they do not
// overlap, told apart by a column g (0 for A); or, when rest is set, A
// and everyone else (the universe less A), which is not listed. Its rows
// are those of groups base+g.
type sel struct {
	lists [][]int64
	base  int
	rest  Rest
	site  int64
	d     compiler.Dialect
}

// label writes the expression of g for the user key col.
func (s sel) label(w *sqlw, col string) {
	if len(s.lists) == 1 && s.rest == "" {
		w.Write("0")
		return
	}
	w.Write("CASE WHEN ")
	w.keyIn(col, s.lists[0])
	w.Write(" THEN 0 ELSE 1 END")
}

// filter writes the condition that col is in one of the groups.
func (s sel) filter(w *sqlw, col string) {
	switch s.rest {
	case RestAll:
		w.Write("1 = 1")
		return
	case RestIdentified:
		w.Write("(")
		w.keyIn(col, s.lists[0])
		w.Write(" OR ", col, " IN (SELECT entity_key ")
		s.d.From(w, compiler.Identities, s.site, nil)
		w.Write(" AND kind = 1")
		s.d.EndFrom(w)
		w.Write("))")
		return
	}
	w.Write("(")
	for i, l := range s.lists {
		if i > 0 {
			w.Write(" OR ")
		}
		w.keyIn(col, l)
	}
	w.Write(")")
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

// universe reads the sorted keys of everyone rest can be: the identified
// users, or all users.
func (q *querier) universe(ctx context.Context, rest Rest) ([]int64, error) {
	w := newSQL(q.c.dialect)
	kinds := "1, 2"
	if rest == RestIdentified {
		kinds = "1"
	}
	w.Write("SELECT DISTINCT entity_key ")
	q.c.dialect.From(w, compiler.Identities, q.site, nil)
	w.Write(" AND kind IN (", kinds, ")")
	q.c.dialect.EndFrom(w)
	var out []int64
	var k num
	err := q.query(ctx, w, func() error { out = append(out, int64(k.v)); return nil }, &k)
	slices.Sort(out)
	return out, err
}

// inGroupSel writes " AS x WHERE" and s's filter on x.user_key, ending
// a derived table.
func inGroupSel(w *sqlw, s sel) {
	w.Write(" AS x WHERE ")
	s.filter(w, "x.user_key")
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
