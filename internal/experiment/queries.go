package experiment

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// query holds one results computation.
type query struct {
	r          *Reader
	site       int64
	d          Definition
	start, end time.Time
}

// sqlw builds a query for a dialect (a compiler.Writer).
type sqlw struct {
	d    compiler.Dialect
	b    strings.Builder
	args []any
}

func (w *sqlw) Write(parts ...string) {
	for _, p := range parts {
		w.b.WriteString(p)
	}
}

func (w *sqlw) Arg(v any) {
	w.args = append(w.args, w.d.Arg(v))
	w.b.WriteString("?")
}

// expr writes an expression with its placeholders' arguments.
func (w *sqlw) expr(sql string, args []any) {
	w.b.WriteString(sql)
	for _, a := range args {
		w.args = append(w.args, w.d.Arg(a))
	}
}

func (w *sqlw) members(k store.KeySet) {
	w.b.WriteString(k.SQL)
	w.args = append(w.args, k.Args...)
}

// leftJoin is the dialect's outer join keeping every exposed user:
// ClickHouse wants the strictness said.
func leftJoin(d compiler.Dialect) string {
	if _, ok := d.(compiler.ClickHouse); ok {
		return " ALL LEFT JOIN "
	}
	return " LEFT JOIN "
}

// exposed writes the derived table (u, lo, hi, first) of exposed users:
// the smallest and largest variant they saw (equal for users who saw one)
// and their first exposure, within the period, limited to seg's members
// when seg is not nil.
func (q *query) exposed(w *sqlw, seg *store.KeySet) {
	d := q.r.dialect
	if q.d.Source.Kind == "attribute" {
		// Aliases differ from the columns they aggregate: ClickHouse
		// would read min(c.v) AS v as min(min(c.v)).
		w.Write("(SELECT c.u AS u, min(c.v) AS lo, max(c.v) AS hi, min(c.set_at) AS first FROM ")
		d.Changes(w, "s", q.d.Source.Attribute, q.site, nil)
		w.Write(" AS c WHERE c.v IS NOT NULL GROUP BY c.u)")
	} else {
		variant, vargs := d.Property(q.d.Source.Property)
		exp, eargs := d.Property("experiment")
		w.Write("(SELECT user_key AS u, min(")
		w.expr(variant, vargs)
		w.Write(") AS lo, max(")
		w.expr(variant, vargs)
		w.Write(") AS hi, min(ts) AS first ")
		d.From(w, compiler.Events, q.site, nil)
		w.Write(" AND kind = 2 AND name = ")
		w.Arg(q.d.Source.Event)
		w.Write(" AND ")
		w.expr(exp, eargs)
		w.Write(" = ")
		w.Arg(q.d.Source.Experiment)
		w.Write(" AND ")
		w.expr(variant, vargs)
		w.Write(" IS NOT NULL AND ts >= ")
		w.Arg(q.start)
		w.Write(" AND ts < ")
		w.Arg(q.end)
		d.EndFrom(w)
		w.Write(" GROUP BY user_key)")
	}
	w.Write(" AS x WHERE x.first >= ")
	w.Arg(q.start)
	w.Write(" AND x.first < ")
	w.Arg(q.end)
	if seg != nil {
		w.Write(" AND x.u IN (")
		w.members(*seg)
		w.Write(")")
	}
}

func (q *query) run(ctx context.Context, w *sqlw, row func(), dest ...any) error {
	rows, err := q.r.store.SQL().QueryContext(ctx, w.b.String(), w.args...)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, w.b.String())
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		row()
	}
	return rows.Err()
}

// num scans any number the databases return, NULL as 0.
type num struct{ v float64 }

func (n *num) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		n.v = 0
	case int64:
		n.v = float64(x)
	case int32:
		n.v = float64(x)
	case uint64:
		n.v = float64(x)
	case uint32:
		n.v = float64(x)
	case uint8:
		n.v = float64(x)
	case float64:
		n.v = x
	case float32:
		n.v = float64(x)
	case *big.Int:
		n.v, _ = new(big.Float).SetInt(x).Float64()
	default:
		return fmt.Errorf("experiment: cannot read %T as a number", src)
	}
	return nil
}
