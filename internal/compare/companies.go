package compare

import (
	"context"
	"slices"
	"strconv"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/stats"
)

// Company attributes are compared through the users linked to each
// company (user_groups): a user has a company's value when one of their
// companies has it. Text and boolean values are shares of the group's
// users, as user attributes are; numbers and date-times (as days before
// the period's end) are compared as user attributes are, over the
// distinct values of each user's companies (most users have one).

// companyData is what the database returned of company attributes.
type companyData struct {
	cats    map[valueKey]*[2]int64 // users with a company with the value
	catType map[string]attr.Type
	numbers map[string]*[2][]stats.Freq
	dates   map[string]*[2][]stats.Freq
}

// companies reads, for the company attributes keys (text ones with few
// values, booleans, numbers and date-times), how many of each group's
// users have a company with each value. The users are counted per group
// and company first, and those counts joined with the companies' values:
// no grouping of every user's values. A user linked to several companies
// with one value would then count once for each; a second read of those
// users alone (few: most users have one company) takes the extra counts
// off, so that each user's distinct values count once.
func (q *querier) companies(ctx context.Context, s sel, keys attrKeys, d *data) error {
	dl := q.c.dialect
	all := append(append(append(append([]string(nil), keys.cats...), keys.bools...), keys.nums...), keys.dates...)
	w := newSQL(dl)
	companyValues := func() {
		w.Write(" (SELECT entity_key, key, s, b, n, t ")
		dl.CurrentOf(w, 1, all, q.site, nil)
		dl.EndFrom(w)
		w.Write(") AS c ON c.entity_key = ")
	}
	cols := "c.key AS key, c.s AS s, c.b AS b, c.n AS n, " + q.daysBefore("c.t") + " AS days"
	w.Write("SELECT z.g, z.key, z.s, z.b, z.n, z.days, sum(z.w) FROM (SELECT x.g AS g, ", cols, ", ", dl.BigInt("x.users"),
		" AS w FROM (SELECT ")
	s.label(w, "user_key")
	w.Write(" AS g, group_key, count(DISTINCT user_key) AS users ")
	dl.From(w, compiler.UserGroups, q.site, nil)
	dl.EndFrom(w)
	w.Write(" GROUP BY g, group_key) AS x ", dl.InnerJoin())
	companyValues()
	w.Write("x.group_key UNION ALL SELECT ")
	s.label(w, "y.u")
	w.Write(" AS g, y.key, y.s, y.b, y.n, y.days, ", dl.BigInt("1 - count(DISTINCT y.gk)"), " AS w FROM (SELECT ug.user_key AS u,",
		" ug.group_key AS gk, ", cols, " FROM (SELECT user_key, group_key ")
	dl.From(w, compiler.UserGroups, q.site, nil)
	w.Write(" AND user_key IN (SELECT user_key ")
	dl.From(w, compiler.UserGroups, q.site, nil)
	dl.EndFrom(w)
	w.Write(" GROUP BY user_key HAVING count(DISTINCT group_key) > 1)")
	dl.EndFrom(w)
	w.Write(") AS ug ", dl.InnerJoin())
	companyValues()
	w.Write("ug.group_key) AS y GROUP BY y.u, y.key, y.s, y.b, y.n, y.days HAVING count(DISTINCT y.gk) > 1) AS z",
		" GROUP BY z.g, z.key, z.s, z.b, z.n, z.days")
	var key string
	var str, b text
	var n, days maybeNum
	var g, c num
	return q.query(ctx, w, func() error {
		i, ok := s.group(g.v)
		if !ok {
			return nil
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		switch {
		case slices.Contains(keys.cats, key) && str.ok:
			addCount(d.company.cats, valueKey{key, str.s}, i, int64(c.v))
		case slices.Contains(keys.bools, key) && b.ok:
			addCount(d.company.cats, valueKey{key, b.s}, i, int64(c.v))
		case slices.Contains(keys.nums, key) && n.ok:
			addFreq(d.company.numbers, key, i, n.v, int64(c.v))
		case slices.Contains(keys.dates, key) && days.ok:
			addFreq(d.company.dates, key, i, days.v, int64(c.v))
		}
		return nil
	}, &g, &key, &str, &b, &n, &days, &c)
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
