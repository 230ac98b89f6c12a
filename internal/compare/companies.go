package compare

import (
	"context"
	"strconv"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/stats"
)

// Company attributes are compared through the users linked to each
// company (user_groups): a user has a company's value when one of their
// companies has it. Text and boolean values are shares of the group's
// users, as user attributes are; a number or date-time is each user's
// largest over their companies (most users have one), compared as user
// attributes are.

// companyData is what the database returned of company attributes.
type companyData struct {
	cats    map[valueKey]*[2]int64 // users with a company with the value
	catType map[string]attr.Type
	numbers map[string]*[2][]stats.Freq
	dates   map[string]*[2][]stats.Freq
}

// linked writes the derived table (u, key, v) of the users linked to a
// company, each with the value expr of their companies' attributes
// keys (of the company's current values, alias c), aggregated by agg
// over a user's companies (max for numbers; empty for values, each
// distinct pair then a row).
func (q *querier) linked(w *sqlw, keys []string, expr, agg string, args ...any) {
	d := q.c.dialect
	distinct := ""
	if agg == "" {
		distinct = "DISTINCT "
	}
	w.Write("(SELECT ", distinct, "ug.user_key AS u, c.key AS key, ")
	if agg != "" {
		w.Write(agg, "(", expr, ")")
	} else {
		w.Write(expr)
	}
	for _, a := range args {
		w.args = append(w.args, d.Arg(a))
	}
	w.Write(" AS v FROM (SELECT user_key, group_key ")
	d.From(w, compiler.UserGroups, q.site, nil)
	d.EndFrom(w)
	w.Write(") AS ug ", d.InnerJoin(), " (SELECT entity_key, key, s, n, b, t ")
	d.CurrentOf(w, 1, keys, q.site, nil)
	d.EndFrom(w)
	w.Write(") AS c ON c.entity_key = ug.group_key")
	if agg != "" {
		w.Write(" GROUP BY ug.user_key, c.key")
	}
	w.Write(")")
}

// companyValues reads how many of each group's users have a company
// with each value of the attributes keys, of column col (s or b).
func (q *querier) companyValues(ctx context.Context, s sel, keys []string, col string, d *data) error {
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.u")
	w.Write(" AS g, x.key, x.v, count(*) FROM ")
	q.linked(w, keys, "c."+col, "")
	w.Write(" AS x WHERE x.v IS NOT NULL AND ")
	s.filter(w, "x.u")
	w.Write(" GROUP BY g, x.key, x.v")
	var key string
	var v text
	var g, n num
	return q.query(ctx, w, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		addCount(d.company.cats, valueKey{key, v.s}, s.base+int(g.v), int64(n.v))
		return nil
	}, &g, &key, &v, &n)
}

// companyNumbers reads the distribution, in each group, of each user's
// largest value of each numeric company attribute keys; with days set,
// of date-time attributes as whole days from the value to the period's
// end.
func (q *querier) companyNumbers(ctx context.Context, s sel, keys []string, days bool, d *data) error {
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.u")
	w.Write(" AS g, x.key, x.v, count(*) FROM ")
	into := d.company.numbers
	if days {
		into = d.company.dates
		// The latest date is the fewest days before the end.
		q.linked(w, keys, "floor("+q.c.dialect.Seconds("c.t", "?")+" / 86400)", "min", q.to)
	} else {
		q.linked(w, keys, "c.n", "max")
	}
	w.Write(" AS x WHERE x.v IS NOT NULL AND ")
	s.filter(w, "x.u")
	w.Write(" GROUP BY g, x.key, x.v")
	var key string
	var g, v, n num
	return q.query(ctx, w, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		f := into[key]
		if f == nil {
			f = &[2][]stats.Freq{}
			into[key] = f
		}
		i := s.base + int(g.v)
		f[i] = append(f[i], stats.Freq{Value: v.v, Count: int64(n.v)})
		return nil
	}, &g, &key, &v, &n)
}

// companyRows returns the rows of the company attributes.
func (d *data) companyRows() []Row {
	var out []Row
	for k, c := range d.company.cats {
		label := "company." + k.Key + " = " + strconv.Quote(k.Value)
		v := segment.Value{Kind: segment.ValString, Str: k.Value}
		if d.company.catType[k.Key] == attr.Boolean {
			label = "company." + k.Key + " = " + k.Value
			v = segment.Value{Kind: segment.ValBool, Bool: k.Value == "true"}
		}
		r := share("company", k.Key, k.Value, label, c[0], d.size[0], c[1], d.size[1])
		r.cond = &segment.Attribute{Scope: segment.ScopeCompany, Key: k.Key, Op: segment.OpEq, Values: []segment.Value{v}}
		out = append(out, r)
	}
	for k, f := range d.company.numbers {
		r := numbers("company", k, "mean", "company."+k+" (mean)", f[0], f[1])
		r.cond = &segment.Attribute{Scope: segment.ScopeCompany, Key: k, Op: segment.OpSet}
		out = append(out, r)
	}
	for k, f := range d.company.dates {
		r := numbers("company", k, "days_since", "company."+k+" (days before the period's end, mean)", f[0], f[1])
		r.cond = &segment.Attribute{Scope: segment.ScopeCompany, Key: k, Op: segment.OpSet}
		out = append(out, r)
	}
	return out
}
